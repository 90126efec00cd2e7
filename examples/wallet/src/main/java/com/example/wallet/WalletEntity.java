package com.example.wallet;

import com.example.wallet.WalletMessages.Balance;
import io.sticky.api.Entity;
import io.sticky.api.EntityException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** A wallet: a balance that never goes below zero. */
public class WalletEntity extends Entity<Long> {
  public static final String TYPE = "wallet";

  @Override
  protected Long initialState() {
    return 0L;
  }

  @Override
  protected Future<JsonObject> handle(JsonObject message) {
    String op = message.getString("op");
    switch (op == null ? "" : op) {
      case "deposit" -> state = Math.addExact(state, amount(message));
      case "withdraw" -> {
        long amount = amount(message);
        if (amount > state) {
          throw EntityException.badRequest("cannot withdraw " + amount + ": the balance is " + state);
        }
        state -= amount;
      }
      case "get" -> {
      }
      default -> throw EntityException.badRequest("unknown op " + (op == null ? "(missing)" : "'" + op + "'") + "; use deposit, withdraw or get");
    }
    return Future.succeededFuture(view());
  }

  private static long amount(JsonObject message) {
    Object amount = message.getValue("amount");
    if (!(amount instanceof Integer || amount instanceof Long) || ((Number) amount).longValue() <= 0) {
      throw EntityException.badRequest("amount must be a positive integer, got " + amount);
    }
    return ((Number) amount).longValue();
  }

  @Override
  protected JsonObject view() {
    return JsonObject.mapFrom(new Balance(id(), state));
  }
}
