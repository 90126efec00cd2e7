package io.sticky.internal;

import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.StickyError;
import io.sticky.internal.protocol.Failures;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * A request's checks and failures at a node's edges. A request is checked once, where it enters the node
 * ({@code Sticky.request}, which the REST gateway uses too, or the entry address); inside the node a failure is an
 * {@link EntityException} (kind, detail, node), and it becomes a {@link ReplyException} with a JSON message only
 * where one leaves the node: on the event bus, and from the public {@code Sticky.request}, which answers as the
 * event bus would.
 */
public final class Requests {
  private Requests() {
  }

  /** Why a request with this id, kind ({@code null}: ask), body and idempotency key cannot go to an entity; null if it can. */
  public static EntityException check(String id, String kind, Object body, String idempotencyKey) {
    if (!EntityAddress.isValidId(id)) {
      return new EntityException(StickyError.INVALID_ID, EntityAddress.INVALID_ID_DETAIL);
    }
    String k = kind == null ? EntityAddress.KIND_ASK : kind;
    if (!EntityAddress.KIND_VIEW.equals(k) && !(EntityAddress.KIND_ASK.equals(k) && body instanceof JsonObject)) {
      return EntityException.badRequest(EntityAddress.KIND_ASK.equals(k) ? "message body must be a JSON object" : "unknown message kind: " + k);
    }
    if (idempotencyKey != null && !EntityAddress.isValidIdempotencyKey(idempotencyKey)) {
      return EntityException.badRequest(EntityAddress.INVALID_IDEMPOTENCY_KEY_DETAIL);
    }
    return null;
  }

  /** A failure as the event bus delivers it: a typed one becomes a ReplyException with {@code {"detail", "node"}}. */
  public static Throwable onTheBus(Throwable failure) {
    return failure instanceof EntityException ee
        ? new ReplyException(ReplyFailure.RECIPIENT_FAILURE, ee.error().code(), Failures.encode(ee.getMessage(), ee.node()), true)
        : failure;
  }
}
