package io.sticky.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LeastShardAllocationStrategyTest {
  private final LeastShardAllocationStrategy strategy = new LeastShardAllocationStrategy();

  @Test
  void prefersTheRequesterOnATie() {
    Map<String, Set<Integer>> current = Map.of("a", Set.of(1), "b", Set.of(2), "c", Set.of());
    assertThat(strategy.allocateShard("c", 9, current)).isEqualTo("c");
    assertThat(strategy.allocateShard("a", 9, Map.of("a", Set.of(), "b", Set.of()))).isEqualTo("a");
  }

  @Test
  void otherwiseTheSmallestNodeIdAmongTheLeastLoaded() {
    Map<String, Set<Integer>> current = Map.of("a", Set.of(1, 2), "c", Set.of(3), "b", Set.of(4));
    assertThat(strategy.allocateShard("a", 9, current)).isEqualTo("b");
  }

  @Test
  void seededRandomAllocationsAlwaysPickALeastLoadedRegionAndStayEven() {
    long seed = System.nanoTime();
    System.out.println("LeastShardAllocationStrategyTest seed=" + seed);
    Random random = new Random(seed);
    for (int round = 0; round < 200; round++) {
      int nodes = 1 + random.nextInt(10);
      int shards = 1 + random.nextInt(300);
      Map<String, Set<Integer>> current = new TreeMap<>();
      for (int n = 0; n < nodes; n++) {
        current.put("node-" + Integer.toHexString(random.nextInt()), new HashSet<>());
      }
      String[] ids = current.keySet().toArray(new String[0]);
      for (int shard = 0; shard < shards; shard++) {
        String requester = ids[random.nextInt(ids.length)];
        Map<String, Set<Integer>> snapshot = copy(current);
        String chosen = strategy.allocateShard(requester, shard, snapshot);
        int min = current.values().stream().mapToInt(Set::size).min().orElseThrow();
        assertThat(current).as("seed %d round %d", seed, round).containsKey(chosen);
        assertThat(current.get(chosen)).as("seed %d: chosen region is least loaded", seed).hasSize(min);
        assertThat(strategy.allocateShard(requester, shard, snapshot)).as("deterministic").isEqualTo(chosen);
        current.get(chosen).add(shard);
      }
      int max = current.values().stream().mapToInt(Set::size).max().orElseThrow();
      int min = current.values().stream().mapToInt(Set::size).min().orElseThrow();
      assertThat(max - min).as("seed %d round %d: spread after allocating into empty regions", seed, round).isLessThanOrEqualTo(1);
    }
  }

  private static Map<String, Set<Integer>> copy(Map<String, Set<Integer>> m) {
    Map<String, Set<Integer>> c = new HashMap<>();
    m.forEach((k, v) -> c.put(k, Set.copyOf(v)));
    return c;
  }
}
