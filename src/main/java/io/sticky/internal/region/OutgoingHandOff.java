package io.sticky.internal.region;

import io.sticky.internal.protocol.Protocol.HandOff;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.internal.protocol.Protocol.ShardStopped;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One hand-off of a shard away from this node (the coordinator's {@link HandOff}), while it runs: the shard's
 * entities stop, {@code HostShard} with their snapshots goes to the new home with the buffer forwarded right
 * behind it, and from then on the region forwards what still arrives. The coordinator decides by this answer
 * only and asks again while it waits, so a repeat of the same HandOff is answered from {@link #result()}.
 * On the region's context.
 */
final class OutgoingHandOff {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);

  final HandOff command;
  final ShardHome target;
  /** A ShardHome that arrived while it ran: applied if the run fails. */
  ShardHome deferred;
  private final RegionHandOffs handOffs;
  private final Promise<ShardStopped> result = Promise.promise();
  private final long startedNanos = System.nanoTime();
  private long stoppedNanos;
  private int entities;

  OutgoingHandOff(RegionHandOffs handOffs, HandOff command) {
    this.handOffs = handOffs;
    this.command = command;
    this.target = new ShardHome(command.type(), command.shard(), command.to(), command.epoch());
  }

  Future<ShardStopped> result() {
    return result.future();
  }

  /**
   * Runs it. Stopping the shard may take 3/4 of the hand-off timeout; longer, and the hand-off fails with the
   * shard kept here, stopped and buffered, until a ShardHome says where it lives.
   */
  Future<ShardStopped> run() {
    int shard = command.shard();
    long deadline = startedNanos + TimeUnit.MILLISECONDS.toNanos(handOffs.handOffTimeoutMs() * 3 / 4);
    handOffs.stopShard(shard).compose(states -> {
      stoppedNanos = System.nanoTime();
      entities = states.size();
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - stoppedNanos);
      if (left <= 0) {
        return Future.failedFuture("stopping the shard took longer than 3/4 of the hand-off timeout");
      }
      return hostShardOn(states, left, 1);
    }).onComplete(ar -> {
      handOffs.handOffEnded(this);
      if (ar.failed()) {
        result.fail(ar.cause().getMessage());
        handOffs.keepAfterFailedHandOff(shard, deferred);
        return;
      }
      if (deferred != null) {
        log.warn("ignored {} for shard {} of {}, which this node handed to {} at epoch {}", deferred, shard, command.type(),
            command.to(), command.epoch());
      }
      handOffs.handedOver(target); // what arrived meanwhile goes on to the new home
      result.complete(new ShardStopped(command.type(), shard, entities,
          TimeUnit.NANOSECONDS.toMillis(stoppedNanos - startedNanos), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedNanos)));
    });
    return result.future();
  }

  /**
   * HostShard to the new home, the buffer behind it. A timeout is no answer: the new home may have taken the
   * shard and served those messages, so going back to hosting it here could lose their writes. It is sent
   * again (the new home acknowledges a repeat without touching its entities) for as long as the new home is a
   * member; any other failure means it did not take it.
   */
  private Future<Message<JsonObject>> hostShardOn(Map<String, String> states, long timeoutMs, int attempt) {
    return handOffs.sendHostShard(target, states, timeoutMs).recover(err -> {
      boolean timedOut = err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT;
      if (!timedOut || handOffs.isClosing() || !handOffs.isMember(target.node())) {
        return Future.failedFuture(err);
      }
      log.warn("HostShard for shard {} of {} to {}: no answer within {} ms (attempt {}), sending it again",
          target.shard(), command.type(), target.node(), timeoutMs, attempt);
      return hostShardOn(states, Math.max(timeoutMs, handOffs.handOffTimeoutMs() / 4), attempt + 1);
    });
  }
}
