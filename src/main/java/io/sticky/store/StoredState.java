package io.sticky.store;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One entity's state as a store keeps it.
 *
 * @param version       1 for the first write, +1 on every write; a write of version n succeeds only if the
 *                      stored version is n-1 (absent = 0). This is what keeps persisted state from forking.
 * @param epoch         the shard epoch of the instance that wrote it (diagnostics: which allocation wrote it)
 * @param schemaVersion the entity type's state schema version the data follows (see docs/guarantees.md)
 * @param data          the encoded state (JSON by default; the entity's codec decides)
 * @param meta          what the runtime keeps with the state, a JSON object (null if nothing): the idempotency
 *                      keys the entity applied, with their replies. Written in the same conditional write as the
 *                      state, so a retry finds its key wherever and whenever the state is read
 */
public record StoredState(long version, long epoch, int schemaVersion, String data, String meta) {
  public StoredState(long version, long epoch, int schemaVersion, String data) {
    this(version, epoch, schemaVersion, data, null);
  }

  public StoredState {
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1, got " + version);
    }
    if (schemaVersion < 1) {
      throw new IllegalArgumentException("schemaVersion must be >= 1, got " + schemaVersion);
    }
    Objects.requireNonNull(data, "data");
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("version", version).put("epoch", epoch).put("schemaVersion", schemaVersion).put("data", data);
    return meta == null ? json : json.put("meta", meta);
  }

  public static StoredState fromJson(JsonObject json) {
    return new StoredState(json.getLong("version"), json.getLong("epoch", 0L), json.getInteger("schemaVersion", 1), json.getString("data"),
        json.getString("meta"));
  }

  public String encode() {
    return toJson().encode();
  }

  public static StoredState decode(String encoded) {
    return fromJson(new JsonObject(encoded));
  }

  /** The check every store makes before writing {@code next} over {@code current} (null = absent). */
  public static boolean canReplace(StoredState current, StoredState next) {
    long currentVersion = current == null ? 0 : current.version();
    return next.version() == currentVersion + 1;
  }
}
