package io.sticky.internal.runtime;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.EntityRef;
import io.sticky.api.EntityReply;
import io.sticky.api.EntityType;
import io.sticky.api.Sticky;
import io.sticky.internal.NodeRuntime;
import io.sticky.internal.Requests;
import io.sticky.api.StickyError;
import io.sticky.api.StickyOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.cluster.NodeDirectory;
import io.sticky.internal.cluster.QuorumGate;
import io.sticky.internal.cluster.Quorum;
import io.sticky.internal.coordinator.CoordinatorSingleton;
import io.sticky.internal.coordinator.LeastShardAllocationStrategy;
import io.sticky.metrics.StickyMetrics;
import io.sticky.internal.region.ShardRegion;
import io.sticky.spi.ShardAllocationStrategy;
import io.sticky.store.StateStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-local sharding runtime: one {@link ShardRegion} per registered type plus the
 * {@link CoordinatorSingleton} watcher. {@link #request} and {@link #tell} hand messages straight to the local
 * region of their type; a plain event-bus message to the type's entry address takes the same route in the
 * region and gets the same answers, one local event-bus hop later.
 */
public final class StickyImpl implements NodeRuntime {
  private static final Logger log = LoggerFactory.getLogger(StickyImpl.class);

  private final Vertx vertx;
  private final StickyOptions options;
  private final ShardAllocationStrategy strategy;
  private final Map<String, EntityType> types = new LinkedHashMap<>();
  private final Map<String, ShardRegion> regions = new LinkedHashMap<>();
  /**
   * The regions that are deployed and so take requests from any thread, by type: replaced, never changed
   * (copy on write), once per type at start-up. A request for a type not in it yet is refused (503, retry).
   */
  private volatile Map<String, ShardRegion> deployedRegions = Map.of();
  private final NodeStores stores = new NodeStores();
  private final List<String> regionDeployments = new ArrayList<>();
  /** sticky_* meters into the Vert.x instance's Micrometer registry; no-ops on a Vert.x without metrics. */
  private final StickyMetrics metrics;
  private final List<Meter> regionMeters = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final NodeAdmin admin;
  private volatile Membership membership;
  private volatile Quorum quorum;
  private volatile NodeDirectory directory;
  private volatile String advertisedHttp;
  /** How long start() waits for the other members to answer this node's quorum pings (normally well under a second). */
  private static final long QUORUM_WAIT_MS = 5_000;
  private volatile CoordinatorSingleton singleton;
  private volatile boolean started;
  private volatile boolean closing;
  /** Set once the regions are being undeployed: from then on requests are refused (503). */
  private volatile boolean stopped;
  private Future<Void> leaving;
  /** Set when a clean leave starts (readiness). */
  private volatile boolean leaveStarted;
  private Context context;

  public StickyImpl(Vertx vertx, StickyOptions options, ShardAllocationStrategy strategy) {
    this.vertx = vertx;
    this.options = new StickyOptions(options);
    this.strategy = strategy != null ? strategy
        : new LeastShardAllocationStrategy(options.getRebalanceAbsoluteLimit(), options.getRebalanceRelativeLimit());
    this.metrics = StickyMetrics.of(vertx);
    this.admin = new NodeAdmin(vertx, () -> membership, this::typeNames, this.options.getCoordinatorTimeoutMs());
  }

  @Override
  public synchronized Sticky registerStore(String name, StateStore store) {
    if (started) {
      throw new IllegalStateException("register stores before start()");
    }
    stores.register(name, store);
    return this;
  }

  /** The store names in use, by type (management and health). */
  public Map<String, String> storesByType() {
    Map<String, String> result = new LinkedHashMap<>();
    regions.forEach((name, region) -> result.put(name, region.storeName()));
    return result;
  }

  @Override
  public Future<Map<String, String>> pingStores(long timeoutMs) {
    return stores.ping(timeoutMs);
  }

  @Override
  public synchronized Sticky register(EntityType type) {
    if (started) {
      throw new IllegalStateException("register entity types before start()");
    }
    if (types.putIfAbsent(type.name(), type) != null) {
      throw new IllegalArgumentException("entity type '" + type.name() + "' is already registered");
    }
    return this;
  }

  @Override
  public synchronized Future<Void> start() {
    if (started) {
      return Future.failedFuture(new IllegalStateException("already started"));
    }
    started = true;
    membership = Membership.of(vertx);
    quorum = new Quorum(vertx, membership, options.getExpectedNodes());
    directory = new NodeDirectory(vertx, membership);
    Map<String, StateStore> typeStores;
    try {
      typeStores = stores.assign(types.values(), options.getDefaultStore(), vertx, membership, quorum, this::numberOfShards, metrics);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    context = vertx.getOrCreateContext();
    Promise<Void> done = Promise.promise();
    stores.startReplicated().compose(v -> directory.publish(advertisedHttp))
        .compose(v -> quorum.start(QUORUM_WAIT_MS))
        .onSuccess(v -> gateHazelcastOnQuorum())
        .onFailure(done::fail)
        .onSuccess(started -> context.runOnContext(v -> {
      singleton = new CoordinatorSingleton(vertx, membership, quorum, strategy, options);
      singleton.start();
      List<Future<?>> registered = new ArrayList<>();
      for (EntityType type : types.values()) {
        ShardRegion region = new ShardRegion(type, options, membership, typeStores.get(type.name()), quorum);
        regions.put(type.name(), region);
        regionMeters.addAll(metrics.region(type.name(), region::stats));
        registered.add(vertx.deployVerticle(region)
            .onSuccess(regionDeployments::add)
            .onSuccess(id -> {
              Map<String, ShardRegion> next = new java.util.HashMap<>(deployedRegions);
              next.put(type.name(), region);
              deployedRegions = Map.copyOf(next);
            })
            .compose(id -> region.registered()));
      }
      Future.all(registered).<Void>mapEmpty().onComplete(done);
    }));
    return done.future();
  }

  /**
   * Hazelcast's split-brain protection follows this node's quorum from the first time it holds it: a joining
   * member owns partitions before its own pings are answered, and refusing their operations until then would
   * stall writes for nothing.
   */
  private void gateHazelcastOnQuorum() {
    if (!membership.clustered()) {
      return;
    }
    if (quorum.held()) {
      QuorumGate.bind(membership.hazelcast(), quorum::held);
    } else {
      quorum.onChange(now -> {
        if (now) {
          QuorumGate.bind(membership.hazelcast(), quorum::held);
        }
      });
    }
  }

  @Override
  public Future<Void> close() {
    if (!started || closing) {
      return Future.succeededFuture();
    }
    closing = true;
    Promise<Void> done = Promise.promise();
    leave().onComplete(left -> context.runOnContext(v -> {
      stopped = true;
      List<Future<?>> stops = new ArrayList<>();
      for (String id : regionDeployments) {
        stops.add(vertx.undeploy(id));
      }
      if (singleton != null) {
        stops.add(singleton.close());
      }
      Future.join(stops).onComplete(ar -> {
        metrics.remove(regionMeters);
        directory.close();
        Future.join(quorum.close(), stores.close()).onComplete(closed -> {
          membership.close();
          done.complete();
        });
      });
    }));
    return done.future();
  }

  /**
   * A clean leave: report not-ready, then ask the coordinator to hand off every shard of this node while the
   * regions keep routing (messages for moving shards wait in the buffers). Gives up after the leave timeout.
   */
  @Override
  public synchronized Future<Void> leave() {
    if (!started) {
      return Future.succeededFuture();
    }
    if (leaving == null) {
      leaveStarted = true;
      Promise<Void> left = Promise.promise();
      leaving = left.future();
      context.runOnContext(v -> doLeave().onComplete(left));
    }
    return leaving;
  }

  private Future<Void> doLeave() {
    regions.values().forEach(ShardRegion::markLeaving);
    quorum.announceLeave();
    if (!membership.clustered() || membership.members().size() < 2 || regions.isEmpty()) {
      return Future.succeededFuture();
    }
    if (!quorum.held()) {
      // Nothing to hand off: without the majority the regions retired their entities and hosted nothing since.
      log.warn("node {} leaves without the cluster's majority: no hand-off", membership.self());
      return Future.succeededFuture();
    }
    return admin.handOffEverything(options.getLeaveTimeoutMs());
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public String nodeId() {
    Membership m = membership;
    return m == null ? null : m.self();
  }

  @Override
  public boolean isReady() {
    if (!started || closing || regions.size() != types.size()) {
      return false;
    }
    for (ShardRegion region : regions.values()) {
      if (!region.isReady()) {
        return false;
      }
    }
    return true;
  }

  /** True once {@link #start()} has been called. */
  public boolean isStarted() {
    return started;
  }

  /** True once a clean leave (or close) has started. */
  public boolean isLeaving() {
    return leaveStarted || closing;
  }

  /**
   * Per type: "registered" once the coordinator acknowledged its region, "registering" before, or
   * "refused: ..." with the coordinator's reason (a shard-count mismatch).
   */
  public Map<String, String> regionStatus() {
    Map<String, String> result = new LinkedHashMap<>();
    for (String type : types.keySet()) {
      ShardRegion region = started ? deployedRegions.get(type) : null;
      String refusal = region == null ? null : region.refusal();
      result.put(type, region != null && region.registered().succeeded() ? "registered"
          : refusal != null ? "refused: " + refusal : "registering");
    }
    return result;
  }

  @Override
  public Set<String> typeNames() {
    return Collections.unmodifiableSet(types.keySet());
  }

  @Override
  public EntityRef entityRef(String typeName, String id) {
    return EntityRef.of(this, typeName, id);
  }

  @Override
  public Future<EntityReply> request(String typeName, String id, String kind, JsonObject message) {
    return request(typeName, id, kind, message, null);
  }

  /** Fails as the event bus would (a {@code ReplyException}): the public API's contract; the gateway gets typed failures. */
  @Override
  public Future<EntityReply> request(String typeName, String id, String kind, JsonObject message, String idempotencyKey) {
    return request(typeName, id, kind, message, false, idempotencyKey).recover(err -> Future.failedFuture(Requests.onTheBus(err)));
  }

  /**
   * The request checked once, here, at the node's edge; failures are typed ({@link EntityException}). With
   * {@code redirect}, a message whose entity lives on another node is not forwarded there but fails with
   * {@link StickyError#REDIRECT} naming that node.
   */
  @Override
  public Future<EntityReply> request(String typeName, String id, String kind, JsonObject message, boolean redirect,
                                     String idempotencyKey) {
    EntityType type = types.get(typeName);
    if (type == null) {
      return Future.failedFuture(new EntityException(StickyError.UNKNOWN_TYPE, "no entity type '" + typeName + "'; known: " + types.keySet()));
    }
    // Counted from here on (an unknown type, above, is not: the label would take any value a caller sends).
    String kindLabel = kind == null || kind.equals(EntityAddress.KIND_ASK) ? EntityAddress.KIND_ASK
        : kind.equals(EntityAddress.KIND_VIEW) ? EntityAddress.KIND_VIEW : "other";
    long start = System.nanoTime();
    EntityException refused = Requests.check(id, kind, message, idempotencyKey);
    if (refused == null && (!started || stopped)) {
      refused = new EntityException(StickyError.UNAVAILABLE, "node is not running");
    }
    ShardRegion region = deployedRegions.get(typeName);
    if (refused == null && region == null) {
      refused = new EntityException(StickyError.UNAVAILABLE, "node is still starting; retry");
    }
    if (refused != null) {
      metrics.request(typeName, kindLabel, refused.error().slug(), System.nanoTime() - start);
      return Future.failedFuture(refused);
    }
    // The caller keeps its object: the entity gets a copy, as an event-bus message would give it.
    Future<EntityReply> reply = region.ask(id, kind, message == null ? null : message.copy(), redirect, idempotencyKey);
    return metrics.enabled()
        ? reply.andThen(ar -> metrics.request(typeName, kindLabel, ar.succeeded() ? "ok" : StickyError.of(ar.cause()).slug(),
            System.nanoTime() - start))
        : reply;
  }

  @Override
  public void tell(String typeName, String id, JsonObject message) {
    ShardRegion region = deployedRegions.get(typeName);
    if (message != null && region != null && EntityAddress.isValidId(id) && started && !stopped) {
      region.tell(id, message.copy());
      metrics.tell(typeName);
    }
  }

  @Override
  public RegionStats stats(String typeName) {
    ShardRegion region = deployedRegions.get(typeName);
    return region == null ? new RegionStats(typeName, 0, 0, 0, 0, 0, 0, 0) : region.stats();
  }

  /**
   * An entity's reminders as the reminder index knows them ({@code {"names":[..],"nextDueAt":ms}}, or null),
   * without activating it (for management).
   */
  public Future<JsonObject> reminders(String typeName, String id) {
    ShardRegion region = deployedRegions.get(typeName);
    return region == null ? Future.failedFuture(StickyError.UNAVAILABLE.exception("node is still starting; retry")) : region.reminders(id);
  }

  @Override
  public Future<Placements> placements(String typeName) {
    return admin.placements(typeName);
  }

  /** The number of shards of a registered type. */
  public int numberOfShards(String typeName) {
    EntityType type = types.get(typeName);
    if (type == null) {
      throw new IllegalArgumentException("unknown type " + typeName);
    }
    return type.numberOfShards();
  }

  @Override
  public boolean runsCoordinator() {
    CoordinatorSingleton s = singleton;
    return s != null && s.isActiveHere();
  }

  @Override
  public QuorumStatus quorum() {
    Quorum q = quorum;
    return q == null ? null : new QuorumStatus(q.held(), q.base().size());
  }

  /** The quorum itself (tests and the node's start-up log). */
  public Quorum quorumTracker() {
    return quorum;
  }

  @Override
  public Future<Set<String>> drainedNodes() {
    return admin.drainedNodes();
  }

  /** The membership this node tracks (null before start). */
  public Membership membership() {
    return membership;
  }

  @Override
  public List<String> members() {
    Membership m = membership;
    return m == null ? List.of() : m.members();
  }

  @Override
  public String memberAddress(String node) {
    Membership m = membership;
    return m == null ? null : m.address(node);
  }

  @Override
  public String coordinatorNode() {
    Membership m = membership;
    return m == null ? null : m.oldest();
  }

  @Override
  public ClusterStatus clusterStatus() {
    return admin.clusterStatus();
  }

  @Override
  public Future<List<JsonObject>> regionStates(List<String> nodes) {
    return admin.regionStates(nodes);
  }

  @Override
  public Future<JsonObject> handOffs() {
    return admin.handOffs();
  }

  @Override
  public Future<JsonObject> drain(String node, boolean drain) {
    return admin.drain(node, drain);
  }

  @Override
  public Future<JsonObject> moveShard(String type, int shard, String to) {
    return admin.moveShard(type, shard, to);
  }

  @Override
  public Future<JsonObject> acceptStateLoss(String type) {
    return admin.acceptStateLoss(type);
  }

  @Override
  public MeterRegistry meterRegistry() {
    return metrics.registry();
  }

  @Override
  public void recordTlsReload(boolean ok) {
    metrics.tlsReload(ok ? "ok" : "failed");
  }

  /**
   * The URL this node's HTTP gateway advertises to clients and other nodes; set before {@link #start()},
   * published to the {@link NodeDirectory} when it starts.
   */
  public void advertiseHttp(String url) {
    this.advertisedHttp = url;
  }

  /** The advertised HTTP URL of a current member, or null (not started, unknown node, or none advertised). */
  public String httpUrl(String node) {
    NodeDirectory d = directory;
    return d == null ? null : d.url(node);
  }

  /** Every current member's advertised HTTP URL, oldest first (empty before start). */
  public Map<String, String> httpUrls() {
    NodeDirectory d = directory;
    return d == null ? Map.of() : d.urls();
  }
}
