package io.sticky.gateway;

import io.sticky.api.StickyError;
import io.sticky.internal.NodeRuntime;
import io.sticky.internal.NodeRuntime.Placement;
import io.sticky.internal.NodeRuntime.Placements;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The routing table that lets a client send each request straight to its entity's node (docs/routing.md):
 * <pre>
 * GET /cluster/routing         per type: the shard count and each allocated shard's node and epoch; the hash
 *                              that maps an id to its shard; every node's advertised HTTP URL; a version
 * GET /cluster/routing/feed    the same table as server-sent events: now, then on every change
 * </pre>
 * The table is the coordinator's allocations plus the nodes' advertised URLs, read at most
 * every {@value #REFRESH_MS} ms while someone asks for it. {@code version} counts the changes this node has
 * seen (it orders the tables of one node; across nodes, a shard's epoch says which home is newer).
 */
final class RoutingRoutes {
  /** How often the table is read again while feeds are open, and how long a GET may serve a cached one. */
  static final long REFRESH_MS = 500;
  /** Feeds one node serves at once; more get 503. */
  static final int MAX_FEEDS = 64;
  /** A comment line on idle feeds, so that proxies keep them open and dead clients are found. */
  static final long KEEP_ALIVE_MS = 15_000;
  /** The hash clients must compute; ShardId implements it, RoutingVectorsTest pins it. */
  static final JsonObject HASH = new JsonObject()
      .put("function", "murmur3_x86_32")
      .put("seed", 0)
      .put("input", "the UTF-8 bytes of the entity id")
      .put("shard", "floorMod(hash as a signed 32-bit integer, numberOfShards)");

  private final Vertx vertx;
  private final NodeRuntime sticky;
  private final List<Feed> feeds = new ArrayList<>();
  private JsonObject table;
  private long version;
  private long readAt;
  private Future<JsonObject> reading;
  private long timer = -1;
  private long lastPushAt;

  /** One open feed: at most one table waits beyond the connection's write queue (the newest). */
  private static final class Feed {
    final HttpServerResponse response;
    boolean pending;

    Feed(HttpServerResponse response) {
      this.response = response;
    }
  }

  RoutingRoutes(Vertx vertx, NodeRuntime sticky) {
    this.vertx = vertx;
    this.sticky = sticky;
  }

  void install(Router router) {
    router.get("/cluster/routing").handler(this::get);
    router.get("/cluster/routing/feed").handler(this::feed);
  }

  private void get(RoutingContext ctx) {
    Future<JsonObject> t = table != null && System.currentTimeMillis() - readAt < REFRESH_MS ? Future.succeededFuture(table) : read();
    t.onComplete(ar -> {
      if (ar.succeeded()) {
        RestGateway.json(ctx, 200, ar.result());
      } else {
        Problem.send(ctx.response(), StickyError.UNAVAILABLE, "the coordinator did not answer: " + ar.cause().getMessage(),
            ctx.request().path());
      }
    });
  }

  private void feed(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    if (feeds.size() >= MAX_FEEDS) {
      Problem.send(response, StickyError.UNAVAILABLE, "this node already serves " + MAX_FEEDS + " routing feeds; use another node"
          + " or poll GET /cluster/routing", ctx.request().path());
      return;
    }
    Feed feed = new Feed(response);
    feeds.add(feed);
    response.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
    response.closeHandler(v -> feeds.remove(feed));
    response.exceptionHandler(err -> feeds.remove(feed));
    response.drainHandler(v -> {
      if (feed.pending && table != null) {
        send(feed);
      }
    });
    response.write(": routing table of " + sticky.nodeId() + "\n\n");
    if (table != null) {
      send(feed);
    }
    read();
    if (timer == -1) {
      timer = vertx.setPeriodic(REFRESH_MS, REFRESH_MS, t -> {
        if (feeds.isEmpty()) {
          vertx.cancelTimer(timer);
          timer = -1;
        } else {
          read();
          if (System.currentTimeMillis() - lastPushAt >= KEEP_ALIVE_MS) {
            lastPushAt = System.currentTimeMillis();
            feeds.forEach(f -> f.response.write(": keep-alive\n\n"));
          }
        }
      });
    }
  }

  /** Reads the table (one read at a time); pushes it to every feed if it changed. */
  private Future<JsonObject> read() {
    if (reading != null) {
      return reading;
    }
    reading = sticky.placements(null).map(this::build).andThen(ar -> reading = null).onSuccess(next -> {
      readAt = System.currentTimeMillis();
      if (table == null || !sameRoutes(table, next)) {
        version++;
        lastPushAt = readAt;
        table = next.put("version", version);
        feeds.forEach(this::send);
      }
    });
    return reading;
  }

  private static boolean sameRoutes(JsonObject a, JsonObject b) {
    return a.getValue("types").equals(b.getValue("types")) && a.getValue("nodes").equals(b.getValue("nodes"));
  }

  private void send(Feed feed) {
    if (feed.response.writeQueueFull()) {
      feed.pending = true;
      return;
    }
    feed.pending = false;
    feed.response.write(Buffer.buffer("event: routing\nid: " + version + "\ndata: ").appendBuffer(table.toBuffer()).appendString("\n\n"));
  }

  private JsonObject build(Placements allocations) {
    Map<String, List<Placement>> byType = new TreeMap<>();
    sticky.typeNames().forEach(t -> byType.put(t, new ArrayList<>()));
    allocations.shards().forEach(h -> byType.computeIfAbsent(h.type(), t -> new ArrayList<>()).add(h));
    JsonObject types = new JsonObject();
    byType.forEach((type, homes) -> {
      JsonArray shards = new JsonArray();
      homes.stream().sorted(Comparator.comparingInt(Placement::shard))
          .forEach(h -> shards.add(new JsonObject().put("shard", h.shard()).put("node", h.node()).put("epoch", h.epoch())));
      Integer count = sticky.typeNames().contains(type) ? sticky.numberOfShards(type) : null;
      types.put(type, new JsonObject().put("numberOfShards", count).put("shards", shards));
    });
    JsonArray nodes = new JsonArray();
    sticky.httpUrls().forEach((node, url) -> nodes.add(new JsonObject().put("id", node).put("url", url)));
    return new JsonObject()
        .put("issuedBy", sticky.nodeId())
        .put("coordinator", allocations.coordinatorNode())
        .put("hash", HASH)
        .put("nodes", nodes)
        .put("types", types);
  }

  void close() {
    if (timer != -1) {
      vertx.cancelTimer(timer);
    }
    feeds.forEach(f -> f.response.end());
    feeds.clear();
  }
}
