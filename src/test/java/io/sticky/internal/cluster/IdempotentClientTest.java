package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.IdempotencyTest;
import io.sticky.api.StickyError;
import io.sticky.client.StickyCallException;
import io.sticky.client.StickyClient;
import io.sticky.client.StickyClientOptions;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * StickyClient over real HTTP: with idempotent retries, an ask whose first attempt timed out (504) is retried
 * with its key and applied once; without, the 504 reaches the caller as outcome unknown.
 */
class IdempotentClientTest {
  private TestCluster cluster;
  private Vertx clientVertx;

  @BeforeEach
  void start() {
    cluster = TestCluster.start(1, List.of(EntityType.of("slow-once", IdempotencyTest.SlowOnce::new,
        new EntityTypeOptions().setAskTimeoutMs(300))));
    clientVertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    clientVertx.close().await();
    cluster.close();
  }

  private static int value(StickyClient client, String id) throws Exception {
    return client.ask("slow-once", id, new JsonObject().put("op", "get")).await(20, TimeUnit.SECONDS).getInteger("value");
  }

  private StickyClient client(boolean idempotentRetries) throws Exception {
    return StickyClient.connect(clientVertx, new StickyClientOptions()
        .setSeeds(List.of("http://127.0.0.1:" + cluster.node(0).httpPort()))
        .setMaxAttempts(10).setBackoffMs(100).setIdempotentRetries(idempotentRetries)).await(20, TimeUnit.SECONDS);
  }

  @Test
  void anAskThatTimedOutIsRetriedWithItsKeyAndAppliedOnce() throws Exception {
    StickyClient client = client(true);
    JsonObject reply = client.ask("slow-once", "a", new JsonObject()).await(20, TimeUnit.SECONDS);
    assertThat(reply.getInteger("value")).isEqualTo(1);
    assertThat(client.ask("slow-once", "a", new JsonObject().put("op", "get")).await(20, TimeUnit.SECONDS).getInteger("value"))
        .as("applied once").isEqualTo(1);
  }

  @Test
  void withoutIdempotentRetriesATimeoutIsTheCallersToResolve() throws Exception {
    StickyClient client = client(false);
    assertThatThrownBy(() -> client.ask("slow-once", "b", new JsonObject()).await(20, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(StickyCallException.class, e -> assertThat(e.error()).isEqualTo(StickyError.TIMEOUT));
    // The abandoned first attempt still completes; then the same key given twice gets one answer.
    await().atMost(Duration.ofSeconds(10)).until(() -> value(client, "b") == 1);
    assertThat(client.ask("slow-once", "b", new JsonObject(), "k-b").await(20, TimeUnit.SECONDS).getInteger("value")).isEqualTo(2);
    assertThat(client.ask("slow-once", "b", new JsonObject(), "k-b").await(20, TimeUnit.SECONDS).getInteger("value")).isEqualTo(2);
    assertThat(value(client, "b")).isEqualTo(2);
  }
}
