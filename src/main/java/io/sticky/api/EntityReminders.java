package io.sticky.api;

import io.sticky.internal.Delivery;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One entity's durable reminders at run time: what is registered (stored with the state through
 * {@link Reminders}), the timer for the earliest, delivery through the mailbox, and what the region's reminder
 * index was told. Confined to the entity's context, like the entity.
 */
final class EntityReminders {
  private static final Logger log = LoggerFactory.getLogger(EntityReminders.class);

  private final EntityRuntime<?> entity;
  /** Null until the entity has or had a reminder. */
  private Reminders reminders;
  /** Told when the entity is next due ({@link Long#MAX_VALUE}: never) and its reminders' names; null: no index. */
  private final BiFunction<Long, List<String>, Future<Void>> index;
  /** What the index was last told (MIN_VALUE: unknown, so the next sync tells it). */
  private long indexedDue = Long.MIN_VALUE;
  private List<String> indexedNames = List.of();
  /** Woken by the index: tell it what is due after loading, even if nothing is (a stale entry goes). */
  private boolean woken;
  private long timer = -1;
  private Set<String> queued;

  /** {@code woken}: the entity is activated by the index, which it answers even if nothing is due. */
  EntityReminders(EntityRuntime<?> entity, BiFunction<Long, List<String>, Future<Void>> index, boolean woken) {
    this.entity = entity;
    this.index = index;
    this.woken = woken;
  }

  /** Refuses a registration {@link Entity#registerReminder} must not accept, before anything is made. */
  static void checkRegistration(EntityRuntime<?> runtime, boolean hasStore, String name, long dueInMs, long periodMs, JsonObject message) {
    java.util.Objects.requireNonNull(name, "name");
    java.util.Objects.requireNonNull(message, "message");
    if (dueInMs < 0 || (periodMs != 0 && periodMs < Entity.MIN_REMINDER_PERIOD_MS)) {
      throw new IllegalArgumentException("a reminder is due in >= 0 ms, with a period of 0 (one-shot) or >= "
          + Entity.MIN_REMINDER_PERIOD_MS + " ms; got " + dueInMs + " and " + periodMs);
    }
    if (io.vertx.core.Vertx.currentContext() != runtime.runtimeContext()) {
      throw new IllegalStateException("reminders are registered from the entity's own context (handle, onActivate, onReminder)");
    }
    if (!hasStore) {
      // An error of the type's set-up, told to the caller as such (500, entity-failed) rather than a bare "failed".
      throw new EntityException(StickyError.ENTITY_FAILED, runtime.typeName() + " keeps its state only in memory (store none):"
          + " reminders need a state store");
    }
  }

  void register(String name, long dueInMs, long periodMs, JsonObject message) {
    if (reminders == null) {
      reminders = new Reminders();
    }
    if (reminders.get(name) == null && reminders.size() >= Entity.MAX_REMINDERS) {
      throw new IllegalStateException(entity.label() + " has " + Entity.MAX_REMINDERS + " reminders already");
    }
    reminders.put(new Reminder(name, message.copy(), System.currentTimeMillis() + dueInMs, periodMs, 0));
    schedule();
  }

  boolean cancel(String name) {
    boolean had = reminders != null && reminders.remove(name);
    if (had) {
      schedule();
    }
    return had;
  }

  Set<String> names() {
    return reminders == null ? Set.of() : reminders.names();
  }

  // ---------------------------------------------------------------- with the state (StoredState.meta)

  boolean dirty() {
    return reminders != null && reminders.dirty();
  }

  long changes() {
    return reminders == null ? 0 : reminders.changes();
  }

  void written(long changesCarried) {
    if (reminders != null) {
      reminders.written(changesCarried);
    }
  }

  /** As stored: null if there are none. */
  JsonArray toJson() {
    return reminders == null ? null : reminders.toJson();
  }

  void restore(JsonArray stored) {
    if (stored != null) {
      reminders = new Reminders();
      reminders.restore(stored);
    }
  }

  // ---------------------------------------------------------------- delivery

  /** After activation: the timer for the earliest, and the index told what is due if it may not know. */
  Future<Void> activated() {
    schedule();
    return woken || (reminders != null && reminders.size() > 0) ? sync() : Future.succeededFuture();
  }

  /** One timer for the earliest reminder; when it fires, every due reminder is queued in the mailbox. */
  void schedule() {
    cancelTimer();
    if (reminders == null || entity.retired() || entity.runtimeContext() == null) {
      return;
    }
    long next = reminders.earliestAttempt();
    if (next == Long.MAX_VALUE) {
      return;
    }
    timer = entity.runtimeVertx().setTimer(Math.max(1, next - System.currentTimeMillis()), t -> {
      timer = -1;
      queueDue();
    });
  }

  /** Reminders stay in the state: the next instance (or the index) picks them up. */
  void cancelTimer() {
    if (timer >= 0) {
      entity.runtimeVertx().cancelTimer(timer);
      timer = -1;
    }
  }

  private void queueDue() {
    if (entity.retired()) {
      return;
    }
    if (queued == null) {
      queued = new java.util.HashSet<>();
    }
    for (String name : reminders.due(System.currentTimeMillis())) {
      if (!queued.contains(name) && !entity.enqueue(new Tick(name))) {
        log.warn("{}: mailbox full, reminder {} waits", entity.label(), name);
        timer = entity.runtimeVertx().setTimer(Reminders.FIRST_RETRY_MS, t -> {
          timer = -1;
          queueDue();
        });
        break;
      }
      queued.add(name);
    }
    entity.drainMailbox();
  }

  /** True for a mailbox item that is one of these reminders' deliveries: it dies with the instance. */
  static boolean isTick(Delivery delivery) {
    return delivery instanceof Tick;
  }

  /** Delivers the reminder a {@link #isTick tick} stands for. */
  Future<JsonObject> fire(Delivery tick) {
    return fire(((Tick) tick).name);
  }

  /**
   * The attempt is stored first (so a delivery cut short by a crash is seen as a retry), then
   * {@link Entity#onReminder} runs, then its outcome (done, next period, or retry later) is stored with the state.
   */
  private Future<JsonObject> fire(String name) {
    queued.remove(name);
    Reminder due = reminders.get(name);
    if (due == null || reminders.nextAttemptAt(due) > System.currentTimeMillis()) {
      schedule(); // cancelled or re-registered since it was queued
      return Future.succeededFuture(null);
    }
    Reminder firing = reminders.starting(name);
    Future<JsonObject> handled = entity.persistNow().compose(v -> {
      Future<JsonObject> f;
      try {
        f = entity.entity().onReminder(firing);
      } catch (Throwable t) {
        f = Future.failedFuture(t);
      }
      if (f == null) {
        f = Future.failedFuture(new IllegalStateException("onReminder() returned null"));
      }
      return f.isComplete() ? f : entity.here(f);
    });
    return handled.transform(ar -> {
      if (entity.fenced()) {
        return Future.failedFuture(ar.failed() ? ar.cause() : new IllegalStateException("fenced"));
      }
      if (ar.succeeded()) {
        reminders.delivered(firing, System.currentTimeMillis());
      } else {
        log.warn("{}: reminder {} failed (attempt {}); it is delivered again later: {}", entity.label(), name,
            firing.attempt(), ar.cause().toString());
        reminders.failed(firing, System.currentTimeMillis());
      }
      return entity.persistNow().compose(v -> sync()).map(v -> ar.succeeded() ? ar.result() : null);
    }).onComplete(ar -> schedule());
  }

  /** Tells the region's index when this entity is next due, if that changed; a failure only logs (retried later). */
  Future<Void> sync() {
    if (index == null) {
      return Future.succeededFuture();
    }
    long due = reminders == null ? Long.MAX_VALUE : reminders.earliestDue();
    List<String> names = reminders == null ? List.of() : List.copyOf(reminders.names());
    if (due == indexedDue && names.equals(indexedNames) && !woken) {
      return Future.succeededFuture();
    }
    woken = false;
    return entity.here(index.apply(due, names)).transform(ar -> {
      if (ar.succeeded()) {
        indexedDue = due;
        indexedNames = names;
      } else {
        log.warn("{}: the reminder index was not updated ({}); retried on the next change", entity.label(), ar.cause().getMessage());
      }
      return Future.succeededFuture();
    });
  }

  /** True once the entity has or had a reminder: its messages then check whether the index must be told. */
  boolean inUse() {
    return reminders != null;
  }

  /** A due reminder in the mailbox; its delivery's outcome is only logged. */
  private final class Tick implements Delivery {
    private final String name;

    Tick(String name) {
      this.name = name;
    }

    @Override
    public String kind() {
      return EntityAddress.KIND_ASK;
    }

    @Override
    public JsonObject body() {
      return null;
    }

    @Override
    public void reply(JsonObject reply) {
    }

    @Override
    public void fail(StickyError error, String detail) {
      log.debug("{}: reminder {} not delivered now: {} {}", entity.label(), name, error, detail);
    }
  }
}
