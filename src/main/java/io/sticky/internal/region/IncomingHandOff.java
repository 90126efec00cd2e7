package io.sticky.internal.region;

import io.sticky.internal.coordinator.TableEntry;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.HostShard;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.internal.protocol.Protocol.ShardStarted;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of a hand-off: a shard handed over by its old home ({@code HostShard} with the entities'
 * snapshots) is hosted here once the allocation table confirms the move. The coordinator writes "here at this
 * epoch, from the sender" before the move starts, so a stale or forged HostShard, which would otherwise start
 * a second copy of the shard with injected state, changes nothing. On the region's context.
 */
final class IncomingHandOff {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);

  private final RegionHandOffs handOffs;
  private final HostShard command;
  private final String sender;

  IncomingHandOff(RegionHandOffs handOffs, HostShard command, String sender) {
    this.handOffs = handOffs;
    this.command = command;
    this.sender = sender;
  }

  /** Answers {@code msg}: ShardStarted (a repeat too), or 409 when the table or a newer home says otherwise. */
  void accept(Message<Object> msg) {
    int shard = command.shard();
    ShardHome known = handOffs.knownHome(shard);
    if (known != null && known.epoch() > command.epoch()) {
      msg.fail(409, "shard " + shard + " is known here at epoch " + known.epoch() + ", newer than " + command.epoch());
      return;
    }
    ShardHome hosting = new ShardHome(command.type(), shard, handOffs.self(), command.epoch());
    moving(handOffs.vertx(), command.type(), shard, handOffs.self(), command.epoch(), sender).onComplete(ar -> {
      if (ar.failed()) {
        msg.fail(ar.cause() instanceof ReplyException re ? re.failureCode() : 503, ar.cause().getMessage());
        return;
      }
      if (!hosting.equals(handOffs.hostedHome(shard))) {
        handOffs.hostHandedOver(hosting, command.states());
      } // else a repeat (the old home did not get our answer): its entities may have run since; keep them as they are.
      msg.reply(Protocol.encode(new ShardStarted(command.type(), shard, handOffs.self())));
    });
  }

  /** Succeeds when the allocation table has the shard moving to {@code node} at {@code epoch} from {@code from}. */
  static Future<Void> moving(Vertx vertx, String type, int shard, String node, long epoch, String from) {
    return TableEntry.read(vertx, type, shard).compose(entry -> {
      if (entry != null && node.equals(entry.node()) && entry.epoch() == epoch && from.equals(entry.from())) {
        return Future.succeededFuture();
      }
      log.warn("control message for shard {} of {} refused: it moves to {} at epoch {} from {}, the table has {}", shard, type,
          node, epoch, from, entry);
      return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "shard " + shard + " of " + type
          + " is not moving to " + node + " at epoch " + epoch + " from " + from + " in the allocation table"));
    });
  }
}
