package io.sticky.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control for the public port, with a counter shared by the node's gateway instances:
 * <ul>
 *   <li>at most {@code maxInFlight} requests between arrival and response: more get a fast 503 with
 *   Retry-After, before anything is read or applied;</li>
 *   <li>a request body must arrive whole within {@code requestReadTimeoutMs} of the headers, or the connection
 *   is closed: a client that trickles a body cannot hold a slot;</li>
 *   <li>at most {@code maxConnections} open connections: a request on one more gets 503 and its connection is
 *   closed. Vert.x reports an HTTP/1 connection with its first request's headers, so a connection counts
 *   from then on; one that never completes its headers is bounded only by the idle timeout.</li>
 * </ul>
 * Connections that send nothing are closed by the server's idle timeout.
 */
final class Admission {
  /** Per node: every gateway instance of one Vert.x counts against the same limit. */
  static final class Counters implements Shareable {
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();
    /** Connections over the cap: their requests get 503 and the connection is closed. */
    final java.util.Set<HttpConnection> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();
  }

  private static final String DEADLINE = "sticky.readDeadline";
  private final Vertx vertx;
  private final GatewayOptions options;
  private final Counters counters;

  Admission(Vertx vertx, GatewayOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.counters = (Counters) vertx.sharedData().getLocalMap("sticky.gateway.admission")
        .computeIfAbsent("counters", k -> new Counters());
  }

  /** The server's connection handler: counts open connections, and marks those over the cap. */
  void onConnection(HttpConnection conn) {
    boolean over = counters.connections.incrementAndGet() > options.getMaxConnections();
    if (over) {
      counters.refused.add(conn);
    }
    conn.closeHandler(v -> {
      counters.connections.decrementAndGet();
      counters.refused.remove(conn);
    });
  }

  /** First router handler: the connection cap, the in-flight cap, and the body's read deadline. */
  void onRequest(RoutingContext ctx) {
    HttpConnection connection = ctx.request().connection();
    if (connection != null && counters.refused.contains(connection)) {
      ctx.response().putHeader("Retry-After", Problem.RETRY_AFTER_SECONDS);
      if (ctx.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
        ctx.response().putHeader("Connection", "close");
      }
      ctx.response().endHandler(v -> connection.close());
      Problem.send(ctx.response(), 503, "Service unavailable", "the node has " + options.getMaxConnections()
          + " open connections, its limit; this one is closed. Not applied, retry later", ctx.request().path());
      return;
    }
    if (counters.inFlight.incrementAndGet() > options.getMaxInFlight()) {
      counters.inFlight.decrementAndGet();
      ctx.response().putHeader("Retry-After", Problem.RETRY_AFTER_SECONDS);
      Problem.send(ctx.response(), 503, "Service unavailable", "the node has " + options.getMaxInFlight()
          + " requests in flight, its limit; not applied, retry later", ctx.request().path());
      return;
    }
    ctx.addEndHandler(ar -> {
      counters.inFlight.decrementAndGet();
      lift(ctx);
    });
    String length = ctx.request().getHeader("Content-Length");
    boolean body = "chunked".equalsIgnoreCase(ctx.request().getHeader("Transfer-Encoding")) || (length != null && !length.equals("0"));
    HttpConnection conn = ctx.request().connection();
    if (body && conn != null) {
      ctx.put(DEADLINE, vertx.setTimer(options.getRequestReadTimeoutMs(), t -> conn.close()));
    }
    ctx.next();
  }

  /** Router handler after the body handler: the body is read, so the deadline is lifted. */
  void bodyRead(RoutingContext ctx) {
    lift(ctx);
    ctx.next();
  }

  private void lift(RoutingContext ctx) {
    Long timer = ctx.remove(DEADLINE);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
  }
}
