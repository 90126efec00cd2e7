/**
 * Sticky's Micrometer meters: traffic per type, store writes and latencies, hand-offs, buffers.
 * May depend on: {@code api}.
 */
package io.sticky.metrics;
