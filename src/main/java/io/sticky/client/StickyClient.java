package io.sticky.client;

import io.sticky.api.RetryPolicy;
import io.sticky.api.StickyError;
import io.sticky.api.ShardId;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client that sends each call straight to the node that holds its entity ("sticky sessions"):
 * <ul>
 *   <li>it reads the routing table ({@code GET /cluster/routing}) from a seed, computes each id's shard
 *       itself (docs/routing.md), and keeps the table fresh from a node's change feed, reconnecting to
 *       another node when that one goes;</li>
 *   <li>each node has its own connection pool;</li>
 *   <li>when the table is stale the call still lands (the node it reached forwards it), the answer's
 *       {@code X-Sticky-Node} corrects that shard at once, and the next feed event corrects the rest;</li>
 *   <li>failures that say "not applied" (connection refused, 503, 409 state-conflict) are retried on another node with
 *       backoff, within the call's budget. A failure whose outcome is unknown (504, 502, a connection lost after
 *       sending) is retried only for a call with an idempotency key ({@code Idempotency-Key}: given, or generated
 *       for every ask with {@link StickyClientOptions#setIdempotentRetries}): the entity applies it at most once.</li>
 * </ul>
 * Calls fail with {@link StickyCallException}, whose {@link StickyError} is the kind the node answered.
 */
public final class StickyClient {
  private static final Logger log = LoggerFactory.getLogger(StickyClient.class);
  private static final long FEED_RECONNECT_MS = 1_000;

  /** A call's answer: the entity's JSON reply, the node that produced it, and the node the call was sent to. */
  public record Reply(JsonObject body, String node, String sentTo) {
    /** True if the call went straight to the entity's node (no forwarding hop). */
    public boolean direct() {
      return node != null && node.equals(sentTo);
    }
  }

  /** One type's shard homes, by shard number (null: unallocated or unknown). */
  private record TypeRoutes(int numberOfShards, String[] nodeByShard) {
  }

  private final Vertx vertx;
  private final StickyClientOptions options;
  private final WebClient web;
  private final HttpClient feedClient;
  private volatile Map<String, TypeRoutes> routes = Map.of();
  /** Node id -> advertised URL, from the table. */
  private volatile Map<String, String> urls = Map.of();
  /** URL -> until when it is avoided (it refused a connection). */
  private final Map<String, Long> quarantined = new ConcurrentHashMap<>();
  private final AtomicLong tableVersion = new AtomicLong();
  private final AtomicLong tablesApplied = new AtomicLong();
  private volatile boolean closed;
  private volatile String feedUrl;

  private StickyClient(Vertx vertx, StickyClientOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.web = WebClient.create(vertx, new WebClientOptions(options.getHttpClientOptions()),
        new PoolOptions().setHttp1MaxSize(options.getConnectionsPerNode()));
    this.feedClient = vertx.createHttpClient(options.getHttpClientOptions());
  }

  /** Creates a client and waits for its first routing table (from any seed); then keeps it fresh. */
  public static Future<StickyClient> connect(Vertx vertx, StickyClientOptions options) {
    if (options.getSeeds().isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("at least one seed URL is needed"));
    }
    StickyClient client = new StickyClient(vertx, options);
    if (!options.isFollowTable()) {
      return Future.succeededFuture(client);
    }
    return client.refresh().map(v -> {
      client.openFeed();
      return client;
    });
  }

  // ---------------------------------------------------------------- calls

  /** Sends a JSON message to the entity ({@code POST /entities/{type}/{id}}); completes with its reply. */
  public Future<JsonObject> ask(String type, String id, JsonObject message) {
    return ask(type, id, message, options.isIdempotentRetries() ? UUID.randomUUID().toString() : null);
  }

  /**
   * An ask named by an idempotency key (1-255 visible ASCII characters; null: none): a retry with the same key,
   * by this client or a later one, gets the first reply and is not applied again (docs/guarantees.md).
   */
  public Future<JsonObject> ask(String type, String id, JsonObject message, String idempotencyKey) {
    return call(HttpMethod.POST, type, id, message, idempotencyKey).map(Reply::body);
  }

  /** A typed message and reply, mapped to and from JSON with Jackson. */
  public <T> Future<T> ask(String type, String id, Object message, Class<T> replyType) {
    JsonObject json;
    try {
      json = JsonObject.mapFrom(message);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new StickyCallException(StickyError.BAD_REQUEST, 0,
          "the message cannot be written as a JSON object: " + e.getMessage(), null));
    }
    return ask(type, id, json).map(reply -> reply.mapTo(replyType));
  }

  /** The entity's read-only view ({@code GET /entities/{type}/{id}}). */
  public Future<JsonObject> view(String type, String id) {
    return call(HttpMethod.GET, type, id, null).map(Reply::body);
  }

  /** A call with its routing facts, for callers (and tests) that care where it went. */
  public Future<Reply> call(HttpMethod method, String type, String id, JsonObject message) {
    return call(method, type, id, message, null);
  }

  /** As {@link #call(HttpMethod, String, String, JsonObject)}, with an idempotency key (null: none). */
  public Future<Reply> call(HttpMethod method, String type, String id, JsonObject message, String idempotencyKey) {
    Promise<Reply> result = Promise.promise();
    long deadline = System.nanoTime() + options.getCallTimeoutMs() * 1_000_000L;
    attempt(new Call(method, type, id, message == null ? null : message.toBuffer(), idempotencyKey, deadline, result), 1);
    return result.future();
  }

  /** One call across its attempts. */
  private record Call(HttpMethod method, String type, String id, Buffer body, String idempotencyKey, long deadline,
                      Promise<Reply> result) {
  }

  private void attempt(Call call, int attempt) {
    HttpMethod method = call.method();
    String type = call.type();
    String id = call.id();
    Buffer body = call.body();
    long deadline = call.deadline();
    Promise<Reply> result = call.result();
    long remainingMs = (deadline - System.nanoTime()) / 1_000_000L;
    if (closed) {
      result.fail(new StickyCallException(StickyError.UNAVAILABLE, 0, "the client is closed; not sent", null));
      return;
    }
    if (remainingMs <= 0) {
      result.fail(new StickyCallException(StickyError.TIMEOUT, 0, "no answer within " + options.getCallTimeoutMs()
          + " ms; outcome unknown", null));
      return;
    }
    Target target = target(type, id, attempt);
    HttpRequest<Buffer> request = web.requestAbs(method, target.url + "/entities/" + type + "/" + id).timeout(remainingMs);
    if (options.getBearerToken() != null) {
      request.putHeader("Authorization", "Bearer " + options.getBearerToken());
    }
    if (call.idempotencyKey() != null) {
      request.putHeader("Idempotency-Key", call.idempotencyKey());
    }
    Future<HttpResponse<Buffer>> sent = body == null ? request.send()
        : request.putHeader("Content-Type", "application/json").sendBuffer(body);
    sent.onComplete(ar -> {
      if (ar.failed()) {
        if (Responses.notSent(ar.cause())) {
          // Nothing reached the node: it is gone or not listening. Avoid it and try another.
          quarantine(target.url);
          if (target.node != null) {
            forget(target.node);
          }
          retry(call, attempt, StickyError.UNAVAILABLE, 0, "could not connect to " + target.url + ": " + ar.cause().getMessage(), null);
        } else if (call.idempotencyKey() != null) {
          retry(call, attempt, StickyError.TIMEOUT, 0, "the call to " + target.url + " failed after it was sent ("
              + ar.cause().getMessage() + ")", null);
        } else {
          result.fail(new StickyCallException(StickyError.TIMEOUT, 0, "the call to " + target.url + " failed after it was sent ("
              + ar.cause().getMessage() + "); outcome unknown", null));
        }
        return;
      }
      HttpResponse<Buffer> response = ar.result();
      String node = response.getHeader("X-Sticky-Node");
      if (node != null && target.shard >= 0) {
        learn(type, target.shard, node, response.getHeader("X-Sticky-Owner"));
      }
      if (response.statusCode() == 200) {
        JsonObject reply;
        try {
          reply = response.body() == null ? new JsonObject() : response.body().toJsonObject();
        } catch (DecodeException | ClassCastException e) {
          result.fail(new StickyCallException(StickyError.ENTITY_FAILED, 200, "the reply is not a JSON object", node));
          return;
        }
        result.complete(new Reply(reply, node, target.node));
        return;
      }
      StickyError error = Responses.errorOf(response);
      String detail = Responses.detailOf(response);
      // Both say "not applied": 503, and 409 from an entity instance that was fenced (a retry reaches a fresh one).
      // With a key, an unknown outcome is retried too: the entity answers a second copy from its applied keys.
      if (error == StickyError.UNAVAILABLE || error == StickyError.STATE_CONFLICT
          || (call.idempotencyKey() != null && RetryPolicy.retryable(error))) {
        retry(call, attempt, error, response.statusCode(), detail, node);
      } else {
        result.fail(new StickyCallException(error, response.statusCode(), detail, node));
      }
    });
  }

  private void retry(Call call, int attempt, StickyError error, int status, String detail, String node) {
    long backoff = Math.min(StickyClientOptions.MAX_BACKOFF_MS, options.getBackoffMs() << Math.min(attempt - 1, 10));
    long remainingMs = (call.deadline() - System.nanoTime()) / 1_000_000L;
    if (attempt >= options.getMaxAttempts() || remainingMs <= backoff) {
      String outcome = error.outcomeUnknown() ? "outcome unknown" : "not applied";
      call.result().fail(new StickyCallException(error, status, detail + " (after " + attempt + " attempt(s); " + outcome + ")", node));
      return;
    }
    if (options.isFollowTable()) {
      refresh();
    }
    vertx.setTimer(Math.max(1, backoff), t -> attempt(call, attempt + 1));
  }

  // ---------------------------------------------------------------- routing

  private record Target(String url, String node, int shard) {
  }

  /** Where a call goes: its entity's node if the table knows one that is not avoided, else any live node. */
  private Target target(String type, String id, int attempt) {
    if (options.isFollowTable()) {
      TypeRoutes r = routes.get(type);
      if (r != null) {
        int shard = ShardId.of(id, r.numberOfShards());
        String node = r.nodeByShard()[shard];
        String url = node == null ? null : urls.get(node);
        if (url != null && !avoided(url)) {
          return new Target(url, node, shard);
        }
        return anyNode(shard, attempt);
      }
    }
    return anyNode(-1, attempt);
  }

  private Target anyNode(int shard, int attempt) {
    List<Map.Entry<String, String>> known = new ArrayList<>(urls.entrySet());
    List<Target> live = new ArrayList<>();
    for (Map.Entry<String, String> e : known) {
      if (!avoided(e.getValue())) {
        live.add(new Target(e.getValue(), e.getKey(), shard));
      }
    }
    if (!options.isFollowTable() || live.isEmpty()) {
      for (String seed : options.getSeeds()) {
        if (!avoided(seed)) {
          live.add(new Target(seed, null, shard));
          if (!options.isFollowTable()) {
            break;
          }
        }
      }
    }
    if (live.isEmpty()) {
      // Everything refused a connection lately: try the seeds anyway, in turn.
      List<String> seeds = options.getSeeds();
      return new Target(seeds.get(attempt % seeds.size()), null, shard);
    }
    return live.get(options.isFollowTable() ? ThreadLocalRandom.current().nextInt(live.size()) : 0);
  }

  private boolean avoided(String url) {
    Long until = quarantined.get(url);
    if (until == null) {
      return false;
    }
    if (System.currentTimeMillis() >= until) {
      quarantined.remove(url, until);
      return false;
    }
    return true;
  }

  private void quarantine(String url) {
    quarantined.put(url, System.currentTimeMillis() + options.getNodeQuarantineMs());
  }

  /** A node answered for a shard: that is where it lives now (cheaper than waiting for the feed). */
  private void learn(String type, int shard, String node, String url) {
    TypeRoutes r = routes.get(type);
    if (r != null && shard < r.nodeByShard().length && !node.equals(r.nodeByShard()[shard])) {
      r.nodeByShard()[shard] = node;
      if (url != null && !url.equals(urls.get(node))) {
        Map<String, String> next = new ConcurrentHashMap<>(urls);
        next.put(node, url);
        urls = next;
      }
    }
  }

  /** A node refused connections: its shards are unknown until the table says where they went. */
  private void forget(String node) {
    for (TypeRoutes r : routes.values()) {
      String[] homes = r.nodeByShard();
      for (int i = 0; i < homes.length; i++) {
        if (node.equals(homes[i])) {
          homes[i] = null;
        }
      }
    }
  }

  /** Reads the table from a live node (the seeds first). */
  private Future<Void> refresh() {
    List<String> candidates = new ArrayList<>(options.getSeeds());
    urls.values().stream().filter(u -> !candidates.contains(u)).forEach(candidates::add);
    return readTable(candidates, 0);
  }

  private Future<Void> readTable(List<String> candidates, int index) {
    if (index >= candidates.size()) {
      return Future.failedFuture(new StickyCallException(StickyError.UNAVAILABLE, 0, "no node answered GET /cluster/routing: "
          + candidates, null));
    }
    String url = candidates.get(index);
    if (avoided(url) && index + 1 < candidates.size()) {
      return readTable(candidates, index + 1);
    }
    HttpRequest<Buffer> request = web.getAbs(url + "/cluster/routing").timeout(options.getCallTimeoutMs());
    if (options.getBearerToken() != null) {
      request.putHeader("Authorization", "Bearer " + options.getBearerToken());
    }
    return request.send().compose(r -> {
      if (r.statusCode() != 200) {
        return Future.failedFuture("HTTP " + r.statusCode());
      }
      apply(r.bodyAsJsonObject());
      return Future.<Void>succeededFuture();
    }).recover(err -> readTable(candidates, index + 1));
  }

  /** Replaces the table by one a node served. */
  void apply(JsonObject table) {
    Map<String, String> nextUrls = new ConcurrentHashMap<>();
    table.getJsonArray("nodes").forEach(n -> {
      JsonObject node = (JsonObject) n;
      nextUrls.put(node.getString("id"), node.getString("url"));
    });
    Map<String, TypeRoutes> next = new ConcurrentHashMap<>();
    JsonObject types = table.getJsonObject("types");
    for (String type : types.fieldNames()) {
      JsonObject t = types.getJsonObject(type);
      Integer count = t.getInteger("numberOfShards");
      if (count == null || count <= 0) {
        continue;
      }
      String[] homes = new String[count];
      t.getJsonArray("shards").forEach(s -> {
        JsonObject shard = (JsonObject) s;
        int n = shard.getInteger("shard");
        if (n >= 0 && n < count) {
          homes[n] = shard.getString("node");
        }
      });
      next.put(type, new TypeRoutes(count, homes));
    }
    urls = nextUrls;
    routes = next;
    tableVersion.set(table.getLong("version", 0L));
    tablesApplied.incrementAndGet();
  }

  // ---------------------------------------------------------------- change feed

  private void openFeed() {
    if (closed) {
      return;
    }
    List<String> candidates = new ArrayList<>(urls.values());
    candidates.removeIf(this::avoided);
    if (candidates.isEmpty()) {
      candidates.addAll(options.getSeeds());
    }
    String url = candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url + "/cluster/routing/feed")
        .putHeader("Accept", "text/event-stream");
    if (options.getBearerToken() != null) {
      request.putHeader("Authorization", "Bearer " + options.getBearerToken());
    }
    feedClient.request(request).compose(r -> r.send()).onComplete(ar -> {
      if (ar.failed() || ar.result().statusCode() != 200) {
        log.debug("routing feed from {} not open: {}", url, ar.failed() ? ar.cause().getMessage() : "HTTP " + ar.result().statusCode());
        reopenFeed();
        return;
      }
      feedUrl = url;
      readFeed(ar.result());
    });
  }

  private void readFeed(HttpClientResponse response) {
    StringBuilder pending = new StringBuilder();
    StringBuilder data = new StringBuilder();
    response.handler(chunk -> {
      pending.append(chunk.toString(java.nio.charset.StandardCharsets.UTF_8));
      int newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        String line = pending.substring(0, newline);
        pending.delete(0, newline + 1);
        if (line.isEmpty()) {
          if (data.length() > 0) {
            try {
              apply(new JsonObject(data.toString()));
            } catch (RuntimeException e) {
              log.warn("routing feed event from {} not understood: {}", feedUrl, e.getMessage());
            }
            data.setLength(0);
          }
        } else if (line.startsWith("data:")) {
          data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
        }
      }
    });
    response.exceptionHandler(err -> log.debug("routing feed from {} failed: {}", feedUrl, err.getMessage()));
    response.endHandler(v -> reopenFeed());
  }

  private void reopenFeed() {
    feedUrl = null;
    if (!closed) {
      vertx.setTimer(FEED_RECONNECT_MS, t -> refresh().onComplete(ar -> openFeed()));
    }
  }

  // ---------------------------------------------------------------- introspection and close

  /** The node the table names for an entity (null if unknown): where the next call for it goes. */
  public String ownerOf(String type, String id) {
    TypeRoutes r = routes.get(type);
    return r == null ? null : r.nodeByShard()[ShardId.of(id, r.numberOfShards())];
  }

  /** The version of the last table applied (as the node that served it numbers them). */
  public long tableVersion() {
    return tableVersion.get();
  }

  /** How many tables have been applied since connect (the first read, refreshes and feed events). */
  public long tablesApplied() {
    return tablesApplied.get();
  }

  public Future<Void> close() {
    closed = true;
    web.close();
    return feedClient.close();
  }
}
