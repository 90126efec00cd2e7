package io.sticky.node;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.sticky.api.EntityType;
import io.sticky.api.Sticky;
import io.sticky.api.StickyOptions;
import io.sticky.gateway.RestGateway;
import io.sticky.metrics.StickyMetrics;
import io.sticky.internal.NodeRuntime;
import io.sticky.internal.runtime.StickyImpl;
import io.sticky.store.PostgresStateStore;
import io.sticky.tracing.OtlpTracing;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.tracing.opentelemetry.OpenTelemetryOptions;
import io.vertx.tracing.opentelemetry.OpenTelemetryTracingFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running node: a clustered Vert.x over Hazelcast, the sharding runtime with its entity types, and the
 * REST gateway. The launcher and the tests both start nodes through here.
 */
public final class StickyNode {
  private static final Logger log = LoggerFactory.getLogger(StickyNode.class);

  private final Vertx vertx;
  private final HazelcastClusterManager clusterManager;
  private final StickyImpl sticky;
  private final int httpPort;
  private final String gatewayDeployment;
  private final PostgresStateStore postgres;
  /** False when the application brought its own Vert.x ({@link #attach}): then closing the node leaves it open. */
  private final boolean ownsVertx;
  /** The node's own OpenTelemetry SDK ({@code --tracing-endpoint}), flushed and shut down on close; or null. */
  private OpenTelemetrySdk tracingSdk;

  private StickyNode(Vertx vertx, HazelcastClusterManager clusterManager, StickyImpl sticky, int httpPort, String gatewayDeployment,
                     PostgresStateStore postgres, boolean ownsVertx) {
    this.postgres = postgres;
    this.ownsVertx = ownsVertx;
    this.vertx = vertx;
    this.clusterManager = clusterManager;
    this.sticky = sticky;
    this.httpPort = httpPort;
    this.gatewayDeployment = gatewayDeployment;
  }

  /**
   * Runs a node from an application's own {@code main}, exactly as {@code java -jar sticky.jar} does: the config
   * file, environment and flags ({@code --help} lists them), logging (unless the application configures logback
   * itself), these types plus any {@link io.sticky.spi.EntityTypeProvider} found, and a clean leave on SIGTERM.
   * Options set in {@code types}' code are kept unless the config file's section for the type sets them.
   * Blocks until the node is ready and returns it; returns null when {@code args} asked only for help or the
   * version. Invalid options end the JVM with status 2, a failed start with status 1.
   */
  public static StickyNode run(String[] args, EntityType... types) {
    return Launcher.launch(args, List.of(types));
  }

  /**
   * Joins the cluster, starts the HTTP gateway (which answers 503 on /health/ready until the regions are
   * registered), then starts the regions; completes when the node is ready. Vert.x is built with Micrometer
   * metrics (served at /metrics) unless {@link NodeOptions#isMetrics()} is false.
   */
  public static Future<StickyNode> start(NodeOptions options, StickyOptions stickyOptions, List<EntityType> types) {
    HazelcastClusterManager cm = new HazelcastClusterManager(HazelcastConfigs.create(options));
    VertxOptions vertxOptions = new VertxOptions();
    EventBusOptions bus = vertxOptions.getEventBusOptions().setHost(options.getHost()).setPort(options.getBusPort());
    if (options.isBusTls()) {
      // Both ways: a node accepts connections only from holders of a certificate the cluster CA signed, and
      // connects only to them. Peers are checked against the CA, not their host names (nodes are reached by IP).
      bus.setSsl(true).setClientAuth(ClientAuth.REQUIRED)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(options.getBusTlsCert()).setKeyPath(options.getBusTlsKey()))
          .setTrustOptions(new PemTrustOptions().addCertPath(options.getBusTlsCa()));
    }
    StickyOptions effective = new StickyOptions(stickyOptions).setDefaultStore(options.getStore()).setProxyOnly(options.isProxyOnly());
    // Metrics and tracing must be chosen here: Vert.x takes both SPIs when it is built, not later.
    OpenTelemetrySdk sdk = options.getTracingEndpoint() == null ? null
        : OtlpTracing.create(options.getTracingEndpoint(), options.getTracingSampleRatio(), options.getHost() + ":" + options.getClusterPort());
    if (sdk != null) {
      vertxOptions.setTracingOptions(new OpenTelemetryOptions());
      effective.setOpenTelemetry(sdk);
    }
    VertxBuilder builder = StickyMetrics.vertxBuilder(vertxOptions, options.isMetrics()).withClusterManager(cm);
    if (sdk != null) {
      // Vert.x traces the HTTP requests (server spans, W3C context in and out); Sticky adds its own spans under them.
      builder.withTracer(new OpenTelemetryTracingFactory(sdk));
    }
    return builder.buildClustered().compose(vertx -> {
      Future<PostgresStateStore> postgres = options.getPostgres() == null
          ? Future.succeededFuture()
          : PostgresStateStore.start(vertx, options.getPostgres());
      return postgres.compose(pg -> start(vertx, cm, options, effective, types, pg, true))
          .onSuccess(node -> node.tracingSdk = sdk)
          .recover(err -> vertx.close().transform(ar -> Future.failedFuture(err)));
    }).onFailure(err -> {
      if (sdk != null) {
        sdk.shutdown();
      }
    });
  }

  /**
   * Runs a node on a Vert.x the application already has: clustered with a {@code HazelcastClusterManager} built
   * from {@link HazelcastConfigs#create(NodeOptions)} (Sticky's maps need its backups, merge rules and
   * split-brain protection), or not clustered (a single node). Starts the REST gateway and the regions as
   * {@link #start} does; the options' cluster settings are not used (the Vert.x is already built).
   * {@link #close()} leaves the cluster cleanly and undeploys everything, but leaves the Vert.x open.
   */
  public static Future<StickyNode> attach(Vertx vertx, NodeOptions options, StickyOptions stickyOptions, List<EntityType> types) {
    StickyOptions effective = new StickyOptions(stickyOptions).setDefaultStore(options.getStore()).setProxyOnly(options.isProxyOnly());
    Future<PostgresStateStore> postgres = options.getPostgres() == null
        ? Future.succeededFuture()
        : PostgresStateStore.start(vertx, options.getPostgres());
    return postgres.compose(pg -> start(vertx, null, options, effective, types, pg, false));
  }

  private static Future<StickyNode> start(Vertx vertx, HazelcastClusterManager cm, NodeOptions options, StickyOptions stickyOptions,
                                          List<EntityType> types, PostgresStateStore postgres, boolean ownsVertx) {
    StickyImpl sticky = (StickyImpl) Sticky.create(vertx, stickyOptions);
    if (postgres != null) {
      sticky.registerStore("postgres", postgres);
    }
    types.forEach(sticky::register);
    AtomicInteger port = new AtomicInteger();
    DeploymentOptions gatewayDeployment = new DeploymentOptions().setInstances(options.getGateway().getInstances());
    return vertx.deployVerticle(() -> new RestGateway(sticky, options.getGateway(), port::set), gatewayDeployment)
        .compose(id -> {
          sticky.advertiseHttp(options.getGateway().advertisedUrl(options.getHost(), port.get()));
          return sticky.start().map(id);
        })
        .map(id -> new StickyNode(vertx, cm, sticky, port.get(), id, postgres, ownsVertx))
        .onSuccess(node -> log.info("node {} ready: HTTP on port {}, cluster '{}' with {} member(s), types and stores {}",
            node.nodeId(), node.httpPort(), options.getClusterName(), sticky.membership().members().size(), sticky.storesByType()));
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The node's sharding runtime: {@code Sticky} to an application, with the node's view for tests and tools. */
  public NodeRuntime sticky() {
    return sticky;
  }

  public String nodeId() {
    return sticky.nodeId();
  }

  public int httpPort() {
    return httpPort;
  }

  /**
   * Leaves the cluster cleanly: reports not-ready and hands off every shard while still serving HTTP, then
   * stops the HTTP gateway (in-flight requests finish), the regions and the coordinator, and closes Vert.x
   * and Hazelcast.
   */
  public Future<Void> close() {
    return sticky.leave()
        .eventually(() -> vertx.undeploy(gatewayDeployment))
        .eventually(sticky::close)
        .eventually(() -> postgres == null ? Future.succeededFuture() : postgres.close())
        .eventually(this::shutdownTracing)
        .eventually(() -> ownsVertx ? vertx.close() : Future.succeededFuture());
  }

  /** Sends the spans still queued, waiting at most 2 s: an unreachable collector must not hold up a leave. */
  private Future<Void> shutdownTracing() {
    if (tracingSdk == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    tracingSdk.shutdown().whenComplete(done::tryComplete);
    vertx.setTimer(2_000, t -> done.tryComplete());
    return done.future();
  }

  /**
   * Test hook: stops this node's Hazelcast member abruptly, as a crash would (no goodbye to the cluster),
   * then releases the rest of the node.
   */
  public Future<Void> crash() {
    if (clusterManager == null) {
      return Future.failedFuture(new IllegalStateException("crash() is for nodes that own their Vert.x"));
    }
    clusterManager.getHazelcastInstance().getLifecycleService().terminate();
    if (tracingSdk != null) {
      tracingSdk.shutdown();
    }
    return vertx.close().recover(err -> Future.succeededFuture());
  }
}
