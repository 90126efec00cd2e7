package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityAddress;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.ReminderTest.RemindingEntity;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.TestCluster;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Reminders in a real cluster: registered through one node, due after the node that hosted their entities
 * crashed or left. Each is delivered anyway: a survivor takes the shard (with the replicated state, or its
 * hand-off) and the reminder index wakes the entity there.
 */
class ReminderClusterTest {
  private static final int IDS = 40;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aReminderIsDeliveredAfterItsEntitysNodeCrashed() throws Exception {
    remindersSurvive(victim -> victim.crash().await(20, TimeUnit.SECONDS));
  }

  @Test
  void aReminderIsDeliveredAfterItsEntitysNodeLeft() throws Exception {
    remindersSurvive(leaver -> leaver.close().await(60, TimeUnit.SECONDS));
  }

  /** Reminders due in 6 s on entities spread over 3 nodes; one node then goes; each reminder is delivered once. */
  private interface NodeStop {
    void stop(StickyNode node) throws Exception;
  }

  private void remindersSurvive(NodeStop stopNode) throws Exception {
    cluster = TestCluster.start(3, List.of(EntityType.of("reminding", RemindingEntity::new,
        new EntityTypeOptions().setNumberOfShards(30))), o -> o.setStore("replicated"));
    StickyNode entry = cluster.node(0);
    StickyNode victim = cluster.node(2);
    String run = "run-" + System.nanoTime() + "-";
    Map<String, String> hosts = new HashMap<>();
    for (int i = 0; i < IDS; i++) {
      String id = run + i;
      JsonObject remind = new JsonObject().put("op", "remind").put("name", "r").put("in", 6_000);
      hosts.put(id, entry.sticky().request("reminding", id, EntityAddress.KIND_ASK, remind).await(10, TimeUnit.SECONDS).node());
    }
    assertThat(hosts.values()).as("the node that goes hosts some of them").contains(victim.nodeId());
    JsonObject managed = Http.get(cluster.node(1).httpPort(), "/cluster/entities/reminding/" + run + "0").json();
    assertThat(managed.getJsonArray("reminders")).as("listed in the management view").containsExactly("r");
    assertThat(managed.getLong("nextReminderAt")).isGreaterThan(System.currentTimeMillis());

    stopNode.stop(victim);
    // Nothing is sent to the entities any more: each reminder must find its way by itself.
    await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> assertThat(hosts.keySet().stream()
        .filter(id -> RemindingEntity.DELIVERIES.getOrDefault(id, List.of()).isEmpty()).map(id -> id + " on " + hosts.get(id)).toList())
        .as("not delivered yet (node gone: %s)", victim.nodeId()).isEmpty());
    for (String id : hosts.keySet()) {
      JsonObject view = entry.sticky().request("reminding", id, EntityAddress.KIND_ASK, new JsonObject().put("op", "get"))
          .await(10, TimeUnit.SECONDS).body();
      assertThat(view.getInteger("rings")).as(id + " (was on " + hosts.get(id) + ")").isEqualTo(1);
      assertThat(view.getJsonArray("reminders")).as(id).isEmpty();
    }
  }
}
