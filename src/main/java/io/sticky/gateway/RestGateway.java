package io.sticky.gateway;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.EntityReply;
import io.sticky.api.Sticky;
import io.sticky.api.StickyError;
import io.sticky.internal.NodeRuntime;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.List;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST gateway, one per node (optionally several verticle instances on one port).
 *
 * <pre>
 * POST /entities/{type}/{id}   JSON message -> the entity's JSON reply
 * GET  /entities/{type}/{id}   the entity's read-only view
 * GET  /health/live            200 while the process runs
 * GET  /health/ready           200 once joined, every region registered and every store answering, else 503 ({@link NodeHealth})
 * GET  /cluster, /cluster/shards, /cluster/entities/{type}/{id}   read-only management ({@link ManagementRoutes})
 * GET  /metrics                Prometheus text (Vert.x, JVM and sticky_* series); 404 on a Vert.x without metrics
 * GET  /openapi.json           the OpenAPI 3 document of all of these (resource {@value #OPENAPI_RESOURCE})
 * </pre>
 *
 * With {@link GatewayOptions#getManagementPort()} set, health, management (but the routing table), metrics and the
 * OpenAPI document move to that port. With a tokens file, requests need a bearer token with a role
 * ({@link HttpAccess}).
 *
 * Responses produced by an entity carry {@code X-Sticky-Node} and {@code X-Sticky-Owner} (that node's
 * advertised URL). A request with {@code X-Sticky-Redirect: true} whose entity lives on another node gets
 * {@code 307} to it, applied nowhere; {@code /cluster/routing} serves the table a client needs to go there
 * directly ({@link RoutingRoutes}, docs/routing.md). Every error is
 * {@code application/problem+json} ({@link Problem}); bad input never produces a 500.
 */
public final class RestGateway extends VerticleBase {
  public static final String NODE_HEADER = "X-Sticky-Node";
  /** The advertised URL of the node named by {@link #NODE_HEADER} (docs/routing.md). */
  public static final String OWNER_HEADER = "X-Sticky-Owner";
  /** Request header: {@code true} asks for a 307 to the entity's node instead of forwarding there. */
  public static final String REDIRECT_HEADER = "X-Sticky-Redirect";
  /** Request header naming an ask as one operation: a retry with the same key is answered, not applied again. */
  public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
  /** Response header: the reply is the stored one of an idempotency key applied before. */
  public static final String REPLAYED_HEADER = "Idempotent-Replayed";
  private static final Logger log = LoggerFactory.getLogger(RestGateway.class);
  private static final long SHUTDOWN_GRACE_SECONDS = 5;
  /** Classpath resource served at GET /openapi.json; OpenApiTest keeps it in step with the routes. */
  static final String OPENAPI_RESOURCE = "openapi.json";

  private final Sticky sticky;
  private final GatewayOptions options;
  private final IntConsumer onListening;
  private HttpServer server;
  private HttpServer managementServer;
  private Router router;
  /** The operator's console (GET /ui), read from the jar at start. */
  private ConsoleRoutes console;
  /** Watches the HTTPS certificate files, or null without HTTPS. */
  private CertificateReloader certificates;
  /** The management port's router, or {@link #router} when there is no management port. */
  private Router management;
  private HttpAccess access = HttpAccess.open();
  private Admission admission;
  /** The runtime's node-level API (routing table, owner URLs), or null for another {@link Sticky} implementation. */
  private final NodeRuntime impl;
  private RoutingRoutes routing;

  public RestGateway(Sticky sticky, GatewayOptions options, IntConsumer onListening) {
    this.sticky = sticky;
    this.options = options;
    this.onListening = onListening;
    this.impl = sticky instanceof NodeRuntime i ? i : null;
  }

  @Override
  public Future<?> start() {
    // Read once, off the event loop: the document is static apart from the version, which is this build's.
    return vertx.executeBlocking(() -> {
      access = HttpAccess.create(vertx, options);
      console = ConsoleRoutes.load();
      return openApiDocument();
    }).compose(this::listen);
  }

  private Future<?> listen(String openApi) {
    router = Router.router(vertx);
    admission = new Admission(vertx, options);
    router.route().handler(admission::onRequest);
    // With a management port, health, management, metrics and the OpenAPI document are served there only.
    management = options.getManagementPort() > 0 ? Router.router(vertx) : router;
    router.route().handler(access::check);
    if (management != router) {
      management.route().handler(access::check);
    }
    router.route("/entities/:type/:id").method(HttpMethod.POST).handler(this::requireJson);
    router.route("/entities/:type/:id").method(HttpMethod.POST)
        .handler(BodyHandler.create(false).setBodyLimit(options.getMaxBodyBytes())).handler(admission::bodyRead);
    router.post("/entities/:type/:id").handler(this::post);
    router.get("/entities/:type/:id").handler(this::get);
    router.route("/entities/:type/:id").handler(ctx -> {
      ctx.response().putHeader("Allow", "GET, POST");
      Problem.send(ctx.response(), 405, "Method not allowed", "use GET or POST", ctx.request().path());
    });
    new NodeHealth(vertx, sticky).install(management);
    management.get("/metrics").handler(metricsHandler());
    management.get("/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json").end(openApi));
    console.install(management);
    if (impl != null) {
      // The routing table stays on the public port: it is part of the client protocol (docs/routing.md).
      routing = new RoutingRoutes(vertx, impl);
      routing.install(router);
      new ManagementRoutes(vertx, impl).install(management);
    }
    for (Router r : management == router ? List.of(router) : List.of(router, management)) {
      r.route().handler(ctx -> Problem.send(ctx.response(), 404, "Not found", "no route for " + ctx.request().path(), ctx.request().path()));
      r.route().failureHandler(this::failure);
    }

    HttpServerOptions serverOptions = new HttpServerOptions().setHost(options.getHost()).setPort(options.getPort())
        .setIdleTimeout(options.getIdleTimeoutSeconds()).setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS);
    if (options.isTls()) {
      // HTTPS only on this port, HTTP/2 offered through ALPN next to HTTP/1.1.
      serverOptions.setSsl(true).setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(options.getTlsCertPath()).setKeyPath(options.getTlsKeyPath()));
    }
    server = vertx.createHttpServer(serverOptions);
    if (options.isTls() && options.getTlsReloadCheckMs() > 0) {
      certificates = new CertificateReloader(vertx, server, serverOptions.getSslOptions(), options.getTlsCertPath(), options.getTlsKeyPath(),
        ok -> {
          if (impl != null) {
            impl.recordTlsReload(ok);
          }
        });
      certificates.start(options.getTlsReloadCheckMs());
    }
    Future<HttpServer> managementListening = management == router ? Future.succeededFuture()
        : vertx.createHttpServer(new HttpServerOptions().setHost(options.getManagementHost()).setPort(options.getManagementPort()))
            .requestHandler(management).listen().onSuccess(s -> managementServer = s);
    server.invalidRequestHandler(RestGateway::invalidRequest);
    server.connectionHandler(admission::onConnection);
    return managementListening.compose(m -> server.requestHandler(router).listen()).onSuccess(s -> onListening.accept(s.actualPort()));
  }

  /**
   * A request the HTTP decoder could not make sense of (a bad request line or version, headers over the limit):
   * a problem+json 4xx and the connection closed, rather than Vert.x's bare answer (501 for an unknown version).
   */
  private static void invalidRequest(io.vertx.core.http.HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    int status = cause instanceof io.netty.handler.codec.TooLongFrameException
        ? (String.valueOf(cause.getMessage()).contains("header") ? 431 : 414) : 400;
    String title = status == 431 ? "Request header fields too large" : status == 414 ? "URI too long" : "Bad request";
    request.response().putHeader("Connection", "close");
    Problem.send(request.response(), status, title, "the request is not valid HTTP/1.1 or HTTP/2"
        + (cause == null ? "" : ": " + cause.getMessage()), "/");
  }

  /** The OpenAPI document from the classpath, with {@code info.version} set to this build's version. */
  static String openApiDocument() throws java.io.IOException {
    try (java.io.InputStream in = RestGateway.class.getClassLoader().getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new java.io.FileNotFoundException("resource " + OPENAPI_RESOURCE + " is missing from the classpath");
      }
      JsonObject doc = new JsonObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      doc.getJsonObject("info").put("version", NodeRuntime.version());
      return doc.encodePrettily();
    }
  }

  /** The routes, in order (after start), for checking them against the OpenAPI document. */
  List<Route> routes() {
    List<Route> all = new java.util.ArrayList<>(router.getRoutes());
    if (management != router) {
      all.addAll(management.getRoutes());
    }
    return all;
  }

  /** Stops accepting connections and lets in-flight requests finish (bounded). */
  @Override
  public Future<?> stop() {
    if (routing != null) {
      routing.close();
    }
    if (certificates != null) {
      certificates.stop();
    }
    Future<Void> managementStopped = managementServer == null ? Future.succeededFuture() : managementServer.close();
    return server == null ? managementStopped
        : Future.join(managementStopped, server.shutdown(SHUTDOWN_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS));
  }

  private void requireJson(RoutingContext ctx) {
    String contentType = ctx.request().getHeader("Content-Type");
    if (contentType != null && !isJson(contentType)) {
      Problem.send(ctx.response(), StickyError.UNSUPPORTED_MEDIA_TYPE,
          "send the message as application/json, not " + contentType, ctx.request().path());
      return;
    }
    ctx.next();
  }

  static boolean isJson(String contentType) {
    String mime = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
    return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
  }

  private void post(RoutingContext ctx) {
    JsonObject message;
    try {
      message = ctx.body().length() == 0 ? null : ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      message = null;
    }
    if (message == null) {
      Problem.send(ctx.response(), StickyError.BAD_REQUEST, "request body must be a JSON object", ctx.request().path());
      return;
    }
    call(ctx, EntityAddress.KIND_ASK, message);
  }

  private void get(RoutingContext ctx) {
    call(ctx, EntityAddress.KIND_VIEW, null);
  }

  private void call(RoutingContext ctx, String kind, JsonObject message) {
    String type = ctx.pathParam("type");
    String id = ctx.pathParam("id");
    // Type, id, body and key are checked once, by the node's request (an unknown type, an invalid id: a typed failure).
    String key = EntityAddress.KIND_ASK.equals(kind) ? ctx.request().getHeader(IDEMPOTENCY_KEY_HEADER) : null;
    boolean redirect = impl != null && "true".equalsIgnoreCase(ctx.request().getHeader(REDIRECT_HEADER));
    request(type, id, kind, message, redirect, key).onComplete(ar -> {
      if (ar.failed() && StickyError.of(ar.cause()) == StickyError.REDIRECT && ownerUrl(EntityException.from(ar.cause()).node()) == null) {
        // The owner advertises no URL to send the client to: serve the request the usual way instead.
        request(type, id, kind, message, false, key).onComplete(again -> respond(ctx, again));
      } else {
        respond(ctx, ar);
      }
    });
  }

  private Future<EntityReply> request(String type, String id, String kind, JsonObject message, boolean redirect, String key) {
    return impl != null ? impl.request(type, id, kind, message, redirect, key) : sticky.request(type, id, kind, message, key);
  }

  private void respond(RoutingContext ctx, AsyncResult<EntityReply> ar) {
    if (ar.succeeded()) {
      nameNode(ctx, ar.result().node());
      if (ar.result().replayed()) {
        ctx.response().putHeader(REPLAYED_HEADER, "true");
      }
      json(ctx, 200, ar.result().body());
      return;
    }
    EntityException failure = EntityException.from(ar.cause());
    StickyError error = failure.error();
    String node = failure.node();
    nameNode(ctx, node);
    if (error == StickyError.REDIRECT) {
      ctx.response().putHeader("Location", ownerUrl(node) + ctx.request().uri());
    }
    Problem.send(ctx.response(), error, failure.getMessage(), ctx.request().path());
  }

  /** The advertised HTTP URL of a node, or null. */
  private String ownerUrl(String node) {
    return node == null || impl == null ? null : impl.httpUrl(node);
  }

  /** Names the node that produced a reply and, when it advertises one, its URL. */
  private void nameNode(RoutingContext ctx, String node) {
    if (node != null) {
      ctx.response().putHeader(NODE_HEADER, node);
      String owner = ownerUrl(node);
      if (owner != null) {
        ctx.response().putHeader(OWNER_HEADER, owner);
      }
    }
  }

  /** Scrapes the Vert.x instance's Prometheus registry; a node without metrics says so with a 404. */
  private Handler<RoutingContext> metricsHandler() {
    if (impl != null && impl.meterRegistry() instanceof PrometheusMeterRegistry prometheus) {
      return PrometheusScrapingHandler.create(prometheus);
    }
    return ctx -> Problem.send(ctx.response(), 404, "Not found",
        "metrics are off on this node (--metrics false, or a Vert.x built without Prometheus metrics)", ctx.request().path());
  }

  private void failure(RoutingContext ctx) {
    String path = ctx.request().path();
    int status = ctx.statusCode();
    if (status == 413) {
      Problem.send(ctx.response(), StickyError.PAYLOAD_TOO_LARGE,
          "request body is over the limit of " + options.getMaxBodyBytes() + " bytes", path);
    } else if (status >= 400 && status < 500) {
      Problem.send(ctx.response(), status, "Bad request", "the request could not be read", path);
    } else if (ctx.failure() instanceof io.vertx.core.http.HttpClosedException) {
      // The client went away, or admission closed a connection whose body did not come in time: nobody to answer.
      log.debug("connection closed while reading {} {}", ctx.request().method(), path);
    } else {
      log.error("unexpected failure serving {} {}", ctx.request().method(), path, ctx.failure());
      Problem.send(ctx.response(), 500, "Internal error", "unexpected server error; see the node's log", path);
    }
  }

  /** Ends the response with a JSON body, unless it has already been ended. */
  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
    }
  }
}
