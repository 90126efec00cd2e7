package io.sticky.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An entity's durable reminders, by name: stored with its state ({@code StoredState.meta}), carried in a
 * hand-off. Touched only on the entity's context. {@link Reminder#attempt()} is 0 until a delivery starts.
 */
final class Reminders extends MetaPart {
  /** Backoff after a failed delivery: doubles per attempt from 1 s, up to 1 minute. */
  static final long FIRST_RETRY_MS = 1_000;
  static final long MAX_RETRY_MS = 60_000;

  private final Map<String, Reminder> byName = new LinkedHashMap<>();
  /** Names waiting for a retry after a failed delivery, and when (in memory: a new instance retries at once). */
  private final Map<String, Long> retryAt = new java.util.HashMap<>();

  Reminder get(String name) {
    return byName.get(name);
  }

  Set<String> names() {
    return java.util.Collections.unmodifiableSet(byName.keySet());
  }

  int size() {
    return byName.size();
  }

  void put(Reminder reminder) {
    byName.put(reminder.name(), reminder);
    retryAt.remove(reminder.name());
    changed();
  }

  boolean remove(String name) {
    retryAt.remove(name);
    if (byName.remove(name) != null) {
      changed();
      return true;
    }
    return false;
  }

  /** The earliest due time, or {@link Long#MAX_VALUE} if there is none. */
  long earliestDue() {
    long earliest = Long.MAX_VALUE;
    for (Reminder r : byName.values()) {
      earliest = Math.min(earliest, r.dueAtMillis());
    }
    return earliest;
  }

  /** When the next delivery may start (a due time, or a retry after a failure); {@link Long#MAX_VALUE} if none. */
  long earliestAttempt() {
    long earliest = Long.MAX_VALUE;
    for (Reminder r : byName.values()) {
      earliest = Math.min(earliest, nextAttemptAt(r));
    }
    return earliest;
  }

  /** The names whose delivery may start at {@code nowMillis}, earliest first. */
  java.util.List<String> due(long nowMillis) {
    return byName.values().stream().filter(r -> nextAttemptAt(r) <= nowMillis)
        .sorted(java.util.Comparator.comparingLong(Reminder::dueAtMillis)).map(Reminder::name).toList();
  }

  /** A delivery starts: the attempt is counted (and stored before the handler runs). */
  Reminder starting(String name) {
    Reminder r = byName.get(name);
    Reminder next = new Reminder(r.name(), r.message(), r.dueAtMillis(), r.periodMs(), r.attempt() + 1);
    byName.put(name, next); // its retry time, if any, stays: it is cleared by the outcome
    changed();
    return next;
  }

  /** A delivery succeeded: a one-shot reminder is done; a periodic one is due at its next period after now. */
  void delivered(Reminder fired, long nowMillis) {
    if (byName.get(fired.name()) != fired) {
      return; // re-registered or cancelled by the handler itself
    }
    retryAt.remove(fired.name());
    if (fired.periodMs() == 0) {
      remove(fired.name());
      return;
    }
    long next = fired.dueAtMillis() + fired.periodMs();
    if (next <= nowMillis) {
      next += ((nowMillis - next) / fired.periodMs() + 1) * fired.periodMs(); // missed periods are skipped
    }
    put(new Reminder(fired.name(), fired.message(), next, fired.periodMs(), 0));
  }

  /** A delivery failed: the same due time is delivered again after a backoff. */
  void failed(Reminder fired, long nowMillis) {
    if (byName.get(fired.name()) != fired) {
      return;
    }
    long backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS << Math.min(fired.attempt() - 1, 10));
    retryAt.put(fired.name(), nowMillis + backoff); // still due at its own time, for the handler to see
  }

  /** When {@code name} may be delivered: its due time, or its retry time after a failure. */
  long nextAttemptAt(Reminder r) {
    Long retry = retryAt.get(r.name());
    return retry == null ? r.dueAtMillis() : Math.max(retry, r.dueAtMillis());
  }

  JsonArray toJson() {
    if (byName.isEmpty()) {
      return null;
    }
    JsonArray out = new JsonArray();
    byName.values().forEach(r -> out.add(r.toJson()));
    return out;
  }

  void restore(JsonArray stored) {
    byName.clear();
    retryAt.clear();
    restored();
    if (stored != null) {
      for (Object o : stored) {
        Reminder r = Reminder.fromJson((JsonObject) o);
        byName.put(r.name(), r);
      }
    }
  }
}
