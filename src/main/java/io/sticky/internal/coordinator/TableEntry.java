package io.sticky.internal.coordinator;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * One entry of the allocation table ({@value ShardCoordinator#TABLE}, keyed {@code "<type>/<shard>"}): the shard's
 * node and epoch, and while a hand-off runs, the node it moves from and that node's epoch. The coordinator
 * writes it; regions read it to check a control message against it.
 */
public record TableEntry(String node, long epoch, String from, long fromEpoch) {

  static String key(String type, int shard) {
    return type + "/" + shard;
  }

  /** The JSON the table holds. */
  String encode() {
    JsonObject json = new JsonObject().put("node", node).put("epoch", epoch);
    if (from != null) {
      json.put("from", from).put("fromEpoch", fromEpoch);
    }
    return json.encode();
  }

  static TableEntry decode(String json) {
    JsonObject value = new JsonObject(json);
    Long fromEpoch = value.getLong("fromEpoch");
    return new TableEntry(value.getString("node"), value.getLong("epoch"), value.getString("from"), fromEpoch == null ? 0 : fromEpoch);
  }

  /** The shard's entry as the cluster map holds it now; null when the shard was never allocated. */
  public static Future<TableEntry> read(Vertx vertx, String type, int shard) {
    return vertx.sharedData().<String, String>getAsyncMap(ShardCoordinator.TABLE)
        .compose(map -> map.get(key(type, shard)))
        .map(json -> json == null ? null : decode(json));
  }
}
