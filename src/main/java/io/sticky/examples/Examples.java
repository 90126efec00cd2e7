package io.sticky.examples;

import io.sticky.api.EntityType;
import java.util.List;

/** The example entity types a default node serves. */
public final class Examples {
  private Examples() {
  }

  public static List<EntityType> types() {
    return List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new), EntityType.of(CartEntity.TYPE, CartEntity::new));
  }
}
