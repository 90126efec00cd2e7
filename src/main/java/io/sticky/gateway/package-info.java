/**
 * HTTP: the REST gateway for entities, the management and routing routes, health, the console, TLS and access
 * control. Talks to the node through {@link io.sticky.api.Sticky} and {@link io.sticky.internal.NodeRuntime}.
 * May depend on: {@code api}, {@code internal}, {@code protocol} (the coordinator queries of the management
 * routes), {@code cluster} (membership and quorum), {@code metrics}, {@code node} (the version).
 */
package io.sticky.gateway;
