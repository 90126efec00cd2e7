package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.examples.CounterEntity;
import io.sticky.examples.Examples;
import io.sticky.metrics.StickyMetrics;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.Scrape;
import io.sticky.testkit.TestCluster;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Metrics of real clustered nodes (on by default in NodeOptions, as in the launcher): each node reports into
 * its own registry, and the hand-offs of a rebalance are timed on the coordinator's node.
 */
class ClusterMetricsTest {
  private static final String COUNTER = CounterEntity.TYPE;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aJoinsHandOffsAreTimedOnTheCoordinatorAndEachNodeReportsItsOwnShards() {
    cluster = TestCluster.start(1, Examples.types());
    StickyNode first = cluster.node(0);
    for (int i = 0; i < 40; i++) {
      assertThat(Http.increment(first.httpPort(), COUNTER, "k" + i).status()).isEqualTo(200);
    }
    assertThat(Scrape.of(first.httpPort()).sum("sticky_handoffs_seconds_count")).as("no hand-off before the join").isZero();

    StickyNode second = cluster.startNode();
    assertThat(StickyMetrics.registryOf(second.vertx())).isNotNull().isNotSameAs(StickyMetrics.registryOf(first.vertx()));
    // The coordinator (the first, oldest node) moves shards to the new node, a few per round.
    await().atMost(Duration.ofSeconds(60)).until(() -> second.sticky().stats(COUNTER).hostedShards() >= 10);

    Scrape coordinator = Scrape.of(first.httpPort());
    double handOffs = coordinator.value("sticky_handoffs_seconds_count", "type", COUNTER, "outcome", "ok");
    assertThat(handOffs).isGreaterThanOrEqualTo(10);
    assertThat(coordinator.value("sticky_handoffs_seconds_sum", "type", COUNTER, "outcome", "ok")).isPositive();
    assertThat(coordinator.value("sticky_handoff_entities_total", "type", COUNTER)).isPositive();
    assertThat(Scrape.of(second.httpPort()).sum("sticky_handoffs_seconds_count")).as("only the coordinator's node times hand-offs")
        .isZero();

    // Each page is its own node's: its shards and entities, as its regions count them.
    for (StickyNode node : cluster.nodes()) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        Scrape page = Scrape.of(node.httpPort());
        assertThat(page.value("sticky_shards_hosted", "type", COUNTER)).isEqualTo(node.sticky().stats(COUNTER).hostedShards());
        assertThat(page.value("sticky_entities_active", "type", COUNTER)).isEqualTo(node.sticky().stats(COUNTER).activeEntities());
      });
    }
    // Moved entities start again on the new node with their next message: then every id is active exactly once.
    for (int i = 0; i < 40; i++) {
      assertThat(Http.increment(second.httpPort(), COUNTER, "k" + i).status()).isEqualTo(200);
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(Scrape.of(second.httpPort()).value("sticky_entities_active", "type", COUNTER)).isPositive();
      assertThat(Scrape.of(first.httpPort()).value("sticky_entities_active", "type", COUNTER)
          + Scrape.of(second.httpPort()).value("sticky_entities_active", "type", COUNTER)).isEqualTo(40);
    });
    // Clustered event bus traffic shows in Vert.x's own series.
    assertThat(Scrape.of(first.httpPort()).sum("vertx_eventbus_sent_total", "side", "remote")).isPositive();
  }
}
