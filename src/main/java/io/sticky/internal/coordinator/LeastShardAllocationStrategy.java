package io.sticky.internal.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.spi.ShardAllocationStrategy;
import java.util.HashSet;
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
 * more than one shard, with at most {@code min(absoluteLimit, relativeLimit x total shards)} (and at least
 * one) of a type's shards moving at any time, so a join never starts a storm. It is called again as each
 * hand-off ends (a sliding window, not rounds that wait for their slowest move); shards still moving are
 * listed where they will land, and are never picked again while they move.
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
    if (current.size() < 2) {
      return Set.of();
    }
    int total = 0;
    Map<String, TreeSet<Integer>> sim = new TreeMap<>();
    for (Map.Entry<String, Set<Integer>> e : current.entrySet()) {
      sim.put(e.getKey(), new TreeSet<>(e.getValue()));
      total += e.getValue().size();
    }
    int limit = window(absoluteLimit, relativeLimit, total) - inProgress.size();
    Set<Integer> moves = new HashSet<>();
    while (moves.size() < limit) {
      String most = null;
      for (Map.Entry<String, TreeSet<Integer>> e : sim.entrySet()) {
        if (most == null || e.getValue().size() > sim.get(most).size()) {
          most = e.getKey();
        }
      }
      TreeSet<Integer> least = leastLoaded(sim);
      if (sim.get(most).size() - least.size() <= 1) {
        break;
      }
      Integer shard = null;
      for (Integer candidate : sim.get(most).descendingSet()) {
        if (!inProgress.contains(candidate) && !moves.contains(candidate)) {
          shard = candidate;
          break;
        }
      }
      if (shard == null) {
        break; // everything on the most loaded region is already moving
      }
      sim.get(most).remove(shard);
      least.add(shard);
      moves.add(shard);
    }
    return moves;
  }

  /** How many of a type's {@code totalShards} may move at once: min(absolute, relative x total), at least one. */
  public static int window(int absoluteLimit, double relativeLimit, int totalShards) {
    return Math.max(1, Math.min(absoluteLimit, (int) (relativeLimit * totalShards)));
  }

  private static TreeSet<Integer> leastLoaded(Map<String, TreeSet<Integer>> sim) {
    TreeSet<Integer> least = null;
    for (TreeSet<Integer> shards : sim.values()) {
      if (least == null || shards.size() < least.size()) {
        least = shards;
      }
    }
    return least;
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
