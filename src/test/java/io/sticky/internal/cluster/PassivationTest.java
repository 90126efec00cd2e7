package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.Entity;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.PassivationPolicy;
import io.sticky.api.Sticky.RegionStats;
import io.sticky.examples.CounterEntity;
import io.sticky.internal.NodeRuntime;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Idle passivation, the active-entity limit, messages during passivation, entity timers (one real node). */
class PassivationTest {
  private TestCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private NodeRuntime start(EntityType... types) {
    cluster = TestCluster.start(1, List.of(types));
    return cluster.node(0).sticky();
  }

  private static JsonObject increment() {
    return new JsonObject().put("op", "increment");
  }

  private static long value(NodeRuntime sticky, String type, String id) throws Exception {
    return sticky.request(type, id, EntityAddress.KIND_ASK, increment()).await(10, TimeUnit.SECONDS).body().getLong("value");
  }

  @Test
  void idleEntitiesArePassivatedAndComeBackWithTheirState() throws Exception {
    NodeRuntime sticky = start(EntityType.of("counter", CounterEntity::new, new EntityTypeOptions().setPassivateAfterMs(300)));
    for (int i = 0; i < 20; i++) {
      assertThat(value(sticky, "counter", "idle-" + i)).isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sticky.stats("counter").activeEntities() == 0);
    assertThat(sticky.stats("counter").passivations()).isEqualTo(20);
    assertThat(sticky.stats("counter").evictions()).isZero();
    for (int i = 0; i < 20; i++) {
      assertThat(value(sticky, "counter", "idle-" + i)).as("state written on passivation, read back").isEqualTo(2);
    }
    assertThat(sticky.stats("counter").activations()).isEqualTo(40);
  }

  @ParameterizedTest
  @EnumSource(PassivationPolicy.class)
  void theActiveEntityLimitIsNeverExceededUnderABurstOfNewIds(PassivationPolicy policy) throws Exception {
    int limit = 50;
    NodeRuntime sticky = start(EntityType.of("counter", CounterEntity::new,
        new EntityTypeOptions().setMaxActiveEntities(limit).setPassivationPolicy(policy).setPassivateAfterMs(0)));
    List<Future<?>> burst = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      burst.add(sticky.request("counter", "burst-" + i, EntityAddress.KIND_ASK, increment()));
    }
    Future.all(burst).await(60, TimeUnit.SECONDS);
    RegionStats stats = sticky.stats("counter");
    assertThat(stats.peakActiveEntities()).as("most active at once").isLessThanOrEqualTo(limit);
    assertThat(stats.activeEntities()).isLessThanOrEqualTo(limit);
    assertThat(stats.evictions()).isGreaterThanOrEqualTo(1_000 - limit);
    // nothing lost: every evicted entity wrote its state and comes back with it
    for (int i = 0; i < 1_000; i += 37) {
      assertThat(value(sticky, "counter", "burst-" + i)).as("burst-" + i).isEqualTo(2);
    }
    assertThat(sticky.stats("counter").peakActiveEntities()).isLessThanOrEqualTo(limit);
  }

  /** A counter whose stop waits for a gate: lets a test send messages while it passivates. */
  public static class SlowStopCounter extends CounterEntity {
    static volatile Promise<Void> stopEntered;
    static volatile Promise<Void> releaseStop;

    @Override
    protected Future<?> onStop() {
      stopEntered.tryComplete();
      return releaseStop.future();
    }
  }

  @Test
  void messagesArrivingWhileAnEntityPassivatesAreDeliveredToItsNextInstance() throws Exception {
    SlowStopCounter.stopEntered = Promise.promise();
    SlowStopCounter.releaseStop = Promise.promise();
    NodeRuntime sticky = start(EntityType.of("slow", SlowStopCounter::new, new EntityTypeOptions().setPassivateAfterMs(200)));
    assertThat(value(sticky, "slow", "s1")).isEqualTo(1);
    SlowStopCounter.stopEntered.future().await(10, TimeUnit.SECONDS);

    Future<io.sticky.api.EntityReply> during = sticky.request("slow", "s1", EntityAddress.KIND_ASK, increment());
    Future<io.sticky.api.EntityReply> during2 = sticky.request("slow", "s1", EntityAddress.KIND_ASK, increment());
    // Not answered while the old instance is still stopping: nothing runs on two instances at once
    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1)).until(() -> !during.isComplete());
    SlowStopCounter.stopEntered = Promise.promise(); // the next instance's stop, if any, is not gated
    SlowStopCounter.releaseStop.complete();

    assertThat(during.await(10, TimeUnit.SECONDS).body().getLong("value")).isEqualTo(2);
    assertThat(during2.await(10, TimeUnit.SECONDS).body().getLong("value")).isEqualTo(3);
    assertThat(sticky.stats("slow").activations()).isEqualTo(2);
  }

  /** Counts timer ticks in its state and in a static counter (to see ticks after it stopped). */
  public static class Ticker extends Entity<Ticker.State> {
    static final AtomicInteger TICKS = new AtomicInteger();

    public record State(int ticks, int alarms) {
    }

    @Override
    protected State initialState() {
      return new State(0, 0);
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      switch (message.getString("op", "")) {
        case "start" -> {
          startPeriodicTimer("tick", 30, new JsonObject().put("op", "tick"));
          startSingleTimer("alarm", 60, new JsonObject().put("op", "alarm"));
        }
        case "tick" -> {
          TICKS.incrementAndGet();
          state = new State(state.ticks() + 1, state.alarms());
        }
        case "alarm" -> state = new State(state.ticks(), state.alarms() + 1);
        case "stop" -> cancelTimer("tick");
        default -> {
        }
      }
      return Future.succeededFuture(view());
    }
  }

  @Test
  void timersRunOnTheEntityAndStopWhenItIsPassivated() throws Exception {
    NodeRuntime sticky = start(EntityType.of("ticker", Ticker::new, new EntityTypeOptions().setPassivateAfterMs(600)));
    sticky.request("ticker", "t1", EntityAddress.KIND_ASK, new JsonObject().put("op", "start")).await(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() ->
        sticky.request("ticker", "t1", EntityAddress.KIND_VIEW, null).await(10, TimeUnit.SECONDS).body().getInteger("ticks") >= 3);
    JsonObject view = sticky.request("ticker", "t1", EntityAddress.KIND_VIEW, null).await(10, TimeUnit.SECONDS).body();
    assertThat(view.getInteger("alarms")).as("a single timer fires once").isEqualTo(1);

    // timer ticks do not count as traffic: the entity is passivated, and its timers die with it
    await().atMost(Duration.ofSeconds(10)).until(() -> sticky.stats("ticker").activeEntities() == 0);
    int ticksAtStop = Ticker.TICKS.get();
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> Ticker.TICKS.get() == ticksAtStop);
    JsonObject after = sticky.request("ticker", "t1", EntityAddress.KIND_VIEW, null).await(10, TimeUnit.SECONDS).body();
    assertThat(after.getInteger("ticks")).as("ticks handled before passivation were stored").isEqualTo(ticksAtStop);
  }

  @Test
  void anIdleEntityWhoseFinalWriteFailsKeepsItsStateInMemory() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.sticky.api.Sticky sticky = io.sticky.api.Sticky.create(vertx);
      sticky.registerStore("failing", new io.sticky.api.EntityPersistenceTest.FailingStore());
      sticky.register(EntityType.of("counter", CounterEntity::new, new EntityTypeOptions()
          .setStore("failing").setWritePolicy(io.sticky.api.WritePolicy.ON_STOP).setPassivateAfterMs(200)));
      sticky.start().await(10, TimeUnit.SECONDS);
      JsonObject inc = new JsonObject().put("op", "increment").put("delta", 5);
      assertThat(sticky.request("counter", "f1", EntityAddress.KIND_ASK, inc).await(10, TimeUnit.SECONDS).body().getLong("value")).isEqualTo(5);
      await().atMost(Duration.ofSeconds(10)).until(() -> sticky.stats("counter").passivations() == 1);
      // the store refused the state on passivation: the next instance starts from the kept one, not from 0
      assertThat(sticky.request("counter", "f1", EntityAddress.KIND_ASK, inc).await(10, TimeUnit.SECONDS).body().getLong("value")).isEqualTo(10);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
  @Test
  void aTypeWithoutAStoreIsNotPassivatedAndItsLimitRefusesNewEntitiesInsteadOfDroppingState() throws Exception {
    NodeRuntime sticky = start(EntityType.of("counter", CounterEntity::new,
        new EntityTypeOptions().setStore("none").setPassivateAfterMs(200).setMaxActiveEntities(10)));
    for (int i = 0; i < 10; i++) {
      assertThat(value(sticky, "counter", "kept-" + i)).isEqualTo(1);
    }
    // Idle for several passivation periods: nothing is passivated, so nothing is lost.
    await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3)).until(() -> sticky.stats("counter").passivations() == 0);
    // At the limit a new entity is refused (not applied: 503), rather than one of the ten losing its state.
    Future<?> attempt = sticky.request("counter", "one-more", EntityAddress.KIND_ASK, increment());
    attempt.otherwiseEmpty().await(10, TimeUnit.SECONDS);
    assertThat(attempt.failed()).isTrue();
    assertThat(io.sticky.api.StickyError.of(attempt.cause())).isEqualTo(io.sticky.api.StickyError.UNAVAILABLE);
    for (int i = 0; i < 10; i++) {
      assertThat(value(sticky, "counter", "kept-" + i)).as("kept-" + i).isEqualTo(2);
    }
    assertThat(sticky.stats("counter").evictions()).isZero();
  }

  @Test
  void aTypeWithoutAStoreThatOptsInIsPassivatedAndStartsAfresh() throws Exception {
    NodeRuntime sticky = start(EntityType.of("counter", CounterEntity::new,
        new EntityTypeOptions().setStore("none").setPassivateAfterMs(200).setPassivateWithoutStore(true)));
    assertThat(value(sticky, "counter", "dropped")).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> sticky.stats("counter").passivations() == 1);
    assertThat(value(sticky, "counter", "dropped")).as("its state went with the passivated instance").isEqualTo(1);
  }
}
