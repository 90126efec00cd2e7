/**
 * HTTP: the REST gateway for entities, the management and routing routes, health, the console, TLS and access
 * control. Talks to the node through {@link io.sticky.api.Sticky} and the one admin interface
 * {@link io.sticky.internal.NodeRuntime}, whose answers come in its own types and JSON documents.
 * May depend on: {@code api}, and of {@code internal} only {@code NodeRuntime}.
 */
package io.sticky.gateway;
