package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.EntityType;
import io.sticky.api.StickyOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Sticky on a clustered Vert.x that the application built itself, with Sticky's Hazelcast configuration. */
class EmbeddingTest {
  @Test
  void aNodeAttachedToTheApplicationsVertxServesAndLeavesTheVertxOpenWhenClosed() throws Exception {
    int clusterPort = FreePorts.onLoopback(1).get(0);
    NodeOptions options = new NodeOptions().setClusterName("sticky-embed-" + UUID.randomUUID()).setHost("127.0.0.1")
        .setClusterPort(clusterPort).setClusterPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + clusterPort))
        .setStore("replicated");
    options.getGateway().setPort(0).setHost("127.0.0.1");
    Vertx vertx = Vertx.builder().withClusterManager(new HazelcastClusterManager(HazelcastConfigs.create(options)))
        .buildClustered().await(60, TimeUnit.SECONDS);
    try {
      StickyNode node = StickyNode.attach(vertx, options, new StickyOptions(),
          List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new))).await(60, TimeUnit.SECONDS);
      Response r = Http.increment(node.httpPort(), "counter", "e-1");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(Http.get(node.httpPort(), "/health/ready").status()).isEqualTo(200);
      JsonObject viaRef = node.sticky().entityRef("counter", "e-1").ask(new JsonObject().put("op", "increment"))
          .await(10, TimeUnit.SECONDS);
      assertThat(viaRef.getLong("value")).isEqualTo(2);

      node.close().await(30, TimeUnit.SECONDS);
      assertThat(vertx.deploymentIDs()).as("Sticky's verticles are gone").isEmpty();
      assertThat(vertx.executeBlocking(() -> "still running").await(10, TimeUnit.SECONDS)).as("the application's Vert.x is open")
          .isEqualTo("still running");
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
