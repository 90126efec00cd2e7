package io.sticky.internal;

import io.vertx.core.json.JsonObject;

/**
 * An entity's state as it travels in a hand-off or passivation: the data plus what the next instance needs
 * to keep writing safely (the stored version and schema, whether the store has it, the runtime's meta).
 */
public record CarriedState(long version, int schemaVersion, String data, boolean dirty, String meta) {
  public String encode() {
    return new JsonObject().put("version", version).put("schemaVersion", schemaVersion).put("data", data).put("dirty", dirty)
        .put("meta", meta).encode();
  }

  public static CarriedState decode(String encoded) {
    JsonObject json = new JsonObject(encoded);
    return new CarriedState(json.getLong("version", 0L), json.getInteger("schemaVersion", 1), json.getString("data"),
        json.getBoolean("dirty", true), json.getString("meta"));
  }
}
