package io.sticky.store.replicated;

import io.sticky.internal.protocol.Addresses;
import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes applied to a primary copy on their way to its standby: group commit per standby, and each write
 * sent again (to whatever the standby is by then) until one acknowledges it or it gives up. A write's future
 * completes once the standby holds it.
 */
final class StandbyWrites {
  private static final Logger log = LoggerFactory.getLogger(StandbyWrites.class);
  /** A write that no standby acknowledged in this time fails with an unknown outcome. */
  static final long WRITE_GIVE_UP_MS = 30_000;
  /**
   * Batches to one standby that may be unanswered at once. Writes that arrive meanwhile wait and go together
   * in the next batch, so a batch holds what arrived during one round trip: under load, many writes share one
   * message (each costs CPU on both nodes, which is what limits a small machine); when idle, a write goes at once.
   */
  static final int MAX_BATCHES_IN_FLIGHT = 2;
  /** Writes in one batch, at most. */
  static final int MAX_BATCH = 512;

  /** What to do when a standby says it lost the shard: the store sends it the whole shard again. */
  interface Resync {
    void resync(ShardCopy copy, long epoch, String standby);
  }

  private final Vertx vertx;
  private final Resync resync;
  /** Whether this node holds the cluster's majority: without it, no write is acknowledged. */
  private final BooleanSupplier inQuorum;
  /** Whether this node is the cluster's only member: then its copy is the only one there can be. */
  private final BooleanSupplier alone;
  /** Per standby: the writes waiting to go and how many batches are unanswered (group commit). */
  private final ConcurrentMap<String, Lane> lanes = new ConcurrentHashMap<>();
  /** Batches sent and not answered yet, per standby: sent again at once if that standby leaves the cluster. */
  private final ConcurrentMap<String, Set<InFlight>> unanswered = new ConcurrentHashMap<>();

  StandbyWrites(Vertx vertx, Resync resync, BooleanSupplier inQuorum, BooleanSupplier alone) {
    this.vertx = vertx;
    this.resync = resync;
    this.inQuorum = inQuorum;
    this.alone = alone;
  }

  /** Sends a write the primary copy at {@code epoch} took; completes once a standby holds it. */
  Future<Void> replicate(ShardCopy copy, long epoch, String id, StoredState state) {
    PendingWrite write = new PendingWrite(copy, epoch, id, state, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WRITE_GIVE_UP_MS));
    replicate(write);
    return write.done.future();
  }

  /**
   * A member left the cluster: what waits for it or was sent to it goes to the shards' next standbys. A crashed
   * standby never answers, and its batches would otherwise wait out the request timeout.
   */
  void standbyLeft(String gone) {
    Lane lane = lanes.remove(gone);
    if (lane != null) {
      for (PendingWrite w; (w = lane.waiting.poll()) != null; ) {
        retryLater(w);
      }
    }
    Set<InFlight> lost = unanswered.remove(gone);
    if (lost != null) {
      for (InFlight sent : lost) {
        if (lost.remove(sent)) {
          sent.writes.forEach(this::retryLater);
        }
      }
    }
  }

  /** A write applied to the primary copy, on its way to the standby. */
  private static final class PendingWrite {
    final ShardCopy copy;
    final long epoch;
    final String id;
    final StoredState state;
    final long deadline;
    final Promise<Void> done = Promise.promise();
    int attempt;

    PendingWrite(ShardCopy copy, long epoch, String id, StoredState state, long deadline) {
      this.copy = copy;
      this.epoch = epoch;
      this.id = id;
      this.state = state;
      this.deadline = deadline;
    }

    void failUnknown(String why) {
      done.tryFail(new IllegalStateException("write of " + copy.key.type() + "/" + id + " not confirmed by a standby (" + why + "): outcome unknown"));
    }
  }

  /** A batch on its way to a standby (identity, not content, tells batches apart). */
  private record InFlight(List<PendingWrite> writes) {
    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }
  }

  /** Sends the write to the shard's current standby once that standby holds the shard. */
  private void replicate(PendingWrite w) {
    if (w.done.future().isComplete()) {
      return; // answered by a standby that was given up on too early, or sent twice
    }
    String standby;
    Future<Void> ready;
    synchronized (w.copy) {
      if (!w.copy.primary || w.copy.epoch != w.epoch) {
        w.failUnknown("the shard is hosted elsewhere now");
        return;
      }
      standby = w.copy.standby;
      ready = w.copy.standbyReady();
    }
    if (!inQuorum.getAsBoolean()) {
      // Cut off from the majority: its standby may be cut off too, and the majority may take the shard over
      // from an older copy. Better an unknown outcome than an acknowledgement that the majority never saw.
      w.failUnknown("this node lost the cluster's majority");
      return;
    }
    if (standby == null && alone.getAsBoolean()) {
      w.done.tryComplete(); // no other member: this copy is the only one there can be
      return;
    }
    if (System.nanoTime() > w.deadline) {
      w.failUnknown("gave up after " + WRITE_GIVE_UP_MS + " ms");
      return;
    }
    if (standby == null) {
      retryLater(w); // other members, none reachable right now: wait for one (or for the quorum to go)
      return;
    }
    if (ready.succeeded()) {
      enqueue(standby, w);
    } else {
      ready.onComplete(ar -> {
        if (ar.succeeded()) {
          enqueue(standby, w);
        } else {
          retryLater(w);
        }
      });
    }
  }

  private void retryLater(PendingWrite w) {
    vertx.setTimer(ReplicatedStateStore.backoff(w.attempt++), t -> replicate(w));
  }

  /** The writes on their way to one standby. */
  private static final class Lane {
    final String standby;
    final Queue<PendingWrite> waiting = new ConcurrentLinkedQueue<>();
    final AtomicInteger inFlight = new AtomicInteger();

    Lane(String standby) {
      this.standby = standby;
    }
  }

  private void enqueue(String standby, PendingWrite w) {
    Lane lane = lanes.computeIfAbsent(standby, Lane::new);
    lane.waiting.add(w);
    drain(lane);
  }

  /**
   * Sends what waits for the lane's standby while fewer than {@link #MAX_BATCHES_IN_FLIGHT} batches are
   * unanswered; every answer calls this again. Any thread: every write is followed by a call, and so is every
   * answer, so nothing waits with a batch slot free.
   */
  private void drain(Lane lane) {
    while (!lane.waiting.isEmpty()) {
      int sending = lane.inFlight.get();
      if (sending >= MAX_BATCHES_IN_FLIGHT) {
        return;
      }
      if (!lane.inFlight.compareAndSet(sending, sending + 1)) {
        continue;
      }
      List<PendingWrite> batch = new ArrayList<>();
      for (PendingWrite w; batch.size() < MAX_BATCH && (w = lane.waiting.poll()) != null; ) {
        batch.add(w);
      }
      if (batch.isEmpty()) {
        lane.inFlight.decrementAndGet();
      } else {
        send(lane, batch);
      }
    }
  }

  private void send(Lane lane, List<PendingWrite> batch) {
    String standby = lane.standby;
    Buffer msg = Buffer.buffer(64 + 96 * batch.size()).appendByte(ReplicaWire.REPLICATE).appendInt(batch.size());
    for (PendingWrite w : batch) {
      ReplicaWire.putString(msg, w.copy.key.type());
      msg.appendInt(w.copy.key.shard()).appendLong(w.epoch);
      ReplicaWire.putString(msg, w.id);
      ReplicaWire.putState(msg, w.state);
    }
    Set<InFlight> waiting = unanswered.computeIfAbsent(standby, s -> ConcurrentHashMap.newKeySet());
    InFlight sent = new InFlight(batch);
    waiting.add(sent);
    vertx.eventBus().<Buffer>request(Addresses.replica(standby), msg, new DeliveryOptions().setSendTimeout(ReplicatedStateStore.REQUEST_TIMEOUT_MS))
        .onComplete(ar -> {
          lane.inFlight.decrementAndGet();
          drain(lane);
          if (!waiting.remove(sent)) {
            return; // the standby left the cluster and the batch was sent to its successor already
          }
          if (ar.failed()) {
            log.debug("replication of {} writes to {} failed: {}", batch.size(), standby, ar.cause().getMessage());
            batch.forEach(this::retryLater);
            return;
          }
          Buffer statuses = ar.result().body();
          for (int i = 0; i < batch.size(); i++) {
            PendingWrite w = batch.get(i);
            switch (statuses.getByte(i)) {
              case ReplicaWire.OK -> {
                if (inQuorum.getAsBoolean()) {
                  w.done.tryComplete();
                } else {
                  // Both copies may now be on the minority side: not acknowledged (see replicate).
                  w.failUnknown("this node lost the cluster's majority before its standby answered");
                }
              }
              case ReplicaWire.NEED_SNAPSHOT -> {
                resync.resync(w.copy, w.epoch, standby);
                retryLater(w);
              }
              default -> {
                synchronized (w.copy) {
                  w.copy.demote(w.epoch + 1);
                }
                w.failUnknown("standby " + standby + " knows a newer epoch of the shard");
              }
            }
          }
        });
  }
}
