package io.sticky.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.GracefulShutdownReq;
import io.sticky.internal.protocol.Protocol.HandOff;
import io.sticky.internal.protocol.Protocol.HostShard;
import io.sticky.internal.NodeRuntime.Placement;
import io.sticky.api.ShardId;
import io.sticky.testkit.Http;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Control messages are acted on only when they come from a member, speak for their sender, and match the
 * allocation table: forged ones (a peer that reached the event bus, or a node replaying an old move) change
 * nothing.
 */
class ControlMessagesTest {
  private static final String TYPE = CounterEntity.TYPE;
  private static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, List.of(EntityType.of(TYPE, CounterEntity::new)));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void aForgedOrStaleHostShardOrHandOffChangesNothing() throws Exception {
    StickyNode a = cluster.node(0);
    String id = "forged-host-1";
    for (int i = 0; i < 3; i++) {
      assertThat(Http.increment(a.httpPort(), TYPE, id).status()).isEqualTo(200);
    }
    Placement home = homeOf(id);
    StickyNode owner = node(home.node());
    StickyNode other = cluster.nodes().stream().filter(n -> n != owner).findFirst().orElseThrow();
    Map<String, String> injected = Map.of(id, "{\"value\":1000}");

    HostShard newer = new HostShard(TYPE, home.shard(), home.epoch() + 1, injected);
    assertThat(refusal(control(other, Addresses.region(TYPE, other.nodeId()), newer, "intruder-node")))
        .as("HostShard from a non-member").isEqualTo(403);
    assertThat(refusal(control(other, Addresses.region(TYPE, other.nodeId()), newer, owner.nodeId())))
        .as("HostShard from the owner with an epoch the table does not have").isEqualTo(409);
    HostShard stale = new HostShard(TYPE, home.shard(), home.epoch(), injected);
    assertThat(refusal(control(other, Addresses.region(TYPE, other.nodeId()), stale, owner.nodeId())))
        .as("HostShard with the current (stale for a move) epoch").isEqualTo(409);
    HandOff giveAway = new HandOff(TYPE, home.shard(), other.nodeId(), home.epoch() + 1);
    assertThat(refusal(control(other, Addresses.region(TYPE, owner.nodeId()), giveAway, cluster.node(0).nodeId())))
        .as("HandOff the table does not have").isEqualTo(409);

    Http.Response after = Http.increment(other.httpPort(), TYPE, id);
    assertThat(after.status()).isEqualTo(200);
    assertThat(after.json().getLong("value")).as("no injected state, no second copy").isEqualTo(4);
    assertThat(after.node()).as("the entity still lives on its home").isEqualTo(owner.nodeId());
    assertThat(homeOf(id)).isEqualTo(home);
  }

  @Test
  void aGracefulShutdownRequestForAnotherNodeIsRefused() throws Exception {
    StickyNode b = cluster.node(1);
    for (int i = 0; i < 20; i++) {
      assertThat(Http.increment(b.httpPort(), TYPE, "drain-" + i).status()).isEqualTo(200);
    }
    List<Placement> before = cluster.node(0).sticky().placements(TYPE).await(10, TimeUnit.SECONDS).shards();
    assertThat(before).as("some shards live on node 1").anyMatch(s -> s.node().equals(b.nodeId()));

    GracefulShutdownReq drainB = new GracefulShutdownReq(b.nodeId());
    assertThat(refusal(control(cluster.node(0), Addresses.COORDINATOR, drainB, "intruder-node"))).as("from a non-member").isEqualTo(403);
    assertThat(refusal(control(cluster.node(0), Addresses.COORDINATOR, drainB, cluster.node(0).nodeId())))
        .as("from a member, for another node").isEqualTo(403);

    assertThat(cluster.node(0).sticky().placements(TYPE).await(10, TimeUnit.SECONDS).shards()).isEqualTo(before);
    assertThat(Http.get(b.httpPort(), "/health/ready").status()).isEqualTo(200);
  }

  private static Placement homeOf(String id) throws Exception {
    StickyNode any = cluster.node(0);
    int shard = ShardId.of(id, any.sticky().numberOfShards(TYPE));
    return any.sticky().placements(TYPE).await(10, TimeUnit.SECONDS).shards().stream().filter(s -> s.shard() == shard)
        .findFirst().orElseThrow();
  }

  private static StickyNode node(String nodeId) {
    return cluster.nodes().stream().filter(n -> n.nodeId().equals(nodeId)).findFirst().orElseThrow();
  }

  private static Future<?> control(StickyNode from, String address, Record command, String sender) {
    Future<?> sent = from.vertx().eventBus().request(address, Protocol.encode(command), Headers.control(sender, 5_000));
    try {
      sent.await(10, TimeUnit.SECONDS);
    } catch (Exception failed) {
      // the outcome is in the future
    }
    return sent;
  }

  /** The failure code of a refused control message; fails the test if it was accepted. */
  private static int refusal(Future<?> outcome) {
    assertThat(outcome.failed()).as("refused, got %s", outcome.succeeded() ? outcome.result() : null).isTrue();
    assertThat(outcome.cause()).isInstanceOf(ReplyException.class);
    return ((ReplyException) outcome.cause()).failureCode();
  }
}
