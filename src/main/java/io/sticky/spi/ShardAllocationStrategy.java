package io.sticky.spi;

import java.util.Map;
import java.util.Set;

/**
 * Decides which node hosts a shard that has no home. Must be a pure function of its arguments: the
 * coordinator may call it again after a failed write, and tests replay it with seeded inputs.
 */
public interface ShardAllocationStrategy {

  /**
   * @param requester the node whose region asked for the shard's home (always a key of {@code current})
   * @param shard     the shard to place
   * @param current   every registered region of this type (node id) with the shards it hosts now or is about
   *                  to host (being handed off to it, or allocated to it); never empty, and regions with no
   *                  shard map to an empty set
   * @return the node id that will host the shard: one of the keys of {@code current}
   */
  String allocateShard(String requester, int shard, Map<String, Set<Integer>> current);

  /**
   * Which shards to move now to even out the load; called periodically, when a region joins, and as each
   * hand-off ends. The coordinator hands each returned shard off and places it with {@link #allocateShard},
   * excluding its current home. Shards in {@code inProgress} are listed in {@code current} under the region
   * they are moving to; do not return them, and count them against your limit. Return few shards per call:
   * every moved shard buffers its messages for the hand-off.
   *
   * @param current    every live region of the type that may take shards, with the shards it hosts or is
   *                   about to host (a shard being handed off on its new home, one being allocated on its node)
   * @param inProgress shards of this type being handed off right now
   * @return shards to move (empty: nothing to do). Default: never rebalance.
   */
  default Set<Integer> rebalance(Map<String, Set<Integer>> current, Set<Integer> inProgress) {
    return Set.of();
  }
}
