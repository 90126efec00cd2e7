package io.sticky.api;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A registered kind of entity: a name (part of every address and URL), a factory that makes a fresh
 * {@link Entity} per activation, and its {@link EntityTypeOptions}. Every node that hosts the type must
 * register it with the same name and number of shards.
 */
public final class EntityType {
  private final String name;
  private final Supplier<? extends Entity<?>> factory;
  private final EntityTypeOptions options;

  private EntityType(String name, Supplier<? extends Entity<?>> factory, EntityTypeOptions options) {
    if (name == null || !EntityAddress.TYPE_PATTERN.matcher(name).matches()) {
      throw new IllegalArgumentException("entity type name must match " + EntityAddress.TYPE_PATTERN + ": " + name);
    }
    this.name = name;
    this.factory = Objects.requireNonNull(factory, "factory");
    this.options = new EntityTypeOptions(Objects.requireNonNull(options, "options"));
  }

  public static EntityType of(String name, Supplier<? extends Entity<?>> factory) {
    return new EntityType(name, factory, new EntityTypeOptions());
  }

  public static EntityType of(String name, Supplier<? extends Entity<?>> factory, EntityTypeOptions options) {
    return new EntityType(name, factory, options);
  }

  /** A copy with other options. */
  public EntityType withOptions(EntityTypeOptions options) {
    return new EntityType(name, factory, options);
  }

  public String name() {
    return name;
  }

  /** A copy of the options (the type itself is immutable). */
  public EntityTypeOptions options() {
    return new EntityTypeOptions(options);
  }

  public int numberOfShards() {
    return options.getNumberOfShards();
  }

  public long askTimeoutMs() {
    return options.getAskTimeoutMs();
  }

  /** A new, unbound entity instance. */
  public Entity<?> newEntity() {
    Entity<?> entity = factory.get();
    if (entity == null) {
      throw new IllegalStateException("factory of entity type '" + name + "' returned null");
    }
    return entity;
  }

  @Override
  public String toString() {
    return "EntityType[" + name + ", " + options + "]";
  }
}
