package io.sticky.gateway;

import io.sticky.api.EntityAddress;
import io.sticky.api.StickyError;
import io.sticky.cluster.Membership;
import io.sticky.node.Version;
import io.sticky.protocol.Addresses;
import io.sticky.protocol.Headers;
import io.sticky.protocol.Protocol;
import io.sticky.protocol.Protocol.GetRegionState;
import io.sticky.protocol.Protocol.RegionState;
import io.sticky.protocol.Protocol.ShardHome;
import io.sticky.region.ShardId;
import io.sticky.runtime.StickyImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The management API, on every node's gateway:
 * <pre>
 * GET /cluster                          nodes (address, coordinator, shards and active entities per type)
 * GET /cluster/shards[?type=]           the coordinator's allocation, with epochs and entity counts
 * GET /cluster/entities/{type}/{id}     where an entity lives (or would live), without activating it
 * POST /cluster/types/{type}/accept-state-loss   the type's lost states are accepted as gone (its entities start fresh)
 * </pre>
 * Regions are asked directly ({@link GetRegionState} in their inbox; for GET /cluster at most every
 * {@value #CLUSTER_VIEW_MAX_AGE_MS} ms, {@code asOf} says when) and the coordinator for the table;
 * a node that does not answer within the timeout is listed as unreachable rather than failing the request.
 */
final class ManagementRoutes {
  private static final long QUERY_TIMEOUT_MS = 2_000;
  /**
   * GET /cluster asks every region of every node; answers younger than this are served again (and callers that
   * arrive while one is being gathered share it), so a flood of calls costs the cluster at most about two
   * fan-outs a second per gateway instance.
   */
  static final long CLUSTER_VIEW_MAX_AGE_MS = 500;

  private final Vertx vertx;
  private final StickyImpl sticky;
  private final long clusterViewMaxAgeMs;
  /** The latest fan-out of GET /cluster: for which members, when it started, and its result. */
  private List<String> viewMembers;
  private long viewStartedAt;
  private Future<List<RegionState>> view;

  ManagementRoutes(Vertx vertx, StickyImpl sticky) {
    this(vertx, sticky, CLUSTER_VIEW_MAX_AGE_MS);
  }

  ManagementRoutes(Vertx vertx, StickyImpl sticky, long clusterViewMaxAgeMs) {
    this.vertx = vertx;
    this.sticky = sticky;
    this.clusterViewMaxAgeMs = clusterViewMaxAgeMs;
  }

  /** The region states of {@code members}: the latest fan-out if it is recent enough and for the same members. */
  private Future<List<RegionState>> clusterView(List<String> members) {
    long now = System.currentTimeMillis();
    if (view == null || !members.equals(viewMembers) || now - viewStartedAt >= clusterViewMaxAgeMs) {
      viewMembers = members;
      viewStartedAt = now;
      view = regionStates(members);
    }
    return view;
  }

  void install(Router router) {
    router.get("/cluster").handler(this::cluster);
    router.get("/cluster/shards").handler(this::shards);
    router.get("/cluster/entities/:type/:id").handler(this::entity);
    router.post("/cluster/types/:type/accept-state-loss").handler(this::acceptStateLoss);
  }

  /**
   * Every node's store forgets the lost states of the type (docs/guarantees.md#lost-state): its entities that
   * answered 503 state-lost start fresh. Answers which nodes cleared how many lost shards or partitions, and
   * which did not answer (ask again: it is idempotent).
   */
  private void acceptStateLoss(RoutingContext ctx) {
    String type = ctx.pathParam("type");
    if (!sticky.typeNames().contains(type)) {
      Problem.send(ctx.response(), StickyError.UNKNOWN_TYPE, "no entity type '" + type + "'", ctx.request().path());
      return;
    }
    List<String> members = sticky.membership().members();
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS).addHeader(Headers.CONTROL, "1");
    List<Future<Protocol.StateLossAccepted>> asks = new ArrayList<>();
    for (String node : members) {
      asks.add(vertx.eventBus().<JsonObject>request(Addresses.region(type, node), Protocol.encode(new Protocol.AcceptStateLoss(type)), opts)
          .map(m -> Protocol.decode(m.body(), Protocol.StateLossAccepted.class)));
    }
    Future.join(asks).onComplete(done -> {
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
      RestGateway.json(ctx, 200, new JsonObject().put("type", type).put("complete", unanswered.isEmpty()).put("cleared", cleared)
          .put("unanswered", unanswered));
    });
  }

  private void cluster(RoutingContext ctx) {
    Membership membership = sticky.membership();
    if (membership == null) {
      Problem.send(ctx.response(), StickyError.UNAVAILABLE, "node is not started", ctx.request().path());
      return;
    }
    List<String> members = membership.members();
    Future<List<RegionState>> states = clusterView(members);
    long asOf = viewStartedAt;
    states.onComplete(ar -> {
      Map<String, List<RegionState>> byNode = new HashMap<>();
      ar.result().forEach(s -> byNode.computeIfAbsent(s.node(), n -> new ArrayList<>()).add(s));
      JsonArray nodes = new JsonArray();
      for (String node : members) {
        JsonObject types = new JsonObject();
        int shards = 0;
        int active = 0;
        for (RegionState s : byNode.getOrDefault(node, List.of())) {
          types.put(s.type(), new JsonObject().put("shards", s.entitiesByShard().size()).put("activeEntities", s.activeEntities())
              .put("activations", s.activations()).put("bufferedMessages", s.bufferedMessages()));
          shards += s.entitiesByShard().size();
          active += s.activeEntities();
        }
        nodes.add(new JsonObject()
            .put("id", node)
            .put("address", membership.address(node))
            .put("coordinator", node.equals(membership.oldest()))
            .put("self", node.equals(membership.self()))
            .put("reachable", byNode.containsKey(node) || sticky.typeNames().isEmpty())
            .put("shards", shards)
            .put("activeEntities", active)
            .put("types", types));
      }
      RestGateway.json(ctx, 200, new JsonObject()
          .put("self", membership.self())
          .put("coordinator", membership.oldest())
          .put("version", Version.get())
          .put("asOf", asOf)
          .put("types", new JsonArray(new ArrayList<>(sticky.typeNames())))
          .put("nodes", nodes));
    });
  }

  private void shards(RoutingContext ctx) {
    String type = ctx.request().getParam("type");
    if (type != null && !sticky.typeNames().contains(type)) {
      Problem.send(ctx.response(), StickyError.UNKNOWN_TYPE, "no entity type '" + type + "'", ctx.request().path());
      return;
    }
    sticky.allocations(type).onComplete(table -> {
      if (table.failed()) {
        Problem.send(ctx.response(), StickyError.UNAVAILABLE, "the coordinator did not answer: " + table.cause().getMessage(),
            ctx.request().path());
        return;
      }
      regionStates(sticky.membership().members()).onComplete(states -> {
        Map<String, Integer> entities = new HashMap<>();
        states.result().forEach(s -> s.entitiesByShard().forEach((shard, n) -> entities.put(s.type() + "/" + shard, n)));
        JsonArray shards = new JsonArray();
        table.result().shards().stream()
            .sorted((a, b) -> a.type().equals(b.type()) ? Integer.compare(a.shard(), b.shard()) : a.type().compareTo(b.type()))
            .forEach(h -> shards.add(new JsonObject().put("type", h.type()).put("shard", h.shard()).put("node", h.node())
                .put("epoch", h.epoch()).put("entities", entities.get(h.type() + "/" + h.shard()))));
        RestGateway.json(ctx, 200, new JsonObject().put("coordinator", table.result().coordinatorNode()).put("shards", shards));
      });
    });
  }

  private void entity(RoutingContext ctx) {
    String type = ctx.pathParam("type");
    String id = ctx.pathParam("id");
    if (!sticky.typeNames().contains(type)) {
      Problem.send(ctx.response(), StickyError.UNKNOWN_TYPE, "no entity type '" + type + "'", ctx.request().path());
      return;
    }
    if (!EntityAddress.isValidId(id)) {
      Problem.send(ctx.response(), StickyError.INVALID_ID, EntityAddress.INVALID_ID_DETAIL, ctx.request().path());
      return;
    }
    int shard = ShardId.of(id, sticky.numberOfShards(type));
    sticky.allocations(type).onComplete(table -> {
      if (table.failed()) {
        Problem.send(ctx.response(), StickyError.UNAVAILABLE, "the coordinator did not answer: " + table.cause().getMessage(),
            ctx.request().path());
        return;
      }
      JsonObject body = new JsonObject().put("type", type).put("id", id).put("shard", shard);
      ShardHome home = table.result().shards().stream().filter(h -> h.shard() == shard).findFirst().orElse(null);
      if (home == null) {
        body.put("allocated", false).putNull("node").putNull("epoch");
      } else {
        body.put("allocated", true).put("node", home.node()).put("epoch", home.epoch());
      }
      // The reminder index, not the entity: an inactive entity stays so.
      sticky.reminders(type, id).onComplete(reminders -> {
        if (reminders.failed()) {
          Problem.send(ctx.response(), StickyError.UNAVAILABLE, "the reminder index did not answer: " + reminders.cause().getMessage(),
              ctx.request().path());
          return;
        }
        JsonObject found = reminders.result();
        RestGateway.json(ctx, 200, body.put("reminders", found == null ? new io.vertx.core.json.JsonArray() : found.getJsonArray("names"))
            .put("nextReminderAt", found == null ? null : found.getLong("nextDueAt")));
      });
    });
  }

  /** The state of every region of every type on the given nodes; unreachable ones are left out. */
  private Future<List<RegionState>> regionStates(List<String> nodes) {
    List<Future<RegionState>> asks = new ArrayList<>();
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(QUERY_TIMEOUT_MS).addHeader(Headers.CONTROL, "1");
    for (String node : nodes) {
      for (String type : sticky.typeNames()) {
        asks.add(vertx.eventBus().<JsonObject>request(Addresses.region(type, node), Protocol.encode(new GetRegionState(type)), opts)
            .map(m -> Protocol.decode(m.body(), RegionState.class)));
      }
    }
    return Future.join(asks).transform(ar -> {
      List<RegionState> result = new ArrayList<>();
      asks.forEach(f -> {
        if (f.succeeded()) {
          result.add(f.result());
        }
      });
      return Future.succeededFuture(result);
    });
  }
}
