package io.sticky.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sticky.internal.EntityHosts;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Set;

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
 * <p>Persistence: when the type has a state store ({@link EntityTypeOptions#getStore()}), the state is
 * loaded from it on activation and written to it per the type's {@link WritePolicy}; every write is
 * conditional on the version this instance last read or wrote, so two instances can never fork the stored
 * state (the loser is stopped and its caller gets {@link StickyError#STATE_CONFLICT}). A state whose shape
 * changed declares {@link #stateSchemaVersion()} and {@link #migrateState(int, JsonObject)}.
 *
 * <p>Codec: state is Jackson JSON of {@code S} by default (unknown fields ignored on read, kept on write);
 * override {@link #snapshotState()} and {@link #restoreState(String)} together for another format.
 *
 * @param <S> the state: a plain Java object, Jackson-serialisable
 */
public abstract class Entity<S> extends VerticleBase {
  static {
    EntityHosts.install(EntityRuntime::of);
  }

  /** The entity's state, read and written only on this verticle's context. */
  protected S state;

  /** The runtime around this instance (mailbox, persistence, lifecycle); set once, when a region hosts it. */
  EntityRuntime<S> runtime;

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
      throw new IllegalStateException("state of " + typeName() + "/" + id() + " is not serialisable: " + e.getOriginalMessage(), e);
    }
  }

  /** Rebuilds the state from {@link #snapshotState()}'s output. Default: Jackson, to the type {@code S}. */
  @SuppressWarnings("unchecked")
  protected S restoreState(String serialized) {
    try {
      return (S) MAPPER.readValue(serialized, MAPPER.constructType(stateType()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot restore the state of " + typeName() + "/" + id() + ": " + e.getOriginalMessage(), e);
    }
  }

  /**
   * The version of this type's state shape, stored with every write. Start at 1; raise it when the shape
   * changes incompatibly and add a step to {@link #migrateState(int, JsonObject)}. Rules (docs/guarantees.md):
   * old states are migrated step by step on load; states written by a newer version are read tolerantly and
   * their unknown fields are kept.
   */
  protected int stateSchemaVersion() {
    return 1;
  }

  /**
   * Upgrades a stored JSON state from {@code fromVersion} to {@code fromVersion + 1}. Called once per step on
   * load, oldest first. The default knows no migrations and fails the activation.
   */
  protected JsonObject migrateState(int fromVersion, JsonObject state) {
    throw new IllegalStateException(typeName() + " has no migration from state schema version " + fromVersion
        + " to " + (fromVersion + 1) + ": override migrateState");
  }

  /** Vert.x's mapper, but tolerant of fields this version does not know (written by a newer one). */
  private static final ObjectMapper MAPPER = DatabindCodec.mapper().copy()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

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

  // ---------------------------------------------------------------- reminders

  /** At most this many reminders per entity. */
  public static final int MAX_REMINDERS = 100;
  /** The shortest period of a periodic reminder: reminders are for minutes and hours; timers are for less. */
  public static final long MIN_REMINDER_PERIOD_MS = 1_000;

  /**
   * Registers a durable reminder: {@link #onReminder} gets it once, {@code dueInMs} from now, even if this
   * entity is passivated, moves or its node crashes in between (the runtime activates it then). Stored with
   * the state: durable once the current message's write is (with {@code before-reply}, before its reply).
   * Replaces a reminder of the same name. Delivery is at least once; see {@link Reminder#isRetry()}.
   */
  protected final void registerReminder(String name, long dueInMs, JsonObject message) {
    registerReminder(name, dueInMs, 0, message);
  }

  /** As {@link #registerReminder(String, long, JsonObject)}, then every {@code periodMs} (missed periods are skipped). */
  protected final void registerReminder(String name, long dueInMs, long periodMs, JsonObject message) {
    hosted().registerReminder(name, dueInMs, periodMs, message);
  }

  /** Cancels a reminder (durable as registration is); true if there was one of that name. */
  protected final boolean cancelReminder(String name) {
    return runtime != null && runtime.reminders != null && runtime.reminders.cancel(name);
  }

  /** The names of this entity's reminders. */
  protected final Set<String> reminderNames() {
    return runtime == null || runtime.reminders == null ? Set.of() : runtime.reminders.names();
  }

  /**
   * A reminder is due. Runs on this entity's context, one message at a time with the others; the state it
   * leaves is written as after a message. Default: {@link #handle} with the reminder's message. A failed
   * future delivers the same due time again after a backoff (1 s, doubling up to 1 minute).
   */
  protected Future<JsonObject> onReminder(Reminder reminder) {
    return handle(reminder.message());
  }

  // ---------------------------------------------------------------- timers

  /** At most this many timer keys per entity (bounded, like everything else). */
  public static final int MAX_TIMERS = 1_000;

  /**
   * Sends {@code message} to this entity once, after {@code delayMs}, through its mailbox: {@link #handle}
   * gets it like any other message, one at a time with the others (its reply goes nowhere). Replaces a timer
   * with the same key. Timers are cancelled when the entity stops (passivation, hand-off, shutdown), and do
   * not keep an idle entity from being passivated.
   */
  protected final void startSingleTimer(String key, long delayMs, JsonObject message) {
    hosted().timers().start(key, delayMs, message, false);
  }

  /** As {@link #startSingleTimer}, every {@code intervalMs} until cancelled or the entity stops. */
  protected final void startPeriodicTimer(String key, long intervalMs, JsonObject message) {
    hosted().timers().start(key, intervalMs, message, true);
  }

  /** Cancels a timer; a tick already queued is still handled. */
  protected final void cancelTimer(String key) {
    if (runtime != null && runtime.timersIfAny() != null) {
      runtime.timersIfAny().cancel(key);
    }
  }

  protected final boolean isTimerActive(String key) {
    return runtime != null && runtime.timersIfAny() != null && runtime.timersIfAny().isActive(key);
  }

  // ---------------------------------------------------------------- identity

  /** The entity id. */
  public final String id() {
    return runtime == null ? null : runtime.id();
  }

  /** The entity type name. */
  public final String typeName() {
    return runtime == null ? null : runtime.typeName();
  }

  /** Messages handled since activation. */
  protected final long processedMessages() {
    return runtime == null ? 0 : runtime.processed();
  }

  /** Vert.x's start: the runtime's activation (loading the state, then {@link #onActivate()}); not to be called. */
  @Override
  public final Future<?> start() {
    return runtime == null
        ? Future.failedFuture(new IllegalStateException("entity started outside Sticky: register its type with Sticky instead"))
        : runtime.load();
  }

  /** Vert.x's stop: the runtime's stop (see {@link #onStop()}); not to be called. */
  @Override
  public final Future<?> stop() {
    return runtime == null ? Future.succeededFuture() : runtime.stop();
  }

  /** The Vert.x and context the entity was started on (Vert.x sets them in {@code init}), for its runtime. */
  final io.vertx.core.Vertx hostVertx() {
    return vertx;
  }

  final io.vertx.core.Context hostContext() {
    return context;
  }

  private EntityRuntime<S> hosted() {
    if (runtime == null) {
      throw new IllegalStateException("timers and reminders need the entity to be hosted by Sticky");
    }
    return runtime;
  }
}
