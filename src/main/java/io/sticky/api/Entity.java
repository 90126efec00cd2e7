package io.sticky.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sticky.store.StateConflictException;
import io.sticky.store.StateLostException;
import io.sticky.store.StateStore;
import io.sticky.store.StoredState;
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
  private static final Logger log = LoggerFactory.getLogger(Entity.class);

  /** The entity's state, read and written only on this verticle's context. */
  protected S state;

  private String typeName;
  private String id;
  private long askTimeoutMs = EntityTypeOptions.DEFAULT_ASK_TIMEOUT_MS;
  private int mailboxCapacity = EntityTypeOptions.DEFAULT_MAILBOX_CAPACITY;

  // Mailbox: touched only on this verticle's context. Starts at 2 slots (the default is 16, ~64 more bytes
  // for each of a million mostly idle entities) and grows as needed.
  private final ArrayDeque<Delivery> mailbox = new ArrayDeque<>(1);
  private boolean busy;
  private long processed;
  /** State handed over from the entity's previous home (planned move, {@link Carried} encoded), or null. */
  private String restoredState;
  /** Set when the runtime stops this entity; completes once the current message is done. */
  private Promise<Stopped> stopping;
  private boolean stopStarted;

  // Persistence: all on this verticle's context.
  private StateStore store;
  /** Why a new entity (no stored state) may not be created now, or null (see {@link #refuseCreationWhen}). */
  private java.util.function.Supplier<String> creationRefusal = () -> null;
  private WritePolicy writePolicy = EntityTypeOptions.DEFAULT_WRITE_POLICY;
  private long writeBehindDelayMs = EntityTypeOptions.DEFAULT_WRITE_BEHIND_DELAY_MS;
  private boolean startFreshOnStateLoss = EntityTypeOptions.DEFAULT_START_FRESH_ON_STATE_LOSS;
  private long epoch;
  private Runnable onFenced = () -> { };
  /** Version of the state in the store as this instance knows it (0 = never written). */
  private long version;
  /** Schema version to write: the current one, or a newer one read from a newer node (never goes down). */
  private int schemaToWrite = 1;
  /** Fields of the stored JSON this code does not know (written by a newer version), kept on every write. */
  private JsonObject unknownFields;
  /** The encoding last read from or written to the store; an unchanged state is not written again. */
  private String lastStored;
  private long flushTimer = -1;
  private boolean writing;
  /** The last write (or a succeeded future): the next one starts after it, so writes go out one at a time, in order. */
  private Future<Void> lastWrite = Future.succeededFuture();
  /** Set once a write failed or conflicted: this instance may be stale and must not write or serve again. */
  private boolean fenced;
  /** Idempotency keys applied, stored with the state; null when the type keeps none. */
  private AppliedKeys appliedKeys;
  /** The message being handled is a retry of an applied key: its stored reply goes out as a replay. */
  private boolean replaying;
  /** Keys whose handler has not completed (one that outlived its ask timeout, typically): a retry must wait. */
  private java.util.Set<String> keysInFlight;
  /** Durable reminders at run time; null until the entity has or had one, or the index woke it. */
  private EntityReminders reminders;
  /** The region's reminder index (see {@link #attachReminderIndex}); null: none. */
  private java.util.function.BiFunction<Long, List<String>, Future<Void>> reminderIndex;

  /**
   * What a stopped entity leaves behind: its state for the next home ({@code null} if the next home must load
   * it from the store) and the messages it had not started.
   */
  public record Stopped(String state, List<Delivery> unprocessed) {
    /** The carried state's encoded data (the entity's own codec), or null. */
    public String data() {
      return state == null ? null : Carried.decode(state).data();
    }

    /** True if the state has changes the store did not take (its final write failed): it must not be dropped. */
    public boolean unsaved() {
      return state != null && Carried.decode(state).dirty();
    }
  }

  /** The state as it travels in a hand-off: data plus what the next instance needs to keep writing safely. */
  private record Carried(long version, int schemaVersion, String data, boolean dirty, String meta) {
    String encode() {
      return new JsonObject().put("version", version).put("schemaVersion", schemaVersion).put("data", data).put("dirty", dirty)
          .put("meta", meta).encode();
    }

    static Carried decode(String encoded) {
      JsonObject json = new JsonObject(encoded);
      return new Carried(json.getLong("version", 0L), json.getInteger("schemaVersion", 1), json.getString("data"), json.getBoolean("dirty", true),
          json.getString("meta"));
    }
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
    throw new IllegalStateException(typeName + " has no migration from state schema version " + fromVersion
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
    java.util.Objects.requireNonNull(name, "name");
    java.util.Objects.requireNonNull(message, "message");
    if (dueInMs < 0 || (periodMs != 0 && periodMs < MIN_REMINDER_PERIOD_MS)) {
      throw new IllegalArgumentException("a reminder is due in >= 0 ms, with a period of 0 (one-shot) or >= "
          + MIN_REMINDER_PERIOD_MS + " ms; got " + dueInMs + " and " + periodMs);
    }
    if (Vertx.currentContext() != context) {
      throw new IllegalStateException("reminders are registered from the entity's own context (handle, onActivate, onReminder)");
    }
    if (store == null) {
      // An error of the type's set-up, told to the caller as such (500, entity-failed) rather than a bare "failed".
      throw new EntityException(StickyError.ENTITY_FAILED, typeName + " keeps its state only in memory (store none):"
          + " reminders need a state store");
    }
    reminders().register(name, dueInMs, periodMs, message);
  }

  /** Cancels a reminder (durable as registration is); true if there was one of that name. */
  protected final boolean cancelReminder(String name) {
    return reminders != null && reminders.cancel(name);
  }

  /** The names of this entity's reminders. */
  protected final java.util.Set<String> reminderNames() {
    return reminders == null ? java.util.Set.of() : reminders.names();
  }

  private EntityReminders reminders() {
    if (reminders == null) {
      reminders = new EntityReminders(this, reminderIndex, false);
    }
    return reminders;
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
  /** Timer key -> Vert.x timer id; only on this entity's context. */
  private java.util.Map<String, Long> timers;
  /** Keys whose tick is queued in the mailbox and not handled yet (a slow entity gets one tick, not a pile). */
  private java.util.Set<String> ticksQueued;

  /**
   * Sends {@code message} to this entity once, after {@code delayMs}, through its mailbox: {@link #handle}
   * gets it like any other message, one at a time with the others (its reply goes nowhere). Replaces a timer
   * with the same key. Timers are cancelled when the entity stops (passivation, hand-off, shutdown), and do
   * not keep an idle entity from being passivated.
   */
  protected final void startSingleTimer(String key, long delayMs, JsonObject message) {
    startTimer(key, delayMs, message, false);
  }

  /** As {@link #startSingleTimer}, every {@code intervalMs} until cancelled or the entity stops. */
  protected final void startPeriodicTimer(String key, long intervalMs, JsonObject message) {
    startTimer(key, intervalMs, message, true);
  }

  /** Cancels a timer; a tick already queued is still handled. */
  protected final void cancelTimer(String key) {
    Long id = timers == null ? null : timers.remove(key);
    if (id != null) {
      vertx.cancelTimer(id);
    }
  }

  protected final boolean isTimerActive(String key) {
    return timers != null && timers.containsKey(key);
  }

  private void startTimer(String key, long delayMs, JsonObject message, boolean periodic) {
    java.util.Objects.requireNonNull(key, "key");
    java.util.Objects.requireNonNull(message, "message");
    if (delayMs < 1) {
      throw new IllegalArgumentException("timer delay must be >= 1 ms, got " + delayMs);
    }
    if (Vertx.currentContext() != context) {
      throw new IllegalStateException("timers are started from the entity's own context (handle, onActivate)");
    }
    if (stopping != null || stopStarted || fenced) {
      return; // stopping: a new timer would outlive the instance
    }
    if (timers == null) {
      timers = new java.util.HashMap<>();
      ticksQueued = new java.util.HashSet<>();
    }
    cancelTimer(key);
    if (timers.size() >= MAX_TIMERS) {
      throw new IllegalStateException(typeName + "/" + id + " has " + MAX_TIMERS + " timers already");
    }
    JsonObject tick = message.copy();
    long timerId = periodic
        ? vertx.setPeriodic(delayMs, t -> fire(key, tick))
        : vertx.setTimer(delayMs, t -> {
          timers.remove(key);
          fire(key, tick);
        });
    timers.put(key, timerId);
  }

  /** A timer tick: queued in the mailbox like a tell, unless this key's previous tick is still waiting. */
  private void fire(String key, JsonObject tick) {
    if (stopping != null || stopStarted || fenced || !ticksQueued.add(key)) {
      return;
    }
    if (mailbox.size() >= mailboxCapacity) {
      ticksQueued.remove(key);
      log.warn("{}/{}: mailbox full, timer {} skipped a tick", typeName, id, key);
      return;
    }
    mailbox.add(new TimerTick(this, key, tick));
    drain();
  }

  private void cancelAllTimers() {
    if (timers != null) {
      timers.values().forEach(vertx::cancelTimer);
      timers.clear();
    }
    if (reminders != null) {
      reminders.cancelTimer();
    }
  }

  /** A timer's message in the mailbox: handled like a tell; the outcome is only logged. */
  private static final class TimerTick implements Delivery {
    private final Entity<?> owner;
    private final String key;
    private final JsonObject message;

    TimerTick(Entity<?> owner, String key, JsonObject message) {
      this.owner = owner;
      this.key = key;
      this.message = message;
    }

    @Override
    public String kind() {
      return EntityAddress.KIND_ASK;
    }

    @Override
    public JsonObject body() {
      owner.ticksQueued.remove(key);
      return message;
    }

    @Override
    public void reply(JsonObject reply) {
    }

    @Override
    public void fail(StickyError error, String detail) {
      log.warn("{}/{}: timer {} message failed: {} {}", owner.typeName, owner.id, key, error, detail);
    }
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
    Future<Void> loaded;
    if (restoredState != null) {
      Carried carried = Carried.decode(restoredState);
      restoredState = null;
      loaded = Future.succeededFuture(apply(carried.version(), carried.schemaVersion(), carried.data(), carried.dirty(), carried.meta()));
    } else if (store != null) {
      loaded = here(store.load(typeName, id, epoch)).transform(ar -> {
        if (ar.failed() && ar.cause() instanceof StateLostException lost) {
          if (!startFreshOnStateLoss) {
            return Future.failedFuture(new EntityException(StickyError.STATE_LOST, lost.getMessage() + "; not applied. An operator"
                + " can accept the loss (POST /cluster/types/" + typeName + "/accept-state-loss): the entity then starts fresh"));
          }
          log.warn("{}/{}: {}; starting from the initial state (startFreshOnStateLoss)", typeName, id, lost.getMessage());
          return Future.succeededFuture(fresh());
        }
        if (ar.failed()) {
          return Future.failedFuture(new EntityException(StickyError.UNAVAILABLE,
              "state store " + store.name() + " could not load " + typeName + "/" + id + ": " + ar.cause().getMessage() + "; retry"));
        }
        StoredState stored = ar.result();
        if (stored == null) {
          String refused = creationRefusal.get();
          return refused == null ? Future.succeededFuture(fresh())
              : Future.failedFuture(new EntityException(StickyError.ENTITY_LIMIT, refused + "; not applied"));
        }
        return Future.succeededFuture(apply(stored.version(), stored.schemaVersion(), stored.data(), false, stored.meta()));
      });
    } else {
      loaded = Future.succeededFuture(fresh());
    }
    return loaded.compose(v -> onActivate()).compose(v -> reminders == null ? Future.succeededFuture() : reminders.activated());
  }

  private Void fresh() {
    if (appliedKeys != null) {
      appliedKeys.restore(null, 0);
    }
    state = initialState();
    version = 0;
    schemaToWrite = stateSchemaVersion();
    lastStored = null;
    return null;
  }

  /** Sets the state from stored (or carried) data: migrates older schemas, remembers unknown fields. */
  private Void apply(long storedVersion, int schema, String data, boolean dirty, String meta) {
    JsonObject runtime = meta == null ? null : new JsonObject(meta);
    if (appliedKeys != null) {
      appliedKeys.restore(runtime == null ? null : runtime.getJsonArray("appliedKeys"), System.currentTimeMillis());
    }
    io.vertx.core.json.JsonArray due = runtime == null ? null : runtime.getJsonArray("reminders");
    if (due != null) {
      reminders().restore(due);
    }
    int current = stateSchemaVersion();
    boolean migrated = false;
    if (schema < current) {
      JsonObject json = new JsonObject(data);
      for (int v = schema; v < current; v++) {
        json = Objects.requireNonNull(migrateState(v, json), "migrateState returned null");
      }
      data = json.encode();
      migrated = true;
    }
    state = restoreState(data);
    String known = snapshotState();
    unknownFields = unknownFields(data, known);
    version = storedVersion;
    schemaToWrite = Math.max(schema, current);
    // A migrated or carried-but-unsaved state differs from the store: the next change or stop writes it.
    lastStored = migrated || dirty ? null : known;
    return null;
  }

  /** Fields of {@code stored} (recursively) that re-encoding the restored state dropped; null if none or not JSON. */
  private static JsonObject unknownFields(String stored, String known) {
    // The usual case, the state re-encodes as it was stored: nothing dropped, and no need to parse both (every
    // entity a hand-off brings in comes through here).
    if (stored.equals(known) || !stored.startsWith("{") || !known.startsWith("{")) {
      return null;
    }
    JsonObject extra = missing(new JsonObject(stored), new JsonObject(known));
    return extra.isEmpty() ? null : extra;
  }

  private static JsonObject missing(JsonObject stored, JsonObject known) {
    JsonObject extra = new JsonObject();
    for (String key : stored.fieldNames()) {
      Object value = stored.getValue(key);
      if (!known.containsKey(key)) {
        extra.put(key, value);
      } else if (value instanceof JsonObject inner && known.getValue(key) instanceof JsonObject innerKnown) {
        JsonObject nested = missing(inner, innerKnown);
        if (!nested.isEmpty()) {
          extra.put(key, nested);
        }
      }
    }
    return extra;
  }

  private static void mergeInto(JsonObject target, JsonObject extra) {
    for (String key : extra.fieldNames()) {
      Object value = extra.getValue(key);
      if (!target.containsKey(key)) {
        target.put(key, value);
      } else if (value instanceof JsonObject inner && target.getValue(key) instanceof JsonObject innerTarget) {
        mergeInto(innerTarget, inner);
      }
    }
  }

  /** What goes to the store for a snapshot: the snapshot plus the fields a newer version wrote. */
  private String forStore(String snapshot) {
    if (unknownFields == null || !snapshot.startsWith("{")) {
      return snapshot;
    }
    JsonObject json = new JsonObject(snapshot);
    mergeInto(json, unknownFields);
    return json.encode();
  }

  /**
   * Runtime contract: the state to start from instead of {@link #initialState()} or the store (before
   * deployment): {@link Stopped#state()} of the previous instance.
   */
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
    return onCaller(caller, done.future());
  }

  /**
   * Runtime contract: starts this entity on a context the region chose, without a deployment of its own.
   * Measured: a Vert.x deployment per entity costs ~1-1.6 KB and ~30-55 µs, too much for a million entities;
   * the entity keeps the verticle lifecycle ({@code init}, {@code start}, {@code stop}) without it.
   * {@code first} (may be null) is queued in the mailbox as soon as the entity has started, on its own
   * context: the message that caused the activation needs no hop back to the caller and out again. If the
   * start fails, {@code first} is left untouched for the caller to answer. {@code onStarted} (thread-safe)
   * runs on this entity's context once it has started, before {@code first} is handled: what the caller
   * counts there is counted before the first reply goes out.
   * Completes on the caller's context (when called from one).
   */
  public final Future<Void> activate(Vertx vertx, Context on, Delivery first, Runnable onStarted) {
    Context caller = Vertx.currentContext();
    init(vertx, on);
    Promise<Void> started = Promise.promise();
    on.runOnContext(v -> {
      Future<?> f;
      try {
        f = start();
      } catch (Throwable t) {
        f = Future.failedFuture(t);
      }
      f.onComplete(ar -> onContext(() -> {
        try {
          if (ar.succeeded()) {
            onStarted.run();
            if (first != null) {
              mailbox.add(first);
              drain();
            }
          }
        } finally {
          // whatever the first message did, the region must hear that the activation is over
          started.handle(ar.mapEmpty());
        }
      }));
    });
    return onCaller(caller, started.future());
  }

  /**
   * Runtime contract: stops an entity that was not stopped for a hand-off (node shutdown): see {@link #stop()}.
   * Completes on the caller's context.
   */
  public final Future<Void> shutdown() {
    Context caller = Vertx.currentContext();
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> stop().onComplete(ar -> done.handle(ar.mapEmpty())));
    return onCaller(caller, done.future());
  }

  /** The result of work done on this entity's context, delivered on the caller's context (if it had one). */
  private static <T> Future<T> onCaller(Context caller, Future<T> result) {
    if (caller == null) {
      return result;
    }
    Promise<T> forCaller = Promise.promise();
    result.onComplete(ar -> {
      if (Vertx.currentContext() == caller) {
        forCaller.handle(ar);
      } else {
        caller.runOnContext(v -> forCaller.handle(ar));
      }
    });
    return forCaller.future();
  }

  private void completeStop() {
    if (stopStarted) {
      return;
    }
    stopStarted = true;
    cancelFlush();
    cancelAllTimers();
    List<Delivery> unprocessed = new ArrayList<>();
    for (Delivery d : mailbox) {
      if (!(d instanceof TimerTick) && !EntityReminders.isTick(d)) {
        unprocessed.add(d); // ticks die with the instance (reminders are in its state); everything else goes to the next one
      }
    }
    mailbox.clear();
    runOnStop().compose(v -> finalState()).onComplete(ar -> stopping.complete(new Stopped(ar.result(), unprocessed)));
  }

  /**
   * Runtime contract (Vert.x): an undeployment that did not go through {@link #stopForHandOff()} (node
   * shutdown): queued messages are refused (retry reaches the next home), then the state is written.
   */
  @Override
  public final Future<?> stop() {
    if (stopStarted) {
      return Future.succeededFuture();
    }
    stopStarted = true;
    cancelFlush();
    cancelAllTimers();
    mailbox.forEach(d -> d.fail(StickyError.UNAVAILABLE, typeName + "/" + id + " is stopping; retry"));
    mailbox.clear();
    return runOnStop()
        .compose(v -> store != null && !fenced ? persist(false) : Future.succeededFuture())
        .recover(err -> {
          log.warn("{}/{}: state not written on stop: {}", typeName, id, err.getMessage());
          return Future.succeededFuture();
        });
  }

  private Future<Void> runOnStop() {
    Future<?> hook;
    try {
      hook = onStop();
    } catch (RuntimeException e) {
      hook = Future.failedFuture(e);
    }
    return here(hook).transform(ar -> {
      if (ar.failed()) {
        log.warn("{}/{} onStop failed", typeName, id, ar.cause());
      }
      return Future.succeededFuture();
    });
  }

  /**
   * The state to carry to the next home, written to the store first if it changed. Null when the next home
   * must load from the store instead (this instance is fenced) or the state cannot be serialised.
   */
  private Future<String> finalState() {
    if (fenced) {
      return Future.succeededFuture(null);
    }
    String snapshot;
    try {
      snapshot = snapshotState();
    } catch (RuntimeException e) {
      log.error("{}/{}: state not carried over", typeName, id, e);
      return Future.succeededFuture(null);
    }
    if (store == null || (snapshot.equals(lastStored) && !keysDue())) {
      return Future.succeededFuture(new Carried(version, schemaToWrite, forStore(snapshot), false, encodedMeta()).encode());
    }
    return persist(false).transform(ar -> {
      if (fenced) {
        return Future.succeededFuture(null);
      }
      // Not written (store down): carried as unsaved, so the next home writes it, conditional on our version.
      return Future.succeededFuture(new Carried(version, schemaToWrite, forStore(snapshot), ar.failed(), encodedMeta()).encode());
    });
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Writes the current state if it changed since the last write, after any write in flight (one at a time,
   * in order). A conflict fences this instance; another failure fences it only if {@code fenceOnFailure}.
   */
  private Future<Void> persist(boolean fenceOnFailure) {
    return persist(fenceOnFailure, null);
  }

  /** As {@link #persist(boolean)}, the write recorded as a step of {@code cause} (the message that changed the state). */
  private Future<Void> persist(boolean fenceOnFailure, Delivery cause) {
    Future<Void> write = lastWrite.transform(previous -> {
      if (fenced) {
        return Future.failedFuture(new EntityException(StickyError.STATE_CONFLICT, typeName + "/" + id + " was fenced; retry"));
      }
      String snapshot = snapshotState();
      if (snapshot.equals(lastStored) && !keysDue()) {
        return Future.succeededFuture();
      }
      long keyChanges = appliedKeys == null ? 0 : appliedKeys.changes();
      long reminderChanges = reminders == null ? 0 : reminders.changes();
      StoredState next = new StoredState(version + 1, epoch, schemaToWrite, forStore(snapshot), encodedMeta());
      writing = true;
      Future<Void> written = cause == null ? store.write(typeName, id, next) : cause.step("store write", () -> store.write(typeName, id, next));
      return here(written).transform(ar -> {
        writing = false;
        if (ar.succeeded()) {
          version = next.version();
          lastStored = snapshot;
          if (appliedKeys != null) {
            appliedKeys.written(keyChanges);
          }
          if (reminders != null) {
            reminders.written(reminderChanges);
          }
          return Future.succeededFuture();
        }
        if (ar.cause() instanceof StateConflictException) {
          fence("its state was written by another instance since it was read (version " + version + ")");
          return Future.failedFuture(new EntityException(StickyError.STATE_CONFLICT, typeName + "/" + id
              + " changed elsewhere since this instance read it; not applied, retry"));
        }
        if (fenceOnFailure) {
          fence("state store " + store.name() + " failed a write: " + ar.cause().getMessage());
        } else {
          log.warn("{}/{}: state store {} failed a write: {}", typeName, id, store.name(), ar.cause().getMessage());
        }
        return Future.failedFuture(new EntityException(StickyError.STORE_FAILED, "state store " + store.name()
            + " failed writing " + typeName + "/" + id + "; outcome unknown"));
      });
    });
    lastWrite = write.recover(err -> Future.succeededFuture());
    return write;
  }

  /** The keys or the reminders changed since the last write: the next write carries them, changed state or not. */
  private boolean keysDue() {
    return (appliedKeys != null && appliedKeys.dirty()) || (reminders != null && reminders.dirty());
  }

  /**
   * The runtime's part of a stored state ({@link StoredState#meta()}): the applied idempotency keys and the
   * reminders; null if neither.
   */
  private String encodedMeta() {
    io.vertx.core.json.JsonArray keys = appliedKeys == null ? null : appliedKeys.toJson();
    io.vertx.core.json.JsonArray due = reminders == null ? null : reminders.toJson();
    if (keys == null && due == null) {
      return null;
    }
    JsonObject meta = new JsonObject();
    if (keys != null) {
      meta.put("appliedKeys", keys);
    }
    if (due != null) {
      meta.put("reminders", due);
    }
    return meta.encode();
  }

  /** After a successful message: write now, schedule a write, or only mark the state, per the policy. */
  private Future<JsonObject> afterChange(JsonObject reply, Delivery cause) {
    switch (writePolicy) {
      case BEFORE_REPLY:
        return persist(true, cause).map(reply);
      case WRITE_BEHIND:
        if (flushTimer < 0) {
          flushTimer = vertx.setTimer(writeBehindDelayMs, t -> {
            flushTimer = -1;
            // A failed write stays due: the state is still unsaved, so the next change or stop retries it.
            persist(false);
          });
        }
        return Future.succeededFuture(reply);
      default:
        return Future.succeededFuture(reply);
    }
  }

  private void cancelFlush() {
    if (flushTimer >= 0) {
      vertx.cancelTimer(flushTimer);
      flushTimer = -1;
    }
  }

  /**
   * This instance may hold a state that is not the stored one: it stops taking messages and the region is told
   * to retire it (its queued messages go to a fresh instance, which loads the stored state).
   */
  private void fence(String reason) {
    if (fenced) {
      return;
    }
    fenced = true;
    cancelFlush();
    cancelAllTimers();
    log.warn("{}/{} on epoch {} retired: {}", typeName, id, epoch, reason);
    onFenced.run();
  }

  /**
   * Runtime contract: this instance may no longer be the only one (its node lost the cluster's majority): it
   * takes no more messages, writes nothing more, and the region is told to retire it, as after a conflict.
   */
  public final void fenceOff(String reason) {
    context.runOnContext(v -> fence(reason));
  }

  /**
   * Runtime contract: the region's reminder index, told when this entity is next due (epoch ms, or
   * {@link Long#MAX_VALUE} for never), so that it can activate the entity then, and its reminders' names (for
   * the management view). {@code woken}: this instance is activated by the index, which it answers even if
   * nothing is due. Before deployment.
   */
  public final void attachReminderIndex(java.util.function.BiFunction<Long, List<String>, Future<Void>> index, boolean woken) {
    this.reminderIndex = index;
    if (woken) {
      reminders = new EntityReminders(this, index, true);
    }
  }

  // ---------------------------------------------------------------- for EntityReminders

  String label() {
    return typeName + "/" + id;
  }

  Vertx runtimeVertx() {
    return vertx;
  }

  Context runtimeContext() {
    return context;
  }

  /** Stopping or fenced: takes nothing more. */
  boolean retired() {
    return stopping != null || stopStarted || fenced;
  }

  boolean fenced() {
    return fenced;
  }

  /** Queues a delivery in the mailbox unless it is full (then false); {@link #drainMailbox} runs it. */
  boolean enqueue(Delivery delivery) {
    if (mailbox.size() >= mailboxCapacity) {
      return false;
    }
    mailbox.add(delivery);
    return true;
  }

  void drainMailbox() {
    drain();
  }

  /** Writes what changed now (none without a store); a failure fences this instance. */
  Future<Void> persistNow() {
    return store == null ? Future.succeededFuture() : persist(true);
  }

  <T> Future<T> onOwnContext(Future<T> future) {
    return here(future);
  }

  /** A future from elsewhere (store client, hook), completed back on this entity's context. */
  private <T> Future<T> here(Future<T> future) {
    Promise<T> promise = Promise.promise();
    future.onComplete(ar -> onContext(() -> promise.handle(ar)));
    return promise.future();
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
    this.writePolicy = options.getWritePolicy();
    this.writeBehindDelayMs = options.getWriteBehindDelayMs();
    this.startFreshOnStateLoss = options.isStartFreshOnStateLoss();
    this.appliedKeys = options.getIdempotencyKeys() == 0 ? null
        : new AppliedKeys(options.getIdempotencyKeys(), options.getIdempotencyRetentionMs());
  }

  /**
   * Runtime contract: the store this instance loads from and writes to (null = none), the epoch of its
   * shard's allocation, and what to call (on this entity's context) once it is fenced off after a failed or
   * conflicting write. Called once by the hosting region before deployment, after {@link #bind}.
   */
  public final void attachStore(StateStore store, long epoch, Runnable onFenced) {
    this.store = store;
    this.epoch = epoch;
    this.onFenced = Objects.requireNonNull(onFenced);
  }

  /**
   * Runtime contract: asked when the store holds no state for this entity, so it would be created; a non-null
   * answer refuses the activation with {@link StickyError#ENTITY_LIMIT} and that detail.
   */
  public final void refuseCreationWhen(java.util.function.Supplier<String> refusal) {
    this.creationRefusal = refusal;
  }

  /**
   * Runtime contract: queues a message in this entity's bounded mailbox; thread-safe, returns at once.
   * The delivery is failed with {@link StickyError#UNAVAILABLE} if the mailbox is full.
   */
  public final void deliver(Delivery delivery) {
    context.runOnContext(v -> {
      if (stopping != null || fenced) {
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
    // A fenced instance keeps its queued messages for the stop that follows, which hands them back.
    while (!busy && !fenced && !mailbox.isEmpty()) {
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
            if (writing) {
              // The write may still land: this instance cannot know its stored version any more.
              fence("a state write did not complete within the ask timeout");
            }
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
      if (EntityReminders.isTick(delivery)) {
        return reminders.fire(delivery);
      }
      String key = appliedKeys == null ? null : delivery.idempotencyKey();
      String fingerprint = null;
      if (key != null && store == null) {
        return Future.failedFuture(new EntityException(StickyError.BAD_REQUEST, typeName + " keeps its state only in memory"
            + " (store none): an idempotency key needs a state store to be kept in; not applied"));
      }
      if (key != null) {
        fingerprint = AppliedKeys.fingerprint(delivery.body());
        AppliedKeys.Applied prior = appliedKeys.find(key, System.currentTimeMillis());
        if (prior != null) {
          return replay(key, fingerprint, prior);
        }
        if (keysInFlight != null && keysInFlight.contains(key)) {
          return Future.failedFuture(new EntityException(StickyError.UNAVAILABLE, "an earlier message with idempotency key '"
              + key + "' is still being handled by " + typeName + "/" + id + "; not applied, retry later"));
        }
      }
      Future<JsonObject> f = handle(delivery.body());
      if (f == null) {
        return Future.failedFuture(new IllegalStateException("handle() returned null"));
      }
      if (store == null && key == null && reminders == null) {
        return f;
      }
      // A handler's future may complete on another context: persistence state is touched only on ours.
      Future<JsonObject> handled = f.isComplete() ? f : here(f);
      if (key != null) {
        String applied = fingerprint;
        if (keysInFlight == null) {
          keysInFlight = new java.util.HashSet<>();
        }
        keysInFlight.add(key);
        handled = handled.transform(ar -> {
          keysInFlight.remove(key);
          if (ar.failed()) {
            return Future.failedFuture(ar.cause());
          }
          JsonObject sent = ar.result() == null ? new JsonObject() : ar.result();
          appliedKeys.record(key, applied, sent, System.currentTimeMillis()); // written with the state below
          return Future.succeededFuture(sent);
        });
      }
      Future<JsonObject> done = store == null ? handled : handled.compose(reply -> afterChange(reply, delivery));
      return reminders == null ? done : done.compose(reply -> reminders.sync().map(reply));
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  /** A retry of an applied key: the stored reply again, and nothing applied; a different message is refused. */
  private Future<JsonObject> replay(String key, String fingerprint, AppliedKeys.Applied prior) {
    if (!prior.fingerprint().equals(fingerprint)) {
      return Future.failedFuture(new EntityException(StickyError.IDEMPOTENCY_KEY_REUSED, "idempotency key '" + key
          + "' was applied to " + typeName + "/" + id + " with a different message; not applied"));
    }
    replaying = true;
    return Future.succeededFuture(prior.reply().copy());
  }

  private void finish(Delivery delivery, Future<JsonObject> result) {
    busy = false;
    processed++;
    boolean replayed = replaying;
    replaying = false;
    if (result.succeeded() && replayed) {
      delivery.replay(result.result());
    } else if (result.succeeded()) {
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
