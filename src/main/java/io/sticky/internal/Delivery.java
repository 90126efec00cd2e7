package io.sticky.internal;

import io.sticky.api.EntityAddress;
import io.sticky.api.StickyError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

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

  /**
   * Runs one step of handling this message (its state write) and returns the step's outcome; a traced
   * message records the step as a span named {@code name} in its trace.
   */
  default <T> Future<T> step(String name, Supplier<Future<T>> work) {
    return work.get();
  }

  /** Sends the stored reply of an already applied idempotency key, marked as a replay. */
  default void replay(JsonObject reply) {
    reply(reply);
  }
}
