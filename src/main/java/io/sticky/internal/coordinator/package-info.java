/**
 * The cluster singleton that places shards: {@link io.sticky.internal.coordinator.ShardCoordinator} with one
 * {@code ShardMove} per hand-off and one {@code NodeLeave} per clean leave, its immutable state, the allocation
 * table in Hazelcast, and the default allocation strategy.
 * May depend on: {@code api}, {@code spi}, {@code internal.protocol}, {@code internal.cluster}, {@code metrics}.
 */
package io.sticky.internal.coordinator;
