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
  public sealed interface CoordinatorCommand permits Register, GetShardHome, GetAllocations, GracefulShutdownReq {
  }

  /** Sent by the coordinator, as replies. */
  public sealed interface CoordinatorReply permits RegisterAck, ShardHome, Allocations, GracefulShutdownAck {
  }

  /**
   * Sent by the coordinator to a region's inbox (with header {@link Headers#CONTROL}) during a hand-off.
   * Each is a request; the reply is named on the record.
   */
  public sealed interface RegionCommand permits BeginHandOff, HandOff, HostShard, ShardHome, GetRegionState {
  }

  /** Replies of regions to {@link RegionCommand}s. */
  public sealed interface RegionReply permits BeginHandOffAck, ShardStopped, ShardStarted, RegionState {
  }

  /** Management -> a region: what do you host? Reply: {@link RegionState}. Read-only. */
  public record GetRegionState(String type) implements RegionCommand {
  }

  /** A region's hosted shards with their active entity counts, and its counters. */
  public record RegionState(String type, String node, java.util.Map<Integer, Integer> entitiesByShard,
                            int activeEntities, long activations, int bufferedMessages) implements RegionReply {
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
   * shard only grow: each new allocation of the shard gets the previous epoch + 1. The reply to
   * {@link GetShardHome}; also sent to every region at the end of a hand-off (reply: any ack), which then
   * flushes the messages it buffered for the shard to the new home.
   */
  public record ShardHome(String type, int shard, String node, long epoch) implements CoordinatorReply, RegionCommand {
  }

  /**
   * Coordinator -> every region of the type: {@code shard} is about to move. Each region forgets the shard's
   * home and buffers its messages (bounded) until the next {@link ShardHome}. Reply: {@link BeginHandOffAck}.
   */
  public record BeginHandOff(String type, int shard) implements RegionCommand {
  }

  /** Region -> coordinator: now buffering {@code shard}. */
  public record BeginHandOffAck(String type, int shard, String node) implements RegionReply {
  }

  /**
   * Coordinator -> the shard's current home, right behind its {@link BeginHandOff} (without waiting for the
   * other regions' acks): stop the shard. Each entity finishes the message it is
   * handling, its state is snapshotted and it is undeployed; messages it had not started are kept by the
   * region for the next home. Reply: {@link ShardStopped} with the snapshots.
   */
  public record HandOff(String type, int shard) implements RegionCommand {
  }

  /** Old home -> coordinator: the shard is stopped; {@code states} maps entity id to its serialised state. */
  public record ShardStopped(String type, int shard, java.util.Map<String, String> states) implements RegionReply {
  }

  /**
   * Coordinator -> the new home (always a region that acknowledged {@link BeginHandOff}, so is buffering the
   * shard): host {@code shard} from {@code epoch}, activating its entities from {@code states} when they are
   * next used. Sent together with {@link ShardHome} to every other region. Reply: {@link ShardStarted}.
   */
  public record HostShard(String type, int shard, long epoch, java.util.Map<String, String> states) implements RegionCommand {
  }

  /** New home -> coordinator: hosting the shard. */
  public record ShardStarted(String type, int shard, String node) implements RegionReply {
  }

  /**
   * Leaving node -> coordinator: move every shard off {@code node} (it gets no new ones from now on), then
   * reply {@link GracefulShutdownAck}. Sent by a node that is shutting down cleanly, before it leaves.
   */
  public record GracefulShutdownReq(String node) implements CoordinatorCommand {
  }

  /** Coordinator -> leaving node: its shards have been handed off ({@code moved} of them). */
  public record GracefulShutdownAck(String node, int moved) implements CoordinatorReply {
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
      case "BeginHandOff" -> BeginHandOff.class;
      case "BeginHandOffAck" -> BeginHandOffAck.class;
      case "HandOff" -> HandOff.class;
      case "ShardStopped" -> ShardStopped.class;
      case "HostShard" -> HostShard.class;
      case "ShardStarted" -> ShardStarted.class;
      case "GracefulShutdownReq" -> GracefulShutdownReq.class;
      case "GetRegionState" -> GetRegionState.class;
      case "RegionState" -> RegionState.class;
      case "GracefulShutdownAck" -> GracefulShutdownAck.class;
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
