package io.sticky.internal.protocol;

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
  public sealed interface CoordinatorCommand permits Register, GetShardHome, GetAllocations, GracefulShutdownReq, Drain, MoveShard, GetMoves {
  }

  /** Sent by the coordinator, as replies. */
  public sealed interface CoordinatorReply permits RegisterAck, ShardHome, Allocations, GracefulShutdownAck, DrainState, MoveStarted, Moves {
  }

  /**
   * Sent to a region's inbox (with header {@link Headers#CONTROL}) by the coordinator, or by the old home of a
   * shard being handed off. The reply is named on the record; {@link ShardHome} is sent without one.
   */
  public sealed interface RegionCommand permits HandOff, HostShard, ShardHome, GetRegionState, AcceptStateLoss {
  }

  /** Replies of regions to {@link RegionCommand}s. */
  public sealed interface RegionReply permits ShardStopped, ShardStarted, RegionState, StateLossAccepted {
  }

  /** Management -> a region: what do you host? Reply: {@link RegionState}. Read-only. */
  public record GetRegionState(String type) implements RegionCommand {
  }

  /**
   * Management (an operator) -> every region of a type: the lost states of the type's entities are accepted as
   * gone; their entities start fresh. Reply: {@link StateLossAccepted}.
   */
  public record AcceptStateLoss(String type) implements RegionCommand {
  }

  /** A region's answer to {@link AcceptStateLoss}: how many lost shards (or store partitions) its node's store cleared. */
  public record StateLossAccepted(String type, String node, int cleared) implements RegionReply {
  }

  /**
   * A region's hosted shards with their active entity counts, its counters, its node's traffic for the type, and
   * its store ({@code none} without one) with that node's writes to it (all types: stores are shared).
   */
  public record RegionState(String type, String node, java.util.Map<Integer, Integer> entitiesByShard,
                            int activeEntities, long activations, int bufferedMessages, Traffic traffic,
                            int maxActiveEntities, String store, Traffic storeWrites) implements RegionReply {
  }

  /**
   * Calls since a node started, from one of its histograms: requests of a type that entered through it
   * ({@code sticky_requests_seconds}), or its writes to a store ({@code sticky_store_seconds}). Those that
   * succeeded ({@code ok}) and failed, and the cumulative count of ok ones at or under each bound (ms). Two
   * readings a few seconds apart give the rate, error rate and quantiles of that interval.
   */
  public record Traffic(long ok, long failed, List<Double> boundsMs, List<Long> okAtOrUnder) {
    public static final Traffic NONE = new Traffic(0, 0, List.of(), List.of());
  }

  /**
   * Region -> coordinator: "I host entities of {@code type} on {@code node}". Sent on region start and
   * again whenever membership changes (a new coordinator may not know us). Reply: {@link RegisterAck}.
   * Idempotent. A {@code proxy} region routes to the type but never hosts it: the coordinator never allocates
   * it a shard.
   */
  public record Register(String type, String node, int numberOfShards, boolean proxy) implements CoordinatorCommand {
  }

  /** Coordinator -> region: registration accepted. */
  public record RegisterAck(String type, String coordinatorNode) implements CoordinatorReply {
  }

  /**
   * Region -> coordinator: where does {@code shard} of {@code type} live? Allocates it (persisting the
   * allocation before replying) if it has no live home. Implicitly registers the requester's region (as a
   * proxy if {@code proxy}). Reply: {@link ShardHome}.
   */
  public record GetShardHome(String type, int shard, String requester, int numberOfShards, boolean proxy) implements CoordinatorCommand {
  }

  /**
   * Coordinator -> region: {@code shard} lives on {@code node} since allocation {@code epoch}. Epochs of a
   * shard only grow: each new allocation of the shard gets the previous epoch + 1. The reply to
   * {@link GetShardHome}; also sent, without a reply, to every other region at the end of a hand-off, so they
   * route to the new home directly rather than through the old one, and after an abandoned hand-off, so the
   * old home hosts the shard again.
   */
  public record ShardHome(String type, int shard, String node, long epoch) implements CoordinatorReply, RegionCommand {
  }

  /**
   * Coordinator -> the shard's current home A: hand {@code shard} to {@code to}, which hosts it from
   * {@code epoch}. The coordinator has written {@code to, epoch, from A} to the allocation table first, so a
   * coordinator that takes over mid-hand-off sends this again. A buffers the shard's messages (its own
   * callers' and other regions'), stops each entity (it finishes its current message, is snapshotted and
   * undeployed; messages it had not started go back to the buffer, in order), sends {@link HostShard} with
   * the snapshots straight to {@code to}, then forwards the buffer behind it. Other regions are not told
   * anything until the end: what they still send A meanwhile waits at A, or is forwarded by it. Idempotent:
   * a HandOff for a shard A already handed to {@code to} at {@code epoch} is answered at once.
   * Reply: {@link ShardStopped}.
   */
  public record HandOff(String type, int shard, String to, long epoch) implements RegionCommand {
  }

  /**
   * Old home -> coordinator: the shard is stopped here and hosted by the new home; {@code entities}
   * snapshots went with it. {@code stopMs} and {@code hostMs} time the two steps on the old home.
   */
  public record ShardStopped(String type, int shard, int entities, long stopMs, long hostMs) implements RegionReply {
  }

  /**
   * Old home -> new home: host {@code shard} from {@code epoch}, activating its entities from {@code states}
   * when they are next used. The old home's forwarded messages for the shard follow it on the same
   * connection, so they arrive after it. A repeat (the old home missed the reply) is acknowledged without
   * touching the shard's entities. Reply: {@link ShardStarted}.
   */
  public record HostShard(String type, int shard, long epoch, java.util.Map<String, String> states) implements RegionCommand {
  }

  /** New home -> sender of {@link HostShard}: hosting the shard. */
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

  /**
   * Management -> coordinator: drain {@code node} (move every shard off it, give it none; it stays up and not
   * ready) or, with {@code drain} false, undrain it (it takes shards again at the next rebalance). Kept in the
   * cluster map {@code sticky.drained}, so a new coordinator goes on with it. Reply {@link DrainState}.
   */
  public record Drain(String node, boolean drain) implements CoordinatorCommand {
  }

  /** Coordinator -> management: whether {@code node} is drained now, and how many shards it still hosts. */
  public record DrainState(String node, boolean drained, int shards) implements CoordinatorReply {
  }

  /**
   * Management -> coordinator: move one shard to node {@code to}, paced like a rebalance; the rebalance then
   * leaves it there while {@code to} hosts it. Reply {@link MoveStarted} once accepted (the move runs on).
   */
  public record MoveShard(String type, int shard, String to) implements CoordinatorCommand {
  }

  /** Coordinator -> management: the move of {@code shard} from {@code from} to {@code to} is accepted. */
  public record MoveStarted(String type, int shard, String from, String to) implements CoordinatorReply {
  }

  /** Management -> coordinator: the hand-offs running now and the latest ones that ended. Reply {@link Moves}. */
  public record GetMoves() implements CoordinatorCommand {
  }

  /** The coordinator's hand-offs: running (oldest first) and recent (newest first, a bounded number). */
  public record Moves(List<Move> running, List<Move> recent) implements CoordinatorReply {
  }

  /**
   * One hand-off of {@code shard} from {@code from} to {@code to}: when it started (epoch ms), how long it took
   * and how many entities it moved (0 and {@code running} while it runs), and why: {@code rebalance},
   * {@code drain}, {@code leave}, {@code move} (an operator's) or {@code recovery} (a previous coordinator's).
   */
  public record Move(String type, int shard, String from, String to, String reason, long startedAt, long durationMs, int entities,
                     String outcome) {
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
    // The messages of a hand-off and of routing are built by hand (see decodeByHand).
    if (message instanceof HostShard h) {
      JsonObject states = new JsonObject();
      h.states().forEach(states::put);
      return new JsonObject().put("type", h.type()).put("shard", h.shard()).put("epoch", h.epoch())
          .put("states", states).put(KIND, "HostShard");
    } else if (message instanceof HandOff h) {
      return new JsonObject().put("type", h.type()).put("shard", h.shard()).put("to", h.to()).put("epoch", h.epoch())
          .put(KIND, "HandOff");
    } else if (message instanceof ShardStopped s) {
      return new JsonObject().put("type", s.type()).put("shard", s.shard()).put("entities", s.entities())
          .put("stopMs", s.stopMs()).put("hostMs", s.hostMs()).put(KIND, "ShardStopped");
    } else if (message instanceof ShardStarted s) {
      return new JsonObject().put("type", s.type()).put("shard", s.shard()).put("node", s.node()).put(KIND, "ShardStarted");
    } else if (message instanceof ShardHome h) {
      return new JsonObject().put("type", h.type()).put("shard", h.shard()).put("node", h.node()).put("epoch", h.epoch())
          .put(KIND, "ShardHome");
    } else if (message instanceof GetShardHome g) {
      return new JsonObject().put("type", g.type()).put("shard", g.shard()).put("requester", g.requester())
          .put("numberOfShards", g.numberOfShards()).put("proxy", g.proxy()).put(KIND, "GetShardHome");
    }
    return JsonObject.mapFrom(message).put(KIND, message.getClass().getSimpleName());
  }

  /**
   * The messages of a hand-off and of routing (hundreds a second while shards move; HostShard carries a
   * shard's snapshots) are read by hand instead of through Jackson's data binding. Data binding is a large
   * body of code that nothing else on a node's hot path runs: when the first moves start, compiling it
   * competed for the CPU with the requests (and on a freshly started node, interpreting it took tens of
   * milliseconds per message). A field that is missing or of the wrong type is rejected, as data binding did.
   * Null for the other kinds.
   */
  private static Record decodeByHand(String kind, JsonObject json) {
    return switch (kind) {
      case "HostShard" -> {
        JsonObject states = json.getJsonObject("states");
        java.util.Map<String, String> byId = new java.util.HashMap<>();
        if (states != null) {
          states.forEach(e -> byId.put(e.getKey(), (String) e.getValue()));
        }
        yield new HostShard(text(json, "type"), whole(json, "shard"), number(json, "epoch"), byId);
      }
      case "HandOff" -> new HandOff(text(json, "type"), whole(json, "shard"), text(json, "to"), number(json, "epoch"));
      case "ShardStopped" -> new ShardStopped(text(json, "type"), whole(json, "shard"), whole(json, "entities"),
          number(json, "stopMs"), number(json, "hostMs"));
      case "ShardStarted" -> new ShardStarted(text(json, "type"), whole(json, "shard"), text(json, "node"));
      case "ShardHome" -> new ShardHome(text(json, "type"), whole(json, "shard"), text(json, "node"), number(json, "epoch"));
      case "GetShardHome" -> new GetShardHome(text(json, "type"), whole(json, "shard"), text(json, "requester"),
          whole(json, "numberOfShards"), Boolean.TRUE.equals(json.getValue("proxy")));
      default -> null;
    };
  }

  private static String text(JsonObject json, String field) {
    if (!(json.getValue(field) instanceof String s)) {
      throw new IllegalArgumentException("protocol message without text field " + field + ": " + json.getString(KIND));
    }
    return s;
  }

  private static long number(JsonObject json, String field) {
    if (!(json.getValue(field) instanceof Number n)) {
      throw new IllegalArgumentException("protocol message without number field " + field + ": " + json.getString(KIND));
    }
    return n.longValue();
  }

  private static int whole(JsonObject json, String field) {
    long n = number(json, field);
    if (n != (int) n) {
      throw new IllegalArgumentException("protocol message field " + field + " out of range: " + n);
    }
    return (int) n;
  }

  /** Decodes any catalogue record; throws {@link IllegalArgumentException} for an unknown kind. */
  public static Record decode(JsonObject json) {
    String kind = json.getString(KIND);
    Record byHand = kind == null ? null : decodeByHand(kind, json);
    if (byHand != null) {
      return byHand;
    }
    // The rest go through data binding (the kinds read by hand were answered above).
    Class<? extends Record> cls = switch (kind == null ? "" : kind) {
      case "Register" -> Register.class;
      case "RegisterAck" -> RegisterAck.class;
      case "GetAllocations" -> GetAllocations.class;
      case "Allocations" -> Allocations.class;
      case "GracefulShutdownReq" -> GracefulShutdownReq.class;
      case "GetRegionState" -> GetRegionState.class;
      case "RegionState" -> RegionState.class;
      case "AcceptStateLoss" -> AcceptStateLoss.class;
      case "StateLossAccepted" -> StateLossAccepted.class;
      case "GracefulShutdownAck" -> GracefulShutdownAck.class;
      case "Drain" -> Drain.class;
      case "DrainState" -> DrainState.class;
      case "MoveShard" -> MoveShard.class;
      case "MoveStarted" -> MoveStarted.class;
      case "GetMoves" -> GetMoves.class;
      case "Moves" -> Moves.class;
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
