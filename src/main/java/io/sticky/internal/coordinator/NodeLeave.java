package io.sticky.internal.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hand-off of every shard of a node that leaves cleanly: at most {@code parallelism} moves at once as a
 * sliding window, paced; completes with the number of shards moved. On the coordinator's context.
 *
 * <p>A failed move (the new home crashed or refused it, or a stuck entity held the stop up) leaves the shard
 * on the leaving node with its snapshots: moved again, to another node if need be, they survive; left there,
 * they are lost at the node's exit, as in a crash. So a failed move is made again after a pause, doubled per
 * failure ({@link #RETRY_PAUSE_MS} up to {@link #RETRY_MAX_PAUSE_MS}), for as long as a new try can still end
 * before the node stops waiting for its leave.
 */
final class NodeLeave {
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);
  static final long RETRY_PAUSE_MS = 100;
  static final long RETRY_MAX_PAUSE_MS = 2_000;

  /** One shard of a type. */
  record Work(String type, int shard) {
  }

  private final ShardCoordinator coordinator;
  private final Vertx vertx;
  private final String node;
  private final int parallelism;
  private final Pace pace;
  private final long retryDeadlineNanos;
  private final List<Work> queue;
  private final Map<Work, Integer> attempts = new HashMap<>();
  private final Promise<Integer> done = Promise.promise();
  private final Runnable pump = this::pump;
  /** The next queue entry to start, moves running, moves done, retries waiting for their pause to end. */
  private int next;
  private int running;
  private int moved;
  private int pausing;

  private NodeLeave(ShardCoordinator coordinator, Vertx vertx, String node, List<Work> work, int parallelism, Pace pace, long retryWindowMs) {
    this.coordinator = coordinator;
    this.vertx = vertx;
    this.node = node;
    this.queue = new ArrayList<>(work);
    this.parallelism = parallelism;
    this.pace = pace;
    this.retryDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryWindowMs);
  }

  /**
   * Hands off every shard of a node that is leaving cleanly, {@code rebalanceAbsoluteLimit} at a time, paced like
   * a rebalance; completes with the count moved. Moves already heading to it (it was a target before it said it
   * leaves) land first, then leave again.
   */
  static Future<Integer> start(ShardCoordinator coordinator, Roster roster, Vertx vertx, StickyOptions options, String node) {
    roster.leaving(node);
    List<Future<ShardHome>> arriving = coordinator.movesTo(node).stream().map(ShardMove::future).toList();
    return Future.join(arriving).transform(ignored -> {
      List<Work> work = new ArrayList<>();
      CoordinatorState state = coordinator.state();
      for (String type : state.types()) {
        if (coordinator.candidates(type, node).isEmpty()) {
          continue; // the last region of its type: nowhere to move its shards
        }
        state.allocations(type).forEach((shard, a) -> {
          if (node.equals(a.node())) {
            work.add(new Work(type, shard));
          }
        });
      }
      log.info("node {} is leaving: handing off its {} shard(s)", node, work.size());
      // Paced like a rebalance, but never so slowly that the leave could not end within half its timeout.
      Pace pace = new Pace(vertx, Math.max(options.getHandOffRatePerSecond(), work.size() * 2_000.0 / options.getLeaveTimeoutMs()),
          options.getRebalanceAbsoluteLimit());
      // A move made again must be able to end (its old home gives up after 3/4 of the hand-off timeout) before
      // the leaving node stops waiting, leaveTimeoutMs after it asked; and may be tried for half of that at least.
      long retryWindowMs = Math.max(options.getLeaveTimeoutMs() / 2, options.getLeaveTimeoutMs() - options.getHandOffTimeoutMs() * 3 / 4);
      return new NodeLeave(coordinator, vertx, node, work, options.getRebalanceAbsoluteLimit(), pace, retryWindowMs).run();
    }).onComplete(ar -> coordinator.forget(node));
  }

  private Future<Integer> run() {
    pump();
    return done.future();
  }

  private void pump() {
    while (running < parallelism && next < queue.size()) {
      Work item = queue.get(next);
      next++;
      ShardMove already = coordinator.moveOf(item.type(), item.shard());
      if (already == null && !node.equals(coordinator.state().home(item.type(), item.shard()))) {
        continue; // moved off it meanwhile
      }
      if (already == null && !pace.take(pump)) {
        next--;
        return;
      }
      Future<ShardHome> move = already != null ? already.future() : coordinator.moveOff(item.type(), item.shard(), node);
      int attempt = attempts.merge(item, 1, Integer::sum);
      running++;
      move.onComplete(ar -> {
        running--;
        if (ar.succeeded()) {
          moved++;
        } else if (coordinator.isMember(node) && node.equals(coordinator.state().home(item.type(), item.shard()))) {
          retryLater(item, attempt, ar.cause());
        }
        pump();
      });
    }
    if (running == 0 && pausing == 0 && next >= queue.size()) {
      done.tryComplete(moved);
    }
  }

  /** The abandoned move left the shard here (re-hosted from its snapshots): queue it again after a pause, if there is time. */
  private void retryLater(Work item, int attempt, Throwable cause) {
    long pause = Math.min(RETRY_MAX_PAUSE_MS, RETRY_PAUSE_MS << Math.min(attempt - 1, 10));
    if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pause) >= retryDeadlineNanos || coordinator.isStopped()) {
      log.warn("hand-off of {}/{} off leaving node {} failed {} time(s), the last: {}; out of time, the shard "
          + "leaves with the node (its in-memory state is lost, as in a crash)", item.type(), item.shard(), node, attempt,
          cause.getMessage());
      return;
    }
    log.warn("hand-off of {}/{} off leaving node {} failed (attempt {}): {}; moving it again in {} ms",
        item.type(), item.shard(), node, attempt, cause.getMessage(), pause);
    pausing++;
    vertx.setTimer(pause, t -> {
      pausing--;
      if (!coordinator.isStopped()) {
        queue.add(item);
      }
      pump();
    });
  }
}
