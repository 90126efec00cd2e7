package io.sticky.store.replicated;

import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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

  /** The future a write waits on before it goes to the standby. */
  Future<Void> standbyReady() {
    return standbySynced == null ? Future.succeededFuture() : standbySynced.future();
  }
}
