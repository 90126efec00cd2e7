package io.sticky.gateway;

import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.StickyError;
import io.sticky.api.ShardId;
import io.sticky.internal.NodeRuntime;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
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
 * GET /cluster/handoffs                hand-offs running now and the latest that ended
 * POST /cluster/nodes/{node}/drain      move every shard off the node, which stays up and not ready; DELETE undrains
 * POST /cluster/shards/{type}/{shard}/move   {"to": node}: move one shard there
 * </pre>
 * Regions are asked directly (for GET /cluster at most every
 * {@value #CLUSTER_VIEW_MAX_AGE_MS} ms, {@code asOf} says when) and the coordinator for the table;
 * a node that does not answer within the timeout is listed as unreachable rather than failing the request.
 */
final class ManagementRoutes {
  /** A move's body is {"to": "<node id>"}. */
  private static final int MOVE_BODY_LIMIT = 4_096;
  /**
   * GET /cluster asks every region of every node; answers younger than this are served again (and callers that
   * arrive while one is being gathered share it), so a flood of calls costs the cluster at most about two
   * fan-outs a second per gateway instance.
   */
  static final long CLUSTER_VIEW_MAX_AGE_MS = 500;

  private final Vertx vertx;
  private final NodeRuntime sticky;
  private final long clusterViewMaxAgeMs;
  /** The latest fan-out of GET /cluster: for which members, when it started, and its result. */
  private List<String> viewMembers;
  private long viewStartedAt;
  private Future<List<JsonObject>> view;

  ManagementRoutes(Vertx vertx, NodeRuntime sticky) {
    this(vertx, sticky, CLUSTER_VIEW_MAX_AGE_MS);
  }

  ManagementRoutes(Vertx vertx, NodeRuntime sticky, long clusterViewMaxAgeMs) {
    this.vertx = vertx;
    this.sticky = sticky;
    this.clusterViewMaxAgeMs = clusterViewMaxAgeMs;
  }

  /** The region states of {@code members}: the latest fan-out if it is recent enough and for the same members. */
  private Future<List<JsonObject>> clusterView(List<String> members) {
    long now = System.currentTimeMillis();
    if (view == null || !members.equals(viewMembers) || now - viewStartedAt >= clusterViewMaxAgeMs) {
      viewMembers = members;
      viewStartedAt = now;
      view = sticky.regionStates(members);
    }
    return view;
  }

  void install(Router router) {
    router.get("/cluster").handler(this::cluster);
    router.get("/cluster/shards").handler(this::shards);
    router.get("/cluster/entities/:type/:id").handler(this::entity);
    router.post("/cluster/types/:type/accept-state-loss").handler(this::acceptStateLoss);
    router.get("/cluster/handoffs").handler(this::handOffs);
    router.post("/cluster/nodes/:node/drain").handler(ctx -> drain(ctx, true));
    router.delete("/cluster/nodes/:node/drain").handler(ctx -> drain(ctx, false));
    router.post("/cluster/shards/:type/:shard/move").handler(BodyHandler.create(false).setBodyLimit(MOVE_BODY_LIMIT)).handler(this::move);
  }

  private JsonObject numberOfShards() {
    JsonObject counts = new JsonObject();
    sticky.typeNames().forEach(type -> counts.put(type, sticky.numberOfShards(type)));
    return counts;
  }

  /** The coordinator's running and recent hand-offs. */
  private void handOffs(RoutingContext ctx) {
    answer(ctx, 200, sticky.handOffs());
  }

  /** Drains or undrains a node through the coordinator: 202 with the node's state; 404 unknown node, 409 unsafe. */
  private void drain(RoutingContext ctx, boolean drain) {
    answer(ctx, 202, sticky.drain(ctx.pathParam("node"), drain));
  }

  /** Moves one shard: 202 once the coordinator accepted the move; 400 bad body, 404 unknown, 409 unsafe. */
  private void move(RoutingContext ctx) {
    String type = ctx.pathParam("type");
    int shard;
    String to;
    try {
      shard = Integer.parseInt(ctx.pathParam("shard"));
      JsonObject body = ctx.body().asJsonObject();
      to = body == null ? null : body.getString("to");
    } catch (RuntimeException e) {
      Problem.send(ctx.response(), StickyError.BAD_REQUEST, "expected a shard number and a body {\"to\": \"<node id>\"}", ctx.request().path());
      return;
    }
    if (to == null || to.isBlank()) {
      Problem.send(ctx.response(), StickyError.BAD_REQUEST, "the body must name the target node: {\"to\": \"<node id>\"}", ctx.request().path());
      return;
    }
    answer(ctx, 202, sticky.moveShard(type, shard, to));
  }

  /** A management answer with {@code okStatus}; a refusal (404, 409) or a typed failure as problem+json. */
  private static void answer(RoutingContext ctx, int okStatus, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        RestGateway.json(ctx, okStatus, ar.result());
      } else if (ar.cause() instanceof NodeRuntime.Refused refused) {
        Problem.send(ctx.response(), refused.status(), refused.status() == 404 ? "Not found" : "Conflict", refused.getMessage(),
            ctx.request().path());
      } else {
        EntityException e = EntityException.from(ar.cause());
        Problem.send(ctx.response(), e.error(), e.getMessage(), ctx.request().path());
      }
    });
  }

  /**
   * Every node's store forgets the lost states of the type (docs/guarantees.md#lost-state): its entities that
   * answered 503 state-lost start fresh. Answers which nodes cleared how many lost shards or partitions, and
   * which did not answer (ask again: it is idempotent).
   */
  private void acceptStateLoss(RoutingContext ctx) {
    answer(ctx, 200, sticky.acceptStateLoss(ctx.pathParam("type")));
  }

  private void cluster(RoutingContext ctx) {
    if (!sticky.isStarted()) {
      Problem.send(ctx.response(), StickyError.UNAVAILABLE, "node is not started", ctx.request().path());
      return;
    }
    List<String> members = sticky.members();
    Future<List<JsonObject>> states = clusterView(members);
    long asOf = viewStartedAt;
    Future<java.util.Set<String>> drained = sticky.drainedNodes();
    Future.join(states, drained).onComplete(ar -> {
      Map<String, List<JsonObject>> byNode = new HashMap<>();
      states.result().forEach(s -> byNode.computeIfAbsent(s.getString("node"), n -> new ArrayList<>()).add(s));
      JsonArray nodes = new JsonArray();
      for (String node : members) {
        JsonObject types = new JsonObject();
        int shards = 0;
        int active = 0;
        for (JsonObject s : byNode.getOrDefault(node, List.of())) {
          int hosted = s.getJsonObject("entitiesByShard").size();
          types.put(s.getString("type"), new JsonObject().put("shards", hosted).put("activeEntities", s.getInteger("activeEntities"))
              .put("maxActiveEntities", s.getInteger("maxActiveEntities")).put("activations", s.getLong("activations"))
              .put("bufferedMessages", s.getInteger("bufferedMessages")).put("traffic", s.getJsonObject("traffic"))
              .put("store", s.getString("store")).put("storeWrites", s.getJsonObject("storeWrites")));
          shards += hosted;
          active += s.getInteger("activeEntities");
        }
        nodes.add(new JsonObject()
            .put("id", node)
            .put("address", sticky.memberAddress(node))
            .put("coordinator", node.equals(sticky.coordinatorNode()))
            .put("self", node.equals(sticky.nodeId()))
            .put("reachable", byNode.containsKey(node) || sticky.typeNames().isEmpty())
            .put("drained", drained.result().contains(node))
            .put("shards", shards)
            .put("activeEntities", active)
            .put("types", types));
      }
      RestGateway.json(ctx, 200, new JsonObject()
          .put("self", sticky.nodeId())
          .put("coordinator", sticky.coordinatorNode())
          .put("version", NodeRuntime.version())
          .put("asOf", asOf)
          .put("types", new JsonArray(new ArrayList<>(sticky.typeNames())))
          .put("numberOfShards", numberOfShards())
          .put("nodes", nodes));
    });
  }

  private void shards(RoutingContext ctx) {
    String type = ctx.request().getParam("type");
    if (type != null && !sticky.typeNames().contains(type)) {
      Problem.send(ctx.response(), StickyError.UNKNOWN_TYPE, "no entity type '" + type + "'", ctx.request().path());
      return;
    }
    sticky.placements(type).onComplete(table -> {
      if (table.failed()) {
        Problem.send(ctx.response(), StickyError.UNAVAILABLE, "the coordinator did not answer: " + table.cause().getMessage(),
            ctx.request().path());
        return;
      }
      sticky.regionStates(sticky.members()).onComplete(states -> {
        Map<String, Object> entities = new HashMap<>();
        states.result().forEach(s -> s.getJsonObject("entitiesByShard").forEach(e -> entities.put(s.getString("type") + "/" + e.getKey(), e.getValue())));
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
    sticky.placements(type).onComplete(table -> {
      if (table.failed()) {
        Problem.send(ctx.response(), StickyError.UNAVAILABLE, "the coordinator did not answer: " + table.cause().getMessage(),
            ctx.request().path());
        return;
      }
      JsonObject body = new JsonObject().put("type", type).put("id", id).put("shard", shard);
      NodeRuntime.Placement home = table.result().shards().stream().filter(h -> h.shard() == shard).findFirst().orElse(null);
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
}
