package io.sticky.store.replicated;

import io.sticky.internal.cluster.Membership;
import io.sticky.internal.protocol.Addresses;
import io.sticky.store.StoredState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BooleanSupplier;

/**
 * The node's side of the replica protocol as a receiver ({@link ReplicaWire}): one clustered consumer on one
 * event loop, which applies other nodes' batches, snapshots, fetches and releases to this node's copies
 * ({@link ShardCopy} holds the rules). Membership changes are handled on the same event loop.
 */
final class ReplicaEndpoint extends VerticleBase {
  private final Membership membership;
  private final ConcurrentMap<ShardKey, ShardCopy> copies;
  private final BooleanSupplier inQuorum;
  private final Handler<Membership.Change> onMembershipChange;
  private Runnable unsubscribe;

  ReplicaEndpoint(Membership membership, ConcurrentMap<ShardKey, ShardCopy> copies, BooleanSupplier inQuorum,
                  Handler<Membership.Change> onMembershipChange) {
    this.membership = membership;
    this.copies = copies;
    this.inQuorum = inQuorum;
    this.onMembershipChange = onMembershipChange;
  }

  Context context() {
    return context;
  }

  @Override
  public Future<?> start() {
    unsubscribe = membership.subscribe(vertx, onMembershipChange);
    return vertx.eventBus().<Buffer>consumer(Addresses.replica(membership.self()), this::onMessage).completion();
  }

  @Override
  public Future<?> stop() {
    if (unsubscribe != null) {
      unsubscribe.run();
    }
    return Future.succeededFuture();
  }

  private ShardCopy copy(ShardKey key) {
    return copies.computeIfAbsent(key, ShardCopy::new);
  }

  private void onMessage(Message<Buffer> msg) {
    Buffer body = msg.body();
    if (!inQuorum.getAsBoolean() && body.getByte(0) != ReplicaWire.RELEASE && body.getByte(0) != ReplicaWire.COUNT) {
      // On the minority side: acknowledging a write or handing a copy over could fork the shard's history.
      msg.fail(503, "node " + membership.self() + " is not in the cluster's majority");
      return;
    }
    ReplicaWire.Reader r = new ReplicaWire.Reader(body, 1);
    switch (body.getByte(0)) {
      case ReplicaWire.REPLICATE -> {
        int n = r.readInt();
        Buffer statuses = Buffer.buffer(n);
        for (int i = 0; i < n; i++) {
          ShardKey key = r.readShard();
          long epoch = r.readLong();
          statuses.appendByte(copy(key).applyWrite(epoch, r.readString(), r.readState()));
        }
        msg.reply(statuses);
      }
      case ReplicaWire.SNAPSHOT -> {
        ShardKey key = r.readShard();
        long epoch = r.readLong();
        long term = r.readLong();
        boolean lost = r.readByte() != 0;
        Map<String, StoredState> states = new HashMap<>();
        r.readStates(states);
        msg.reply(Buffer.buffer(1).appendByte(copy(key).applySnapshot(epoch, term, lost, states)));
      }
      case ReplicaWire.FETCH -> {
        ShardKey key = r.readShard();
        msg.reply(copy(key).answerFetch(r.readLong()));
      }
      case ReplicaWire.RELEASE -> {
        ShardCopy copy = copies.get(r.readShard());
        long epoch = r.readLong();
        long term = r.readLong();
        if (copy != null) {
          copy.applyRelease(epoch, term);
        }
      }
      case ReplicaWire.COUNT -> {
        String type = r.readString();
        long count = copies.values().stream().filter(c -> c.primary && c.key.type().equals(type)).mapToLong(c -> c.states.size()).sum();
        msg.reply(Buffer.buffer(8).appendLong(count));
      }
      default -> msg.fail(400, "unknown replica message kind " + body.getByte(0));
    }
  }
}
