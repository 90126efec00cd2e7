package io.sticky.spi;

import io.sticky.api.EntityType;
import java.util.List;

/**
 * Contributes entity types to a stock node. List the implementing class in
 * {@code META-INF/services/io.sticky.spi.EntityTypeProvider} of your jar and put the jar in the node's
 * {@code --lib} directory (or on its class path); the node finds it with {@link java.util.ServiceLoader}.
 * The class needs a public no-argument constructor.
 */
public interface EntityTypeProvider {

  /** The types this provider contributes; names must be unique across every provider a node loads. */
  List<EntityType> entityTypes();
}
