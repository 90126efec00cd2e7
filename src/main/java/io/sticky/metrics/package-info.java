/**
 * Sticky's Micrometer meters: traffic per type, store writes and latencies, hand-offs, buffers.
 * May depend on: {@code api}, {@code internal.protocol} (the traffic figures regions report).
 */
package io.sticky.metrics;
