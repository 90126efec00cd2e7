package io.sticky.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.spi.ShardAllocationStrategy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The default strategy: the region with the fewest shards gets the new one. Ties go to the requester
 * (its messages then need no hop), then to the smallest node id, so the result is deterministic.
 * Allocating into an empty cluster this way keeps the spread within one shard.
 *
 * <p>Rebalancing moves shards from the most to the least loaded regions until no two regions differ by
 * more than one shard, at most {@code min(absoluteLimit, relativeLimit x total shards)} (and at least one)
 * per round, and only when no hand-off of the type is in progress, so a join never starts a storm.
 */
public final class LeastShardAllocationStrategy implements ShardAllocationStrategy {
  private final int absoluteLimit;
  private final double relativeLimit;

  public LeastShardAllocationStrategy() {
    this(StickyOptions.DEFAULT_REBALANCE_ABSOLUTE_LIMIT, StickyOptions.DEFAULT_REBALANCE_RELATIVE_LIMIT);
  }

  public LeastShardAllocationStrategy(int absoluteLimit, double relativeLimit) {
    if (absoluteLimit < 1 || relativeLimit <= 0 || relativeLimit > 1) {
      throw new IllegalArgumentException("rebalance limits: absolute >= 1 and 0 < relative <= 1");
    }
    this.absoluteLimit = absoluteLimit;
    this.relativeLimit = relativeLimit;
  }

  @Override
  public Set<Integer> rebalance(Map<String, Set<Integer>> current, Set<Integer> inProgress) {
    if (!inProgress.isEmpty() || current.size() < 2) {
      return Set.of();
    }
    int total = 0;
    Map<String, TreeSet<Integer>> sim = new TreeMap<>();
    for (Map.Entry<String, Set<Integer>> e : current.entrySet()) {
      sim.put(e.getKey(), new TreeSet<>(e.getValue()));
      total += e.getValue().size();
    }
    int limit = Math.max(1, Math.min(absoluteLimit, (int) (relativeLimit * total)));
    Set<Integer> moves = new HashSet<>();
    while (moves.size() < limit) {
      String most = null;
      String least = null;
      for (Map.Entry<String, TreeSet<Integer>> e : sim.entrySet()) {
        if (most == null || e.getValue().size() > sim.get(most).size()) {
          most = e.getKey();
        }
        if (least == null || e.getValue().size() < sim.get(least).size()) {
          least = e.getKey();
        }
      }
      if (sim.get(most).size() - sim.get(least).size() <= 1) {
        break;
      }
      Integer shard = sim.get(most).pollLast();
      sim.get(least).add(shard);
      moves.add(shard);
    }
    return moves;
  }

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
