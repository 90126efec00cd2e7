/**
 * The public surface an application programs against: {@link io.sticky.api.Sticky}, the {@link io.sticky.api.Entity}
 * base class, entity types and their options, references, replies and errors. The runtime that drives an entity
 * ({@code EntityRuntime}, {@code EntityPersistence}, timers, reminders) is package-private here because it calls the
 * entity's protected hooks. Public types expose only this package, {@code spi}, {@code store} and Vert.x.
 * May depend on: {@code spi}, {@code store}, {@code internal} (package-private runtime only), {@code internal.runtime}
 * (the factory behind {@code Sticky.create}).
 */
package io.sticky.api;
