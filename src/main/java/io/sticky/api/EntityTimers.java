package io.sticky.api;

import io.sticky.internal.Delivery;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An entity's timers ({@link Entity#startSingleTimer}, {@link Entity#startPeriodicTimer}): each tick goes
 * through the mailbox like a tell. Confined to the entity's context; made on the first timer.
 */
final class EntityTimers {
  private static final Logger log = LoggerFactory.getLogger(Entity.class);

  private final EntityRuntime<?> runtime;
  /** Timer key -> Vert.x timer id. */
  private final Map<String, Long> timers = new HashMap<>();
  /** Keys whose tick is queued in the mailbox and not handled yet (a slow entity gets one tick, not a pile). */
  private final Set<String> ticksQueued = new HashSet<>();

  EntityTimers(EntityRuntime<?> runtime) {
    this.runtime = runtime;
  }

  void start(String key, long delayMs, JsonObject message, boolean periodic) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(message, "message");
    if (delayMs < 1) {
      throw new IllegalArgumentException("timer delay must be >= 1 ms, got " + delayMs);
    }
    if (Vertx.currentContext() != runtime.runtimeContext()) {
      throw new IllegalStateException("timers are started from the entity's own context (handle, onActivate)");
    }
    if (runtime.retired()) {
      return; // stopping: a new timer would outlive the instance
    }
    cancel(key);
    if (timers.size() >= Entity.MAX_TIMERS) {
      throw new IllegalStateException(runtime.label() + " has " + Entity.MAX_TIMERS + " timers already");
    }
    JsonObject tick = message.copy();
    Vertx vertx = runtime.runtimeVertx();
    long timerId = periodic
        ? vertx.setPeriodic(delayMs, t -> fire(key, tick))
        : vertx.setTimer(delayMs, t -> {
          timers.remove(key);
          fire(key, tick);
        });
    timers.put(key, timerId);
  }

  void cancel(String key) {
    Long id = timers.remove(key);
    if (id != null) {
      runtime.runtimeVertx().cancelTimer(id);
    }
  }

  boolean isActive(String key) {
    return timers.containsKey(key);
  }

  void cancelAll() {
    timers.values().forEach(runtime.runtimeVertx()::cancelTimer);
    timers.clear();
  }

  static boolean isTick(Delivery delivery) {
    return delivery instanceof TimerTick;
  }

  /** A timer tick: queued in the mailbox like a tell, unless this key's previous tick is still waiting. */
  private void fire(String key, JsonObject tick) {
    if (runtime.retired() || !ticksQueued.add(key)) {
      return;
    }
    if (!runtime.enqueue(new TimerTick(key, tick))) {
      ticksQueued.remove(key);
      log.warn("{}: mailbox full, timer {} skipped a tick", runtime.label(), key);
      return;
    }
    runtime.drainMailbox();
  }

  /** A timer's message in the mailbox: handled like a tell; the outcome is only logged. */
  private final class TimerTick implements Delivery {
    private final String key;
    private final JsonObject message;

    TimerTick(String key, JsonObject message) {
      this.key = key;
      this.message = message;
    }

    @Override
    public String kind() {
      return EntityAddress.KIND_ASK;
    }

    @Override
    public JsonObject body() {
      ticksQueued.remove(key);
      return message;
    }

    @Override
    public void reply(JsonObject reply) {
    }

    @Override
    public void fail(StickyError error, String detail) {
      log.warn("{}: timer {} message failed: {} {}", runtime.label(), key, error, detail);
    }
  }
}
