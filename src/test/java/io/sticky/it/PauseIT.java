package io.sticky.it;

import io.sticky.testkit.IncrementLoad;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node frozen (SIGSTOP) for longer than the failure detector under load, then thawed (SIGCONT): three fat-jar
 * JVMs with the default store, increments through another node throughout. Checked as Jepsen would: no
 * acknowledged increment lost, no two acknowledged replies of one id with the same value (two writers would
 * give that), no counter above its attempts, and the thawed node (evicted meanwhile: a zombie) acknowledges
 * nothing from its stale state.
 */
class PauseIT {
  private static final int IDS = 150;
  private static final int WORKERS = 4;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    for (NodeProcess n : nodes) {
      signal(n, "CONT");
    }
    ProcessCluster.killAlive(nodes);
  }

  private static void signal(NodeProcess node, String signal) throws Exception {
    if (node.isAlive()) {
      new ProcessBuilder("kill", "-" + signal, Long.toString(node.process().pid())).inheritIO().start().waitFor();
    }
  }

  @Test
  void aNodeFrozenPastTheFailureDetectorLosesNoAcknowledgedWriteAndServesNothingStaleWhenItThaws() throws Exception {
    ProcessCluster cluster = ProcessCluster.of("sticky-pause", 3);
    for (int i = 0; i < 3; i++) {
      nodes.add(cluster.startReady(i, "pause-node" + i));
    }
    NodeProcess entry = nodes.get(0);
    NodeProcess frozen = nodes.get(2);
    String frozenId = Http.get(frozen.httpPort, "/health/ready").json().getString("node");

    Map<Integer, String> hostBefore = new ConcurrentHashMap<>();
    AtomicBoolean frozenNow = new AtomicBoolean();
    IncrementLoad load = new IncrementLoad("p", IDS).start(entry.httpPort, WORKERS, (i, r) -> {
      if (!frozenNow.get()) {
        hostBefore.put(i, r.node());
      }
    });
    await().atMost(Duration.ofSeconds(60)).until(() -> hostBefore.size() == IDS);
    assertThat(hostBefore.values()).contains(frozenId);

    frozenNow.set(true);
    long frozenAt = System.nanoTime();
    signal(frozen, "STOP");
    // Past Hazelcast's failure detector (10 s): the others evict it and take its shards over.
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() ->
        Http.get(entry.httpPort, "/cluster").json().getJsonArray("nodes").size() == 2);
    long evictedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
    long atEviction = load.acks.get();
    // and load served by the two others for a while
    await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.get() >= atEviction + 500);
    signal(frozen, "CONT");

    // Straight after thawing, the zombie is asked for the ids it hosted: it must not acknowledge anything.
    List<Response> fromZombie = new ArrayList<>();
    for (Map.Entry<Integer, String> e : hostBefore.entrySet()) {
      if (e.getValue().equals(frozenId)) {
        try {
          fromZombie.add(Http.increment(frozen.httpPort, "counter", load.id(e.getKey())));
        } catch (RuntimeException ignored) {
          // no answer at all is fine
        }
      }
    }
    long afterThaw = load.acks.get();
    await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.get() >= afterThaw + 500);
    assertThat(load.stop()).isTrue();

    long acknowledged = 0;
    long lost = 0;
    long duplicated = 0;
    for (int i = 0; i < IDS; i++) {
      Response r = Http.get(entry.httpPort, "/entities/counter/" + load.id(i));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      long value = r.json().getLong("value");
      List<Long> acks = load.ackedValues.getOrDefault(i, List.of());
      acknowledged += acks.size();
      lost += Math.max(0, acks.size() - value);
      Set<Long> distinct = new HashSet<>(acks);
      duplicated += acks.size() - distinct.size();
      assertThat(value).as(load.id(i) + " never above its attempts").isLessThanOrEqualTo(load.attempts.get(i));
      assertThat(acks.stream().mapToLong(Long::longValue).max().orElse(0)).as(load.id(i) + ": an acknowledged value above the final one")
          .isLessThanOrEqualTo(value);
    }
    long zombieAcks = fromZombie.stream().filter(r -> r.status() == 200).count();
    System.out.printf("PauseIT: %d acknowledged increments, lost %d, duplicated values %d; evicted %d ms after SIGSTOP;"
        + " thawed node asked %d times, acknowledged %d (statuses %s)%n", acknowledged, lost, duplicated, evictedMs,
        fromZombie.size(), zombieAcks, fromZombie.stream().map(Response::status).distinct().toList());
    assertThat(lost).as("lost acknowledged increments").isZero();
    assertThat(duplicated).as("values acknowledged twice for one id (two writers)").isZero();
    assertThat(zombieAcks).as("increments the thawed node acknowledged").isZero();
  }
}
