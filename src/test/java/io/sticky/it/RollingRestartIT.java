package io.sticky.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart of three fat-jar nodes under HTTP load: each node in turn gets SIGTERM (it hands off its
 * shards, with their state, before leaving) and is started again. The load balancer is played by a monitor
 * that sends traffic only to nodes whose /health/ready answered 200 on its last poll. Not one request may
 * fail and every counter must equal its acknowledged increments.
 */
class RollingRestartIT {
  private static final int WORKERS = 4;
  private static final int IDS_PER_WORKER = 40;
  private static final long PROBE_PERIOD_MS = 20;

  private final List<NodeProcess> nodes = new CopyOnWriteArrayList<>();
  private final Set<Integer> readyPorts = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean running = new AtomicBoolean(true);

  @AfterEach
  void stopAll() throws InterruptedException {
    running.set(false);
    ProcessCluster.killAlive(nodes);
  }

  @Test
  void everyNodeRestartedInTurnUnderLoadLosesNoRequest() throws Exception {
    ProcessCluster cluster = ProcessCluster.of("sticky-roll", 3);
    List<Integer> httpPorts = cluster.httpPorts;
    for (int i = 0; i < 3; i++) {
      nodes.add(cluster.startReady(i, "node" + i));
    }

    ScheduledExecutorService monitor = Executors.newSingleThreadScheduledExecutor();
    monitor.scheduleWithFixedDelay(this::probeReadiness, 0, PROBE_PERIOD_MS, TimeUnit.MILLISECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> readyPorts.size() == 3);

    Map<String, AtomicLong> acked = new ConcurrentHashMap<>();
    List<String> failures = new CopyOnWriteArrayList<>();
    AtomicLong total = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      int worker = w;
      Thread t = new Thread(() -> {
        int n = 0;
        while (running.get()) {
          List<Integer> targets = new ArrayList<>(readyPorts);
          if (targets.isEmpty()) {
            continue;
          }
          String id = "r-" + worker + "-" + (n % IDS_PER_WORKER);
          int port = targets.get(n % targets.size());
          n++;
          try {
            Response r = Http.increment(port, "counter", id);
            if (r.status() == 200) {
              acked.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
              total.incrementAndGet();
            } else {
              failures.add(id + " via :" + port + " -> " + r);
            }
          } catch (RuntimeException e) {
            failures.add(id + " via :" + port + " -> " + e);
          }
        }
      }, "load-" + w);
      workers.add(t);
      t.start();
    }

    for (int i = 0; i < 3; i++) {
      long before = total.get();
      await().atMost(Duration.ofSeconds(30)).until(() -> total.get() >= before + 200 || !failures.isEmpty());
      NodeProcess old = nodes.get(i);
      int exit = old.terminate();
      assertThat(exit).as("node%d exit code after SIGTERM (log: %s)", i, old.log).isEqualTo(143);
      int httpPort = httpPorts.get(i);
      nodes.set(i, cluster.startReady(i, "node" + i + "-restarted"));
      await().atMost(Duration.ofSeconds(10)).until(() -> readyPorts.contains(httpPort));
    }
    long before = total.get();
    await().atMost(Duration.ofSeconds(30)).until(() -> total.get() >= before + 200 || !failures.isEmpty());

    running.set(false);
    for (Thread t : workers) {
      t.join(30_000);
    }
    monitor.shutdownNow();
    assertThat(failures).as("failed requests during the rolling restart").isEmpty();
    for (Map.Entry<String, AtomicLong> e : acked.entrySet()) {
      Response r = Http.get(httpPorts.get(0), "/entities/counter/" + e.getKey());
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json().getLong("value")).as("value of " + e.getKey()).isEqualTo(e.getValue().get());
    }
    System.out.printf("RollingRestartIT: %d acknowledged increments over %d ids, 0 failed, counters exact%n", total.get(), acked.size());
  }

  /** The "load balancer": a node takes traffic only while its last readiness probe said 200. */
  private void probeReadiness() {
    for (NodeProcess n : nodes) {
      if (n.ready()) {
        readyPorts.add(n.httpPort);
      } else {
        readyPorts.remove(n.httpPort);
      }
    }
  }
}
