package io.sticky.gateway;

import io.sticky.api.Sticky;
import io.sticky.internal.NodeRuntime;
import io.sticky.internal.NodeRuntime.ClusterStatus;
import io.sticky.internal.NodeRuntime.QuorumStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Map;

/**
 * The health endpoints, built on vertx-health-check. Bodies are its format plus the node's id:
 * {@code {"node":..,"status":"UP"|"DOWN","checks":[{"id":..,"status":..,"data":{..}}],"outcome":..}};
 * {@code 200} when UP, {@code 503} with {@code Retry-After: 1} and the same body when DOWN.
 *
 * <ul>
 *   <li>{@code GET /health/live}: no checks. It answers while the HTTP event loop does; nothing outside the
 *   process may take it down (a store outage must not get the node restarted).</li>
 *   <li>{@code GET /health/ready}, in this order: {@value #CLUSTER} (Vert.x has joined its cluster; member
 *   count; DOWN while a Hazelcast member that is not a Vert.x node is in it), {@value #QUORUM} (this node reaches a majority of the cluster; see {@code Quorum}), {@value #REGIONS} (every entity type's region is registered with the coordinator),
 *   {@value #STORES} (every state store in use answers a ping within {@value #STORE_PING_TIMEOUT_MS} ms) and
 *   {@value #LEAVING} (no clean leave has started) and {@value #DRAINED} (no operator has drained it).</li>
 * </ul>
 */
final class NodeHealth {
  static final String CLUSTER = "cluster";
  static final String QUORUM = "quorum";
  static final String REGIONS = "regions";
  static final String STORES = "stores";
  static final String LEAVING = "leaving";
  static final String DRAINED = "drained";
  /** Order of the checks in the body (vertx-health-check's own order is a hash map's). */
  private static final List<String> ORDER = List.of(CLUSTER, QUORUM, REGIONS, STORES, LEAVING, DRAINED);
  /**
   * How long readiness waits for one store's ping: a dead PostgreSQL makes the node not ready within this,
   * rather than hanging the probe until the orchestrator's own timeout.
   */
  static final long STORE_PING_TIMEOUT_MS = 2_000;
  /** Backstop for checks that answer at once (vertx-health-check fails a check that does not answer in time). */
  private static final long CHECK_TIMEOUT_MS = 1_000;

  private final Vertx vertx;
  private final Sticky sticky;
  private final HealthChecks live;
  private final HealthChecks ready;

  NodeHealth(Vertx vertx, Sticky sticky) {
    this.vertx = vertx;
    this.sticky = sticky;
    this.live = HealthChecks.create(vertx);
    this.ready = HealthChecks.create(vertx)
        .register(CLUSTER, CHECK_TIMEOUT_MS, this::cluster)
        .register(QUORUM, CHECK_TIMEOUT_MS, this::quorum)
        .register(REGIONS, CHECK_TIMEOUT_MS, this::regions)
        .register(STORES, STORE_PING_TIMEOUT_MS + CHECK_TIMEOUT_MS, this::stores)
        .register(LEAVING, CHECK_TIMEOUT_MS, this::leaving)
        .register(DRAINED, CHECK_TIMEOUT_MS, this::drained);
  }

  void install(Router router) {
    router.get("/health/live").handler(ctx -> respond(ctx, live, false));
    router.get("/health/ready").handler(ctx -> respond(ctx, ready, true));
  }

  /** The readiness report, as served (for tests and callers that are not HTTP). */
  Future<JsonObject> readiness() {
    return report(ready, true);
  }

  private void respond(RoutingContext ctx, HealthChecks checks, boolean withNode) {
    report(checks, withNode).onSuccess(body -> {
      boolean up = "UP".equals(body.getString("status"));
      if (!up) {
        ctx.response().putHeader("Retry-After", Problem.RETRY_AFTER_SECONDS);
      }
      RestGateway.json(ctx, up ? 200 : 503, body);
    });
  }

  private Future<JsonObject> report(HealthChecks checks, boolean withNode) {
    return checks.checkStatus().transform(ar -> {
      JsonObject body = new JsonObject();
      if (withNode) {
        body.put("node", nodeId());
      }
      if (ar.failed()) {
        return Future.succeededFuture(body.put("status", "DOWN").put("checks", new JsonArray()).put("outcome", "DOWN")
            .put("error", String.valueOf(ar.cause().getMessage())));
      }
      JsonObject result = ar.result().toJson();
      JsonArray sorted = new JsonArray();
      result.getJsonArray("checks", new JsonArray()).stream().map(JsonObject.class::cast)
          .sorted(java.util.Comparator.comparingInt(c -> ORDER.indexOf(c.getString("id"))))
          .forEach(sorted::add);
      body.put("status", CheckResult.isUp(ar.result()) ? "UP" : "DOWN").put("checks", sorted)
          .put("outcome", result.getString("outcome"));
      return Future.succeededFuture(body);
    });
  }

  /** The node's id: Sticky's once started, else the cluster manager's (the HTTP server starts before Sticky). */
  private String nodeId() {
    String id = sticky.nodeId();
    return id == null && sticky instanceof NodeRuntime impl ? impl.clusterStatus().nodeId() : id;
  }

  private void cluster(Promise<Status> result) {
    if (!(sticky instanceof NodeRuntime impl)) {
      result.complete(Status.OK());
      return;
    }
    ClusterStatus cluster = impl.clusterStatus();
    if (!cluster.clustered()) {
      result.complete(Status.OK(new JsonObject().put("clustered", false).put("members", 1)));
    } else if (!cluster.member()) {
      result.complete(Status.KO(new JsonObject().put("clustered", true).put("detail", "not a member of the cluster")));
    } else if (cluster.foreign().isEmpty()) {
      result.complete(Status.OK(new JsonObject().put("clustered", true).put("members", cluster.members())));
    } else {
      result.complete(Status.KO(new JsonObject().put("clustered", true).put("foreign", new JsonArray(cluster.foreign()))
          .put("detail", "Hazelcast members that are not Sticky nodes joined the cluster " + cluster.foreign()
              + ": they hold parts of Sticky's maps without its serializers; stop them or give them another cluster name")));
    }
  }

  private void quorum(Promise<Status> result) {
    QuorumStatus quorum = sticky instanceof NodeRuntime impl ? impl.quorum() : null;
    if (quorum == null) {
      result.complete(Status.OK());
    } else if (quorum.held()) {
      result.complete(Status.OK(new JsonObject().put("base", quorum.base())));
    } else {
      result.complete(Status.KO(new JsonObject().put("base", quorum.base())
          .put("detail", "cannot reach a majority of the cluster: serving no entity")));
    }
  }

  private void regions(Promise<Status> result) {
    if (!(sticky instanceof NodeRuntime impl)) {
      result.complete(new Status().setOk(sticky.isReady()));
      return;
    }
    if (!impl.isStarted()) {
      result.complete(Status.KO(new JsonObject().put("detail", "not started")));
      return;
    }
    JsonObject data = new JsonObject();
    boolean all = true;
    for (Map.Entry<String, String> e : impl.regionStatus().entrySet()) {
      data.put(e.getKey(), e.getValue());
      all &= e.getValue().equals("registered");
    }
    result.complete(new Status().setOk(all).setData(data));
  }

  private void stores(Promise<Status> result) {
    if (!(sticky instanceof NodeRuntime impl)) {
      result.complete(Status.OK());
      return;
    }
    impl.pingStores(STORE_PING_TIMEOUT_MS).onSuccess(pings -> {
      JsonObject data = new JsonObject();
      boolean all = true;
      for (Map.Entry<String, String> e : pings.entrySet()) {
        data.put(e.getKey(), e.getValue() == null ? "UP" : "DOWN: " + e.getValue());
        all &= e.getValue() == null;
      }
      result.complete(new Status().setOk(all).setData(data));
    });
  }

  private void leaving(Promise<Status> result) {
    boolean leaving = sticky instanceof NodeRuntime impl && impl.isLeaving();
    result.complete(leaving
        ? Status.KO(new JsonObject().put("detail", "leaving the cluster: shards are being handed off"))
        : Status.OK());
  }

  /** DOWN while an operator has this node drained (POST /cluster/nodes/{node}/drain): it hosts nothing. */
  private void drained(Promise<Status> result) {
    if (!(sticky instanceof NodeRuntime impl) || !impl.isStarted()) {
      result.complete(Status.OK());
      return;
    }
    String self = impl.nodeId();
    impl.drainedNodes()
        .onComplete(ar -> result.tryComplete(ar.succeeded() && ar.result().contains(self)
            ? Status.KO(new JsonObject().put("detail", "drained by an operator: its shards are moved off; DELETE /cluster/nodes/" + self
                + "/drain undrains it"))
            : Status.OK()));
  }
}
