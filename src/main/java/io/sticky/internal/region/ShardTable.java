package io.sticky.internal.region;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** A region's {@link ShardState}s, created on first use (at most the type's number of shards). On the region's context. */
final class ShardTable {
  private final Map<Integer, ShardState> shards = new HashMap<>();
  /** Shards in phase HOSTED: read by stats from any thread. */
  private final AtomicInteger hosted = new AtomicInteger();

  ShardState get(int shard) {
    ShardState state = shards.get(shard);
    if (state == null) {
      state = new ShardState(shard, hosted);
      shards.put(shard, state);
    }
    return state;
  }

  Collection<ShardState> all() {
    return shards.values();
  }

  int hostedCount() {
    return hosted.get();
  }
}
