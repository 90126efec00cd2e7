package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * maxStoredEntities: once a type holds that many stored entities across the cluster, a new id is refused with
 * 507 entity-limit and nothing is created, while the existing entities keep working.
 */
class StoredEntityLimitTest {
  private static final int LIMIT = 100;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"replicated", "hazelcast"})
  void newIdsAreRefusedAtTheLimitAndExistingEntitiesKeepWorking(String store) {
    EntityTypeOptions options = new EntityTypeOptions().setMaxStoredEntities(LIMIT).setStoredEntitiesCheckMs(100);
    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new, options)), o -> o.setStore(store));
    int port = cluster.node(0).httpPort();
    java.util.Set<String> homes = new java.util.HashSet<>();
    int created = 0;
    Response refused = null;
    while (refused == null && created < 3 * LIMIT) {
      Response r = Http.increment(port, CounterEntity.TYPE, "limited-" + created);
      if (r.status() == 200) {
        homes.add(r.node());
        created++;
      } else {
        assertThat(r.status()).as(r.raw().body()).isEqualTo(507);
        refused = r;
      }
    }
    // The replicated store counts exactly; the hazelcast store estimates from one member's share. Both are
    // checked against a count up to storedEntitiesCheckMs old, so what arrives in between gets in too: never
    // refused before about the limit, always refused within a bounded overshoot.
    assertThat(created).as("entities created before the first refusal").isBetween(LIMIT * 8 / 10, LIMIT * 2);
    assertThat(homes).as("the entities live on both nodes, so only a cluster-wide count reaches the limit").hasSize(2);
    assertThat(refused.json().getString("type")).isEqualTo("urn:sticky:problem:entity-limit");
    assertThat(refused.json().getString("outcome")).isEqualTo("not-applied");
    assertThat(refused.json().getString("detail")).contains("maxStoredEntities");

    // Each node counts on its own schedule: through node 2, new ids are refused once its count has caught up.
    java.util.concurrent.atomic.AtomicInteger attempt = new java.util.concurrent.atomic.AtomicInteger();
    await().atMost(Duration.ofSeconds(10)).until(() -> Http.increment(cluster.node(1).httpPort(), CounterEntity.TYPE,
        "limited-other-" + attempt.incrementAndGet()).status() == 507);
    String refusedId = "limited-other-" + attempt.get();
    for (int i = 0; i < created; i += 10) {
      assertThat(Http.increment(cluster.node(1).httpPort(), CounterEntity.TYPE, "limited-" + i).status()).as("existing entity %d", i)
          .isEqualTo(200);
    }
    assertThat(Http.get(port, "/entities/" + CounterEntity.TYPE + "/" + refusedId).status()).as("nothing was created").isEqualTo(507);
  }
}
