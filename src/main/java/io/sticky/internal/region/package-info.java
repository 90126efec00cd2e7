/**
 * One entity type on one node: {@link io.sticky.internal.region.ShardRegion} takes messages in and applies the coordinator's
 * commands; {@code ShardRouter} sends each to its home or buffers it; {@code EntityHosting} runs the entities of
 * the hosted shards; {@code RegionHandOffs}, {@code OutgoingHandOff} and {@code IncomingHandOff} move shards;
 * {@code ShardState} is what the region knows and holds of one shard.
 * May depend on: {@code api}, {@code internal}, {@code internal.protocol}, {@code internal.cluster}, {@code internal.coordinator} (the
 * allocation table's entries), {@code store}, {@code metrics}, {@code tracing}.
 */
package io.sticky.internal.region;
