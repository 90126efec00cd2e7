package io.sticky.internal.protocol;

import io.sticky.api.StickyError;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

/**
 * How failures travel on the event bus: {@code fail(status, message)} where status is a
 * {@link StickyError#code()} and message is {@code {"detail": "...", "node": "<hosting node or null>"}},
 * so the gateway can still name the node for errors an entity produced ({@code EntityException.from} reads it back).
 */
public final class Failures {
  private Failures() {
  }

  public static void fail(Message<?> message, StickyError error, String detail, String node) {
    if (message.replyAddress() != null) {
      message.fail(error.code(), encode(detail, node));
    }
  }

  /** Passes on a failure received from another node unchanged. */
  public static void relay(Message<?> message, ReplyException failure) {
    if (message.replyAddress() != null) {
      message.fail(failure.failureCode(), failure.getMessage());
    }
  }

  public static String encode(String detail, String node) {
    return new JsonObject().put("detail", detail).put("node", node).encode();
  }
}
