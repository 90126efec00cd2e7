package io.sticky.api;

import io.sticky.internal.EntityHost;
import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.examples.CartEntity;
import io.sticky.examples.CounterEntity;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An entity stopped for a hand-off carries its state and the messages it never started. */
class EntityHandOffTest {
  private Vertx vertx;

  /** Holds every message until released: lets a test stop the entity while a message is in progress. */
  public static class GateCounter extends CounterEntity {
    static Promise<Void> gate;
    static Promise<Void> entered;

    void releaseOnOwnContext() {
      context.runOnContext(v -> gate.complete());
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      entered.tryComplete();
      return gate.future().compose(v -> super.handle(message));
    }
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private <E extends Entity<?>> E deploy(E entity, String id, String restoredState) {
    TestHosts.host(entity).bind("t", id, new EntityTypeOptions());
    if (restoredState != null) {
      TestHosts.host(entity).restoreFrom(restoredState);
    }
    vertx.deployVerticle(entity).await();
    return entity;
  }

  private static JsonObject ask(Entity<?> e, JsonObject message) {
    RecordingDelivery d = RecordingDelivery.ask(message);
    TestHosts.host(e).deliver(d);
    return d.result.future().await();
  }

  @Test
  void typedStateSurvivesTheMove() {
    CartEntity before = deploy(new CartEntity(), "u1", null);
    ask(before, new JsonObject().put("op", "add").put("item", "pear").put("quantity", 2));
    ask(before, new JsonObject().put("op", "add").put("item", "apple").put("quantity", 5));
    EntityHost.Stopped stopped = TestHosts.host(before).stopForHandOff().await();
    assertThat(stopped.unprocessed()).isEmpty();

    CartEntity after = deploy(new CartEntity(), "u1", stopped.state());
    JsonObject cart = ask(after, new JsonObject().put("op", "add").put("item", "banana"));
    assertThat(cart.getJsonArray("items").encode())
        .as("same items, still sorted after the restore")
        .isEqualTo("[{\"item\":\"apple\",\"quantity\":5},{\"item\":\"banana\",\"quantity\":1},{\"item\":\"pear\",\"quantity\":2}]");
  }

  @Test
  void theCurrentMessageFinishesAndQueuedOnesAreHandedBackUnstarted() {
    GateCounter.gate = Promise.promise();
    GateCounter.entered = Promise.promise();
    GateCounter counter = deploy(new GateCounter(), "c1", null);
    RecordingDelivery first = RecordingDelivery.ask(new JsonObject().put("op", "increment"));
    RecordingDelivery second = RecordingDelivery.ask(new JsonObject().put("op", "increment").put("delta", 10));
    RecordingDelivery third = RecordingDelivery.ask(new JsonObject().put("op", "increment").put("delta", 100));
    TestHosts.host(counter).deliver(first);
    GateCounter.entered.future().await();
    TestHosts.host(counter).deliver(second);
    TestHosts.host(counter).deliver(third);
    Future<EntityHost.Stopped> stopping = TestHosts.host(counter).stopForHandOff();
    assertThat(stopping.isComplete()).as("waits for the message in progress").isFalse();
    // released on the entity's own context, after the queued deliveries and the stop request
    counter.releaseOnOwnContext();

    EntityHost.Stopped stopped = stopping.await();
    assertThat(first.result.future().await().getLong("value")).isEqualTo(1);
    assertThat(stopped.unprocessed()).containsExactly(second, third);
    assertThat(second.result.future().isComplete()).as("not answered: the next home will").isFalse();
    assertThat(new JsonObject(stopped.data()).getLong("value")).isEqualTo(1);

    CounterEntity next = deploy(new CounterEntity(), "c1", stopped.state());
    stopped.unprocessed().forEach(TestHosts.host(next)::deliver);
    assertThat(third.result.future().await().getLong("value")).as("applied once, in order, on the new home").isEqualTo(111);
    assertThat(List.of(second.result.future().await().getLong("value"))).containsExactly(11L);
  }
}
