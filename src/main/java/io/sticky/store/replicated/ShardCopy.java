package io.sticky.store.replicated;

import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's copy of one shard's states, in one of three roles: primary (this node hosts the shard and
 * takes its writes), replica (another node's standby copy), or none (released; only the fence is left).
 * Every field but {@link #states} is guarded by the object's monitor; entity contexts, the replica endpoint
 * and reply handlers all touch it.
 */
final class ShardCopy {
  final ShardKey key;
  /** Entity id -> its latest state known here. Copies only ever move to higher versions of an entity. */
  final Map<String, StoredState> states = new ConcurrentHashMap<>();

  /** The allocation epoch this copy was written at (primary: the hosting epoch); 0 = holds nothing. */
  long epoch;
  /**
   * Which standby assignment of its epoch this copy belongs to: a primary counts its standby changes, a replica
   * keeps the count of the snapshot it holds. A release names the assignment it follows, so it never drops a
   * copy that a later snapshot made (a standby that went and came back).
   */
  long term;
  /** The highest epoch some node announced it hosts the shard at: writes and copies of older epochs are refused. */
  long fence;
  boolean primary;
  /**
   * Every copy of the shard as it was before this node took it over is gone (the nodes holding them failed
   * together): an entity with no state here may have had one, so its load fails until the loss is accepted.
   */
  volatile boolean lost;
  /** Primary only, while lost: when the members were last asked whether one still holds a copy (ms). */
  long lostCheckedAt;
  /** Primary only: the succeeded future of this copy, returned on the fast path without allocating. */
  Future<ShardCopy> ready;
  /** Primary only: the node that holds the second copy (null: no other member). */
  String standby;
  /** Primary only: completes once {@link #standby} acknowledged the whole shard; fails if the standby changed first. */
  Promise<Void> standbySynced;
  /** A running acquisition and the epoch it is for. */
  Future<ShardCopy> acquiring;
  long acquiringEpoch;

  ShardCopy(ShardKey key) {
    this.key = key;
  }

  /** Keeps the higher version of the two: copies merge in any order to the same result. */
  void merge(String id, StoredState incoming) {
    states.merge(id, incoming, (current, next) -> next.version() > current.version() ? next : current);
  }

  void mergeAll(Map<String, StoredState> incoming) {
    incoming.forEach(this::merge);
  }

  /** Another node hosts the shard from {@code newEpoch}: this copy takes no more writes. */
  void demote(long newEpoch) {
    fence = Math.max(fence, newEpoch);
    if (primary) {
      primary = false;
      ready = null;
      standby = null;
      if (standbySynced != null) {
        standbySynced.tryFail("shard " + key + " is hosted elsewhere from epoch " + newEpoch);
        standbySynced = null;
      }
    }
  }

  /**
   * Whether a message of another node at {@code otherEpoch} comes from an older allocation than this copy
   * knows of (or claims the epoch this node hosts the shard at): it is refused.
   */
  synchronized boolean refuses(long otherEpoch) {
    return otherEpoch < fence || otherEpoch < epoch || (primary && otherEpoch == epoch);
  }

  // ------------------------------------------------------------ as a replica: what other nodes' messages do

  /** A write of the primary at {@code writerEpoch}, once this copy holds that epoch's snapshot. */
  synchronized byte applyWrite(long writerEpoch, String id, StoredState state) {
    if (refuses(writerEpoch)) {
      return ReplicaWire.STALE;
    }
    if (primary || epoch < writerEpoch) {
      return ReplicaWire.NEED_SNAPSHOT;
    }
    merge(id, state);
    return ReplicaWire.OK;
  }

  /** The whole shard from its primary at {@code primaryEpoch}: this copy becomes (or stays) its standby copy. */
  synchronized byte applySnapshot(long primaryEpoch, long snapshotTerm, boolean primaryLost, Map<String, StoredState> snapshot) {
    if (refuses(primaryEpoch)) {
      return ReplicaWire.STALE;
    }
    // A replica that held a whole copy of its own (a node back from a partition) makes the union whole again.
    boolean whole = epoch > 0 && !lost;
    demote(primaryEpoch);
    lost = primaryLost && !whole;
    mergeAll(snapshot);
    term = epoch == primaryEpoch ? Math.max(term, snapshotTerm) : snapshotTerm;
    epoch = primaryEpoch;
    return ReplicaWire.OK;
  }

  /** A node takes the shard over at {@code newEpoch}: this copy is handed over and refuses older epochs from now on. */
  synchronized Buffer answerFetch(long newEpoch) {
    if (refuses(newEpoch)) {
      return Buffer.buffer(9).appendByte(ReplicaWire.STALE).appendLong(Math.max(epoch, fence));
    }
    demote(newEpoch);
    Buffer reply = Buffer.buffer(64 + 96 * states.size()).appendByte(ReplicaWire.OK).appendLong(epoch)
        .appendByte(lost ? (byte) 1 : 0);
    ReplicaWire.putStates(reply, states);
    return reply;
  }

  /** The primary at {@code primaryEpoch} has its standby: a copy older than that epoch and term is dropped. */
  synchronized void applyRelease(long primaryEpoch, long standbyTerm) {
    boolean older = epoch < primaryEpoch || (epoch == primaryEpoch && term < standbyTerm && !primary);
    if (older && (acquiring == null || acquiringEpoch < primaryEpoch)) {
      demote(primaryEpoch);
      states.clear();
      epoch = 0;
      lost = false;
    }
  }

  /** The future a write waits on before it goes to the standby. */
  Future<Void> standbyReady() {
    return standbySynced == null ? Future.succeededFuture() : standbySynced.future();
  }
}
