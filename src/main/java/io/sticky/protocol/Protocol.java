package io.sticky.protocol;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The catalogue of every message Sticky nodes exchange, with sender, receiver and reply.
 *
 * <p>Coordinator messages travel as JSON ({@link #encode}/{@link #decode}) to {@link Addresses#COORDINATOR};
 * entity messages travel between regions with the user's JSON body untouched and the routing data in
 * headers ({@link Headers}). Names follow Akka Cluster Sharding where the concept is the same.
 */
public final class Protocol {
  private Protocol() {
  }

  /** Sent to the coordinator. */
  public sealed interface CoordinatorCommand permits Register, GetShardHome, GetAllocations {
  }

  /** Sent by the coordinator, as replies. */
  public sealed interface CoordinatorReply permits RegisterAck, ShardHome, Allocations {
  }

  /**
   * Region -> coordinator: "I host entities of {@code type} on {@code node}". Sent on region start and
   * again whenever membership changes (a new coordinator may not know us). Reply: {@link RegisterAck}.
   * Idempotent.
   */
  public record Register(String type, String node, int numberOfShards) implements CoordinatorCommand {
  }

  /** Coordinator -> region: registration accepted. */
  public record RegisterAck(String type, String coordinatorNode) implements CoordinatorReply {
  }

  /**
   * Region -> coordinator: where does {@code shard} of {@code type} live? Allocates it (persisting the
   * allocation before replying) if it has no live home. Implicitly registers the requester's region.
   * Reply: {@link ShardHome}.
   */
  public record GetShardHome(String type, int shard, String requester, int numberOfShards) implements CoordinatorCommand {
  }

  /**
   * Coordinator -> region: {@code shard} lives on {@code node} since allocation {@code epoch}. Epochs of a
   * shard only grow: each new allocation of the shard gets the previous epoch + 1.
   */
  public record ShardHome(String type, int shard, String node, long epoch) implements CoordinatorReply {
  }

  /** Anyone -> coordinator: the allocation table of one type (all types if null). Reply: {@link Allocations}. */
  public record GetAllocations(String type) implements CoordinatorCommand {
  }

  /** Coordinator -> requester: the current allocations and registered regions. */
  public record Allocations(String coordinatorNode, List<ShardHome> shards, List<RegionInfo> regions)
      implements CoordinatorReply {
  }

  /** One registered region. */
  public record RegionInfo(String type, String node) {
  }

  private static final String KIND = "@kind";

  /** JSON form of a protocol record: its fields plus {@code "@kind": "<RecordName>"}. */
  public static JsonObject encode(Record message) {
    return JsonObject.mapFrom(message).put(KIND, message.getClass().getSimpleName());
  }

  /** Decodes any catalogue record; throws {@link IllegalArgumentException} for an unknown kind. */
  public static Record decode(JsonObject json) {
    String kind = json.getString(KIND);
    Class<? extends Record> cls = switch (kind == null ? "" : kind) {
      case "Register" -> Register.class;
      case "RegisterAck" -> RegisterAck.class;
      case "GetShardHome" -> GetShardHome.class;
      case "ShardHome" -> ShardHome.class;
      case "GetAllocations" -> GetAllocations.class;
      case "Allocations" -> Allocations.class;
      default -> throw new IllegalArgumentException("unknown protocol message kind: " + kind);
    };
    JsonObject fields = json.copy();
    fields.remove(KIND);
    return fields.mapTo(cls);
  }

  /** Decodes and checks the expected type. */
  public static <T extends Record> T decode(JsonObject json, Class<T> expected) {
    Record r = decode(json);
    if (!expected.isInstance(r)) {
      throw new IllegalArgumentException("expected " + expected.getSimpleName() + " but got " + r.getClass().getSimpleName());
    }
    return expected.cast(r);
  }
}
