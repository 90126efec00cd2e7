package io.sticky.api;

import io.sticky.internal.Delivery;
import io.sticky.internal.EntityHost;
import io.sticky.store.StateStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime around one application {@link Entity}: its mailbox (one message at a time, bounded), its
 * lifecycle (activation, stop for a hand-off, shutdown, fencing), idempotency keys, reminders and timers, and
 * its {@link EntityPersistence}. Everything here runs on the entity's context unless a method says otherwise.
 */
final class EntityRuntime<S> implements EntityHost {
  private static final Logger log = LoggerFactory.getLogger(Entity.class);

  private final Entity<S> entity;
  private final EntityPersistence<S> persistence;
  private String typeName;
  private String id;
  private long askTimeoutMs = EntityTypeOptions.DEFAULT_ASK_TIMEOUT_MS;
  private int mailboxCapacity = EntityTypeOptions.DEFAULT_MAILBOX_CAPACITY;

  // Starts at 2 slots (the default is 16, ~64 more bytes for each of a million mostly idle entities), grows as needed.
  private final ArrayDeque<Delivery> mailbox = new ArrayDeque<>(1);
  private boolean busy;
  private long processed;
  /** Set when the runtime stops this entity; completes once the current message is done. */
  private Promise<Stopped> stopping;
  private boolean stopStarted;
  /** Set once a write failed or conflicted: this instance may be stale and must not write or serve again. */
  private boolean fenced;
  private Runnable onFenced = () -> { };

  /** Idempotency keys applied, stored with the state; null when the type keeps none. */
  AppliedKeys appliedKeys;
  /** The message being handled is a retry of an applied key: its stored reply goes out as a replay. */
  private boolean replaying;
  /** Durable reminders at run time; null until the entity has or had one, or the index woke it. */
  EntityReminders reminders;
  /** The region's reminder index (see {@link #attachReminderIndex}); null: none. */
  private BiFunction<Long, List<String>, Future<Void>> reminderIndex;
  /** Made on the first timer. */
  private EntityTimers timers;

  private EntityRuntime(Entity<S> entity) {
    if (entity.runtime != null) {
      throw new IllegalStateException("entity " + entity.typeName() + "/" + entity.id() + " is hosted already");
    }
    this.entity = entity;
    entity.runtime = this;
    this.persistence = new EntityPersistence<>(this);
  }

  static <S> EntityRuntime<S> of(Entity<S> entity) {
    return new EntityRuntime<>(entity);
  }

  @Override
  public Entity<S> entity() {
    return entity;
  }

  String id() {
    return id;
  }

  String typeName() {
    return typeName;
  }

  long processed() {
    return processed;
  }

  String label() {
    return typeName + "/" + id;
  }

  // ---------------------------------------------------------------- set-up (before activation)

  @Override
  public void bind(String typeName, String id, EntityTypeOptions options) {
    if (this.id != null) {
      throw new IllegalStateException("entity already bound to " + label());
    }
    this.typeName = Objects.requireNonNull(typeName);
    this.id = Objects.requireNonNull(id);
    this.askTimeoutMs = options.getAskTimeoutMs();
    this.mailboxCapacity = options.getMailboxCapacity();
    persistence.writePolicy = options.getWritePolicy();
    persistence.writeBehindDelayMs = options.getWriteBehindDelayMs();
    persistence.startFreshOnStateLoss = options.isStartFreshOnStateLoss();
    this.appliedKeys = options.getIdempotencyKeys() == 0 ? null
        : new AppliedKeys(options.getIdempotencyKeys(), options.getIdempotencyRetentionMs());
  }

  @Override
  public void restoreFrom(String carriedState) {
    persistence.restoredState = carriedState;
  }

  @Override
  public void attachStore(StateStore store, long epoch, Runnable onFenced) {
    persistence.store = store;
    persistence.epoch = epoch;
    this.onFenced = Objects.requireNonNull(onFenced);
  }

  @Override
  public void refuseCreationWhen(Supplier<String> refusal) {
    persistence.creationRefusal = refusal;
  }

  @Override
  public void attachReminderIndex(BiFunction<Long, List<String>, Future<Void>> index, boolean woken) {
    this.reminderIndex = index;
    if (woken) {
      reminders = new EntityReminders(this, index, true);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public Future<Void> activate(Vertx vertx, Context on, Delivery first, Runnable onStarted) {
    Context caller = Vertx.currentContext();
    // The application's entity keeps the verticle's view of Vert.x (its vertx and context fields).
    entity.init(vertx, on);
    Promise<Void> started = Promise.promise();
    on.runOnContext(v -> {
      Future<?> f;
      try {
        f = entity.start();
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

  /** {@link Entity#start()}: the state, then the entity's own {@code onActivate}, then due reminders. */
  Future<?> load() {
    if (id == null) {
      return Future.failedFuture(new IllegalStateException("entity started without bind(): register its type with Sticky instead"));
    }
    return persistence.load().compose(v -> entity.onActivate())
        .compose(v -> reminders == null ? Future.succeededFuture() : reminders.activated());
  }

  @Override
  public Future<Stopped> stopForHandOff() {
    Context caller = Vertx.currentContext();
    Promise<Stopped> done = Promise.promise();
    runtimeContext().runOnContext(v -> {
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

  @Override
  public Future<Void> shutdown() {
    Context caller = Vertx.currentContext();
    Promise<Void> done = Promise.promise();
    runtimeContext().runOnContext(v -> stop().onComplete(ar -> done.handle(ar.mapEmpty())));
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
    persistence.cancelFlush();
    cancelAllTimers();
    List<Delivery> unprocessed = new ArrayList<>();
    for (Delivery d : mailbox) {
      if (!EntityTimers.isTick(d) && !EntityReminders.isTick(d)) {
        unprocessed.add(d); // ticks die with the instance (reminders are in its state); everything else goes to the next one
      }
    }
    mailbox.clear();
    runOnStop().compose(v -> persistence.finalState()).onComplete(ar -> stopping.complete(new Stopped(ar.result(), unprocessed)));
  }

  /**
   * {@link Entity#stop()}: a stop that did not go through {@link #stopForHandOff()} (node shutdown): queued
   * messages are refused (a retry reaches the next home), then the state is written.
   */
  Future<?> stop() {
    if (stopStarted) {
      return Future.succeededFuture();
    }
    stopStarted = true;
    persistence.cancelFlush();
    cancelAllTimers();
    mailbox.forEach(d -> d.fail(StickyError.UNAVAILABLE, label() + " is stopping; retry"));
    mailbox.clear();
    return runOnStop()
        .compose(v -> persistence.hasStore() && !fenced ? persistence.persist(false) : Future.succeededFuture())
        .recover(err -> {
          log.warn("{}: state not written on stop: {}", label(), err.getMessage());
          return Future.succeededFuture();
        });
  }

  private Future<Void> runOnStop() {
    Future<?> hook;
    try {
      hook = entity.onStop();
    } catch (RuntimeException e) {
      hook = Future.failedFuture(e);
    }
    return here(hook).transform(ar -> {
      if (ar.failed()) {
        log.warn("{} onStop failed", label(), ar.cause());
      }
      return Future.succeededFuture();
    });
  }

  /**
   * This instance may hold a state that is not the stored one: it stops taking messages and the region is told
   * to retire it (its queued messages go to a fresh instance, which loads the stored state).
   */
  void fence(String reason) {
    if (fenced) {
      return;
    }
    fenced = true;
    persistence.cancelFlush();
    cancelAllTimers();
    log.warn("{} on epoch {} retired: {}", label(), persistence.epoch, reason);
    onFenced.run();
  }

  @Override
  public void fenceOff(String reason) {
    runtimeContext().runOnContext(v -> fence(reason));
  }

  // ---------------------------------------------------------------- reminders and timers

  void registerReminder(String name, long dueInMs, long periodMs, JsonObject message) {
    EntityReminders.checkRegistration(this, persistence.hasStore(), name, dueInMs, periodMs, message);
    reminders().register(name, dueInMs, periodMs, message);
  }

  EntityReminders reminders() {
    if (reminders == null) {
      reminders = new EntityReminders(this, reminderIndex, false);
    }
    return reminders;
  }

  EntityTimers timers() {
    if (timers == null) {
      timers = new EntityTimers(this);
    }
    return timers;
  }

  /** The timers, or null if the entity never started one. */
  EntityTimers timersIfAny() {
    return timers;
  }

  private void cancelAllTimers() {
    if (timers != null) {
      timers.cancelAll();
    }
    if (reminders != null) {
      reminders.cancelTimer();
    }
  }

  // ---------------------------------------------------------------- for timers, reminders and persistence

  /** The Vert.x and context the entity was started on: Vert.x's {@code init} keeps them in the entity. */
  Vertx runtimeVertx() {
    return entity.hostVertx();
  }

  Context runtimeContext() {
    return entity.hostContext();
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
    return persistence.persistNow();
  }

  /** A future from elsewhere (store client, hook, handler), completed back on this entity's context. */
  <T> Future<T> here(Future<T> future) {
    Promise<T> promise = Promise.promise();
    future.onComplete(ar -> onContext(() -> promise.handle(ar)));
    return promise.future();
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == runtimeContext()) {
      action.run();
    } else {
      runtimeContext().runOnContext(v -> action.run());
    }
  }

  // ---------------------------------------------------------------- the mailbox

  @Override
  public void deliver(Delivery delivery) {
    runtimeContext().runOnContext(v -> {
      if (stopping != null || fenced) {
        // Only possible if a delivery raced the stop: it was never started, so it is not lost.
        delivery.fail(StickyError.UNAVAILABLE, label() + " is moving; retry");
        return;
      }
      if (mailbox.size() >= mailboxCapacity) {
        delivery.fail(StickyError.UNAVAILABLE, "mailbox of " + label() + " is full (" + mailboxCapacity + ")");
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
        long timer = runtimeVertx().setTimer(askTimeoutMs, t -> {
          // The handler did not finish in time: the caller is told the outcome is unknown, and the
          // mailbox moves on so one stuck future cannot wedge the entity forever.
          if (busy) {
            if (persistence.writing) {
              // The write may still land: this instance cannot know its stored version any more.
              fence("a state write did not complete within the ask timeout");
            }
            log.warn("{} did not complete a message within {} ms; moving on", label(), askTimeoutMs);
            next.fail(StickyError.TIMEOUT, "entity did not complete the message in " + askTimeoutMs + " ms; outcome unknown");
            busy = false;
            drain();
          }
        });
        result.onComplete(ar -> onContext(() -> {
          if (runtimeVertx().cancelTimer(timer)) {
            finish(next, result);
            drain();
          }
        }));
      }
    }
  }

  private Future<JsonObject> invoke(Delivery delivery) {
    try {
      if (EntityAddress.KIND_VIEW.equals(delivery.kind())) {
        return Future.succeededFuture(entity.view());
      }
      if (EntityReminders.isTick(delivery)) {
        return reminders.fire(delivery);
      }
      String key = appliedKeys == null ? null : delivery.idempotencyKey();
      String fingerprint = null;
      if (key != null && !persistence.hasStore()) {
        return Future.failedFuture(new EntityException(StickyError.BAD_REQUEST, typeName + " keeps its state only in memory"
            + " (store none): an idempotency key needs a state store to be kept in; not applied"));
      }
      if (key != null) {
        fingerprint = AppliedKeys.fingerprint(delivery.body());
        AppliedKeys.Applied prior = appliedKeys.find(key, System.currentTimeMillis());
        if (prior != null) {
          Future<JsonObject> replayed = appliedKeys.replay(key, fingerprint, prior, label());
          replaying = replayed.succeeded();
          return replayed;
        }
        if (appliedKeys.inFlight(key)) {
          return Future.failedFuture(new EntityException(StickyError.UNAVAILABLE, "an earlier message with idempotency key '"
              + key + "' is still being handled by " + label() + "; not applied, retry later"));
        }
      }
      Future<JsonObject> f = entity.handle(delivery.body());
      if (f == null) {
        return Future.failedFuture(new IllegalStateException("handle() returned null"));
      }
      if (!persistence.hasStore() && key == null && reminders == null) {
        return f;
      }
      // A handler's future may complete on another context: persistence state is touched only on ours.
      Future<JsonObject> handled = f.isComplete() ? f : here(f);
      if (key != null) {
        handled = appliedKeys.recording(key, fingerprint, handled); // written with the state below
      }
      Future<JsonObject> done = !persistence.hasStore() ? handled : handled.compose(reply -> persistence.afterChange(reply, delivery));
      return reminders == null ? done : done.compose(reply -> reminders.sync().map(reply));
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
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
      log.error("{} failed handling a message", label(), result.cause());
      delivery.fail(StickyError.ENTITY_FAILED, "entity " + label() + " failed while handling the message; see the hosting node's log");
    }
  }
}
