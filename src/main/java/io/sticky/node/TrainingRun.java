package io.sticky.node;

import io.sticky.examples.CartEntity;
import io.sticky.examples.CounterEntity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training run for the image's class-data-sharing archive:
 * <pre>java -XX:ArchiveClassesAtExit=sticky.jsa -jar sticky.jar --training-run</pre>
 * then every node runs with {@code -XX:SharedArchiveFile=sticky.jsa} (same jar, same JVM: the archive records
 * both, and a JVM that finds them changed runs without it).
 *
 * <p>Why: a fresh JVM loads, verifies and links thousands of classes and spins a class for every lambda and
 * method-handle form the first time it runs. On a small machine that first-time work is what a node pays
 * when it starts and, worse, the first time it sends or receives shards: in a rolling restart every node is
 * such a fresh JVM once, and its first hand-offs are the slow ones (docs/benchmarks.md, "A class-data-sharing archive"). The archive
 * holds those classes, lambda proxies included, ready to map; it does not hold JIT-compiled code.
 *
 * <p>So this run makes the code paths a node will take run once: three nodes of the example types in this
 * JVM (loopback only, a random cluster name, free ports, the default state store) serve HTTP requests of
 * every kind, including bad ones; a third node joins (shards are handed to it), leaves gracefully (handed
 * back), the coordinator's node leaves (the next one takes over), and the last node leaves. It checks that
 * every counter holds what was sent and exits 0, or exits 1 so that an image build fails rather than ship a
 * node that cannot serve, move or leave. About a minute on 2 cores.
 */
public final class TrainingRun {
  private static final Logger log = LoggerFactory.getLogger(TrainingRun.class);
  private static final int COUNTERS = 2_000;
  private static final int CARTS = 300;
  private static final int PARALLEL = 16;
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final long STEP_TIMEOUT_SECONDS = 120;

  private final String clusterName = "sticky-training-" + UUID.randomUUID();
  private final List<Integer> clusterPorts = FreePorts.onLoopback(3);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final ExecutorService callers = Executors.newFixedThreadPool(PARALLEL);
  /** What each counter must hold: the sum of the increments acknowledged with 200. */
  private final Map<Integer, AtomicLong> expected = new ConcurrentHashMap<>();

  private TrainingRun() {
  }

  public static void main(String[] args) {
    int status = 1;
    try {
      new TrainingRun().run();
      status = 0;
    } catch (Exception e) {
      log.error("training run failed: {}", e.toString(), e);
    }
    // Exit here (not by returning): Vert.x and Hazelcast threads may linger, and the archive is written at exit.
    System.exit(status);
  }

  private void run() throws Exception {
    long started = System.nanoTime();
    StickyNode a = startNode(0);
    StickyNode b = startNode(1);
    traffic(List.of(a, b), 1);

    StickyNode c = startNode(2);
    int total = hostedCounterShards(a) + hostedCounterShards(b);
    awaitCondition("the joining node gets its share of the shards", () -> hostedCounterShards(c) >= total / 3 - 1);
    traffic(List.of(a, b, c), 2);

    c.close().await(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS); // a plain node leaves: its shards go back to a and b
    traffic(List.of(a, b), 3);
    a.close().await(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS); // the coordinator's node leaves: b takes over
    traffic(List.of(b), 4);
    checkCounters(b);
    b.close().await(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    callers.shutdownNow();
    log.info("training run done in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  /** As the launcher starts a node (options parsed from a command line, the default config), on loopback. */
  private StickyNode startNode(int index) throws Exception {
    String[] args = {"--cluster-name", clusterName, "--host", "127.0.0.1", "--cluster-port", Integer.toString(clusterPorts.get(index)),
        "--members", String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList()),
        "--http-host", "127.0.0.1", "--http-port", "0"};
    NodeConfig config = NodeConfig.defaults();
    NodeOptions options = NodeOptions.parse(args, Map.of(), config).setClusterPortAutoIncrement(false);
    // The types as the launcher finds them (the examples), so that its classes are in the archive too.
    return Launcher.start(options, config, TypeCatalog.resolve(java.util.List.of(), Launcher.class.getClassLoader(), null))
        .await(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static int hostedCounterShards(StickyNode node) {
    return node.sticky().stats(CounterEntity.TYPE).hostedShards();
  }

  /** Requests of every kind the gateway serves, spread over the given nodes' gateways. */
  private void traffic(List<StickyNode> nodes, int round) throws Exception {
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (int i = 0; i < COUNTERS; i++) {
      int id = i;
      StickyNode via = nodes.get(i % nodes.size());
      calls.add(send(via, "POST", "/entities/counter/" + id, "{\"op\":\"increment\",\"delta\":" + round + "}").thenAccept(r -> {
        expectStatus(r, 200);
        expected.computeIfAbsent(id, k -> new AtomicLong()).addAndGet(round);
      }));
      if (i % 4 == 0) {
        calls.add(send(via, "GET", "/entities/counter/" + id, null).thenAccept(r -> expectStatus(r, 200)));
      }
    }
    for (int i = 0; i < CARTS; i++) {
      StickyNode via = nodes.get(i % nodes.size());
      String path = "/entities/" + CartEntity.TYPE + "/u" + i;
      calls.add(send(via, "POST", path, "{\"op\":\"add\",\"item\":\"apple\",\"quantity\":" + round + "}")
          .thenCompose(r -> {
            expectStatus(r, 200);
            return send(via, "GET", path, null);
          }).thenAccept(r -> expectStatus(r, 200)));
    }
    for (StickyNode via : nodes) {
      calls.add(send(via, "POST", "/entities/counter/x", "{\"op\":\"nope\"}").thenAccept(r -> expectStatus(r, 400)));
      calls.add(send(via, "POST", "/entities/counter/x", "{not json").thenAccept(r -> expectStatus(r, 400)));
      calls.add(send(via, "POST", "/entities/nosuchtype/x", "{}").thenAccept(r -> expectStatus(r, 404)));
      for (String path : List.of("/health/ready", "/health/live", "/cluster", "/cluster/shards", "/cluster/entities/counter/1",
          "/metrics", "/openapi.json")) {
        calls.add(send(via, "GET", path, null).thenAccept(r -> expectStatus(r, 200)));
      }
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private void checkCounters(StickyNode via) throws Exception {
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    for (Map.Entry<Integer, AtomicLong> e : expected.entrySet()) {
      String want = "\"value\":" + e.getValue().get();
      reads.add(send(via, "GET", "/entities/counter/" + e.getKey(), null).thenAccept(r -> {
        expectStatus(r, 200);
        if (!r.body().contains(want)) {
          throw new IllegalStateException("counter " + e.getKey() + ": expected " + want + ", got " + r.body());
        }
      }));
    }
    CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** One request; at most {@link #PARALLEL} run at once (the callers pool blocks on each). */
  private CompletableFuture<HttpResponse<String>> send(StickyNode via, String method, String path, String body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.httpPort() + path)).timeout(REQUEST_TIMEOUT);
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return CompletableFuture.supplyAsync(() -> {
      try {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }, callers);
  }

  private static void expectStatus(HttpResponse<String> r, int status) {
    if (r.statusCode() != status) {
      throw new IllegalStateException(r.request().method() + " " + r.uri().getPath() + ": expected " + status + ", got "
          + r.statusCode() + " " + r.body());
    }
  }

  private static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_TIMEOUT_SECONDS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting until " + what);
      }
      Thread.sleep(100); // polling a node's own counters from the main thread: no event to wait on
    }
  }
}
