package io.sticky.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.sticky.api.EntityReply;
import io.sticky.api.Sticky;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one interface the REST gateway, health checks and management routes use beyond {@link Sticky}: a
 * running node's cluster view, shards, stores and operator commands, in types of their own (the gateway sees no
 * protocol, cluster or metrics class).
 */
public interface NodeRuntime extends Sticky {
  /** Where a shard lives: its node, since the allocation {@code epoch}. */
  record Placement(String type, int shard, String node, long epoch) {
  }

  /** The coordinator's allocation table: the node that runs the coordinator, and every allocated shard. */
  record Placements(String coordinatorNode, List<Placement> shards) {
  }

  /** Whether this node reaches a majority of the {@code base} members it counts from. */
  record QuorumStatus(boolean held, int base) {
  }

  /**
   * This node in its cluster, for health: {@code clustered} false on a Vert.x without a cluster manager;
   * {@code member} whether it is in the cluster now; {@code foreign} the members that are not Sticky nodes.
   * {@code nodeId} is the cluster manager's id, known before {@link #start()}.
   */
  record ClusterStatus(boolean clustered, boolean member, String nodeId, int members, List<String> foreign) {
  }

  /** An operator command the coordinator refused: {@code status} 404 (unknown node, type or shard) or 409 (unsafe now). */
  final class Refused extends RuntimeException {
    private final int status;

    public Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** The version of this build, from the jar manifest ("dev" when run from classes). */
  static String version() {
    String v = NodeRuntime.class.getPackage().getImplementationVersion();
    return v != null ? v : "dev";
  }

  /** True if this node runs the coordinator now. */
  boolean runsCoordinator();

  /** True once {@link #start()} has been called. */
  boolean isStarted();

  /** True once a clean leave (or close) has started. */
  boolean isLeaving();

  /** Each registered type's region: null if it is ready, else why not. */
  Map<String, String> regionStatus();

  /** Store name -> null if it answered a ping within {@code timeoutMs}, else why not. Never fails. */
  Future<Map<String, String>> pingStores(long timeoutMs);

  /** The store names in use, by type. */
  Map<String, String> storesByType();

  /**
   * A request as the gateway makes it: {@code redirect} asks for {@link io.sticky.api.StickyError#REDIRECT}
   * instead of a forward when the entity lives elsewhere.
   */
  Future<EntityReply> request(String typeName, String id, String kind, JsonObject message, boolean redirect, String idempotencyKey);

  /** An entity's reminders ({@code {"names":[..],"nextDueAt":ms}}, or null), from the reminder index, without activating it. */
  Future<JsonObject> reminders(String typeName, String id);

  /** The coordinator's allocation table for a type (every type if null). */
  Future<Placements> placements(String typeName);

  int numberOfShards(String typeName);

  /** Whether this node is on the cluster's majority side (null before start). */
  QuorumStatus quorum();

  ClusterStatus clusterStatus();

  /** The cluster's members, oldest first (empty before start). */
  List<String> members();

  /** A member's cluster address (host:port), or null. */
  String memberAddress(String node);

  /** The member that runs (or is about to run) the coordinator: the oldest; null before start. */
  String coordinatorNode();

  /** The advertised HTTP URL of a current member, or null. */
  String httpUrl(String node);

  /** Every current member's advertised HTTP URL, oldest first. */
  Map<String, String> httpUrls();

  /** The nodes an operator has drained (none if the cluster's record cannot be read). */
  Future<Set<String>> drainedNodes();

  /**
   * Every region of every type on {@code nodes}, as each reports itself ({@code type}, {@code node},
   * {@code entitiesByShard}, {@code activeEntities}, {@code maxActiveEntities}, {@code activations},
   * {@code bufferedMessages}, {@code traffic}, {@code store}, {@code storeWrites}); those that do not answer
   * within the management timeout are left out.
   */
  Future<List<JsonObject>> regionStates(List<String> nodes);

  /** The coordinator's running and recent hand-offs: {@code {"running": [..], "recent": [..]}}. */
  Future<JsonObject> handOffs();

  /** Drains (or undrains) a node: {@code {"node", "drained", "shards"}}; fails with {@link Refused} or as unavailable. */
  Future<JsonObject> drain(String node, boolean drain);

  /** Moves one shard: {@code {"type", "shard", "from", "to"}} once the coordinator accepted; fails as {@link #drain} does. */
  Future<JsonObject> moveShard(String type, int shard, String to);

  /**
   * Every member's store forgets the type's lost states: {@code {"type", "complete", "cleared": {node: n},
   * "unanswered": [node..]}}. Idempotent.
   */
  Future<JsonObject> acceptStateLoss(String type);

  /** The Micrometer registry this node's meters (Vert.x's, the JVM's, Sticky's) go to, or null when metrics are off. */
  MeterRegistry meterRegistry();

  /** Counts a reload of the gateway's TLS certificate, {@code ok} or not. */
  void recordTlsReload(boolean ok);
}
