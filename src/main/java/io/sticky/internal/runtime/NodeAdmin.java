package io.sticky.internal.runtime;

import io.sticky.api.EntityException;
import io.sticky.api.StickyError;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.coordinator.ShardCoordinator;
import io.sticky.internal.NodeRuntime.ClusterStatus;
import io.sticky.internal.NodeRuntime.Placement;
import io.sticky.internal.NodeRuntime.Placements;
import io.sticky.internal.NodeRuntime.Refused;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.Allocations;
import io.sticky.internal.protocol.Protocol.GetAllocations;
import io.sticky.internal.protocol.Protocol.GetRegionState;
import io.sticky.internal.protocol.Protocol.GracefulShutdownAck;
import io.sticky.internal.protocol.Protocol.GracefulShutdownReq;
import io.sticky.internal.protocol.Protocol.RegionState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management half of {@link io.sticky.internal.NodeRuntime}: questions to the coordinator and to every
 * region, and operator commands, answered in the admin interface's own types and JSON documents.
 */
final class NodeAdmin {
  private static final Logger log = LoggerFactory.getLogger(NodeAdmin.class);
  /** Management questions to regions wait this long; a region that does not answer is left out. */
  static final long QUERY_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final Supplier<Membership> membership;
  private final Supplier<Set<String>> typeNames;
  private final long coordinatorTimeoutMs;

  NodeAdmin(Vertx vertx, Supplier<Membership> membership, Supplier<Set<String>> typeNames, long coordinatorTimeoutMs) {
    this.vertx = vertx;
    this.membership = membership;
    this.typeNames = typeNames;
    this.coordinatorTimeoutMs = coordinatorTimeoutMs;
  }

  private String self() {
    Membership m = membership.get();
    return m == null ? null : m.self();
  }

  /** One control request to the coordinator or a region ({@link Addresses}), its reply decoded. */
  private <T extends Record> Future<T> ask(String address, Record command, Class<T> replyType, long timeoutMs) {
    return vertx.eventBus().<JsonObject>request(address, Protocol.encode(command), Headers.control(self(), timeoutMs))
        .map(reply -> Protocol.decode(reply.body(), replyType));
  }

  Future<Placements> placements(String typeName) {
    return ask(Addresses.COORDINATOR, new GetAllocations(typeName), Allocations.class, coordinatorTimeoutMs)
        .map(table -> new Placements(table.coordinatorNode(),
            table.shards().stream().map(h -> new Placement(h.type(), h.shard(), h.node(), h.epoch())).toList()));
  }

  ClusterStatus clusterStatus() {
    ClusterManager cm = Membership.clusterManagerOf(vertx);
    if (cm == null) {
      return new ClusterStatus(false, true, null, 1, List.of());
    }
    if (!cm.isActive()) {
      return new ClusterStatus(true, false, cm.getNodeId(), 0, List.of());
    }
    Membership m = membership.get();
    return new ClusterStatus(true, true, cm.getNodeId(), cm.getNodes().size(), m == null ? List.of() : m.foreignMembers());
  }

  Future<List<JsonObject>> regionStates(List<String> nodes) {
    List<Future<JsonObject>> asks = new ArrayList<>();
    for (String node : nodes) {
      for (String type : typeNames.get()) {
        asks.add(ask(Addresses.region(type, node), new GetRegionState(type), RegionState.class, QUERY_TIMEOUT_MS)
            .map(state -> JsonObject.mapFrom(withDefaults(state))));
      }
    }
    return Future.join(asks).transform(ar -> Future.succeededFuture(asks.stream().filter(Future::succeeded).map(Future::result).toList()));
  }

  /** A region of an older build may leave the traffic out. */
  private static RegionState withDefaults(RegionState s) {
    return s.traffic() != null && s.storeWrites() != null ? s : new RegionState(s.type(), s.node(), s.entitiesByShard(), s.activeEntities(),
        s.activations(), s.bufferedMessages(), s.traffic() == null ? Protocol.Traffic.NONE : s.traffic(), s.maxActiveEntities(), s.store(),
        s.storeWrites() == null ? Protocol.Traffic.NONE : s.storeWrites());
  }

  Future<JsonObject> handOffs() {
    return askCoordinator(new Protocol.GetMoves(), Protocol.Moves.class, (moves, reply) -> reply
        .put("running", new JsonArray(moves.running().stream().map(JsonObject::mapFrom).toList()))
        .put("recent", new JsonArray(moves.recent().stream().map(JsonObject::mapFrom).toList())));
  }

  Future<JsonObject> drain(String node, boolean drain) {
    return askCoordinator(new Protocol.Drain(node, drain), Protocol.DrainState.class, (state, reply) -> reply
        .put("node", state.node()).put("drained", state.drained()).put("shards", state.shards()));
  }

  Future<JsonObject> moveShard(String type, int shard, String to) {
    return askCoordinator(new Protocol.MoveShard(type, shard, to), Protocol.MoveStarted.class, (started, reply) -> reply
        .put("type", started.type()).put("shard", started.shard()).put("from", started.from()).put("to", started.to()));
  }

  /** One command to the coordinator: its reply rendered; a refusal as {@link Refused}, silence as unavailable. */
  private <T extends Record> Future<JsonObject> askCoordinator(Protocol.CoordinatorCommand command, Class<T> replyType,
                                                               BiFunction<T, JsonObject, JsonObject> render) {
    return ask(Addresses.COORDINATOR, (Record) command, replyType, QUERY_TIMEOUT_MS)
        .transform(ar -> {
          if (ar.succeeded()) {
            return Future.succeededFuture(render.apply(ar.result(), new JsonObject()));
          }
          int code = ar.cause() instanceof ReplyException re ? re.failureCode() : 503;
          return Future.failedFuture(code == 404 || code == 409 ? new Refused(code, ar.cause().getMessage())
              : new EntityException(StickyError.UNAVAILABLE, "the coordinator did not answer: " + ar.cause().getMessage()));
        });
  }

  Future<JsonObject> acceptStateLoss(String type) {
    if (!typeNames.get().contains(type)) {
      return Future.failedFuture(new EntityException(StickyError.UNKNOWN_TYPE, "no entity type '" + type + "'"));
    }
    Membership m = membership.get();
    List<String> members = m == null ? List.of() : m.members();
    List<Future<Protocol.StateLossAccepted>> asks = new ArrayList<>();
    for (String node : members) {
      asks.add(ask(Addresses.region(type, node), new Protocol.AcceptStateLoss(type), Protocol.StateLossAccepted.class, QUERY_TIMEOUT_MS));
    }
    return Future.join(asks).transform(done -> {
      JsonObject cleared = new JsonObject();
      JsonArray unanswered = new JsonArray();
      for (int i = 0; i < members.size(); i++) {
        Future<Protocol.StateLossAccepted> f = asks.get(i);
        if (f.succeeded()) {
          cleared.put(members.get(i), f.result().cleared());
        } else {
          unanswered.add(members.get(i));
        }
      }
      return Future.succeededFuture(new JsonObject().put("type", type).put("complete", unanswered.isEmpty()).put("cleared", cleared)
          .put("unanswered", unanswered));
    });
  }

  /** The nodes an operator has drained (none if the cluster's record cannot be read). */
  Future<Set<String>> drainedNodes() {
    return vertx.sharedData().<String, String>getAsyncMap(ShardCoordinator.DRAINED).compose(map -> map.keys()).otherwise(Set.of());
  }

  /**
   * Asks the coordinator to hand off every shard of this node, again until it answers or {@code timeoutMs} ran
   * out (then this node leaves anyway).
   */
  Future<Void> handOffEverything(long timeoutMs) {
    Promise<Void> left = Promise.promise();
    askToLeave(System.nanoTime() + timeoutMs * 1_000_000L, timeoutMs, left);
    return left.future();
  }

  private void askToLeave(long deadline, long timeoutMs, Promise<Void> left) {
    long remaining = (deadline - System.nanoTime()) / 1_000_000L;
    if (remaining <= 0) {
      log.warn("shards of {} were not all handed off within {} ms; leaving anyway", self(), timeoutMs);
      left.complete();
      return;
    }
    ask(Addresses.COORDINATOR, new GracefulShutdownReq(self()), GracefulShutdownAck.class, remaining)
        .onSuccess(ack -> {
          log.info("node {} handed off {} shard(s); leaving", self(), ack.moved());
          left.complete();
        })
        .onFailure(err -> vertx.setTimer(Math.min(200, Math.max(1, remaining)), t -> askToLeave(deadline, timeoutMs, left)));
  }
}
