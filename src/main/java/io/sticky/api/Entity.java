package io.sticky.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The base class of every entity: a Vert.x verticle that holds the state of one (type, id) and handles
 * one message at a time.
 *
 * <p>Write an entity by giving it an initial state and a {@link #handle(JsonObject)} method:
 * <pre>{@code
 * public class CounterEntity extends Entity<CounterEntity.State> {
 *   public record State(long value) {}
 *   protected State initialState() { return new State(0); }
 *   protected Future<JsonObject> handle(JsonObject msg) {
 *     state = new State(state.value() + msg.getLong("delta", 1L));
 *     return Future.succeededFuture(view());
 *   }
 * }
 * }</pre>
 *
 * <p>Threading: {@code handle}, {@code view} and the lifecycle methods all run on this verticle's own
 * context, one at a time; the next message is not handed over until the future returned by
 * {@code handle} completes, so state needs no locks. Never block in them: use the asynchronous Vert.x
 * APIs and return their future.
 *
 * <p>Errors: throw (or fail the future with) an {@link EntityException} to reject a message; leave
 * {@link #state} unchanged when you do. Any other exception is reported to the caller as
 * {@link StickyError#ENTITY_FAILED} and logged here, never sent as a stack trace.
 *
 * @param <S> the state: a plain Java object, Jackson-serialisable
 */
public abstract class Entity<S> extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(Entity.class);

  /** The entity's state, read and written only on this verticle's context. */
  protected S state;

  private String typeName;
  private String id;
  private long askTimeoutMs = EntityTypeOptions.DEFAULT_ASK_TIMEOUT_MS;
  private int mailboxCapacity = EntityTypeOptions.DEFAULT_MAILBOX_CAPACITY;

  // Mailbox: touched only on this verticle's context.
  private final ArrayDeque<Delivery> mailbox = new ArrayDeque<>();
  private boolean busy;
  private long processed;
  /** Serialised state handed over from the entity's previous home (planned move), or null. */
  private String restoredState;
  /** Set when the runtime stops this entity; completes once the current message is done. */
  private Promise<Stopped> stopping;
  private boolean stopStarted;

  /** What a stopped entity leaves behind: its serialised state and the messages it had not started. */
  public record Stopped(String state, List<Delivery> unprocessed) {
  }

  /** The state of a brand-new entity (called once per activation when there is nothing to restore). */
  protected abstract S initialState();

  /**
   * Handles one message and completes with the reply. Runs on this entity's context; the next message
   * waits until the returned future completes.
   */
  protected abstract Future<JsonObject> handle(JsonObject message);

  /** The read-only view served by {@code GET /entities/{type}/{id}}; by default the state as JSON. */
  protected JsonObject view() {
    return state == null ? new JsonObject() : JsonObject.mapFrom(state);
  }

  /** Called on activation, after {@link #state} is set. Override to start timers or load extra data. */
  protected Future<?> onActivate() {
    return Future.succeededFuture();
  }

  /**
   * Called on this entity's context when it is stopped (hand-off, shutdown), after its last message and
   * before its state is snapshotted. Override to cancel timers or flush caches.
   */
  protected Future<?> onStop() {
    return Future.succeededFuture();
  }

  /**
   * Serialises the state for a planned move. Default: Jackson JSON of {@link #state}. Override together
   * with {@link #restoreState(String)} for a custom format.
   */
  protected String snapshotState() {
    try {
      return MAPPER.writeValueAsString(state);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("state of " + typeName + "/" + id + " is not serialisable: " + e.getOriginalMessage(), e);
    }
  }

  /** Rebuilds the state from {@link #snapshotState()}'s output. Default: Jackson, to the type {@code S}. */
  @SuppressWarnings("unchecked")
  protected S restoreState(String serialized) {
    try {
      return (S) MAPPER.readValue(serialized, MAPPER.constructType(stateType()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot restore the state of " + typeName + "/" + id + ": " + e.getOriginalMessage(), e);
    }
  }

  private static final ObjectMapper MAPPER = DatabindCodec.mapper();

  /** The actual type argument {@code S} of this entity class. */
  private Type stateType() {
    Class<?> c = getClass();
    while (c != null && c.getSuperclass() != Entity.class) {
      c = c.getSuperclass();
    }
    if (c != null && c.getGenericSuperclass() instanceof ParameterizedType pt) {
      return pt.getActualTypeArguments()[0];
    }
    return Object.class;
  }

  /** The entity id. */
  public final String id() {
    return id;
  }

  /** The entity type name. */
  public final String typeName() {
    return typeName;
  }

  /** Messages handled since activation. */
  protected final long processedMessages() {
    return processed;
  }

  @Override
  public final Future<?> start() {
    if (id == null) {
      return Future.failedFuture(new IllegalStateException("entity deployed without bind(): deploy types through Sticky"));
    }
    state = restoredState != null ? restoreState(restoredState) : initialState();
    restoredState = null;
    return onActivate();
  }

  /** Runtime contract: the state to start from instead of {@link #initialState()} (before deployment). */
  public final void restoreFrom(String serializedState) {
    this.restoredState = serializedState;
  }

  /**
   * Runtime contract: stops taking messages, lets the current one finish, runs {@link #onStop()} and
   * snapshots the state. Messages queued but not started are handed back, unanswered, for the next home.
   * Completes on the caller's context (when called from one).
   */
  public final Future<Stopped> stopForHandOff() {
    Context caller = Vertx.currentContext();
    Promise<Stopped> done = Promise.promise();
    context.runOnContext(v -> {
      if (stopping != null) {
        stopping.future().onComplete(done);
        return;
      }
      stopping = done;
      if (!busy) {
        completeStop();
      }
    });
    if (caller == null) {
      return done.future();
    }
    // The stop completes on this entity's context; the caller (a region) gets the result on its own.
    Promise<Stopped> forCaller = Promise.promise();
    done.future().onComplete(ar -> caller.runOnContext(v -> forCaller.handle(ar)));
    return forCaller.future();
  }

  private void completeStop() {
    if (stopStarted) {
      return;
    }
    stopStarted = true;
    List<Delivery> unprocessed = new ArrayList<>(mailbox);
    mailbox.clear();
    Future<?> hook;
    try {
      hook = onStop();
    } catch (RuntimeException e) {
      hook = Future.failedFuture(e);
    }
    hook.onComplete(ar -> {
      if (ar.failed()) {
        log.warn("{}/{} onStop failed", typeName, id, ar.cause());
      }
      try {
        stopping.complete(new Stopped(snapshotState(), unprocessed));
      } catch (RuntimeException e) {
        log.error("{}/{}: state not carried over", typeName, id, e);
        stopping.complete(new Stopped(null, unprocessed));
      }
    });
  }

  /**
   * Runtime contract: called once by the hosting region before deployment.
   */
  public final void bind(String typeName, String id, EntityTypeOptions options) {
    if (this.id != null) {
      throw new IllegalStateException("entity already bound to " + this.typeName + "/" + this.id);
    }
    this.typeName = Objects.requireNonNull(typeName);
    this.id = Objects.requireNonNull(id);
    this.askTimeoutMs = options.getAskTimeoutMs();
    this.mailboxCapacity = options.getMailboxCapacity();
  }

  /**
   * Runtime contract: queues a message in this entity's bounded mailbox; thread-safe, returns at once.
   * The delivery is failed with {@link StickyError#UNAVAILABLE} if the mailbox is full.
   */
  public final void deliver(Delivery delivery) {
    context.runOnContext(v -> {
      if (stopping != null) {
        // Only possible if a delivery raced the stop: it was never started, so it is not lost.
        delivery.fail(StickyError.UNAVAILABLE, typeName + "/" + id + " is moving; retry");
        return;
      }
      if (mailbox.size() >= mailboxCapacity) {
        delivery.fail(StickyError.UNAVAILABLE, "mailbox of " + typeName + "/" + id + " is full (" + mailboxCapacity + ")");
        return;
      }
      mailbox.add(delivery);
      drain();
    });
  }

  /** Runs queued messages one at a time; loops rather than recursing when handlers complete synchronously. */
  private void drain() {
    if (stopping != null && !busy) {
      completeStop();
      return;
    }
    while (!busy && !mailbox.isEmpty()) {
      Delivery next = mailbox.poll();
      busy = true;
      Future<JsonObject> result = invoke(next);
      if (result.isComplete()) {
        finish(next, result);
      } else {
        long timer = vertx.setTimer(askTimeoutMs, t -> {
          // The handler did not finish in time: the caller is told the outcome is unknown, and the
          // mailbox moves on so one stuck future cannot wedge the entity forever.
          if (busy) {
            log.warn("{}/{} did not complete a message within {} ms; moving on", typeName, id, askTimeoutMs);
            next.fail(StickyError.TIMEOUT, "entity did not complete the message in " + askTimeoutMs + " ms; outcome unknown");
            busy = false;
            drain();
          }
        });
        result.onComplete(ar -> onContext(() -> {
          if (vertx.cancelTimer(timer)) {
            finish(next, result);
            drain();
          }
        }));
      }
    }
  }

  /** A handler's future may complete on another context (a client's, a worker's): come back to ours. */
  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private Future<JsonObject> invoke(Delivery delivery) {
    try {
      if (EntityAddress.KIND_VIEW.equals(delivery.kind())) {
        return Future.succeededFuture(view());
      }
      Future<JsonObject> f = handle(delivery.body());
      return f != null ? f : Future.failedFuture(new IllegalStateException("handle() returned null"));
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  private void finish(Delivery delivery, Future<JsonObject> result) {
    busy = false;
    processed++;
    if (result.succeeded()) {
      delivery.reply(result.result() == null ? new JsonObject() : result.result());
    } else if (result.cause() instanceof EntityException ee) {
      delivery.fail(ee.error(), ee.getMessage());
    } else {
      log.error("{}/{} failed handling a message", typeName, id, result.cause());
      delivery.fail(StickyError.ENTITY_FAILED, "entity " + typeName + "/" + id
          + " failed while handling the message; see the hosting node's log");
    }
  }
}
