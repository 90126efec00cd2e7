package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityAddress;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.testkit.TestCluster;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** With remember-entities, the entities that were active come back by themselves after their shard moves. */
class RememberEntitiesTest {
  private static final int IDS = 60;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static List<EntityType> types(boolean remember) {
    return List.of(
        EntityType.of("remembered", CounterEntity::new, new EntityTypeOptions().setNumberOfShards(20)
            .setRememberEntities(remember).setRememberActivationsPerSecond(200)),
        EntityType.of("counter", CounterEntity::new, new EntityTypeOptions().setNumberOfShards(20)));
  }

  @Test
  void entitiesOfALeavingNodeAreActiveAgainOnItsSuccessorWithoutAMessage() throws Exception {
    cluster = TestCluster.start(2, types(true));
    StickyNode stays = cluster.node(0);
    StickyNode leaves = cluster.node(1);
    for (int i = 0; i < IDS; i++) {
      for (String type : List.of("remembered", "counter")) {
        stays.sticky().request(type, "r-" + i, EntityAddress.KIND_ASK, new JsonObject().put("op", "increment"))
            .await(10, TimeUnit.SECONDS);
      }
    }
    long onLeaver = leaves.sticky().stats("remembered").activeEntities();
    assertThat(onLeaver).as("some entities live on the node that leaves").isPositive();
    long activationsBefore = stays.sticky().stats("remembered").activations();
    long plainBefore = stays.sticky().stats("counter").activations();

    leaves.close().await(30, TimeUnit.SECONDS);

    // no message is sent: the survivor re-activates what was active on the leaver (throttled)
    await().atMost(Duration.ofSeconds(20)).until(() -> stays.sticky().stats("remembered").activeEntities() == IDS);
    assertThat(stays.sticky().stats("remembered").activations() - activationsBefore).isEqualTo(onLeaver);
    assertThat(stays.sticky().stats("counter").activations()).as("a type without remember-entities waits for messages")
        .isEqualTo(plainBefore);
    // and they came back with their state
    for (int i = 0; i < IDS; i++) {
      JsonObject view = stays.sticky().request("remembered", "r-" + i, EntityAddress.KIND_VIEW, null).await(10, TimeUnit.SECONDS).body();
      assertThat(view.getLong("value")).isEqualTo(1);
    }
    assertThat(stays.sticky().stats("remembered").activations() - activationsBefore).as("views found them active").isEqualTo(onLeaver);
  }

  @Test
  void aPassivatedEntityIsForgotten() throws Exception {
    cluster = TestCluster.start(2, List.of(EntityType.of("remembered", CounterEntity::new, new EntityTypeOptions()
        .setNumberOfShards(20).setRememberEntities(true).setPassivateAfterMs(200))));
    StickyNode stays = cluster.node(0);
    StickyNode leaves = cluster.node(1);
    for (int i = 0; i < IDS; i++) {
      stays.sticky().request("remembered", "p-" + i, EntityAddress.KIND_ASK, new JsonObject().put("op", "increment")).await(10, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(10)).until(() ->
        stays.sticky().stats("remembered").activeEntities() + leaves.sticky().stats("remembered").activeEntities() == 0);
    long activationsBefore = stays.sticky().stats("remembered").activations();
    leaves.close().await(30, TimeUnit.SECONDS);
    // shards moved; nothing was active, so nothing wakes up (checked for longer than the wake-up would take)
    await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3))
        .until(() -> stays.sticky().stats("remembered").activations() == activationsBefore);
  }
}
