package io.sticky.api;

import io.vertx.core.json.JsonObject;

/**
 * An entity's reply together with the id of the node that hosts the entity; {@code replayed} when it is the
 * stored reply of an idempotency key applied before (nothing was applied this time).
 */
public record EntityReply(JsonObject body, String node, boolean replayed) {
  public EntityReply(JsonObject body, String node) {
    this(body, node, false);
  }
}
