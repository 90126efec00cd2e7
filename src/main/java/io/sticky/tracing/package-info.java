/**
 * OpenTelemetry: Sticky's spans (the hop between nodes, the handling, the state write) and the node's OTLP
 * exporter. Off unless a node is given an endpoint.
 * May depend on: {@code internal} ({@code NodeRuntime.version()}, reported as the service version).
 */
package io.sticky.tracing;
