package io.sticky.api;

import io.sticky.internal.EntityHost;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.examples.CounterEntity;
import io.sticky.store.InMemoryStateStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Idempotency keys: a retry with the key of an applied message gets that message's reply and changes nothing,
 * wherever the entity's state went in between (the store, a hand-off), within a window bounded by count and age.
 */
public class IdempotencyTest {
  private Vertx vertx;
  private InMemoryStateStore store;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    store = new InMemoryStateStore();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private CounterEntity counter(String id, EntityTypeOptions options) {
    CounterEntity entity = new CounterEntity();
    TestHosts.host(entity).bind("counter", id, options);
    TestHosts.host(entity).attachStore(store, 1, () -> { });
    vertx.deployVerticle(entity).await();
    return entity;
  }

  private static RecordingDelivery send(Entity<?> e, JsonObject body, String key) {
    RecordingDelivery ask = RecordingDelivery.ask(body, key);
    TestHosts.host(e).deliver(ask);
    ask.result.future().otherwiseEmpty().await();
    return ask;
  }

  private JsonArray appliedKeys(String id) {
    return new JsonObject(store.load("counter", id).await().meta()).getJsonArray("appliedKeys");
  }

  private static JsonObject increment(long delta) {
    return new JsonObject().put("op", "increment").put("delta", delta);
  }

  private static long value(Entity<?> e) {
    return send(e, new JsonObject().put("op", "get"), null).result.future().result().getLong("value");
  }

  @Test
  void aRetryWithTheSameKeyGetsTheFirstReplyAndIsNotAppliedAgain() {
    CounterEntity c = counter("c1", new EntityTypeOptions());
    RecordingDelivery first = send(c, increment(5), "k-1");
    assertThat(first.result.future().result().getLong("value")).isEqualTo(5);
    assertThat(first.replayed).isFalse();
    send(c, increment(1), null);

    RecordingDelivery retry = send(c, increment(5), "k-1");
    assertThat(retry.error).isNull();
    assertThat(retry.replayed).isTrue();
    assertThat(retry.result.future().result()).as("the first reply, not the current state").isEqualTo(first.result.future().result());
    assertThat(value(c)).isEqualTo(6);
    assertThat(appliedKeys("c1").getJsonObject(0).getString("key"))
        .as("stored with the state").isEqualTo("k-1");
  }

  @Test
  void theSameKeyWithAnotherMessageIsRefusedAndAppliesNothing() {
    CounterEntity c = counter("c2", new EntityTypeOptions());
    send(c, increment(5), "k-2");
    RecordingDelivery other = send(c, increment(7), "k-2");
    assertThat(other.error).isEqualTo(StickyError.IDEMPOTENCY_KEY_REUSED);
    assertThat(StickyError.IDEMPOTENCY_KEY_REUSED.status()).isEqualTo(422);
    assertThat(value(c)).isEqualTo(5);
  }

  @Test
  void aNewInstanceFindsTheKeysInTheStore() {
    CounterEntity before = counter("c3", new EntityTypeOptions());
    JsonObject reply = send(before, increment(3), "k-3").result.future().result();
    vertx.undeploy(before.deploymentID()).await();

    CounterEntity after = counter("c3", new EntityTypeOptions()); // after a crash, a passivation or a failover
    RecordingDelivery retry = send(after, increment(3), "k-3");
    assertThat(retry.replayed).isTrue();
    assertThat(retry.result.future().result()).isEqualTo(reply);
    assertThat(value(after)).isEqualTo(3);
  }

  @Test
  void theKeysMoveWithAHandOff() {
    CounterEntity before = counter("c4", new EntityTypeOptions());
    send(before, increment(2), "k-4");
    EntityHost.Stopped stopped = TestHosts.host(before).stopForHandOff().await();

    CounterEntity after = new CounterEntity();
    TestHosts.host(after).bind("counter", "c4", new EntityTypeOptions());
    TestHosts.host(after).attachStore(new InMemoryStateStore(), 2, () -> { }); // an empty store: the state comes from the hand-off
    TestHosts.host(after).restoreFrom(stopped.state());
    vertx.deployVerticle(after).await();
    RecordingDelivery retry = send(after, increment(2), "k-4");
    assertThat(retry.replayed).isTrue();
    assertThat(value(after)).isEqualTo(2);
  }

  @Test
  void theWindowIsBoundedByCount() {
    CounterEntity c = counter("c5", new EntityTypeOptions().setIdempotencyKeys(2));
    send(c, increment(1), "a");
    send(c, increment(1), "b");
    send(c, increment(1), "c");
    assertThat(send(c, increment(1), "c").replayed).isTrue();
    assertThat(send(c, increment(1), "a").replayed).as("the oldest key was dropped: applied again").isFalse();
    assertThat(value(c)).isEqualTo(4);
    assertThat(appliedKeys("c5")).hasSize(2);
  }

  @Test
  void theWindowIsBoundedByAge() {
    CounterEntity c = counter("c6", new EntityTypeOptions().setIdempotencyRetentionMs(1));
    long applied = System.currentTimeMillis();
    send(c, increment(1), "old");
    await().atMost(Duration.ofSeconds(1)).until(() -> System.currentTimeMillis() > applied + 1);
    assertThat(send(c, increment(1), "old").replayed).as("a retry later than the window is applied again").isFalse();
    assertThat(value(c)).isEqualTo(2);
  }

  @Test
  void aTypeWithoutAStoreRefusesKeys() {
    CounterEntity c = new CounterEntity();
    TestHosts.host(c).bind("counter", "c8", new EntityTypeOptions());
    TestHosts.host(c).attachStore(null, 1, () -> { });
    vertx.deployVerticle(c).await();
    assertThat(send(c, increment(1), "k").error).isEqualTo(StickyError.BAD_REQUEST);
    assertThat(value(c)).as("not applied").isZero();
  }

  @Test
  void withKeysTurnedOffAKeyChangesNothing() {
    CounterEntity c = counter("c7", new EntityTypeOptions().setIdempotencyKeys(0));
    send(c, increment(1), "k");
    assertThat(send(c, increment(1), "k").replayed).isFalse();
    assertThat(value(c)).isEqualTo(2);
    assertThat(store.load("counter", "c7").await().meta()).isNull();
  }

  /** Completes its first message only when the test says so, well after the ask timeout. */
  public static class HeldCounter extends Entity<Integer> {
    static final Promise<Void> RELEASE = Promise.promise();
    static final AtomicInteger HANDLED = new AtomicInteger();

    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      HANDLED.incrementAndGet();
      return RELEASE.future().map(v -> {
        state = state + 1;
        return new JsonObject().put("value", state);
      });
    }
  }

  @Test
  void aRetryWhileTheFirstAttemptIsStillRunningIsRefusedThenReplayed() {
    HeldCounter c = new HeldCounter();
    TestHosts.host(c).bind("held", "h1", new EntityTypeOptions().setAskTimeoutMs(200));
    TestHosts.host(c).attachStore(store, 1, () -> { });
    vertx.deployVerticle(c).await();

    assertThat(send(c, new JsonObject(), "k-h").error).as("the handler outlives the ask timeout").isEqualTo(StickyError.TIMEOUT);
    assertThat(send(c, new JsonObject(), "k-h").error).as("not applied twice while the first still runs")
        .isEqualTo(StickyError.UNAVAILABLE);
    vertx.runOnContext(v -> HeldCounter.RELEASE.tryComplete());
    await().atMost(Duration.ofSeconds(5)).until(() -> store.load("held", "h1").await() != null);

    RecordingDelivery retry = send(c, new JsonObject(), "k-h");
    assertThat(retry.replayed).isTrue();
    assertThat(retry.result.future().result()).isEqualTo(new JsonObject().put("value", 1));
    assertThat(HeldCounter.HANDLED.get()).isEqualTo(1);
  }

  /** EntityRef.withRetries: an ask whose first attempt timed out is retried with its key and applied once. */
  @Test
  void anEntityRefWithRetriesAppliesAnAskOnceThroughATimeout() {
    Sticky sticky = Sticky.create(vertx);
    sticky.register(EntityType.of("slow-once", SlowOnce::new, new EntityTypeOptions().setAskTimeoutMs(300)));
    sticky.start().await();
    EntityRef ref = sticky.entityRef("slow-once", "s1");

    JsonObject reply = ref.withRetries(new RetryPolicy(10, 100, 400)).ask(new JsonObject()).await();
    assertThat(reply.getInteger("value")).isEqualTo(1);
    assertThat(ref.ask(new JsonObject().put("op", "get")).await().getInteger("value")).as("applied once").isEqualTo(1);

    assertThat(ref.ask(new JsonObject(), "k-s").await().getInteger("value")).isEqualTo(2);
    assertThat(ref.ask(new JsonObject(), "k-s").await().getInteger("value")).as("the same key through EntityRef").isEqualTo(2);
  }

  /** Its first message takes 700 ms (more than the ask timeout); the rest answer at once. */
  public static class SlowOnce extends Entity<Integer> {
    private boolean first = true;

    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      if ("get".equals(message.getString("op"))) {
        return Future.succeededFuture(new JsonObject().put("value", state));
      }
      Promise<JsonObject> done = Promise.promise();
      long delay = first ? 700 : 1;
      first = false;
      vertx.setTimer(delay, t -> {
        state = state + 1;
        done.complete(new JsonObject().put("value", state));
      });
      return done.future();
    }
  }
}
