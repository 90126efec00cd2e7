package io.sticky.coordinator;

import io.sticky.spi.ShardAllocationStrategy;
import java.util.Map;
import java.util.Set;

/**
 * The default strategy: the region with the fewest shards gets the new one. Ties go to the requester
 * (its messages then need no hop), then to the smallest node id, so the result is deterministic.
 * Allocating into an empty cluster this way keeps the spread within one shard.
 */
public final class LeastShardAllocationStrategy implements ShardAllocationStrategy {

  @Override
  public String allocateShard(String requester, int shard, Map<String, Set<Integer>> current) {
    if (current.isEmpty()) {
      throw new IllegalArgumentException("no region to allocate shard " + shard + " to");
    }
    int min = Integer.MAX_VALUE;
    for (Set<Integer> hosted : current.values()) {
      min = Math.min(min, hosted.size());
    }
    Set<Integer> requesterShards = current.get(requester);
    if (requesterShards != null && requesterShards.size() == min) {
      return requester;
    }
    String best = null;
    for (Map.Entry<String, Set<Integer>> e : current.entrySet()) {
      if (e.getValue().size() == min && (best == null || e.getKey().compareTo(best) < 0)) {
        best = e.getKey();
      }
    }
    return best;
  }
}
