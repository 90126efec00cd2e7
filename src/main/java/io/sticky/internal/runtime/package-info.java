/**
 * The node-local sharding runtime behind {@link io.sticky.api.Sticky}: one region per registered type, the
 * coordinator singleton, stores and the cluster view, wired together ({@code StickyImpl}).
 * May depend on every package but {@code gateway}, {@code node} and {@code examples}.
 */
package io.sticky.internal.runtime;
