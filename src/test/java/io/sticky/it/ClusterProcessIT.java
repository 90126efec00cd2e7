package io.sticky.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three fat-jar nodes as separate JVMs on loopback, driven over HTTP; one is killed with SIGKILL and
 * another stopped with SIGTERM. Runs in {@code mvn verify} (after the jar is built).
 */
class ClusterProcessIT {
  private static final int IDS = 120;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() throws InterruptedException {
    ProcessCluster.killAlive(nodes);
  }

  private void startCluster(int size) {
    ProcessCluster cluster = ProcessCluster.of("sticky-it", size);
    for (int i = 0; i < size; i++) {
      // one after another, so the first is the oldest member (and runs the coordinator)
      nodes.add(cluster.startReady(i, "node" + i));
    }
  }

  @Test
  void threeJarNodesServeEveryIdAndSurviveAKill9() throws Exception {
    startCluster(3);
    NodeProcess entry = nodes.get(0);
    NodeProcess victim = nodes.get(2);

    // every id answers through every node, from one host
    Map<String, String> hostOf = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      String id = "p-" + i;
      for (int k = 0; k < 3; k++) {
        Response r = Http.increment(nodes.get((i + k) % 3).httpPort, "counter", id);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().getLong("value")).isEqualTo(k + 1);
        assertThat(hostOf.computeIfAbsent(id, x -> r.node())).isEqualTo(r.node());
      }
    }
    Set<String> hosts = new HashSet<>(hostOf.values());
    assertThat(hosts).as("ids are spread over the three JVMs").hasSize(3);
    String victimId = Http.get(victim.httpPort, "/health/ready").json().getString("node");
    assertThat(hosts).contains(victimId);

    victim.kill();

    // every id answers again through the entry node, from a survivor, with its value: ids that lived on the
    // dead node re-activate from the default (Hazelcast, synchronously backed-up) store
    int failuresDuringFailover = 0;
    for (int i = 0; i < IDS; i++) {
      String id = "p-" + i;
      List<Response> failures = new ArrayList<>();
      Response r = awaitOk(() -> Http.get(entry.httpPort, "/entities/counter/" + id), failures);
      failuresDuringFailover += failures.size();
      assertThat(r.node()).isNotEqualTo(victimId);
      if (!hostOf.get(id).equals(victimId)) {
        assertThat(r.node()).isEqualTo(hostOf.get(id));
      }
      assertThat(r.json().getLong("value")).as(id + " lived on " + hostOf.get(id)).isEqualTo(3);
    }
    System.out.println("ClusterProcessIT: failed requests during failover (all problem+json 503/504): " + failuresDuringFailover);
    // the other survivor serves too
    assertThat(Http.increment(nodes.get(1).httpPort, "counter", "p-0").status()).isEqualTo(200);
  }

  @Test
  void sigtermLeavesTheClusterCleanlyAndTheRestKeepsServing() throws Exception {
    startCluster(2);
    NodeProcess leaving = nodes.get(1);
    for (int i = 0; i < 40; i++) {
      assertThat(Http.increment(nodes.get(0).httpPort, "counter", "t-" + i).status()).isEqualTo(200);
    }
    int exit = leaving.terminate();
    // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and exited on the signal
    assertThat(exit).isEqualTo(143);
    assertThat(Files.readString(leaving.log)).contains("shutting down node").doesNotContain("clean shutdown did not finish");
    for (int i = 0; i < 40; i++) {
      String id = "t-" + i;
      Response r = awaitOk(() -> Http.increment(nodes.get(0).httpPort, "counter", id), new ArrayList<>());
      assertThat(r.json().getLong("value")).isPositive();
    }
  }

  private static Response awaitOk(Callable<Response> call, List<Response> failures) {
    return await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).until(call, r -> {
      if (r.status() != 200) {
        assertThat(r.status()).as(r.toString()).isIn(503, 504);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        failures.add(r);
      }
      return r.status() == 200;
    });
  }
}
