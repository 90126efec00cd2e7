package io.sticky.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityException;
import io.sticky.api.Entity;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityReply;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.Sticky;
import io.sticky.api.StickyError;
import io.sticky.store.StateConflictException;
import io.sticky.store.StateStore;
import io.sticky.store.StoredState;
import io.sticky.testkit.MemoryBackedStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Sticky#request} and {@link Sticky#tell} hand messages straight to the local region instead of sending
 * them over the event bus: they must still behave like an event-bus message to the type's entry address.
 */
class LocalRequestTest {
  /** Mutates the message it gets, and replies with its own state object, which it goes on changing. */
  public static class Keeper extends Entity<JsonObject> {
    @Override
    protected JsonObject initialState() {
      return new JsonObject().put("n", 0);
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      message.put("touchedByEntity", true);
      state.put("n", state.getInteger("n") + 1).put("last", message.getString("tag"));
      return Future.succeededFuture(state);
    }

    @Override
    protected JsonObject view() {
      return state;
    }
  }

  /** Replies with a value JSON cannot carry when asked to. */
  public static class BadReply extends Entity<Integer> {
    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      state++;
      return Future.succeededFuture(message.getBoolean("bad", false)
          ? new JsonObject().put("thread", Thread.currentThread()) : new JsonObject().put("n", state));
    }
  }

  /** Never finishes starting. */
  public static class NeverStarts extends Entity<Integer> {
    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<?> onActivate() {
      return Promise.promise().future();
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      return Future.succeededFuture(new JsonObject());
    }
  }

  private Vertx vertx;
  private Sticky sticky;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    sticky = Sticky.create(vertx);
    sticky.register(EntityType.of("keeper", Keeper::new));
    sticky.register(EntityType.of("never", NeverStarts::new, new EntityTypeOptions().setAskTimeoutMs(200)));
    sticky.register(EntityType.of("bad-reply", BadReply::new));
    sticky.start().await(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void theCallerAndTheEntityNeverShareObjects() throws Exception {
    JsonObject message = new JsonObject().put("tag", "first");
    EntityReply first = sticky.request("keeper", "k1", EntityAddress.KIND_ASK, message).await(5, TimeUnit.SECONDS);
    // the entity changed its copy of the message, not the caller's
    assertThat(message.containsKey("touchedByEntity")).isFalse();
    message.put("tag", "changed after sending");
    sticky.request("keeper", "k1", EntityAddress.KIND_ASK, new JsonObject().put("tag", "second")).await(5, TimeUnit.SECONDS);
    // the entity changed its state object after replying with it; the first reply keeps what it said
    assertThat(first.body().getInteger("n")).isEqualTo(1);
    assertThat(first.body().getString("last")).isEqualTo("first");
    assertThat(first.node()).isEqualTo(sticky.nodeId());
    JsonObject view = sticky.request("keeper", "k1", EntityAddress.KIND_VIEW, null).await(5, TimeUnit.SECONDS).body();
    assertThat(view.getInteger("n")).isEqualTo(2);
    assertThat(view.getString("last")).isEqualTo("second");
  }

  @Test
  void answersMatchAnEventBusRequestToTheEntryAddress() throws Exception {
    EntityReply local = sticky.request("keeper", "k2", EntityAddress.KIND_ASK, new JsonObject().put("tag", "a")).await(5, TimeUnit.SECONDS);
    Message<JsonObject> viaBus = vertx.eventBus().<JsonObject>request(EntityAddress.of("keeper"), new JsonObject().put("tag", "b"),
        new DeliveryOptions().addHeader(EntityAddress.ID_HEADER, "k2")).await(5, TimeUnit.SECONDS);
    assertThat(local.body().getInteger("n")).isEqualTo(1);
    assertThat(viaBus.body().getInteger("n")).isEqualTo(2);
    assertThat(viaBus.headers().get(EntityAddress.NODE_HEADER)).isEqualTo(local.node());

    // the same bad message is refused the same way on both paths
    Throwable local400 = failureOf(sticky.request("keeper", "k2", "shout", new JsonObject()));
    Throwable bus400 = failureOf(vertx.eventBus().request(EntityAddress.of("keeper"), new JsonObject(),
        new DeliveryOptions().addHeader(EntityAddress.ID_HEADER, "k2").addHeader(EntityAddress.KIND_HEADER, "shout")));
    assertThat(StickyError.of(local400)).isEqualTo(StickyError.BAD_REQUEST).isEqualTo(StickyError.of(bus400));
    assertThat(EntityException.from(local400).getMessage()).isEqualTo(EntityException.from(bus400).getMessage()).contains("unknown message kind: shout");
    assertThat(StickyError.of(failureOf(sticky.request("keeper", "k2", EntityAddress.KIND_ASK, null))))
        .isEqualTo(StickyError.BAD_REQUEST);
  }

  @Test
  void aReplyJsonCannotCarryFailsThatRequestAndTheEntityGoesOn() throws Exception {
    // the very first message (delivered during activation) and a later one
    for (JsonObject bad : List.of(new JsonObject().put("bad", true), new JsonObject().put("bad", true))) {
      Throwable failure = failureOf(sticky.request("bad-reply", "b1", EntityAddress.KIND_ASK, bad));
      assertThat(StickyError.of(failure)).isEqualTo(StickyError.ENTITY_FAILED);
      assertThat(EntityException.from(failure).getMessage()).contains("could not be sent as JSON");
    }
    EntityReply ok = sticky.request("bad-reply", "b1", EntityAddress.KIND_ASK, new JsonObject()).await(5, TimeUnit.SECONDS);
    assertThat(ok.body().getInteger("n")).isEqualTo(3);
  }

  @Test
  void aRequestIsAnsweredEvenWhenTheEntityNeverStarts() throws Exception {
    long t0 = System.nanoTime();
    Throwable failure = failureOf(sticky.request("never", "n1", EntityAddress.KIND_ASK, new JsonObject()));
    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    // the caller's own deadline: the ask timeout (200 ms) plus the caller's margin
    assertThat(StickyError.of(failure)).isEqualTo(StickyError.TIMEOUT);
    assertThat(EntityException.from(failure).getMessage()).contains("outcome unknown");
    assertThat(waitedMs).isBetween(200L, 5_000L);
  }

  @Test
  void tellsAreDeliveredInOrderAndANullTellIsDropped() throws Exception {
    sticky.tell("keeper", "k3", new JsonObject().put("tag", "t1"));
    sticky.tell("keeper", "k3", null);
    sticky.tell("keeper", "k3", new JsonObject().put("tag", "t2"));
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      JsonObject view = sticky.request("keeper", "k3", EntityAddress.KIND_VIEW, null).await(5, TimeUnit.SECONDS).body();
      assertThat(view.getInteger("n")).isEqualTo(2);
      assertThat(view.getString("last")).isEqualTo("t2");
    });
  }

  @Test
  void requestsDuringStartUpAreAnsweredOrRefusedWith503() throws Exception {
    Sticky starting = Sticky.create(vertx);
    starting.register(EntityType.of("keeper", Keeper::new));
    Future<Void> started = starting.start();
    // Straight after start(), while the regions deploy: each request either works or is refused cleanly.
    int refused = 0;
    while (true) {
      Throwable failure = failureOf(starting.request("keeper", "s1", EntityAddress.KIND_ASK, new JsonObject().put("tag", "x")));
      if (failure == null) {
        break;
      }
      assertThat(StickyError.of(failure)).as(failure.toString()).isEqualTo(StickyError.UNAVAILABLE);
      refused++;
      assertThat(refused).as("still refused after many tries").isLessThan(10_000);
    }
    started.await(30, TimeUnit.SECONDS);
    assertThat(starting.request("keeper", "s1", EntityAddress.KIND_VIEW, null).await(5, TimeUnit.SECONDS).body().getInteger("n"))
        .isEqualTo(1);
  }

  @Test
  void anEntityFencedByItsFirstMessageIsReplacedNotStuck() throws Exception {
    // A store whose first write conflicts (another writer got there first), at once: the entity is fenced
    // while its very first message runs, before the region has heard that its activation is over.
    AtomicInteger writes = new AtomicInteger();
    StateStore conflictsOnce = new MemoryBackedStore("conflicts-once") {
      @Override
      public Future<Void> write(String type, String id, StoredState next) {
        return writes.getAndIncrement() == 0 ? Future.failedFuture(new StateConflictException(type, id, next.version() - 1))
            : super.write(type, id, next);
      }
    };
    Sticky node = Sticky.create(vertx);
    node.registerStore("conflicts-once", conflictsOnce);
    node.register(EntityType.of("fenced", Keeper::new, new EntityTypeOptions().setStore("conflicts-once")));
    node.start().await(30, TimeUnit.SECONDS);

    Throwable first = failureOf(node.request("fenced", "f1", EntityAddress.KIND_ASK, new JsonObject().put("tag", "a")));
    assertThat(StickyError.of(first)).isEqualTo(StickyError.STATE_CONFLICT);
    // the fenced instance is retired: the next message reaches a fresh one, which loads the stored state
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      EntityReply reply = node.request("fenced", "f1", EntityAddress.KIND_ASK, new JsonObject().put("tag", "b")).await(5, TimeUnit.SECONDS);
      assertThat(reply.body().getString("last")).isEqualTo("b");
    });
    assertThat(node.stats("fenced").activations()).isEqualTo(2);
  }

  /** The failure a future ends with (null if it succeeded). */
  private static Throwable failureOf(Future<?> future) throws Exception {
    return future.transform(ar -> Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);
  }
}
