package io.sticky.internal.region;

import io.sticky.internal.EntityHost;
import io.vertx.core.Promise;
import java.util.ArrayDeque;

/**
 * A region's record of one hosted entity: its instance, lifecycle and the messages waiting for activation
 * (or, while it is passivated, for its next instance). Tracked in the region's {@link ActiveEntities}.
 */
final class EntityCell extends ActiveEntities.Entry {
  final int shard;
  final EntityHost entity;
  /** Usually empty: starts at 2 slots rather than the default 16 (a million cells), grows as needed. */
  final ArrayDeque<Envelope> pending = new ArrayDeque<>(1);
  EntityLifecycle lifecycle = EntityLifecycle.ACTIVATING;
  /** Completes when the activation has finished, successfully or not. */
  final Promise<Void> activation = Promise.promise();
  /** Completes when the instance is gone (STOPPED). */
  final Promise<Void> stopped = Promise.promise();

  /** Neighbours in its shard's list in {@link EntityCells}. */
  EntityCell shardPrev;
  EntityCell shardNext;

  /** Chosen for passivation: takes no new messages (they wait in {@link #pending} for the next instance). */
  boolean passivating;

  EntityCell(String id, int shard, EntityHost entity) {
    super(id);
    this.shard = shard;
    this.entity = entity;
  }

  void moveTo(EntityLifecycle target) {
    lifecycle = lifecycle.moveTo(target);
  }
}
