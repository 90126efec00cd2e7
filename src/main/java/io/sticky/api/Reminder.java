package io.sticky.api;

import io.vertx.core.json.JsonObject;

/**
 * A durable reminder as its entity receives it ({@link Entity#onReminder}): registered with
 * {@link Entity#registerReminder}, stored with the entity's state, and delivered even if the entity was
 * passivated, moved or its node crashed in between (the runtime activates it). Delivery is at least once.
 *
 * @param name        the name it was registered under (one reminder per name and entity)
 * @param message     the message it was registered with
 * @param dueAtMillis when it was due (epoch ms); it fires at that time or later, never earlier
 * @param periodMs    0 for a one-shot reminder, else the interval to the next firing
 * @param attempt     1 on the first delivery for this due time; more when an earlier delivery did not complete
 *                    (the handler failed, or its node stopped before the outcome was stored)
 */
public record Reminder(String name, JsonObject message, long dueAtMillis, long periodMs, int attempt) {
  /** True if this due time was delivered before and that delivery may have had effects: handle it idempotently. */
  public boolean isRetry() {
    return attempt > 1;
  }

  JsonObject toJson() {
    return new JsonObject().put("name", name).put("message", message).put("due", dueAtMillis).put("period", periodMs)
        .put("attempt", attempt);
  }

  static Reminder fromJson(JsonObject json) {
    return new Reminder(json.getString("name"), json.getJsonObject("message"), json.getLong("due"), json.getLong("period", 0L),
        json.getInteger("attempt", 0));
  }
}
