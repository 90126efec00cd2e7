package io.sticky.region;

import io.sticky.api.Entity;
import io.vertx.core.Promise;
import java.util.ArrayDeque;

/** A region's record of one hosted entity: its instance, lifecycle and the messages waiting for activation. */
final class EntityCell {
  final String id;
  final int shard;
  final Entity<?> entity;
  final ArrayDeque<Envelope> pending = new ArrayDeque<>();
  EntityLifecycle lifecycle = EntityLifecycle.ACTIVATING;
  String deploymentId;
  /** Completes when the activation has finished, successfully or not. */
  final Promise<Void> activation = Promise.promise();

  EntityCell(String id, int shard, Entity<?> entity) {
    this.id = id;
    this.shard = shard;
    this.entity = entity;
  }

  void moveTo(EntityLifecycle target) {
    lifecycle = lifecycle.moveTo(target);
  }
}
