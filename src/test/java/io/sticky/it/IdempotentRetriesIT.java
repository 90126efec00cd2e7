package io.sticky.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exactly-once effects through a crash: three fat-jar JVMs, clients whose every operation has its own
 * Idempotency-Key and is retried on 502, 503, 504, 409 and connection errors until it succeeds; kill -9 of a
 * node under that load. Afterwards every counter equals the number of distinct operations on it: nothing
 * lost, nothing applied twice. Prints the retries.
 */
class IdempotentRetriesIT {
  private static final int IDS = 100;
  private static final int WORKERS = 4;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() throws InterruptedException {
    ProcessCluster.killAlive(nodes);
  }

  @ParameterizedTest(name = "--store {0}")
  @ValueSource(strings = {"replicated", "hazelcast"})
  void everyOperationIsAppliedExactlyOnceThroughAKill(String store) throws Exception {
    ProcessCluster cluster = ProcessCluster.of("sticky-idempotent", 3);
    for (int i = 0; i < 3; i++) {
      nodes.add(cluster.startReady(i, "node" + i, "--store", store));
    }
    NodeProcess entry = nodes.get(0);
    NodeProcess victim = nodes.get(2);
    String victimId = Http.get(victim.httpPort, "/health/ready").json().getString("node");

    AtomicLongArray operations = new AtomicLongArray(IDS);
    AtomicLong retries = new AtomicLong();
    AtomicLong replays = new AtomicLong();
    AtomicLong abandoned = new AtomicLong();
    AtomicLong onVictim = new AtomicLong();
    java.util.Set<Integer> served = java.util.concurrent.ConcurrentHashMap.newKeySet();
    AtomicLong afterKill = new AtomicLong();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    String url = "http://127.0.0.1:" + entry.httpPort + "/entities/counter/";
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
    for (int w = 0; w < WORKERS; w++) {
      pool.submit(() -> {
        while (!stop.get()) {
          int i = ThreadLocalRandom.current().nextInt(IDS);
          Map<String, String> key = Map.of("Idempotency-Key", UUID.randomUUID().toString());
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          boolean done = false;
          for (int attempt = 1; !done && System.nanoTime() < deadline; attempt++) {
            Response r = null;
            try {
              r = Http.post(url + "i-" + i, "{\"op\":\"increment\"}", key);
            } catch (RuntimeException e) {
              // connection error: the outcome is unknown, the key makes a retry safe
            }
            if (r != null && r.status() == 200) {
              done = true;
              operations.incrementAndGet(i);
              served.add(i);
              if ("true".equals(r.header("Idempotent-Replayed"))) {
                replays.incrementAndGet();
              }
              if (victimId.equals(r.node())) {
                onVictim.incrementAndGet();
              }
              if (killed.get()) {
                afterKill.incrementAndGet();
              }
            } else if (r == null || List.of(409, 502, 503, 504).contains(r.status())) {
              retries.incrementAndGet();
              try {
                TimeUnit.MILLISECONDS.sleep(Math.min(1_000, 20L << Math.min(attempt, 6))); // the client backs off between retries
              } catch (InterruptedException e) {
                return null;
              }
            } else {
              throw new AssertionError("unexpected answer " + r);
            }
          }
          if (!done) {
            abandoned.incrementAndGet();
          }
        }
        return null;
      });
    }
    // Steady state first, as FailoverIT: every id acknowledged once, so each shard in use has had its standby
    // synced. (A shard killed with its first host before that is reported lost: docs/guarantees.md#lost-state.)
    await("every id served, some by the victim").atMost(Duration.ofSeconds(60))
        .until(() -> served.size() == IDS && onVictim.get() >= 50);
    killed.set(true);
    victim.kill();
    await("load continues after the kill").atMost(Duration.ofSeconds(90)).until(() -> afterKill.get() >= 500);
    stop.set(true);
    pool.shutdown();
    assertThat(pool.awaitTermination(90, TimeUnit.SECONDS)).as("every operation ended").isTrue();

    long total = 0;
    for (int i = 0; i < IDS; i++) {
      Response r = Http.get(entry.httpPort, "/entities/counter/i-" + i);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getLong("value")).as("i-" + i + ": exactly its operations").isEqualTo(operations.get(i));
      total += operations.get(i);
    }
    System.out.printf("IdempotentRetriesIT (--store %s): %d operations, each applied once; %d retries, %d answered as replays, %d abandoned%n",
        store, total, retries.get(), replays.get(), abandoned.get());
    assertThat(abandoned.get()).as("operations that never succeeded").isZero();
  }
}
