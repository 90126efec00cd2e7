package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.examples.Examples;
import io.sticky.node.StickyNode;
import io.sticky.internal.NodeRuntime.Placements;
import io.sticky.internal.NodeRuntime.Placement;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.Scrape;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three real nodes in one JVM (random cluster name, loopback join): placement, single activation, and what
 * happens when a node or the coordinator's node goes away.
 */
class ClusterShardingTest {
  private static final String COUNTER = CounterEntity.TYPE;
  private static final int IDS = 150;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everyNodeServesEveryIdAndEachIdLivesOnExactlyOneNode() {
    cluster = TestCluster.start(3, Examples.types());
    List<StickyNode> nodes = cluster.nodes();
    Map<String, String> hostOf = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      String id = "id-" + i;
      // three increments, each entering through a different node
      for (int k = 0; k < 3; k++) {
        Response r = Http.increment(nodes.get((i + k) % 3).httpPort(), COUNTER, id);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().getLong("value")).as("one instance saw all increments of " + id).isEqualTo(k + 1);
        hostOf.merge(id, r.node(), (a, b) -> {
          assertThat(b).as("host of " + id).isEqualTo(a);
          return a;
        });
      }
    }
    Set<String> nodeIds = nodes.stream().map(StickyNode::nodeId).collect(Collectors.toSet());
    assertThat(nodeIds).containsAll(hostOf.values());
    assertThat(Set.copyOf(hostOf.values())).as("entities are spread over all three nodes").hasSize(3);

    long activations = nodes.stream().mapToLong(n -> n.sticky().stats(COUNTER).activations()).sum();
    int active = nodes.stream().mapToInt(n -> n.sticky().stats(COUNTER).activeEntities()).sum();
    assertThat(activations).as("each id activated once in the whole cluster").isEqualTo(IDS);
    assertThat(active).isEqualTo(IDS);
    for (StickyNode n : nodes) {
      long hostedHere = hostOf.values().stream().filter(n.nodeId()::equals).count();
      assertThat(n.sticky().stats(COUNTER).activeEntities()).isEqualTo((int) hostedHere);
    }

    // the coordinator's table agrees with where entities answered from, and the spread is even
    Placements table = nodes.get(2).sticky().placements(COUNTER).await();
    Map<Integer, String> homeOfShard = table.shards().stream().collect(Collectors.toMap(Placement::shard, Placement::node));
    int shards = Examples.types().get(0).numberOfShards();
    hostOf.forEach((id, node) -> assertThat(homeOfShard.get(io.sticky.api.ShardId.of(id, shards))).isEqualTo(node));
    Map<String, Long> perNode = table.shards().stream().collect(Collectors.groupingBy(Placement::node, Collectors.counting()));
    assertThat(perNode.values().stream().mapToLong(Long::longValue).max().orElseThrow()
        - perNode.values().stream().mapToLong(Long::longValue).min().orElseThrow()).isLessThanOrEqualTo(1);
    assertThat(table.coordinatorNode()).isEqualTo(nodes.get(0).nodeId());

    // the management API, asked through any node, matches the real allocation and the hosts seen above
    JsonObject view = Http.get(nodes.get(1).httpPort(), "/cluster").json();
    assertThat(view.getString("coordinator")).isEqualTo(nodes.get(0).nodeId());
    JsonArray viewNodes = view.getJsonArray("nodes");
    assertThat(viewNodes).hasSize(3);
    long totalActive = 0;
    for (int i = 0; i < 3; i++) {
      JsonObject n = viewNodes.getJsonObject(i);
      StickyNode real = nodes.stream().filter(x -> x.nodeId().equals(n.getString("id"))).findFirst().orElseThrow();
      assertThat(n.getBoolean("coordinator")).isEqualTo(real == nodes.get(0));
      assertThat(n.getBoolean("reachable")).isTrue();
      assertThat(n.getString("address")).startsWith("127.0.0.1:");
      assertThat(n.getJsonObject("types").getJsonObject(COUNTER).getInteger("activeEntities"))
          .isEqualTo(real.sticky().stats(COUNTER).activeEntities());
      assertThat(n.getJsonObject("types").getJsonObject(COUNTER).getInteger("shards")).isEqualTo(perNode.get(real.nodeId()).intValue());
      totalActive += n.getInteger("activeEntities");
    }
    assertThat(totalActive).isEqualTo(IDS);
    JsonArray shardView = Http.get(nodes.get(2).httpPort(), "/cluster/shards?type=counter").json().getJsonArray("shards");
    assertThat(shardView).hasSize(table.shards().size());
    int entitiesInShards = 0;
    for (int i = 0; i < shardView.size(); i++) {
      JsonObject sh = shardView.getJsonObject(i);
      assertThat(sh.getString("node")).isEqualTo(homeOfShard.get(sh.getInteger("shard")));
      entitiesInShards += sh.getInteger("entities");
    }
    assertThat(entitiesInShards).isEqualTo(IDS);
    assertThat(Http.get(nodes.get(2).httpPort(), "/cluster/shards?type=nope").status()).isEqualTo(404);
    JsonObject where = Http.get(nodes.get(2).httpPort(), "/cluster/entities/counter/id-7").json();
    assertThat(where.getString("node")).isEqualTo(hostOf.get("id-7"));
    assertThat(where.getBoolean("allocated")).isTrue();
    Http.get(nodes.get(2).httpPort(), "/cluster/entities/counter/never-used-" + System.nanoTime());
    assertThat(nodes.stream().mapToLong(n -> n.sticky().stats(COUNTER).activations()).sum())
        .as("looking an entity up does not activate it").isEqualTo(IDS);
  }

  /**
   * The first requests of a fresh cluster come in a burst: hundreds of shards are allocated at once, each
   * while the others' table writes are still in flight. Each must be placed counting those, so the spread
   * stays even and the rebalance has nothing to move; counted only once written, they piled onto one node
   * and the rebalance then moved shards back and forth (40 moves, some shards 4 times).
   */
  @Test
  void aBurstOfFirstRequestsSpreadsTheShardsEvenlyWithoutMovingAny() throws Exception {
    cluster = TestCluster.start(3, List.of(EntityType.of(COUNTER, CounterEntity::new,
        new EntityTypeOptions().setNumberOfShards(1000))), o -> o.setStore("none"));
    JsonObject increment = new JsonObject().put("op", "increment");
    for (int from = 0; from < 5_000; from += 500) {
      List<Future<JsonObject>> burst = new ArrayList<>();
      for (int i = from; i < from + 500; i++) {
        burst.add(cluster.node(0).sticky().entityRef(COUNTER, "burst-" + i).ask(increment));
      }
      Future.all(burst).await(30, TimeUnit.SECONDS);
    }
    Placements table = cluster.node(1).sticky().placements(COUNTER).await(5, TimeUnit.SECONDS);
    Map<String, Long> perNode = table.shards().stream().collect(Collectors.groupingBy(Placement::node, Collectors.counting()));
    assertThat(perNode).hasSize(3);
    assertThat(perNode.values().stream().mapToLong(Long::longValue).max().orElseThrow()
        - perNode.values().stream().mapToLong(Long::longValue).min().orElseThrow()).as("spread of %s", perNode).isLessThanOrEqualTo(1);
    double handOffs = 0;
    for (StickyNode n : cluster.nodes()) {
      handOffs += Scrape.of(n.httpPort()).sum("sticky_handoffs_seconds_count", "outcome", "ok");
    }
    assertThat(handOffs).as("hand-offs").isZero();
  }

  @Test
  void aCrashedNodesShardsMoveToTheSurvivors() throws Exception {
    cluster = TestCluster.start(3, Examples.types());
    StickyNode entry = cluster.node(0);
    StickyNode victim = cluster.node(2);
    Map<String, Response> before = touchAll(entry);
    Set<Integer> victimShards = shardsOf(entry, victim.nodeId());
    assertThat(victimShards).isNotEmpty();

    victim.crash().await(20, TimeUnit.SECONDS);

    Set<String> survivors = Set.of(cluster.node(0).nodeId(), cluster.node(1).nodeId());
    for (int i = 0; i < IDS; i++) {
      String id = "id-" + i;
      Response r = awaitOk(() -> Http.get(entry.httpPort(), "/entities/counter/" + id));
      assertThat(survivors).contains(r.node());
      boolean wasOnVictim = before.get(id).node().equals(victim.nodeId());
      // the victim's entities re-activate on a survivor from the (default, Hazelcast) store; the others may
      // have been moved by a rebalance since, but never without their state
      assertThat(r.json().getLong("value")).as(id + (wasOnVictim ? " (was on the crashed node)" : "") + " kept its state").isEqualTo(1);
    }
    // the victim's shards were reallocated with a higher epoch
    Placements after = entry.sticky().placements(COUNTER).await();
    for (Placement home : after.shards()) {
      assertThat(survivors).contains(home.node());
      if (victimShards.contains(home.shard())) {
        assertThat(home.epoch()).isEqualTo(2);
      }
    }
  }

  @Test
  void theCoordinatorsNodeLeavingGracefullyKeepsTheAllocationTableAndHandsOffItsEntities() throws Exception {
    coordinatorNodeGoesAway(node -> node.close());
  }

  @Test
  void theCoordinatorsNodeCrashingKeepsTheAllocationTable() throws Exception {
    coordinatorNodeGoesAway(StickyNode::crash);
  }

  private void coordinatorNodeGoesAway(Function<StickyNode, io.vertx.core.Future<Void>> leave) throws Exception {
    cluster = TestCluster.start(3, Examples.types());
    StickyNode coordinatorNode = cluster.node(0);
    StickyNode entry = cluster.node(1);
    assertThat(coordinatorNode.sticky().runsCoordinator()).isTrue();
    Map<String, Response> before = touchAll(entry);
    Placements tableBefore = entry.sticky().placements(COUNTER).await();

    leave.apply(coordinatorNode).await(30, TimeUnit.SECONDS);

    // the next oldest node takes over, with the table it recovered from the cluster
    await().atMost(Duration.ofSeconds(30)).until(() -> entry.sticky().runsCoordinator());
    Placements tableAfter = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> entry.sticky().placements(COUNTER).await(), a -> a.coordinatorNode().equals(entry.nodeId()));
    // An epoch names one allocation: a shard on a survivor either kept its allocation (same epoch, same
    // node) or was moved by a hand-off (higher epoch). A lost table would restart epochs at 1 elsewhere.
    Map<Integer, Placement> afterByShard = tableAfter.shards().stream().collect(Collectors.toMap(Placement::shard, h -> h));
    for (Placement b : tableBefore.shards()) {
      if (b.node().equals(coordinatorNode.nodeId())) {
        continue;
      }
      Placement a = afterByShard.get(b.shard());
      assertThat(a).as("shard %d still allocated", b.shard()).isNotNull();
      assertThat(a.epoch()).isGreaterThanOrEqualTo(b.epoch());
      if (a.epoch() == b.epoch()) {
        assertThat(a.node()).isEqualTo(b.node());
      }
    }

    // every entity kept its state: handed off if its node left cleanly, else re-activated from the store
    for (int i = 0; i < IDS; i++) {
      String id = "id-" + i;
      boolean wasOnLeaver = before.get(id).node().equals(coordinatorNode.nodeId());
      Response r = awaitOk(() -> Http.increment(cluster.node(2).httpPort(), COUNTER, id));
      assertThat(r.node()).isNotEqualTo(coordinatorNode.nodeId());
      assertThat(r.json().getLong("value")).as(id + (wasOnLeaver ? " (was on the leaving node)" : "")).isEqualTo(2);
    }
  }

  private Map<String, Response> touchAll(StickyNode entry) {
    Map<String, Response> result = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      Response r = Http.increment(entry.httpPort(), COUNTER, "id-" + i);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      result.put("id-" + i, r);
    }
    return result;
  }

  private static Set<Integer> shardsOf(StickyNode any, String nodeId) {
    return any.sticky().placements(COUNTER).await().shards().stream()
        .filter(h -> h.node().equals(nodeId)).map(Placement::shard).collect(Collectors.toSet());
  }

  /** Retries while the cluster reconfigures (503 not applied, or 504 for requests caught by the crash). */
  private static Response awaitOk(java.util.concurrent.Callable<Response> call) {
    return await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).until(call, r -> {
      assertThat(r.status()).as(r.toString()).isIn(200, 503, 504);
      return r.status() == 200;
    });
  }
}
