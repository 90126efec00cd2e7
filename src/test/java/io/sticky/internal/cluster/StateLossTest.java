package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.examples.CounterEntity;
import io.sticky.examples.Examples;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two nodes killed at once, with one backup copy of each state: the entities whose both copies were on them
 * answer 503 state-lost rather than restarting from zero without a word; the others keep every acknowledged
 * increment; once an operator accepts the loss, the lost ones start fresh.
 */
class StateLossTest {
  private static final String COUNTER = CounterEntity.TYPE;
  private static final int IDS = 200;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"replicated", "hazelcast"})
  void entitiesWhoseEveryCopyWasLostSaySoUntilTheLossIsAccepted(String store) throws Exception {
    cluster = TestCluster.start(4, Examples.types(), o -> o.setStore(store));
    StickyNode entry = cluster.node(0);
    for (int round = 1; round <= 2; round++) {
      for (int i = 0; i < IDS; i++) {
        Response r = Http.increment(entry.httpPort(), COUNTER, "l-" + i);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().getLong("value")).isEqualTo(round);
      }
    }
    // Both at once: neither can hand its copies to anyone.
    StickyNode a = cluster.node(2);
    StickyNode b = cluster.node(3);
    Future.all(a.crash(), b.crash()).await(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> entry.sticky().members().size() == 2
        && cluster.node(1).sticky().members().size() == 2);

    List<String> lost = new ArrayList<>();
    int kept = 0;
    for (int i = 0; i < IDS; i++) {
      String id = "l-" + i;
      Response r = readBack(entry, id);
      if (r.status() == 200) {
        assertThat(r.json().getLong("value")).as("%s survived with every acknowledged increment", id).isEqualTo(2);
        kept++;
      } else {
        assertThat(r.status()).as(r.toString()).isEqualTo(503);
        assertThat(r.json().getString("type")).isEqualTo("urn:sticky:problem:state-lost");
        assertThat(r.json().getString("outcome")).isEqualTo("not-applied");
        assertThat(r.header("Retry-After")).as("retrying does not help").isNull();
        lost.add(id);
      }
    }
    assertThat(lost).as("entities whose both copies were on the killed nodes").isNotEmpty();
    assertThat(kept).as("entities with a copy on a survivor").isPositive();
    // Still lost on a second asking (an increment is refused, not applied to a fresh state), through the other node.
    Response again = Http.increment(cluster.node(1).httpPort(), COUNTER, lost.get(0));
    assertThat(again.status()).as(again.toString()).isEqualTo(503);

    Response accepted = Http.post(entry.httpPort(), "/cluster/types/counter/accept-state-loss", "");
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(200);
    JsonObject body = accepted.json();
    assertThat(body.getBoolean("complete")).isTrue();
    assertThat(body.getJsonObject("cleared").fieldNames()).containsExactlyInAnyOrder(entry.nodeId(), cluster.node(1).nodeId());
    int cleared = body.getJsonObject("cleared").stream().mapToInt(e -> ((Number) e.getValue()).intValue()).sum();
    assertThat(cleared).isPositive();

    for (String id : lost) {
      Response fresh = Http.increment(entry.httpPort(), COUNTER, id);
      assertThat(fresh.status()).as(fresh.toString()).isEqualTo(200);
      assertThat(fresh.json().getLong("value")).as("%s starts fresh once the loss is accepted", id).isEqualTo(1);
    }
  }

  /** The entity's view once its shard has a home again (503 unavailable while the survivors take over). */
  private static Response readBack(StickyNode entry, String id) {
    Response[] last = new Response[1];
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      last[0] = Http.get(entry.httpPort(), "/entities/counter/" + id);
      return last[0].status() == 200 || (last[0].status() == 503
          && "urn:sticky:problem:state-lost".equals(last[0].json().getString("type")));
    });
    return last[0];
  }
}
