import io.sticky.client.StickyClient;
import io.sticky.client.StickyClientOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop load generator in Java for owner-aware routing: CONNECTIONS calls in flight at all times, each
 * an increment of a random one of IDS counters, for WARMUP then DURATION seconds; prints one RESULT line with
 * the measured window's calls/s, p50/p99 and errors.
 *
 * <pre>
 * java -cp target/sticky.jar bench/Routing.java entry http://127.0.0.1:18480            # every call through that node
 * java -cp target/sticky.jar bench/Routing.java smart http://127.0.0.1:18480            # StickyClient: straight to the owner
 * java -cp target/sticky.jar bench/Routing.java url   'http://127.0.0.1:18490/counters/{id}/increment'   # any app (an anchor)
 * </pre>
 * Environment: CONNECTIONS (64), IDS (10000), WARMUP (s, 20), DURATION (s, 15), EVENT_LOOPS (2).
 * {@code entry} and {@code smart} both go through {@link StickyClient} (with and without the routing table),
 * so they differ only in where calls are sent; {@code url} is a plain Vert.x WebClient POST of {@code {}}.
 */
public class Routing {
  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !List.of("entry", "smart", "url").contains(args[0])) {
      System.err.println("usage: Routing entry|smart <node URL> | Routing url <URL with {id}>");
      System.exit(2);
    }
    String mode = args[0];
    int connections = env("CONNECTIONS", 64);
    int ids = env("IDS", 10_000);
    int warmup = env("WARMUP", 20);
    int duration = env("DURATION", 15);
    int loops = env("EVENT_LOOPS", 2);
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(loops));

    Call call;
    StickyClient client = null;
    if (mode.equals("url")) {
      WebClient web = WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(connections));
      Buffer empty = Buffer.buffer("{}");
      call = id -> web.postAbs(args[1].replace("{id}", id)).putHeader("Content-Type", "application/json").sendBuffer(empty)
          .map(r -> r.statusCode() == 200);
    } else {
      client = StickyClient.connect(vertx, new StickyClientOptions().setSeeds(List.of(args[1]))
          .setFollowTable(mode.equals("smart")).setConnectionsPerNode(connections)).await(30, TimeUnit.SECONDS);
      StickyClient c = client;
      JsonObject increment = new JsonObject().put("op", "increment");
      call = id -> c.call(HttpMethod.POST, "counter", id, increment).map(r -> r.body().containsKey("value"));
    }

    Recorder warm = new Recorder(0);
    run(vertx, call, connections, ids, warm, warmup);
    Recorder measured = new Recorder(4_000_000);
    long start = System.nanoTime();
    run(vertx, call, connections, ids, measured, duration);
    double seconds = (System.nanoTime() - start) / 1e9;
    long[] lat = measured.latencies();
    Arrays.sort(lat);
    System.out.printf("RESULT mode=%s connections=%d ids=%d seconds=%.1f calls=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d"
            + " warmup_errors=%d%n", mode, connections, ids, seconds, measured.ok.get(), measured.ok.get() / seconds,
        pct(lat, 0.50), pct(lat, 0.99), measured.errors.get(), warm.errors.get());
    if (client != null) {
      client.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  interface Call {
    Future<Boolean> apply(String id);
  }

  /** Successful calls' latencies (bounded: beyond {@code capacity} only counted) and errors. */
  static final class Recorder {
    final long[] nanos;
    final AtomicLong ok = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    Recorder(int capacity) {
      nanos = new long[capacity];
    }

    void ok(long latency) {
      long n = ok.getAndIncrement();
      if (n < nanos.length) {
        nanos[(int) n] = latency;
      }
    }

    long[] latencies() {
      return Arrays.copyOf(nanos, (int) Math.min(ok.get(), nanos.length));
    }
  }

  private static void run(Vertx vertx, Call call, int connections, int ids, Recorder rec, int seconds) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Future<Void>> workers = new ArrayList<>();
    List<Context> contexts = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      // One context per event loop (getOrCreateContext from a plain thread makes a new one, round robin).
      Context ctx = contexts.size() < 2 ? vertx.getOrCreateContext() : contexts.get(i % contexts.size());
      if (contexts.size() < 2) {
        contexts.add(ctx);
      }
      Promise<Void> done = Promise.promise();
      ctx.runOnContext(v -> loop(call, ids, rec, end, done));
      workers.add(done.future());
    }
    Future.all(workers).await(seconds + 60L, TimeUnit.SECONDS);
  }

  private static void loop(Call call, int ids, Recorder rec, long end, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      done.complete();
      return;
    }
    // Numeric ids: the anchor app takes only integers, and every system then sees the same ids.
    String id = Integer.toString(ThreadLocalRandom.current().nextInt(ids));
    long t0 = System.nanoTime();
    call.apply(id).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        rec.ok(System.nanoTime() - t0);
      } else {
        rec.errors.incrementAndGet();
      }
      loop(call, ids, rec, end, done);
    });
  }

  private static double pct(long[] sorted, double q) {
    return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))] / 1e6;
  }

  private static int env(String name, int def) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? def : Integer.parseInt(v.trim());
  }
}
