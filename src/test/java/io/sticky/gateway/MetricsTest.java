package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.PassivationPolicy;
import io.sticky.api.Sticky;
import io.sticky.api.Sticky.RegionStats;
import io.sticky.examples.CounterEntity;
import io.sticky.examples.Examples;
import io.sticky.metrics.StickyMetrics;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.Scrape;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * GET /metrics on a single node built with metrics (as the launcher builds it): Vert.x's and the JVM's
 * series, and the sticky_* series moving with real HTTP traffic and agreeing with {@link Sticky#stats}.
 */
class MetricsTest {
  private static final String ENTITIES_ROUTE = "/entities/:type/:id";

  private Vertx vertx;
  private Sticky sticky;
  private int port;

  @BeforeEach
  void start() {
    vertx = StickyMetrics.vertxBuilder(new VertxOptions(), true).build();
    sticky = Sticky.create(vertx);
    Examples.types().forEach(sticky::register);
    // At most two active: a third activation evicts (LRU: the least recently used one).
    sticky.register(EntityType.of("tiny", CounterEntity::new,
        new EntityTypeOptions().setMaxActiveEntities(2).setPassivationPolicy(PassivationPolicy.LRU)));
    sticky.start().await();
    port = deployGateway(vertx, sticky);
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static int deployGateway(Vertx vertx, Sticky sticky) {
    AtomicInteger actual = new AtomicInteger();
    vertx.deployVerticle(new RestGateway(sticky, new GatewayOptions().setPort(0).setHost("127.0.0.1"), actual::set)).await();
    return actual.get();
  }

  @Test
  void thePageHasVertxJvmAndStickySeries() {
    assertThat(Http.increment(port, "counter", "c1").status()).isEqualTo(200);
    Scrape page = Scrape.of(port);
    // Vert.x's own: HTTP server (labelled by route, never by entity id), event bus, worker pools; and the JVM.
    assertThat(page.sum("vertx_http_server_requests_total", "route", ENTITIES_ROUTE, "method", "POST", "code", "200")).isEqualTo(1);
    assertThat(page.text()).doesNotContain("/entities/counter/c1");
    assertThat(page.has("vertx_eventbus_sent_total")).isTrue();
    assertThat(page.has("vertx_pool_in_use")).isTrue();
    assertThat(page.has("jvm_memory_used_bytes")).isTrue();
    // Sticky's: every series, for every registered type.
    for (String type : new String[] {"counter", "cart", "tiny"}) {
      for (String gauge : new String[] {"sticky_entities_active", "sticky_entities_active_peak", "sticky_shards_hosted",
          "sticky_messages_buffered", "sticky_activations_total", "sticky_passivations_total", "sticky_evictions_total"}) {
        assertThat(page.samples(gauge, "type", type)).as("%s{type=%s}", gauge, type).hasSize(1);
      }
    }
    assertThat(page.value("sticky_entities_active", "type", "counter")).isEqualTo(1);
    assertThat(page.value("sticky_entities_active", "type", "cart")).isZero();
    assertThat(page.value("sticky_requests_seconds_count", "type", "counter", "kind", "ask", "outcome", "ok")).isEqualTo(1);
    // A histogram (for histogram_quantile), with sub-millisecond buckets.
    assertThat(page.samples("sticky_requests_seconds_bucket", "type", "counter", "outcome", "ok"))
        .extracting(s -> s.labels().get("le")).contains("+Inf").anyMatch(le -> !le.equals("+Inf") && Double.parseDouble(le) < 0.001);
    assertThat(page.samples("sticky_store_seconds_count", "store", "replicated", "op", "write", "outcome", "ok")).hasSize(1);
    assertThat(page.text()).contains("# TYPE sticky_entities_active gauge").contains("# TYPE sticky_activations_total counter")
        .contains("# TYPE sticky_requests_seconds histogram");
  }

  @Test
  void stickyCountersAndTimersMoveWithTrafficAndMatchTheRegionStats() {
    Http.increment(port, "counter", "warm-up");
    Scrape before = Scrape.of(port);
    RegionStats statsBefore = sticky.stats("counter");

    for (int i = 0; i < 5; i++) {
      assertThat(Http.increment(port, "counter", "m" + i).status()).isEqualTo(200);
    }
    for (int i = 0; i < 3; i++) {
      assertThat(Http.increment(port, "counter", "m0").status()).isEqualTo(200);
    }
    assertThat(Http.post(port, "/entities/counter/m0", "{\"op\":\"explode\"}").status()).isEqualTo(400);
    assertThat(Http.get(port, "/entities/counter/m1").status()).isEqualTo(200);
    sticky.entityRef("counter", "m2").ask(new JsonObject().put("op", "increment")).await(); // the API is counted too
    sticky.entityRef("counter", "m3").tell(new JsonObject().put("op", "increment"));

    Scrape after = Scrape.of(port);
    RegionStats stats = sticky.stats("counter");
    assertThat(delta(before, after, "sticky_requests_seconds_count", "type", "counter", "kind", "ask", "outcome", "ok")).isEqualTo(9);
    assertThat(delta(before, after, "sticky_requests_seconds_count", "type", "counter", "kind", "ask", "outcome", "bad-request"))
        .isEqualTo(1);
    assertThat(delta(before, after, "sticky_requests_seconds_count", "type", "counter", "kind", "view", "outcome", "ok")).isEqualTo(1);
    assertThat(delta(before, after, "sticky_requests_seconds_sum", "type", "counter", "kind", "ask", "outcome", "ok")).isPositive();
    assertThat(delta(before, after, "sticky_tells_total", "type", "counter")).isEqualTo(1);
    // Five new entities; the region's own counters say the same.
    assertThat(delta(before, after, "sticky_activations_total", "type", "counter")).isEqualTo(5)
        .isEqualTo(stats.activations() - statsBefore.activations());
    assertThat(after.value("sticky_entities_active", "type", "counter")).isEqualTo(stats.activeEntities()).isEqualTo(6);
    assertThat(after.value("sticky_shards_hosted", "type", "counter")).isEqualTo(stats.hostedShards()).isPositive();
    assertThat(after.value("sticky_messages_buffered", "type", "counter")).isEqualTo(stats.bufferedMessages()).isZero();
    // Every change is written before its reply (9 asks that increment; the tell may still be on its way).
    assertThat(delta(before, after, "sticky_store_seconds_count", "store", "replicated", "op", "write", "outcome", "ok"))
        .isGreaterThanOrEqualTo(9);
    // The HTTP server's own series moves with the same requests: 8 increments + 1 view answered 200, 1 answered 400.
    assertThat(delta(before, after, "vertx_http_server_requests_total", "route", ENTITIES_ROUTE, "code", "200")).isEqualTo(9);
    assertThat(delta(before, after, "vertx_http_server_requests_total", "route", ENTITIES_ROUTE, "code", "400")).isEqualTo(1);
  }

  @Test
  void evictionsAndPassivationsAreTheRegionStats() {
    for (int i = 0; i < 4; i++) {
      assertThat(Http.increment(port, "tiny", "t" + i).status()).isEqualTo(200);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sticky.stats("tiny").evictions() == 2 && sticky.stats("tiny").activeEntities() == 2);
    RegionStats stats = sticky.stats("tiny");
    Scrape page = Scrape.of(port);
    assertThat(page.value("sticky_evictions_total", "type", "tiny")).isEqualTo(stats.evictions()).isEqualTo(2);
    assertThat(page.value("sticky_passivations_total", "type", "tiny")).isEqualTo(stats.passivations()).isGreaterThanOrEqualTo(2);
    assertThat(page.value("sticky_activations_total", "type", "tiny")).isEqualTo(stats.activations()).isEqualTo(4);
    assertThat(page.value("sticky_entities_active", "type", "tiny")).isEqualTo(2);
    assertThat(page.value("sticky_entities_active_peak", "type", "tiny")).isEqualTo(stats.peakActiveEntities());
  }

  @Test
  void aVertxWithoutMetricsStillServesAndAnswers404OnMetrics() {
    Vertx plain = Vertx.vertx();
    try {
      assertThat(StickyMetrics.of(plain).enabled()).isFalse();
      Sticky other = Sticky.create(plain);
      Examples.types().forEach(other::register);
      other.start().await();
      int otherPort = deployGateway(plain, other);
      assertThat(Http.increment(otherPort, "counter", "c1").json().getLong("value")).isEqualTo(1);
      Response r = Http.get(otherPort, "/metrics");
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.header("Content-Type")).isEqualTo(Problem.CONTENT_TYPE);
      assertThat(r.json().getString("detail")).contains("metrics are off");
      // and the node with metrics does not see the other one's traffic
      assertThat(Scrape.of(port).sum("sticky_requests_seconds_count", "type", "counter")).isZero();
    } finally {
      plain.close().await();
    }
  }

  private static double delta(Scrape before, Scrape after, String name, String... labels) {
    return after.sum(name, labels) - before.sum(name, labels);
  }
}
