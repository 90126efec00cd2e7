package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.Sticky;
import io.sticky.api.StickyOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.internal.protocol.Addresses;
import io.sticky.testkit.Http;
import io.sticky.testkit.MemoryBackedStore;
import io.sticky.testkit.Http.Response;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * /health/live and /health/ready (vertx-health-check) on a single node over real HTTP: ready only once the
 * regions are registered, DOWN naming the store whose ping fails or hangs, DOWN while leaving; live UP
 * throughout.
 */
class HealthTest {
  /** The memory store with a ping that can be made to fail or hang. */
  static final class FlakyStore extends MemoryBackedStore {
    enum Ping { OK, FAIL, HANG }

    final AtomicReference<Ping> ping = new AtomicReference<>(Ping.OK);

    FlakyStore() {
      super("flaky");
    }

    @Override
    public Future<Void> ping() {
      return switch (ping.get()) {
        case OK -> Future.succeededFuture();
        case FAIL -> Future.failedFuture("connection refused");
        case HANG -> Promise.<Void>promise().future();
      };
    }
  }

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private int deployGateway(Sticky sticky) {
    AtomicInteger port = new AtomicInteger();
    vertx.deployVerticle(new RestGateway(sticky, new GatewayOptions().setPort(0).setHost("127.0.0.1"), port::set)).await();
    return port.get();
  }

  @Test
  void readyOnlyOnceEveryRegionIsRegisteredWithTheCoordinator() {
    // Hold back the regions' Register messages, as a coordinator that does not answer yet would.
    AtomicBoolean holdRegistrations = new AtomicBoolean(true);
    AtomicInteger held = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (holdRegistrations.get() && Addresses.COORDINATOR.equals(ctx.message().address())
          && ctx.message().body() instanceof JsonObject body && "Register".equals(body.getString("@kind"))) {
        held.incrementAndGet();
        return; // dropped: the region's request times out and it tries again
      }
      ctx.next();
    });
    Sticky sticky = Sticky.create(vertx, new StickyOptions().setCoordinatorTimeoutMs(200));
    sticky.register(EntityType.of("counter", CounterEntity::new));
    // As StickyNode does: the gateway listens before the regions start.
    int port = deployGateway(sticky);

    Response notStarted = Http.get(port, "/health/ready");
    assertDown(notStarted);
    assertThat(checks(notStarted)).containsEntry("cluster", "UP").containsEntry("regions", "DOWN").containsEntry("leaving", "UP");
    assertThat(check(notStarted, "regions").getJsonObject("data").getString("detail")).isEqualTo("not started");
    assertThat(check(notStarted, "cluster").getJsonObject("data").getInteger("members")).isEqualTo(1);

    Future<Void> started = sticky.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> held.get() >= 2); // asked, not answered, asked again
    Response registering = Http.get(port, "/health/ready");
    assertDown(registering);
    assertThat(checks(registering)).containsEntry("regions", "DOWN").containsEntry("cluster", "UP").containsEntry("stores", "UP");
    assertThat(check(registering, "regions").getJsonObject("data").getString("counter")).isEqualTo("registering");
    assertThat(registering.json().getString("node")).isEqualTo(sticky.nodeId());
    assertThat(started.isComplete()).isFalse();
    assertThat(Http.get(port, "/health/live").status()).isEqualTo(200);

    holdRegistrations.set(false);
    started.await();
    Response ready = Http.get(port, "/health/ready");
    assertThat(ready.status()).as(ready.toString()).isEqualTo(200);
    assertThat(ready.json().getString("status")).isEqualTo("UP");
    assertThat(ready.json().getString("outcome")).isEqualTo("UP");
    assertThat(ready.json().getString("node")).isEqualTo(sticky.nodeId());
    assertThat(ready.header("Retry-After")).isNull();
    assertThat(ready.json().getJsonArray("checks").stream().map(c -> ((JsonObject) c).getString("id")).toList())
        .as("every check, in a fixed order").containsExactly("cluster", "quorum", "regions", "stores", "leaving", "drained");
    assertThat(checks(ready)).containsOnly(Map.entry("cluster", "UP"), Map.entry("quorum", "UP"), Map.entry("regions", "UP"),
        Map.entry("stores", "UP"), Map.entry("leaving", "UP"), Map.entry("drained", "UP"));
    assertThat(check(ready, "regions").getJsonObject("data").getString("counter")).isEqualTo("registered");
  }

  @Test
  void aStoreThatFailsOrHangsOnItsPingMakesReadyDownNamingItWhileLiveStaysUp() {
    FlakyStore store = new FlakyStore();
    Sticky sticky = Sticky.create(vertx);
    sticky.registerStore("flaky", store);
    sticky.register(EntityType.of("counter", CounterEntity::new, new EntityTypeOptions().setStore("flaky")));
    sticky.register(EntityType.of("scratch", CounterEntity::new, new EntityTypeOptions().setStore("memory")));
    sticky.start().await();
    int port = deployGateway(sticky);

    Response up = Http.get(port, "/health/ready");
    assertThat(up.status()).as(up.toString()).isEqualTo(200);
    assertThat(check(up, "stores").getJsonObject("data")).isEqualTo(new JsonObject().put("flaky", "UP").put("memory", "UP"));

    store.ping.set(FlakyStore.Ping.FAIL);
    Response failing = Http.get(port, "/health/ready");
    assertDown(failing);
    assertThat(checks(failing)).containsOnly(Map.entry("cluster", "UP"), Map.entry("quorum", "UP"), Map.entry("regions", "UP"),
        Map.entry("stores", "DOWN"), Map.entry("leaving", "UP"), Map.entry("drained", "UP"));
    assertThat(check(failing, "stores").getJsonObject("data"))
        .isEqualTo(new JsonObject().put("flaky", "DOWN: connection refused").put("memory", "UP"));
    assertLiveUp(port);

    // A store that never answers: DOWN after the ping timeout, not a hanging probe.
    store.ping.set(FlakyStore.Ping.HANG);
    long t0 = System.nanoTime();
    Response hanging = Http.get(port, "/health/ready");
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertDown(hanging);
    assertThat(check(hanging, "stores").getJsonObject("data").getString("flaky"))
        .isEqualTo("DOWN: no answer within " + NodeHealth.STORE_PING_TIMEOUT_MS + " ms");
    assertThat(tookMs).as("answered after the ping timeout, not hanging").isBetween(NodeHealth.STORE_PING_TIMEOUT_MS - 100, NodeHealth.STORE_PING_TIMEOUT_MS + 3_000);
    assertLiveUp(port);

    store.ping.set(FlakyStore.Ping.OK);
    assertThat(Http.get(port, "/health/ready").status()).as("ready again once the store answers").isEqualTo(200);
  }

  @Test
  void aLeavingNodeIsNotReadyButAlive() {
    Sticky sticky = Sticky.create(vertx);
    sticky.register(EntityType.of("counter", CounterEntity::new));
    sticky.start().await();
    int port = deployGateway(sticky);
    assertThat(Http.get(port, "/health/ready").status()).isEqualTo(200);

    sticky.leave().await();
    Response leaving = Http.get(port, "/health/ready");
    assertDown(leaving);
    assertThat(checks(leaving)).containsEntry("leaving", "DOWN").containsEntry("regions", "UP").containsEntry("stores", "UP");
    assertThat(check(leaving, "leaving").getJsonObject("data").getString("detail")).contains("leaving");
    assertLiveUp(port);
  }

  private static void assertLiveUp(int port) {
    Response live = Http.get(port, "/health/live");
    assertThat(live.status()).isEqualTo(200);
    assertThat(live.header("Content-Type")).isEqualTo("application/json");
    assertThat(live.json()).isEqualTo(new JsonObject().put("status", "UP").put("checks", new io.vertx.core.json.JsonArray()).put("outcome", "UP"));
  }

  private static void assertDown(Response r) {
    assertThat(r.status()).as(r.toString()).isEqualTo(503);
    assertThat(r.header("Retry-After")).isEqualTo("1");
    assertThat(r.header("Content-Type")).isEqualTo("application/json");
    assertThat(r.json().getString("status")).isEqualTo("DOWN");
    assertThat(r.json().getString("outcome")).isEqualTo("DOWN");
    assertThat(r.json().containsKey("node")).isTrue();
  }

  /** Check id -> status. */
  private static Map<String, String> checks(Response r) {
    List<JsonObject> checks = r.json().getJsonArray("checks").stream().map(JsonObject.class::cast).toList();
    return checks.stream().collect(Collectors.toMap(c -> c.getString("id"), c -> c.getString("status")));
  }

  private static JsonObject check(Response r, String id) {
    return r.json().getJsonArray("checks").stream().map(JsonObject.class::cast).filter(c -> id.equals(c.getString("id")))
        .findFirst().orElseThrow(() -> new AssertionError("no check " + id + " in " + r));
  }
}
