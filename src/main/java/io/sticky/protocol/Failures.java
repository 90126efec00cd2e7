package io.sticky.protocol;

import io.sticky.api.StickyError;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
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
    JsonObject json = parse(failure);
    if (json != null) {
      return json.getString("detail", "");
    }
    return failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
  }

  /** The node that produced the failure, if an entity did; else null. */
  public static String node(Throwable failure) {
    JsonObject json = parse(failure);
    return json == null ? null : json.getString("node");
  }

  private static JsonObject parse(Throwable failure) {
    String m = failure instanceof ReplyException ? failure.getMessage() : null;
    if (m == null || !m.startsWith("{")) {
      return null;
    }
    try {
      return new JsonObject(m);
    } catch (DecodeException e) {
      return null;
    }
  }
}
