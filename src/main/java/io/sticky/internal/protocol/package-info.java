/**
 * The wire between nodes: the catalogue of coordinator and region messages ({@link io.sticky.internal.protocol.Protocol}),
 * every event-bus address, the routing headers and how failures travel. Plain data, no behaviour.
 * May depend on: {@code api}.
 */
package io.sticky.internal.protocol;
