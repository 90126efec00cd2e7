package io.sticky.protocol;

import io.sticky.api.EntityException;
import io.sticky.api.StickyError;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;

/**
 * How failures travel on the event bus: {@code fail(status, message)} where status is a
 * {@link StickyError#code()} and message is {@code {"detail": "...", "node": "<hosting node or null>"}},
 * so the gateway can still name the node for errors an entity produced.
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

  /** The human-readable detail of any ask failure. */
  public static String detail(Throwable failure) {
    return EntityException.from(failure).getMessage();
  }

  /** The node that produced the failure, if an entity did; else null. */
  public static String node(Throwable failure) {
    return EntityException.from(failure).node();
  }
}
