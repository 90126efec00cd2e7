/**
 * Extension points an application may implement: {@link io.sticky.spi.ShardAllocationStrategy} (where a shard
 * goes) and {@link io.sticky.spi.EntityTypeProvider} (entity types found on the class path).
 * May depend on: {@code api}.
 */
package io.sticky.spi;
