package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.StickyError;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A proxy node (--proxy-only) routes to every entity through its REST gateway, EntityRef and the event-bus
 * entry address, and the coordinator never gives it a shard, not even when a rebalance moves shards around.
 */
class ProxyNodeTest {
  private static final int SHARDS = 30;
  private TestCluster cluster;
  private StickyNode proxy;

  @BeforeEach
  void start() {
    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new,
        new EntityTypeOptions().setNumberOfShards(SHARDS))), o -> o.setStore("replicated"));
    proxy = cluster.startNode(o -> o.setProxyOnly(true));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private Set<String> shardNodes() {
    JsonArray shards = Http.get(cluster.node(0).httpPort(), "/cluster/shards").json().getJsonArray("shards");
    Set<String> nodes = new HashSet<>();
    for (int i = 0; i < shards.size(); i++) {
      nodes.add(shards.getJsonObject(i).getString("node"));
    }
    return nodes;
  }

  @Test
  void aProxyServesEveryEntityAndIsNeverGivenAShard() throws Exception {
    Set<String> homes = new HashSet<>();
    for (int i = 0; i < 90; i++) {
      Response r = Http.increment(proxy.httpPort(), "counter", "p-" + i);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getLong("value")).isEqualTo(1);
      assertThat(r.node()).as("an entity never lives on the proxy").isNotEqualTo(proxy.nodeId());
      homes.add(r.node());
    }
    assertThat(homes).containsExactlyInAnyOrder(cluster.node(0).nodeId(), cluster.node(1).nodeId());

    JsonObject viaRef = proxy.sticky().entityRef("counter", "p-1").ask(new JsonObject().put("op", "increment"))
        .await(10, TimeUnit.SECONDS);
    assertThat(viaRef.getLong("value")).isEqualTo(2);
    Message<JsonObject> viaBus = proxy.vertx().eventBus().<JsonObject>request(EntityAddress.of("counter"),
            new JsonObject().put("op", "increment"), new DeliveryOptions().addHeader(EntityAddress.ID_HEADER, "p-1"))
        .await(10, TimeUnit.SECONDS);
    assertThat(viaBus.body().getLong("value")).isEqualTo(3);
    assertThat(viaBus.headers().get(EntityAddress.NODE_HEADER)).isNotEqualTo(proxy.nodeId());

    assertThat(shardNodes()).as("/cluster/shards").doesNotContain(proxy.nodeId()).isNotEmpty();

    // Failures are typed: the kind, the detail and the node that answered.
    Throwable bad = proxy.sticky().entityRef("counter", "p-1").ask(new JsonObject().put("op", "explode"))
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);
    assertThat(bad).isInstanceOfSatisfying(EntityException.class, e -> {
      assertThat(e.error()).isEqualTo(StickyError.BAD_REQUEST);
      assertThat(e.getMessage()).contains("unknown op");
      assertThat(e.node()).isIn(cluster.node(0).nodeId(), cluster.node(1).nodeId());
    });
    Throwable notHere = proxy.vertx().eventBus().request(EntityAddress.of("wallet"), new JsonObject(),
            new DeliveryOptions().addHeader(EntityAddress.ID_HEADER, "w-1"))
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);
    assertThat(StickyError.of(notHere)).as("a type no node registers here is not 'unavailable, retry'").isEqualTo(StickyError.UNKNOWN_TYPE);

    // A rebalance towards a joining node moves shards; none lands on the proxy, and every value is kept.
    StickyNode third = cluster.startNode();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> shardNodes().contains(third.nodeId()));
    for (int i = 0; i < 90; i++) {
      Response r = Http.increment(proxy.httpPort(), "counter", "p-" + i);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getLong("value")).isEqualTo(i == 1 ? 4 : 2);
      assertThat(r.node()).isNotEqualTo(proxy.nodeId());
    }
    assertThat(shardNodes()).doesNotContain(proxy.nodeId());
  }
}
