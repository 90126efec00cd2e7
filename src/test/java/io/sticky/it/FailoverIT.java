package io.sticky.it;

import io.sticky.testkit.IncrementLoad;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Crash failover with each store that keeps two copies in the cluster: three fat-jar JVMs under steady HTTP increments, kill -9 of
 * a node that is not the entry node. Every acknowledged increment must survive (lost acknowledged writes =
 * 0), no counter may exceed its attempts, and the few requests that fail during the failover carry a problem
 * body. Prints the failover time (kill -> first success on an id the dead node hosted).
 */
class FailoverIT {
  private static final int IDS = 200;
  private static final int WORKERS = 4;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() throws InterruptedException {
    ProcessCluster.killAlive(nodes);
  }

  @ParameterizedTest(name = "--store {0}")
  @ValueSource(strings = {"replicated", "hazelcast"})
  void killingANodeLosesNoAcknowledgedIncrement(String store) throws Exception {
    ProcessCluster cluster = ProcessCluster.of("sticky-failover", 3);
    for (int i = 0; i < 3; i++) {
      nodes.add(cluster.startReady(i, "node" + i, "--store", store));
    }
    NodeProcess entry = nodes.get(0);
    NodeProcess victim = nodes.get(2);
    String victimId = Http.get(victim.httpPort, "/health/ready").json().getString("node");

    Map<Integer, String> hostBeforeKill = new ConcurrentHashMap<>();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicLong killedAt = new AtomicLong();
    AtomicLong firstMovedSuccess = new AtomicLong();
    AtomicLong sentAfterRecovery = new AtomicLong();
    IncrementLoad load = new IncrementLoad("f", IDS).start(entry.httpPort, WORKERS, (i, r) -> {
      if (!killed.get()) {
        hostBeforeKill.put(i, r.node());
      } else if (victimId.equals(hostBeforeKill.get(i)) && !victimId.equals(r.node())) {
        // served by a survivor (a reply from the victim itself may still arrive just after the kill)
        firstMovedSuccess.compareAndSet(0, System.nanoTime());
        if (firstMovedSuccess.get() != 0) {
          sentAfterRecovery.incrementAndGet();
        }
      }
    });
    // steady state with every id hosted somewhere, some on the victim
    await().atMost(Duration.ofSeconds(60)).until(() -> hostBeforeKill.size() == IDS);
    assertThat(hostBeforeKill.values()).contains(victimId);

    killedAt.set(System.nanoTime());
    killed.set(true);
    victim.kill();
    await("an id of the dead node served again").atMost(Duration.ofSeconds(60)).until(() -> firstMovedSuccess.get() != 0);
    await("load continues after recovery").atMost(Duration.ofSeconds(60)).until(() -> sentAfterRecovery.get() >= 200);
    assertThat(load.stop()).isTrue();

    long lost = 0;
    long totalAcked = 0;
    for (int i = 0; i < IDS; i++) {
      Response r = Http.get(entry.httpPort, "/entities/counter/" + load.id(i));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      long value = r.json().getLong("value");
      totalAcked += load.acked(i);
      if (value < load.acked(i)) {
        lost += load.acked(i) - value;
      }
      assertThat(value).as(load.id(i) + ": never above its attempts").isLessThanOrEqualTo(load.attempts.get(i));
    }
    for (Response f : load.failures) {
      assertThat(f.status()).as(f.toString()).isIn(409, 502, 503, 504);
      assertThat(f.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(f.json().getString("detail")).isNotBlank();
    }
    double failoverMs = (firstMovedSuccess.get() - killedAt.get()) / 1e6;
    System.out.printf("FailoverIT (--store " + store + "): %d acknowledged increments, lost %d; %d failed requests during failover; failover %.0f ms (kill -> first success on a moved id)%n",
        totalAcked, lost, load.failures.size(), failoverMs);
    assertThat(lost).as("lost acknowledged increments").isZero();
    assertThat(load.failures.size()).as("failed requests are few").isLessThan(Math.max(50, (int) (totalAcked / 10)));
  }
}
