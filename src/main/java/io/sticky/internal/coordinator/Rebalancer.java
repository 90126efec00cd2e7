package io.sticky.internal.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.spi.ShardAllocationStrategy;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evens out shards between nodes. Runs periodically, when a region registers, and as each hand-off ends: a
 * sliding window that keeps up to the limit of shards moving, rather than rounds that each wait for their
 * slowest move. Moves are paced ({@code handOffRatePerSecond}), and a node that has just joined takes none for
 * {@code rebalanceJoinDelayMs}. A shard whose hand-off failed is not moved again for
 * {@link #FAILED_MOVE_COOL_DOWN_MS}, so a move that keeps failing does not pause its shard over and over.
 * Drained nodes' shards go first; shards an operator pinned stay. On the coordinator's context.
 */
final class Rebalancer {
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);
  /** How long a rebalance leaves a shard alone after its hand-off failed. */
  static final long FAILED_MOVE_COOL_DOWN_MS = 5_000;

  private final ShardCoordinator coordinator;
  private final Roster roster;
  private final ShardAllocationStrategy strategy;
  private final StickyOptions options;
  private final Vertx vertx;
  /** Paces the hand-offs of rebalances and operator moves (clean leaves get their own). */
  final Pace pace;
  private final Runnable task = this::run;
  /** Shards whose last hand-off failed, by key: not moved again before this time (ms). */
  private final Map<String, Long> coolingDown = new HashMap<>();

  Rebalancer(ShardCoordinator coordinator, Roster roster, ShardAllocationStrategy strategy, StickyOptions options, Vertx vertx) {
    this.coordinator = coordinator;
    this.roster = roster;
    this.strategy = strategy;
    this.options = options;
    this.vertx = vertx;
    this.pace = new Pace(vertx, options.getHandOffRatePerSecond(), options.getRebalanceAbsoluteLimit());
  }

  /** Starts the moves the strategy asks for, over every type, within the window and the pace. */
  void run() {
    if (coordinator.isStopped()) {
      return;
    }
    long now = System.currentTimeMillis();
    coolingDown.values().removeIf(until -> until <= now);
    CoordinatorState state = coordinator.state();
    for (String type : state.types()) {
      Set<Integer> inProgress = coordinator.movingShards(type);
      // Each moving shard on the region it is going to, each allocation being written on its region.
      Map<String, Set<Integer>> current = coordinator.candidates(type, null);
      current.keySet().removeIf(node -> roster.justJoined(node, now));
      // Shards an operator put somewhere stay there: the strategy evens out the others.
      current.forEach((node, onNode) -> onNode.removeIf(shard -> node.equals(roster.pinnedTo(TableEntry.key(type, shard)))));
      // Drained nodes' shards go first (drained nodes are not candidates, so the strategy does not see them).
      Set<Integer> shards = new LinkedHashSet<>();
      state.allocations(type).forEach((shard, a) -> {
        if (a.node() != null && roster.isDrained(a.node()) && coordinator.isMember(a.node())) {
          shards.add(shard);
        }
      });
      try {
        shards.addAll(strategy.rebalance(current, inProgress));
      } catch (RuntimeException e) {
        log.error("rebalance strategy failed for {}", type, e);
      }
      // The window is enforced here too, whatever the strategy returns (a custom one may ignore inProgress).
      int total = current.values().stream().mapToInt(Set::size).sum();
      int window = LeastShardAllocationStrategy.window(options.getRebalanceAbsoluteLimit(), options.getRebalanceRelativeLimit(), total);
      int free = window - inProgress.size();
      for (Integer shard : shards) {
        String key = TableEntry.key(type, shard);
        String from = coordinator.state().home(type, shard);
        if (free <= 0) {
          break;
        }
        if (from != null && coordinator.moveOf(type, shard) == null && !coolingDown.containsKey(key)) {
          if (!pace.take(task)) {
            return;
          }
          free--;
          coordinator.handOff(type, shard, from, node -> !roster.justJoined(node, now), roster.isDrained(from) ? "drain" : "rebalance")
              .onComplete(ar -> {
                if (ar.failed()) {
                  coolingDown.put(key, System.currentTimeMillis() + FAILED_MOVE_COOL_DOWN_MS);
                }
                vertx.runOnContext(v -> run());
              });
        }
      }
    }
  }
}
