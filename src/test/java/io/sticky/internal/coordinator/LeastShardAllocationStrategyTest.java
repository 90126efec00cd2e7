package io.sticky.internal.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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

  @Test
  void rebalanceMovesFromTheMostToTheLeastLoadedWithinTheRoundLimits() {
    LeastShardAllocationStrategy limited = new LeastShardAllocationStrategy(20, 0.1);
    Map<String, Set<Integer>> current = new TreeMap<>();
    current.put("a", range(0, 50));
    current.put("b", range(50, 100));
    current.put("c", new HashSet<>());
    Set<Integer> moves = limited.rebalance(current, Set.of());
    assertThat(moves).hasSize(10).as("relative limit: 10% of 100 shards");
    assertThat(range(0, 100)).containsAll(moves);
    Set<Integer> moving = range(0, 4);
    Set<Integer> more = limited.rebalance(current, moving);
    assertThat(more).as("shards already moving count against the limit").hasSize(6).doesNotContainAnyElementsOf(moving);
    assertThat(limited.rebalance(current, range(0, 10))).as("limit reached by moves in flight").isEmpty();
    assertThat(limited.rebalance(Map.of("a", range(0, 5), "b", range(5, 9)), Set.of())).as("already even").isEmpty();
    assertThat(new LeastShardAllocationStrategy(3, 1.0).rebalance(current, Set.of())).hasSize(3).as("absolute limit");
  }

  @Test
  void aSlidingWindowOfMovesConvergesWithoutEverExceedingTheLimit() {
    long seed = System.nanoTime();
    System.out.println("sliding window seed=" + seed);
    Random random = new Random(seed);
    for (int round = 0; round < 100; round++) {
      int limit = 1 + random.nextInt(10);
      LeastShardAllocationStrategy s = new LeastShardAllocationStrategy(limit, 1.0);
      int nodes = 2 + random.nextInt(6);
      int shards = random.nextInt(400);
      Map<String, Set<Integer>> current = emptyNodes(nodes);
      // everything starts on the first few nodes; the others just joined
      String[] ids = current.keySet().toArray(new String[0]);
      int loaded = 1 + random.nextInt(nodes - 1);
      for (int shard = 0; shard < shards; shard++) {
        current.get(ids[random.nextInt(loaded)]).add(shard);
      }
      // As the coordinator does: a move's target is chosen when it starts, and from then on the shard is
      // listed there; the strategy is asked again after each one lands, and they land in random order.
      List<Integer> inFlight = new ArrayList<>();
      for (int step = 0; step < 10_000; step++) {
        Set<Integer> moves = s.rebalance(copy(current), new HashSet<>(inFlight));
        assertThat(moves).noneMatch(inFlight::contains);
        moves.forEach(shard -> land(s, current, shard));
        inFlight.addAll(moves);
        assertThat(inFlight.size()).as("seed %d round %d: moving at once", seed, round).isLessThanOrEqualTo(limit);
        if (inFlight.isEmpty()) {
          break;
        }
        inFlight.remove(random.nextInt(inFlight.size()));
      }
      assertThat(inFlight).isEmpty();
      assertEvenAndComplete(current, shards, seed, round);
    }
  }

  @Test
  void seededRebalanceRoundsConvergeToASpreadOfAtMostOne() {
    long seed = System.nanoTime();
    System.out.println("rebalance seed=" + seed);
    Random random = new Random(seed);
    for (int round = 0; round < 100; round++) {
      LeastShardAllocationStrategy s = new LeastShardAllocationStrategy(1 + random.nextInt(20), 0.01 + random.nextDouble() * 0.99);
      int nodes = 2 + random.nextInt(8);
      int shards = random.nextInt(300);
      Map<String, Set<Integer>> current = emptyNodes(nodes);
      String[] ids = current.keySet().toArray(new String[0]);
      for (int shard = 0; shard < shards; shard++) {
        current.get(ids[random.nextInt(Math.max(1, ids.length / (1 + random.nextInt(3))))]).add(shard);
      }
      for (int step = 0; step < 1000; step++) {
        Set<Integer> moves = s.rebalance(copy(current), Set.of());
        if (moves.isEmpty()) {
          break;
        }
        moves.forEach(shard -> land(s, current, shard));
      }
      assertEvenAndComplete(current, shards, seed, round);
    }
  }

  private static Map<String, Set<Integer>> emptyNodes(int nodes) {
    Map<String, Set<Integer>> current = new TreeMap<>();
    for (int n = 0; n < nodes; n++) {
      current.put("n" + n, new HashSet<>());
    }
    return current;
  }

  /** What the coordinator does with a shard it moves: places it with allocateShard, never on its old home. */
  private static void land(LeastShardAllocationStrategy s, Map<String, Set<Integer>> current, Integer shard) {
    String from = current.entrySet().stream().filter(e -> e.getValue().contains(shard)).findFirst().orElseThrow().getKey();
    current.get(from).remove(shard);
    Map<String, Set<Integer>> others = new TreeMap<>(copy(current));
    others.remove(from);
    current.get(s.allocateShard(others.keySet().iterator().next(), shard, others)).add(shard);
  }

  private static void assertEvenAndComplete(Map<String, Set<Integer>> current, int shards, long seed, int round) {
    int max = current.values().stream().mapToInt(Set::size).max().orElseThrow();
    int min = current.values().stream().mapToInt(Set::size).min().orElseThrow();
    assertThat(max - min).as("seed %d round %d: converged spread", seed, round).isLessThanOrEqualTo(1);
    assertThat(current.values().stream().mapToInt(Set::size).sum()).as("no shard lost or duplicated").isEqualTo(shards);
  }

  private static Set<Integer> range(int from, int to) {
    Set<Integer> s = new HashSet<>();
    for (int i = from; i < to; i++) {
      s.add(i);
    }
    return s;
  }

  private static Map<String, Set<Integer>> copy(Map<String, Set<Integer>> m) {
    Map<String, Set<Integer>> c = new HashMap<>();
    m.forEach((k, v) -> c.put(k, Set.copyOf(v)));
    return c;
  }
}
