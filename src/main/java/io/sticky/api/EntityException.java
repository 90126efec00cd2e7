package io.sticky.api;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * Thrown (or used to fail the returned future) by an entity to reject a message with a clear error:
 * the caller gets the error's status and this message, and the entity's state is left as it was.
 */
public class EntityException extends RuntimeException {
  private final StickyError error;
  private final String node;

  public EntityException(StickyError error, String message) {
    this(error, message, null);
  }

  /** A failure that {@code node} produced (null when unknown or when no node answered). */
  public EntityException(StickyError error, String message, String node) {
    super(message, null, false, false);
    this.error = error;
    this.node = node;
  }

  public static EntityException badRequest(String message) {
    return new EntityException(StickyError.BAD_REQUEST, message);
  }

  /**
   * Any failure of a call, typed: its kind ({@link StickyError#of}), detail and node. On the event bus a failure
   * travels as a {@code ReplyException} whose message is {@code {"detail": .., "node": ..}}; this reads it.
   */
  public static EntityException from(Throwable failure) {
    if (failure instanceof EntityException ee) {
      return ee;
    }
    StickyError kind = StickyError.of(failure);
    String message = failure.getMessage();
    if (failure instanceof ReplyException && message != null && message.startsWith("{")) {
      try {
        JsonObject json = new JsonObject(message);
        return new EntityException(kind, json.getString("detail", ""), json.getString("node"));
      } catch (DecodeException | ClassCastException e) {
        // not one of ours: the message as it is
      }
    }
    return new EntityException(kind, message == null ? failure.getClass().getSimpleName() : message);
  }

  public StickyError error() {
    return error;
  }

  /** The node that produced the failure, if known; else null. */
  public String node() {
    return node;
  }
}
