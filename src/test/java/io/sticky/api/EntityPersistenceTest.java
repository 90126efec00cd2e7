package io.sticky.api;

import io.sticky.internal.EntityHost;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.examples.CounterEntity;
import io.sticky.store.InMemoryStateStore;
import io.sticky.store.StateStore;
import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An entity with a state store: loads, writes per policy, fences itself on conflicts, migrates schemas. */
public class EntityPersistenceTest {
  private Vertx vertx;
  private InMemoryStateStore store;
  private final AtomicInteger fenced = new AtomicInteger();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    store = new InMemoryStateStore();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private <E extends Entity<?>> E deploy(E entity, String id, EntityTypeOptions options, StateStore store) {
    TestHosts.host(entity).bind("counter", id, options);
    TestHosts.host(entity).attachStore(store, 4, fenced::incrementAndGet);
    vertx.deployVerticle(entity).await();
    return entity;
  }

  private <E extends Entity<?>> E deploy(E entity, String id) {
    return deploy(entity, id, new EntityTypeOptions(), store);
  }

  private static RecordingDelivery send(Entity<?> e, JsonObject body) {
    RecordingDelivery ask = RecordingDelivery.ask(body);
    TestHosts.host(e).deliver(ask);
    ask.result.future().otherwiseEmpty().await();
    return ask;
  }

  private static JsonObject ask(Entity<?> e, JsonObject body) {
    RecordingDelivery a = send(e, body);
    assertThat(a.error).as("error").isNull();
    return a.result.future().result();
  }

  private static JsonObject increment(long delta) {
    return new JsonObject().put("op", "increment").put("delta", delta);
  }

  private StoredState stored(String id) {
    return store.load("counter", id).await();
  }

  @Test
  void beforeReplyEveryChangeIsStoredBeforeItsReplyAndReadsWriteNothing() {
    CounterEntity c = deploy(new CounterEntity(), "c1");
    ask(c, increment(5));
    assertThat(stored("c1")).isEqualTo(new StoredState(1, 4, 1, "{\"value\":5}"));
    ask(c, increment(2));
    assertThat(stored("c1").version()).isEqualTo(2);
    ask(c, new JsonObject().put("op", "get"));
    RecordingDelivery view = new RecordingDelivery(EntityAddress.KIND_VIEW, null);
    TestHosts.host(c).deliver(view);
    view.result.future().await();
    assertThat(send(c, new JsonObject().put("op", "explode")).error).isEqualTo(StickyError.BAD_REQUEST);
    assertThat(stored("c1")).as("reads and rejected messages do not write").isEqualTo(new StoredState(2, 4, 1, "{\"value\":7}"));
  }

  @Test
  void aNewInstanceStartsFromTheStoredStateAndContinuesItsVersions() {
    store.write("counter", "c2", new StoredState(1, 1, 1, "{\"value\":40}")).await();
    store.write("counter", "c2", new StoredState(2, 1, 1, "{\"value\":41}")).await();
    CounterEntity c = deploy(new CounterEntity(), "c2");
    assertThat(ask(c, increment(1)).getLong("value")).isEqualTo(42);
    assertThat(stored("c2")).isEqualTo(new StoredState(3, 4, 1, "{\"value\":42}"));
  }

  @Test
  void aWriteAfterSomeoneElseWroteIsRejectedAndTheInstanceFencesItself() {
    CounterEntity stale = deploy(new CounterEntity(), "c3");
    ask(stale, increment(1));
    // another instance (after a partition or a crash the stale one did not notice) wrote version 2
    store.write("counter", "c3", new StoredState(2, 5, 1, "{\"value\":100}")).await();

    RecordingDelivery lost = send(stale, increment(1));
    assertThat(lost.error).isEqualTo(StickyError.STATE_CONFLICT);
    assertThat(StickyError.STATE_CONFLICT.outcomeUnknown()).as("not applied: safe to retry").isFalse();
    assertThat(fenced.get()).as("the region is told to retire it").isEqualTo(1);
    assertThat(send(stale, increment(1)).error).as("a fenced instance serves nothing").isEqualTo(StickyError.UNAVAILABLE);
    assertThat(stored("c3")).as("the other instance's state is intact").isEqualTo(new StoredState(2, 5, 1, "{\"value\":100}"));

    CounterEntity fresh = deploy(new CounterEntity(), "c3");
    assertThat(ask(fresh, increment(1)).getLong("value")).isEqualTo(101);
  }

  @Test
  void aFailedWriteReportsAnUnknownOutcomeAndFencesTheInstance() {
    CounterEntity c = deploy(new CounterEntity(), "c4", new EntityTypeOptions(), new FailingStore());
    RecordingDelivery a = send(c, increment(1));
    assertThat(a.error).isEqualTo(StickyError.STORE_FAILED);
    assertThat(a.error.outcomeUnknown()).isTrue();
    assertThat(fenced.get()).isEqualTo(1);
  }

  /** Loads nothing, fails every write. */
  public static final class FailingStore implements StateStore {
    @Override
    public String name() {
      return "failing";
    }

    @Override
    public Future<StoredState> load(String type, String id) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> write(String type, String id, StoredState next) {
      return Future.failedFuture(new IllegalStateException("disk on fire"));
    }

    @Override
    public Future<Void> ping() {
      return Future.failedFuture("down");
    }
  }

  @Test
  void writeBehindRepliesAtOnceAndWritesTheBurstInFewWritesWithinTheDelay() {
    EntityTypeOptions options = new EntityTypeOptions().setWritePolicy(WritePolicy.WRITE_BEHIND).setWriteBehindDelayMs(200);
    CounterEntity c = deploy(new CounterEntity(), "c5", options, store);
    for (int i = 0; i < 50; i++) {
      ask(c, increment(1));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> stored("c5") != null && stored("c5").data().equals("{\"value\":50}"));
    assertThat(stored("c5").version()).as("50 changes, coalesced").isLessThan(10);
  }

  @Test
  void onStopWritesOnlyWhenTheEntityStops() {
    EntityTypeOptions options = new EntityTypeOptions().setWritePolicy(WritePolicy.ON_STOP);
    CounterEntity c = deploy(new CounterEntity(), "c6", options, store);
    ask(c, increment(3));
    ask(c, increment(4));
    assertThat(stored("c6")).isNull();
    EntityHost.Stopped stopped = TestHosts.host(c).stopForHandOff().await();
    assertThat(stored("c6")).isEqualTo(new StoredState(1, 4, 1, "{\"value\":7}"));
    CounterEntity next = deploy(new CounterEntity(), "c6", options, store);
    assertThat(stopped.data()).isEqualTo("{\"value\":7}");
    assertThat(ask(next, increment(1)).getLong("value")).isEqualTo(8);
  }

  @Test
  void anUndeployedEntityWritesItsUnsavedState() {
    EntityTypeOptions options = new EntityTypeOptions().setWritePolicy(WritePolicy.ON_STOP);
    CounterEntity c = deploy(new CounterEntity(), "c7", options, store);
    ask(c, increment(9));
    vertx.undeploy(c.deploymentID()).await();
    assertThat(stored("c7").data()).isEqualTo("{\"value\":9}");
  }

  /** Version 2 of the counter's state: renamed field, new field with a default. */
  public static class CounterV2 extends Entity<CounterV2.State> {
    public record State(long count, String unit) {
    }

    @Override
    protected int stateSchemaVersion() {
      return 2;
    }

    @Override
    protected JsonObject migrateState(int fromVersion, JsonObject old) {
      if (fromVersion == 1) {
        return new JsonObject().put("count", old.getLong("value")).put("unit", "items");
      }
      return super.migrateState(fromVersion, old);
    }

    @Override
    protected State initialState() {
      return new State(0, "items");
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      state = new State(state.count() + 1, state.unit());
      return Future.succeededFuture(view());
    }
  }

  @Test
  void stateWrittenByAnOlderVersionIsMigratedOnLoadAndWrittenInTheNewShape() {
    store.write("counter", "m1", new StoredState(1, 1, 1, "{\"value\":7}")).await();
    CounterV2 c = deploy(new CounterV2(), "m1");
    assertThat(ask(c, new JsonObject())).isEqualTo(new JsonObject().put("count", 8).put("unit", "items"));
    assertThat(stored("m1")).isEqualTo(new StoredState(2, 4, 2, "{\"count\":8,\"unit\":\"items\"}"));
  }

  @Test
  void stateWrittenByANewerVersionIsReadAndItsUnknownFieldsAndSchemaVersionAreKept() {
    // written by a (future) version 3 of the counter: extra fields, one nested
    store.write("counter", "n1", new StoredState(1, 1, 3, "{\"value\":3,\"label\":\"x\",\"audit\":{\"by\":\"ann\"}}")).await();
    CounterEntity c = deploy(new CounterEntity(), "n1");
    assertThat(ask(c, increment(1)).getLong("value")).isEqualTo(4);
    StoredState after = stored("n1");
    assertThat(after.schemaVersion()).as("never downgraded").isEqualTo(3);
    assertThat(new JsonObject(after.data())).isEqualTo(new JsonObject("{\"value\":4,\"label\":\"x\",\"audit\":{\"by\":\"ann\"}}"));
  }

  @Test
  void aMissingMigrationFailsTheActivationInsteadOfLosingState() {
    store.write("counter", "m2", new StoredState(1, 1, 1, "{\"value\":7}")).await();
    CounterV2 c = new CounterV2() {
      @Override
      protected int stateSchemaVersion() {
        return 3;
      }
    };
    TestHosts.host(c).bind("counter", "m2", new EntityTypeOptions());
    TestHosts.host(c).attachStore(store, 1, fenced::incrementAndGet);
    assertThat(vertx.deployVerticle(c).otherwiseEmpty().await()).as("activation failed").isNull();
    assertThat(stored("m2").data()).isEqualTo("{\"value\":7}");
  }

  /** A custom codec: the state as plain text, not JSON. */
  public static class TextCounter extends CounterEntity {
    @Override
    protected String snapshotState() {
      return "value=" + state.value();
    }

    @Override
    protected State restoreState(String serialized) {
      return new State(Long.parseLong(serialized.substring("value=".length())));
    }
  }

  @Test
  void aCustomCodecIsUsedForTheStore() {
    TextCounter c = deploy(new TextCounter(), "t1");
    ask(c, increment(6));
    assertThat(stored("t1").data()).isEqualTo("value=6");
    TextCounter again = deploy(new TextCounter(), "t1");
    assertThat(ask(again, increment(1)).getLong("value")).isEqualTo(7);
  }
}
