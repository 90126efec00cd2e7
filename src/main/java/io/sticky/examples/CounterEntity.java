package io.sticky.examples;

import io.sticky.api.Entity;
import io.sticky.api.EntityException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A counter: {@code {"op":"increment","delta":n}} (delta optional, default 1) and {@code {"op":"get"}},
 * both answering {@code {"id":..,"value":..}}.
 */
public class CounterEntity extends Entity<CounterEntity.State> {
  public static final String TYPE = "counter";

  /** The whole state: one number. */
  public record State(long value) {
  }

  @Override
  protected State initialState() {
    return new State(0);
  }

  @Override
  protected Future<JsonObject> handle(JsonObject message) {
    Object op = message.getValue("op");
    if ("increment".equals(op)) {
      long delta = delta(message);
      try {
        state = new State(Math.addExact(state.value(), delta));
      } catch (ArithmeticException e) {
        throw EntityException.badRequest("increment by " + delta + " would overflow the counter");
      }
      return Future.succeededFuture(view());
    }
    if ("get".equals(op)) {
      return Future.succeededFuture(view());
    }
    throw EntityException.badRequest("unknown op " + (op == null ? "(missing)" : "'" + op + "'") + "; use increment or get");
  }

  private static long delta(JsonObject message) {
    Object delta = message.getValue("delta");
    if (delta == null) {
      return 1;
    }
    if (delta instanceof Integer || delta instanceof Long) {
      return ((Number) delta).longValue();
    }
    throw EntityException.badRequest("delta must be an integer, got " + delta);
  }

  @Override
  protected JsonObject view() {
    return new JsonObject().put("id", id()).put("value", state.value());
  }
}
