package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.examples.CounterEntity;
import io.sticky.examples.Examples;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replicated store in a real cluster: an acknowledged write is on the entity's node and on its shard's
 * standby, so it survives the crash of either, a clean leave, and a join, with values read back exactly.
 */
class ReplicatedStoreClusterTest {
  private static final String COUNTER = CounterEntity.TYPE;
  private static final int IDS = 120;
  private TestCluster cluster;
  private final Map<String, Long> acked = new HashMap<>();

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** One increment of every id through {@code entry}; each must be acknowledged. Returns id -> node that served it. */
  private Map<String, String> incrementAll(StickyNode entry) {
    Map<String, String> hosts = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      String id = "r-" + i;
      Response r = Http.increment(entry.httpPort(), COUNTER, id);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      long expected = acked.merge(id, 1L, Long::sum);
      assertThat(r.json().getLong("value")).as(id).isEqualTo(expected);
      hosts.put(id, r.node());
    }
    return hosts;
  }

  private void assertEveryValueExact(StickyNode entry) {
    for (int i = 0; i < IDS; i++) {
      String id = "r-" + i;
      Response r = Http.get(entry.httpPort(), "/entities/counter/" + id);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getLong("value")).as(id + " after failover").isEqualTo(acked.get(id));
    }
  }

  @Test
  void acknowledgedWritesSurviveTheCrashOfTheEntitysNode() throws Exception {
    cluster = TestCluster.start(3, Examples.types(), o -> o.setStore("replicated"));
    StickyNode entry = cluster.node(0);
    StickyNode victim = cluster.node(2);
    incrementAll(entry);
    Map<String, String> hosts = incrementAll(entry);
    assertThat(hosts.values()).as("the victim hosts some ids").contains(victim.nodeId());

    victim.crash().await(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> entry.sticky().members().size() == 2);

    // Read back first (a survivor takes each lost shard over from its standby copy), then keep writing.
    assertEveryValueExact(entry);
    incrementAll(entry);
    assertEveryValueExact(cluster.node(1));
  }

  @Test
  void acknowledgedWritesSurviveAJoinALeaveAndThenACrash() throws Exception {
    cluster = TestCluster.start(3, Examples.types(), o -> o.setStore("replicated"));
    StickyNode entry = cluster.node(0);
    incrementAll(entry);
    StickyNode joined = cluster.startNode();
    // The new node takes shards over (hand-offs), becomes a standby, and serves.
    await().atMost(Duration.ofSeconds(60)).until(() -> joined.sticky().stats(COUNTER).hostedShards() > 0
        && incrementAll(entry).containsValue(joined.nodeId()));
    cluster.node(1).close().await(60, TimeUnit.SECONDS);
    incrementAll(entry);
    cluster.node(2).crash().await(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> entry.sticky().members().size() == 2);
    assertEveryValueExact(entry);
    incrementAll(joined);
    assertEveryValueExact(entry);
  }

  /**
   * A retry with the idempotency key of an acknowledged increment, sent after the entity's node crashed, gets
   * the first reply through another node and is not applied again: the keys are in the replicated state.
   */
  @Test
  void anIdempotentRetryAfterTheEntitysNodeCrashedIsReplayedNotApplied() throws Exception {
    cluster = TestCluster.start(3, Examples.types(), o -> o.setStore("replicated"));
    StickyNode entry = cluster.node(0);
    StickyNode victim = cluster.node(2);
    Map<String, Response> firsts = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      String id = "i-" + i;
      Response r = Http.post(url(entry, id), "{\"op\":\"increment\",\"delta\":3}", Map.of("Idempotency-Key", "op-" + id));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      firsts.put(id, r);
    }
    assertThat(firsts.values()).extracting(Response::node).as("the victim hosts some ids").contains(victim.nodeId());
    Response forwarded = firsts.values().stream().filter(r -> !r.node().equals(entry.nodeId())).findFirst().orElseThrow();
    String forwardedId = forwarded.json().getString("id");
    Response relayed = Http.post(url(entry, forwardedId), "{\"op\":\"increment\",\"delta\":3}", Map.of("Idempotency-Key", "op-" + forwardedId));
    assertThat(relayed.header("Idempotent-Replayed")).as("a replay relayed from the entity's node").isEqualTo("true");

    victim.crash().await(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> entry.sticky().members().size() == 2);
    for (int i = 0; i < IDS; i++) {
      String id = "i-" + i;
      Response retry = Http.post(url(cluster.node(1), id), "{\"op\":\"increment\",\"delta\":3}", Map.of("Idempotency-Key", "op-" + id));
      assertThat(retry.status()).as(retry.toString()).isEqualTo(200);
      assertThat(retry.header("Idempotent-Replayed")).as(id).isEqualTo("true");
      assertThat(retry.json()).as(id).isEqualTo(firsts.get(id).json());
      assertThat(Http.get(entry.httpPort(), "/entities/counter/" + id).json().getLong("value")).as(id).isEqualTo(3);
    }
  }

  private static String url(StickyNode node, String id) {
    return "http://127.0.0.1:" + node.httpPort() + "/entities/counter/" + id;
  }
}
