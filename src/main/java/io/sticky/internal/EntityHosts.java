package io.sticky.internal;

import io.sticky.api.Entity;
import java.util.function.Function;

/** Makes the {@link EntityHost} around an application's entity; the runtime in {@code io.sticky.api} installs itself here. */
public final class EntityHosts {
  private static volatile Function<Entity<?>, EntityHost> factory;

  private EntityHosts() {
  }

  /** Called once, when {@link Entity} is initialised. */
  public static void install(Function<Entity<?>, EntityHost> hostFactory) {
    if (factory == null) {
      factory = hostFactory;
    }
  }

  /** A host for a new, unbound entity (an instance exists, so {@link Entity}'s initialiser has installed the factory). */
  public static EntityHost of(Entity<?> entity) {
    return factory.apply(entity);
  }
}
