package io.sticky.api;

import io.vertx.core.json.JsonObject;

/**
 * One message handed by the runtime to an entity's mailbox, with the way back to its sender.
 * Runtime contract: application code never implements or calls this.
 */
public interface Delivery {
  /** {@link EntityAddress#KIND_ASK} or {@link EntityAddress#KIND_VIEW}. */
  String kind();

  /** The message (never null for an ask; null for a view). */
  JsonObject body();

  /** Sends the reply; the runtime adds the hosting node. */
  void reply(JsonObject reply);

  /** Fails the message with a clear error. */
  void fail(StickyError error, String detail);

  /** The caller's idempotency key ({@code Idempotency-Key}), or null. */
  default String idempotencyKey() {
    return null;
  }

  /** Sends the stored reply of an already applied idempotency key, marked as a replay. */
  default void replay(JsonObject reply) {
    reply(reply);
  }
}
