package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.hazelcast.map.IMap;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionException;
import io.sticky.examples.CounterEntity;
import io.sticky.store.HazelcastStateStore;
import io.sticky.examples.Examples;
import io.sticky.node.StickyNode;
import io.sticky.internal.runtime.StickyImpl;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node cut off from the majority (here: its quorum pings to and from the two others are dropped, while
 * Hazelcast still sees all three) stops serving within the lease: readiness DOWN, its entities retired without
 * writing, every request through it or routed to it answered 503 not-applied. The majority keeps serving the
 * rest. Once it reaches the others again it serves again, and no acknowledged increment was lost.
 */
class QuorumTest {
  private static final int IDS = 90;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A key whose Hazelcast partition the given node owns. */
  private static String ownedBy(StickyNode node, String prefix) {
    com.hazelcast.core.HazelcastInstance hz = impl(node).membership().hazelcast();
    for (int i = 0; ; i++) {
      if (hz.getPartitionService().getPartition(prefix + i).getOwner().localMember()) {
        return prefix + i;
      }
    }
  }

  @Test
  void aNodeWithoutTheMajorityServesNothingAndResumesAfterwards() {
    cluster = TestCluster.start(3, Examples.types());
    StickyNode entry = cluster.node(0);
    StickyNode cut = cluster.node(2);
    Map<String, Long> acked = new HashMap<>();
    Map<String, String> hosts = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      Response r = Http.increment(entry.httpPort(), CounterEntity.TYPE, "q-" + i);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      acked.put("q-" + i, 1L);
      hosts.put("q-" + i, r.node());
    }
    assertThat(hosts.values()).contains(cut.nodeId());

    Quorum cutQuorum = impl(cut).quorumTracker();
    for (int i = 0; i < 2; i++) {
      String other = cluster.node(i).nodeId();
      cutQuorum.ignorePingsFrom(other, true);
      impl(cluster.node(i)).quorumTracker().ignorePingsFrom(cut.nodeId(), true);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> !cutQuorum.held());
    assertThat(impl(cluster.node(0)).quorumTracker().held()).isTrue();
    assertThat(impl(cluster.node(1)).quorumTracker().held()).isTrue();
    // The majority sees it gone too, and its primaries pick a standby among themselves (Hazelcast still lists it).
    await().atMost(Duration.ofSeconds(10)).until(() -> !impl(cluster.node(0)).quorumTracker().reaches(cut.nodeId())
        && !impl(cluster.node(1)).quorumTracker().reaches(cut.nodeId()));
    await().atMost(Duration.ofSeconds(10)).until(() -> cut.sticky().stats(CounterEntity.TYPE).activeEntities() == 0);

    Response ready = Http.get(cut.httpPort(), "/health/ready");
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.raw().body()).contains("\"quorum\"");
    // Hazelcast's split-brain protection refuses the cut node's map operations too, even where Sticky's own
    // checks were missed: a write to a state-map key that the cut node owns fails there.
    IMap<String, String> cutStates = impl(cut).membership().hazelcast().getMap(HazelcastStateStore.MAP_PREFIX + "probe");
    String owned = ownedBy(cut, "probe-");
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThatThrownBy(() -> cutStates.put(owned, "{}"))
        .isInstanceOf(SplitBrainProtectionException.class));
    impl(cluster.node(0)).membership().hazelcast().<String, String>getMap(HazelcastStateStore.MAP_PREFIX + "probe")
        .put(ownedBy(cluster.node(0), "probe-"), "{}");
    Response direct = Http.increment(cut.httpPort(), CounterEntity.TYPE, "q-0");
    assertThat(direct.status()).as(direct.toString()).isEqualTo(503);
    assertThat(direct.json().getString("outcome")).isEqualTo("not-applied");
    for (Map.Entry<String, String> e : hosts.entrySet()) {
      Response r = Http.increment(entry.httpPort(), CounterEntity.TYPE, e.getKey());
      if (e.getValue().equals(cut.nodeId())) {
        assertThat(r.status()).as("an id hosted by the cut node: " + r).isEqualTo(503);
        assertThat(r.json().getString("outcome")).isEqualTo("not-applied");
      } else {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().getLong("value")).isEqualTo(acked.merge(e.getKey(), 1L, Long::sum));
      }
    }

    for (int i = 0; i < 2; i++) {
      cutQuorum.ignorePingsFrom(cluster.node(i).nodeId(), false);
      impl(cluster.node(i)).quorumTracker().ignorePingsFrom(cut.nodeId(), false);
    }
    await().atMost(Duration.ofSeconds(10)).until(cutQuorum::held);
    await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> cutStates.put(owned, "{}"));
    await().atMost(Duration.ofSeconds(20)).until(() -> Http.get(cut.httpPort(), "/health/ready").status() == 200);
    for (String id : hosts.keySet()) {
      Response r = Http.increment(cut.httpPort(), CounterEntity.TYPE, id);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getLong("value")).as(id + ": every acknowledged increment kept").isEqualTo(acked.merge(id, 1L, Long::sum));
    }
  }

  /** The node's runtime, for the quorum tracker and the Hazelcast member the gateway's interface does not show. */
  private static StickyImpl impl(StickyNode node) {
    return (StickyImpl) node.sticky();
  }
}
