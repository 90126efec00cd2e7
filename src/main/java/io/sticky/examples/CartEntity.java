package io.sticky.examples;

import io.sticky.api.Entity;
import io.sticky.api.EntityException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * A shopping cart, an example of typed state with validation and bounds.
 * <pre>
 * {"op":"add","item":"apple","quantity":3}      quantity optional, default 1
 * {"op":"remove","item":"apple","quantity":1}   quantity optional: removes the line
 * {"op":"clear"}
 * {"op":"get"}
 * </pre>
 * Every op answers the cart: {@code {"id":..,"items":[{"item":..,"quantity":..}],"totalQuantity":..}}.
 */
public class CartEntity extends Entity<CartEntity.Cart> {
  public static final String TYPE = "cart";
  /** Distinct items one cart may hold. */
  public static final int MAX_LINES = 100;
  /** Largest quantity of one item. */
  public static final int MAX_QUANTITY = 10_000;
  static final int MAX_ITEM_LENGTH = 128;

  /** The state: item name -> quantity, sorted by name (declared as a TreeMap so a restored cart stays sorted). */
  public static final class Cart {
    public TreeMap<String, Integer> items = new TreeMap<>();
  }

  @Override
  protected Cart initialState() {
    return new Cart();
  }

  @Override
  protected Future<JsonObject> handle(JsonObject message) {
    Object op = message.getValue("op");
    if ("add".equals(op)) {
      String item = item(message);
      int quantity = quantity(message, 1);
      int current = state.items.getOrDefault(item, 0);
      if (current == 0 && state.items.size() >= MAX_LINES) {
        throw EntityException.badRequest("a cart holds at most " + MAX_LINES + " distinct items");
      }
      if (current + quantity > MAX_QUANTITY) {
        throw EntityException.badRequest("at most " + MAX_QUANTITY + " of one item");
      }
      state.items.put(item, current + quantity);
    } else if ("remove".equals(op)) {
      String item = item(message);
      Integer current = state.items.get(item);
      if (current == null) {
        throw EntityException.badRequest("'" + item + "' is not in the cart");
      }
      int quantity = message.containsKey("quantity") ? quantity(message, current) : current;
      if (quantity >= current) {
        state.items.remove(item);
      } else {
        state.items.put(item, current - quantity);
      }
    } else if ("clear".equals(op)) {
      state.items.clear();
    } else if (!"get".equals(op)) {
      throw EntityException.badRequest("unknown op " + (op == null ? "(missing)" : "'" + op + "'") + "; use add, remove, clear or get");
    }
    return Future.succeededFuture(view());
  }

  private static String item(JsonObject message) {
    Object item = message.getValue("item");
    if (!(item instanceof String s) || s.isBlank() || s.length() > MAX_ITEM_LENGTH) {
      throw EntityException.badRequest("item must be a non-blank string of at most " + MAX_ITEM_LENGTH + " characters");
    }
    return s;
  }

  private static int quantity(JsonObject message, int defaultValue) {
    Object q = message.getValue("quantity");
    if (q == null) {
      return defaultValue;
    }
    if (!(q instanceof Integer i) || i <= 0 || i > MAX_QUANTITY) {
      throw EntityException.badRequest("quantity must be an integer between 1 and " + MAX_QUANTITY);
    }
    return i;
  }

  @Override
  protected JsonObject view() {
    JsonArray lines = new JsonArray();
    int total = 0;
    for (Map.Entry<String, Integer> e : state.items.entrySet()) {
      lines.add(new JsonObject().put("item", e.getKey()).put("quantity", e.getValue()));
      total += e.getValue();
    }
    return new JsonObject().put("id", id()).put("items", lines).put("totalQuantity", total);
  }
}
