package io.sticky.client;

import io.sticky.api.StickyError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.ConnectException;

/** How the client reads a node's failure: its {@link StickyError} kind and detail (RFC 9457 problem bodies). */
final class Responses {
  private Responses() {
  }

  /** True if the call never reached the node (refused, or the connection did not open): it was not applied. */
  static boolean notSent(Throwable failure) {
    return failure instanceof ConnectException || failure instanceof io.netty.channel.ConnectTimeoutException
        || (failure.getCause() instanceof ConnectException);
  }

  /** The error kind a node answered: from the problem body's type, else from the status. */
  static StickyError errorOf(HttpResponse<Buffer> response) {
    String type = null;
    try {
      JsonObject problem = response.bodyAsJsonObject();
      type = problem == null ? null : problem.getString("type");
    } catch (RuntimeException ignored) {
      // not a problem body: classified by status below
    }
    if (type != null) {
      for (StickyError e : StickyError.values()) {
        if (e.type().equals(type)) {
          return e;
        }
      }
    }
    int status = response.statusCode();
    for (StickyError e : StickyError.values()) {
      if (e.status() == status && e != StickyError.INVALID_ID) {
        return e;
      }
    }
    return status >= 500 ? StickyError.ENTITY_FAILED : StickyError.BAD_REQUEST;
  }

  /** The problem body's detail, else the status. */
  static String detailOf(HttpResponse<Buffer> response) {
    try {
      JsonObject problem = response.bodyAsJsonObject();
      if (problem != null && problem.getString("detail") != null) {
        return problem.getString("detail");
      }
    } catch (RuntimeException ignored) {
      // not JSON
    }
    return "HTTP " + response.statusCode();
  }
}
