import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's "ceiling": the least work a Sticky-style gateway can do per request on this box, namely
 * HTTP in, ONE clustered event-bus request to another JVM, JSON out. No sharding, no routing, no mailbox.
 *
 * <pre>
 * java -cp target/sticky.jar bench/Ceiling.java echo   --cluster-name N --cluster-port P --members h:p,h:p
 * java -cp target/sticky.jar bench/Ceiling.java server --cluster-name N --cluster-port P --members h:p,h:p --http-port 18090
 * </pre>
 *
 * {@code echo} registers the clustered consumer {@value #ADDRESS}, which keeps a counter per id and answers
 * {@code {"id":..,"value":..}}. {@code server} runs a vertx-web Router shaped like Sticky's REST gateway
 * (content-type check, BodyHandler, JSON parse, id check) on {@code POST /entities/counter/:id}, forwarding the
 * body with one {@code eventBus().request(ADDRESS, body)} and answering the reply as JSON. Both print
 * {@code READY} on stdout once registered / listening. The Hazelcast config mirrors Sticky's own
 * (io.sticky.node.HazelcastConfigs) and the spike notes.
 */
public class Ceiling {
  static final String ADDRESS = "bench.echo";
  /** Same as Sticky's default ask timeout. */
  static final long SEND_TIMEOUT_MS = 5_000;
  /** Same as Sticky's gateway default. */
  static final int MAX_BODY_BYTES = 64 * 1024;

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0 || !(argv[0].equals("echo") || argv[0].equals("server"))) {
      usage("first argument must be 'echo' or 'server'");
    }
    String mode = argv[0];
    Map<String, String> opts = parse(Arrays.copyOfRange(argv, 1, argv.length));
    String clusterName = opts.getOrDefault("--cluster-name", "sticky-bench");
    int clusterPort = Integer.parseInt(opts.getOrDefault("--cluster-port", "15811"));
    String members = opts.getOrDefault("--members", "127.0.0.1:" + clusterPort + ",127.0.0.1:" + (clusterPort + 1));
    int httpPort = Integer.parseInt(opts.getOrDefault("--http-port", "18090"));
    int instances = Integer.parseInt(opts.getOrDefault("--instances", "1"));

    VertxOptions vo = new VertxOptions();
    vo.getEventBusOptions().setHost("127.0.0.1").setPort(0);
    Vertx vertx = Vertx.builder().with(vo)
        .withClusterManager(new HazelcastClusterManager(hazelcast(clusterName, clusterPort, members)))
        .buildClustered().await();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("ceiling: close did not finish: " + e);
      }
    }, "ceiling-shutdown"));

    if (mode.equals("echo")) {
      vertx.deployVerticle(new Echo()).await();
      System.out.println("READY echo: consumer '" + ADDRESS + "' registered, cluster '" + clusterName + "'");
    } else {
      vertx.deployVerticle(() -> new Server(httpPort), new DeploymentOptions().setInstances(instances)).await();
      System.out.println("READY server: HTTP on 127.0.0.1:" + httpPort + " (" + instances + " instance(s)), cluster '"
          + clusterName + "'");
    }
    System.out.flush();
  }

  /** Hazelcast on loopback: TCP-IP join of explicit members, as Sticky and the spike configure it. */
  static Config hazelcast(String clusterName, int port, String members) {
    Config cfg = new Config();
    cfg.setClusterName(clusterName);
    cfg.setProperty("hazelcast.logging.type", "slf4j");
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.socket.bind.any", "false");
    cfg.setProperty("hazelcast.wait.seconds.before.join", "0");
    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(port).setPortAutoIncrement(true).setPortCount(20);
    net.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    List<String> list = new ArrayList<>();
    for (String m : members.split(",")) {
      if (!m.isBlank()) {
        list.add(m.trim());
      }
    }
    join.getTcpIpConfig().setEnabled(true).setMembers(list);
    // A custom config replaces vertx-hazelcast's default-cluster.xml: re-declare what Vert.x needs.
    cfg.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    cfg.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    cfg.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return cfg;
  }

  /** The remote end: a counter per id, on one event loop, answering a small JSON object. */
  static final class Echo extends VerticleBase {
    private final Map<String, Long> counters = new HashMap<>();

    @Override
    public Future<?> start() {
      return vertx.eventBus().<JsonObject>consumer(ADDRESS, this::handle).completion();
    }

    private void handle(Message<JsonObject> msg) {
      JsonObject body = msg.body();
      String id = body == null ? null : body.getString("id");
      if (id == null) {
        msg.fail(400, "missing id");
        return;
      }
      long value = counters.merge(id, 1L, Long::sum);
      msg.reply(new JsonObject().put("id", id).put("value", value));
    }
  }

  /** The gateway end: same route shape and handler chain as io.sticky.gateway.RestGateway, one hop. */
  static final class Server extends VerticleBase {
    private final int port;
    private final DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS);

    Server(int port) {
      this.port = port;
    }

    @Override
    public Future<?> start() {
      Router router = Router.router(vertx);
      router.route("/entities/counter/:id").method(HttpMethod.POST).handler(this::requireJson);
      router.route("/entities/counter/:id").method(HttpMethod.POST)
          .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
      router.post("/entities/counter/:id").handler(this::post);
      router.route().handler(ctx -> error(ctx, 404, "no route for " + ctx.request().path()));
      return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
          .requestHandler(router).listen();
    }

    private void requireJson(RoutingContext ctx) {
      String ct = ctx.request().getHeader("Content-Type");
      if (ct != null && !ct.split(";", 2)[0].trim().equalsIgnoreCase("application/json")) {
        error(ctx, 415, "send application/json");
        return;
      }
      ctx.next();
    }

    private void post(RoutingContext ctx) {
      JsonObject body;
      try {
        body = ctx.body().length() == 0 ? null : ctx.body().asJsonObject();
      } catch (DecodeException | ClassCastException e) {
        body = null;
      }
      if (body == null) {
        error(ctx, 400, "request body must be a JSON object");
        return;
      }
      String id = ctx.pathParam("id");
      body.put("id", id);
      vertx.eventBus().<JsonObject>request(ADDRESS, body, delivery).onComplete(ar -> {
        if (ar.succeeded()) {
          ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(ar.result().body().toBuffer());
        } else {
          error(ctx, 502, String.valueOf(ar.cause()));
        }
      });
    }

    private static void error(RoutingContext ctx, int status, String detail) {
      if (!ctx.response().ended()) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/problem+json")
            .end(new JsonObject().put("status", status).put("detail", detail).toBuffer());
      }
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> m = new HashMap<>();
    List<String> known = List.of("--cluster-name", "--cluster-port", "--members", "--http-port", "--instances");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String k = a;
      String v;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        k = a.substring(0, eq);
        v = a.substring(eq + 1);
      } else {
        if (i + 1 >= args.length) {
          usage("option " + a + " needs a value");
        }
        v = args[++i];
      }
      if (!known.contains(k)) {
        usage("unknown option " + k);
      }
      m.put(k, v);
    }
    return m;
  }

  private static void usage(String problem) {
    System.err.println("ceiling: " + problem + "\nusage: java -cp target/sticky.jar bench/Ceiling.java echo|server"
        + " [--cluster-name N] [--cluster-port P] [--members h:p,h:p] [--http-port N] [--instances N]");
    System.exit(2);
  }
}
