package io.sticky.internal.coordinator;

import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.internal.protocol.Protocol.ShardStopped;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One hand-off the coordinator runs: a shard going {@code from} one node {@code to} another at {@code epoch}
 * (Pekko's RebalanceWorker). The coordinator keeps one per moving shard; it answers "where is this shard
 * going", "when is it there" ({@link #future()}) and "what is moving" (the console).
 */
final class ShardMove {
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);
  final String type;
  final int shard;
  final String from;
  final String to;
  final long epoch;
  /** Why: rebalance, drain, move (an operator's), leave, or resume (a previous coordinator's). */
  final String reason;
  /** The table entry written before anything moves: to at epoch, from. */
  final String intent;
  private final long startedNanos = System.nanoTime();
  private final long startedAtMs = System.currentTimeMillis();
  private final Promise<ShardHome> done = Promise.promise();
  private int entities;
  private long durationMs;

  ShardMove(String type, int shard, String from, String to, long epoch, String reason, String intent) {
    this.type = type;
    this.shard = shard;
    this.from = from;
    this.to = to;
    this.epoch = epoch;
    this.reason = reason;
    this.intent = intent;
  }

  /**
   * Runs the move. The intent ("to at epoch, from") goes to the table before anything moves, so that a
   * coordinator that takes over finishes it ({@code writeIntent} is false for a predecessor's move, found
   * there). Then HandOff to the old home, which stops the shard and sends it to the new home itself; once it
   * answers, the coordinator names the new home and the entry loses its "from". Completes with the new home.
   */
  Future<ShardHome> run(ShardCoordinator coordinator, boolean writeIntent) {
    (writeIntent ? coordinator.writeIntent(this) : Future.<Void>succeededFuture())
        .compose(v -> {
          long writeMs = elapsedNanos() / 1_000_000;
          return askOldHome(coordinator, 1).andThen(ar -> {
            if (ar.succeeded()) {
              coordinator.moved(this, ar.result(), writeMs);
            }
          });
        })
        .onComplete(ar -> {
          coordinator.ended(this, ar.failed() ? ar.cause() : null);
          if (ar.succeeded()) {
            succeeded(ar.result().entities());
          } else {
            failed(ar.cause());
          }
          coordinator.remember(this);
        });
    return future();
  }

  /**
   * HandOff to the old home until it answers. Only its answer decides the outcome: a timeout does not mean it
   * failed (it may be stopping a slow entity, or its reply be late), and abandoning then could leave the shard
   * on two nodes. HandOff is idempotent at the old home, so it is asked again for as long as it is a member.
   */
  private Future<ShardStopped> askOldHome(ShardCoordinator coordinator, int attempt) {
    if (!coordinator.isMember(from)) {
      return Future.failedFuture("the old home " + from + " is no longer a member");
    }
    return coordinator.askToHandOff(this).recover(err -> {
      boolean timedOut = err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT;
      if (!timedOut || !coordinator.isMember(from)) {
        return Future.failedFuture(err);
      }
      log.warn("hand-off of {}/{} from {}: no answer within {} ms (attempt {}), asking again", type, shard, from,
          coordinator.handOffTimeoutMs(), attempt);
      return askOldHome(coordinator, attempt + 1);
    });
  }

  String key() {
    return TableEntry.key(type, shard);
  }

  /** Completes with the new home, or fails once the move is abandoned (the shard is then settled elsewhere). */
  Future<ShardHome> future() {
    return done.future();
  }

  long elapsedNanos() {
    return System.nanoTime() - startedNanos;
  }

  void succeeded(int movedEntities) {
    entities = movedEntities;
    durationMs = elapsedNanos() / 1_000_000;
    done.complete(new ShardHome(type, shard, to, epoch));
  }

  void failed(Throwable cause) {
    durationMs = elapsedNanos() / 1_000_000;
    done.fail(cause);
  }

  /** As the console shows it: running, or ended ({@code ok}, {@code abandoned}) with its duration and entities. */
  Protocol.Move view() {
    if (!done.future().isComplete()) {
      return new Protocol.Move(type, shard, from, to, reason, startedAtMs, 0, 0, "running");
    }
    return new Protocol.Move(type, shard, from, to, reason, startedAtMs, durationMs, entities,
        done.future().succeeded() ? "ok" : "abandoned");
  }
}
