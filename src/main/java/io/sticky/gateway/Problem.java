package io.sticky.gateway;

import io.sticky.api.StickyError;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * RFC 9457 problem details ({@code application/problem+json}), the body of every error response. Says
 * whether the request may have been applied ({@code outcome}: {@code not-applied} or {@code unknown}), and
 * never carries a stack trace.
 */
public final class Problem {
  public static final String CONTENT_TYPE = "application/problem+json";
  /** Seconds a client should wait before retrying a 503. */
  static final String RETRY_AFTER_SECONDS = "1";

  private Problem() {
  }

  public static JsonObject body(StickyError error, String detail, String instance) {
    return new JsonObject()
        .put("type", error.type())
        .put("title", error.title())
        .put("status", error.status())
        .put("detail", detail)
        .put("instance", instance)
        .put("outcome", error.outcomeUnknown() ? "unknown" : "not-applied");
  }

  public static void send(HttpServerResponse response, StickyError error, String detail, String instance) {
    if (response.ended() || response.closed()) {
      return;
    }
    if (error == StickyError.UNAVAILABLE) {
      response.putHeader("Retry-After", RETRY_AFTER_SECONDS);
    }
    response.setStatusCode(error.status())
        .putHeader("Content-Type", CONTENT_TYPE)
        .end(body(error, detail, instance).toBuffer());
  }

  /** A problem for a status with no {@link StickyError} (404 route, 405 method). */
  public static void send(HttpServerResponse response, int status, String title, String detail, String instance) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status)
        .putHeader("Content-Type", CONTENT_TYPE)
        .end(new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
            .put("detail", detail).put("instance", instance).toBuffer());
  }
}
