// Activation throughput and heap per active entity on one node (no cluster, no store: the entity runtime alone).
//
//   mvn -B package -DskipTests
//   java -Xmx4g -XX:+UseParallelGC -cp target/sticky.jar bench/Activation.java 100000
//   java -Xmx2g -XX:+UseParallelGC -cp target/sticky.jar bench/Activation.java 1000000
//
// Sends one first message to each of N new counter ids (at most CONCURRENCY outstanding), through
// Sticky.request as the REST gateway does, from a driver on a Vert.x event loop (as the gateway sends),
// and reports activations/s (overall, and over the second half once the JIT is warm), the rate of a second
// message to the same (now active) entities, and the heap retained per active entity after a full GC. Vert.x's
// blocked-thread checker logs a WARN line if an event loop is held too long.
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.Sticky;
import io.sticky.api.StickyOptions;
import io.sticky.examples.CounterEntity;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class Activation {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int concurrency = Integer.getInteger("concurrency", 2_000);
    Vertx vertx = Vertx.vertx();
    Sticky sticky = Sticky.create(vertx, new StickyOptions().setDefaultStore("none"));
    EntityTypeOptions options = new EntityTypeOptions().setNumberOfShards(1000).setStore("none");
    OptionsHook.apply(options, n);
    sticky.register(EntityType.of("counter", CounterEntity::new, options));
    sticky.start().await(60, TimeUnit.SECONDS);
    long baseline = usedAfterGc();

    AtomicLong failed = new AtomicLong();
    long t0 = System.nanoTime();
    // When half the ids are active: the second half runs with the JIT warm (the first includes compilation).
    long tHalf = drive(vertx, sticky, n, concurrency, failed);
    double secs = (System.nanoTime() - t0) / 1e9;
    double warmSecs = (System.nanoTime() - tHalf) / 1e9;
    // A second message to every (now active) entity: the messaging path alone, for comparison.
    long t1 = System.nanoTime();
    drive(vertx, sticky, n, concurrency, failed);
    double againSecs = (System.nanoTime() - t1) / 1e9;
    long retained = usedAfterGc() - baseline;
    Sticky.RegionStats stats = sticky.stats("counter");
    System.out.printf("entities %d, failed %d, active %d, activations %d%n", n, failed.get(), stats.activeEntities(), stats.activations());
    System.out.printf("activation: %.1f s, %.0f activations/s (first message included, %d outstanding)%n", secs, n / secs, concurrency);
    System.out.printf("activation, second half (JIT warm): %.0f activations/s%n", (n - n / 2) / warmSecs);
    System.out.printf("second message to every active entity: %.0f messages/s%n", n / againSecs);
    System.out.printf("heap retained: %.1f MB, %.0f bytes per active entity%n", retained / 1048576.0, (double) retained / Math.max(1, stats.activeEntities()));
    sticky.close().await(60, TimeUnit.SECONDS);
    vertx.close().await(60, TimeUnit.SECONDS);
  }

  /**
   * Sends one increment to each of ids 0..n-1, keeping {@code concurrency} in flight, from a driver on an event
   * loop (as the gateway sends): each reply sends the next request. Returns the time the n/2-th reply came.
   */
  static long drive(Vertx vertx, Sticky sticky, int n, int concurrency, AtomicLong failed) throws Exception {
    JsonObject increment = new JsonObject().put("op", "increment");
    io.vertx.core.Promise<Long> done = io.vertx.core.Promise.promise();
    long[] half = {0};
    vertx.getOrCreateContext().runOnContext(v -> {
      int[] next = {0};
      int[] answered = {0};
      Runnable[] send = new Runnable[1];
      send[0] = () -> {
        int i = next[0]++;
        sticky.request("counter", "id-" + i, "ask", increment).onComplete(ar -> {
          if (ar.failed()) {
            failed.incrementAndGet();
          }
          if (++answered[0] == n / 2) {
            half[0] = System.nanoTime();
          }
          if (answered[0] == n) {
            done.complete(half[0]);
          } else if (next[0] < n) {
            send[0].run();
          }
        });
      };
      for (int k = 0; k < Math.min(concurrency, n); k++) {
        send[0].run();
      }
    });
    return done.future().await(600, TimeUnit.SECONDS);
  }

  static long usedAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Raises limits that would otherwise cap the run (set reflectively so the file works across versions). */
  static final class OptionsHook {
    static void apply(EntityTypeOptions o, int n) {
      o.setMailboxCapacity(1000);
      try {
        o.getClass().getMethod("setMaxActiveEntities", int.class).invoke(o, n);
        o.getClass().getMethod("setPassivateAfterMs", long.class).invoke(o, 0L);
      } catch (ReflectiveOperationException ignored) {
        // this version has no passivation settings
      }
    }
  }
}
