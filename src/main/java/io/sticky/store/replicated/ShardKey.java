package io.sticky.store.replicated;

/** One shard of one entity type: the unit the replicated store keeps, replicates and hands over. */
record ShardKey(String type, int shard) {
}
