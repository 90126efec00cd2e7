package io.sticky.region;

import io.sticky.api.EntityException;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityReply;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.Sticky.RegionStats;
import io.sticky.api.StickyError;
import io.sticky.api.StickyOptions;
import io.sticky.cluster.Membership;
import io.sticky.cluster.Quorum;
import io.sticky.metrics.StickyMetrics;
import io.sticky.protocol.Addresses;
import io.sticky.protocol.Headers;
import io.sticky.protocol.Protocol;
import io.sticky.protocol.Protocol.GetShardHome;
import io.sticky.protocol.Protocol.HandOff;
import io.sticky.protocol.Protocol.HostShard;
import io.sticky.protocol.Protocol.Register;
import io.sticky.protocol.Protocol.ShardHome;
import io.sticky.protocol.Protocol.ShardStopped;
import io.sticky.internal.EntityHost;
import io.sticky.internal.EntityHosts;
import io.sticky.store.StateStore;
import io.sticky.tracing.StickyTracing;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region of one entity type on one node: routes every message for the type and hosts the local shards.
 *
 * <h2>Routing</h2>
 * A message enters through the type's local entry address ({@link EntityAddress#of}) or, from another
 * node's region, through this region's clustered inbox ({@link Addresses#region}). Its shard's home comes
 * from a local cache; an unknown home is asked of the coordinator while messages for the shard wait in a
 * bounded buffer. Home here: deliver to the entity (activating it first). Home elsewhere: one event-bus
 * hop to that node's region, which forwards again only if it knows a newer home than the sender did (it
 * just handed the shard off); a stale route (that node no longer there, or it says it is not the home) is
 * retried a bounded number of times after asking the coordinator again, which is safe because the message
 * was not delivered.
 *
 * <h2>Threading</h2>
 * All fields are confined to this verticle's context; the counters read by {@link #stats()} are atomics.
 * Entities run on their own contexts and reply straight to the message's sender.
 */
public final class ShardRegion extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);
  private static final long SWEEP_INTERVAL_MS = 100;

  private final EntityType type;
  /** The type's options, copied once: {@link EntityType#options()} returns a fresh copy on every call. */
  private final EntityTypeOptions typeOptions;
  /** The type's state store, or null when its state lives only in memory (and travels with hand-offs). */
  private final StateStore store;
  /** Whether this node is on the cluster's majority side: without it, nothing is served (see {@link Quorum}). */
  private final Quorum quorum;
  private final StickyOptions options;
  private final Membership membership;
  private final String self;
  private final int numberOfShards;
  private final StickyTracing tracing;
  private final long maxBackoffMs;
  private final int maxBufferedPerShard;
  private final int mailboxCapacity;

  /** Routing cache: shard -> home as last told by the coordinator. */
  private final Map<Integer, ShardHome> homes = new HashMap<>();
  /** Shards hosted on this node, with their allocation. */
  private final Map<Integer, ShardHome> hosted = new HashMap<>();
  /** Messages waiting for a shard's home, per shard (bounded per shard and in total). */
  private final Map<Integer, ArrayDeque<Envelope>> waiting = new HashMap<>();
  /** Shards with a GetShardHome in flight. */
  private final Set<Integer> resolving = new HashSet<>();
  private final EntityCells cells = new EntityCells();
  /** Messages forwarded to another node and not answered yet, by node: failed at once if that node leaves. */
  private final Map<String, Set<Envelope>> inFlight = new HashMap<>();
  private boolean registering;
  /**
   * Shards this node is handing off (stopping, or stopped and not yet taken by the new home): their messages
   * are buffered, and their home is not asked for, until the hand-off ends or, after a failed one, a
   * ShardHome naming this node (see checkStranded).
   */
  private final Set<Integer> handingOff = new HashSet<>();
  /** Hand-offs of shards away from this node that are running, by shard. */
  private final Map<Integer, OutgoingHandOff> handingOffTo = new HashMap<>();
  /** Serialised states carried over from other nodes by hand-offs, by entity id, until the entity is activated. */
  private final Map<String, String> transferred = new HashMap<>();
  /** Snapshots of shards this node stopped for a hand-off, kept until the next ShardHome says where the shard went. */
  private final Map<Integer, Map<String, String>> stoppedStates = new HashMap<>();
  private volatile boolean leaving;
  private final Promise<Void> registered = Promise.promise();
  private volatile String refusal;

  private final AtomicInteger activeEntities = new AtomicInteger();
  private final AtomicInteger peakActiveEntities = new AtomicInteger();
  private final AtomicLong passivations = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  /** Active entities in recency order, and whom the limit passivates first. */
  private final ActiveEntities active;
  private final long passivateAfterNanos;
  /** False for a type without a store that did not opt in to passivation: the active limit then refuses new entities. */
  private final boolean passivates;
  private long idleTimer = -1;
  /** Remember-entities, when the type asks for it (else null). */
  private RememberedEntities remembered;
  private ReminderIndex reminderIndex;
  /** maxStoredEntities: refuses new entities while the type's stored count is at it. */
  private StoredEntityLimit storedLimit;
  /** Ids being activated by the reminder index: told so, they answer it even when nothing is due. */
  private final Set<String> wokenForReminders = new HashSet<>();
  /** Idle passivations per check, so a mass expiry is spread over several checks (no long event-loop turn). */
  private static final int MAX_IDLE_PASSIVATIONS_PER_CHECK = 500;
  private final AtomicLong activations = new AtomicLong();
  private final AtomicInteger hostedShards = new AtomicInteger();
  private final AtomicInteger buffered = new AtomicInteger();
  /** The buffered messages' {@link Envelope#bufferBytes()}: bounded by maxBufferedBytesPerRegion. */
  private final java.util.concurrent.atomic.AtomicLong bufferedBytes = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean ready;
  private boolean closing;

  /** Event-loop contexts the entities run on (by id hash): entities are hosted, not deployed one by one. */
  private final List<Context> entityContexts = new ArrayList<>();
  private EventBus eventBus;
  private MessageConsumer<Object> entry;
  private MessageConsumer<Object> inbox;
  private long sweepTimer = -1;
  private Runnable unsubscribe;

  public ShardRegion(EntityType type, StickyOptions options, Membership membership, StateStore store, Quorum quorum) {
    this.type = type;
    this.quorum = quorum;
    this.typeOptions = type.options();
    this.store = store;
    this.options = options;
    this.membership = membership;
    this.self = membership.self();
    this.numberOfShards = type.numberOfShards();
    this.tracing = StickyTracing.of(options.getOpenTelemetry());
    this.maxBackoffMs = options.getRetryBackoffMs() * 10;
    this.maxBufferedPerShard = typeOptions.getMaxBufferedPerShard();
    this.mailboxCapacity = typeOptions.getMailboxCapacity();
    this.active = ActiveEntities.create(typeOptions.getPassivationPolicy(), typeOptions.getMaxActiveEntities());
    // Passivating an entity of a type without a store would drop its state: only if the type says so.
    this.passivates = store != null || typeOptions.isPassivateWithoutStore();
    this.passivateAfterNanos = passivates ? typeOptions.getPassivateAfterMs() * 1_000_000L : 0;
  }

  @Override
  public Future<?> start() {
    eventBus = vertx.eventBus();
    // One context per event loop, so a type's entities use every core; each entity stays on one of them.
    int loops = Math.max(1, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
    for (int i = 0; i < loops; i++) {
      entityContexts.add(((VertxInternal) vertx).createEventLoopContext());
    }
    if (passivateAfterNanos > 0) {
      long every = Math.max(50, Math.min(1_000, typeOptions.getPassivateAfterMs() / 4));
      idleTimer = vertx.setPeriodic(every, t -> passivateIdle());
    }
    if (typeOptions.isRememberEntities()) {
      remembered = new RememberedEntities(vertx, membership.hazelcast(), type.name(),
          typeOptions.getRememberActivationsPerSecond(), this::wake);
      remembered.start();
    }
    reminderIndex = new ReminderIndex(vertx, context, membership.hazelcast(), type.name(),
        typeOptions.getReminderActivationsPerSecond(), this::wakeForReminder);
    reminderIndex.start();
    storedLimit = new StoredEntityLimit(vertx, type.name(), store, typeOptions.getMaxStoredEntities(), typeOptions.getStoredEntitiesCheckMs());
    storedLimit.start();
    entry = eventBus.localConsumer(EntityAddress.of(type.name()), this::onEntry);
    inbox = eventBus.consumer(Addresses.region(type.name(), self), this::onInbox);
    unsubscribe = membership.subscribe(vertx, this::onMembershipChange);
    Context regionContext = context;
    quorum.onChange(held -> regionContext.runOnContext(v -> {
      if (!held) {
        onQuorumLost();
      } else {
        register();
      }
    }));
    register();
    return Future.all(entry.completion(), inbox.completion());
  }

  /** Completes once the coordinator has acknowledged this region. */
  public Future<Void> registered() {
    return registered.future();
  }

  /** Why the coordinator refuses this region (e.g. a different number of shards than the cluster's), or null. */
  public String refusal() {
    return refusal;
  }

  /** The coordinator answers 400 to a region it will not take (a shard-count mismatch): kept for readiness and 503s. */
  private void noteRefusal(Throwable err) {
    if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE && re.failureCode() == 400) {
      refusal = re.getMessage();
    }
  }

  public boolean isReady() {
    return ready && !closing && !leaving;
  }

  /** Marks the node as leaving: it reports not-ready but keeps routing while its shards are handed off. */
  public void markLeaving() {
    leaving = true;
  }

  /** The name of the type's state store, or "none". */
  public String storeName() {
    return store == null ? "none" : store.name();
  }

  public RegionStats stats() {
    return new RegionStats(type.name(), activeEntities.get(), activations.get(), hostedShards.get(), buffered.get(),
        passivations.get(), evictions.get(), peakActiveEntities.get());
  }

  @Override
  public Future<?> stop() {
    closing = true;
    ready = false;
    if (unsubscribe != null) {
      unsubscribe.run();
    }
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
    }
    if (remembered != null) {
      remembered.stop();
    }
    if (reminderIndex != null) {
      reminderIndex.stop();
    }
    if (storedLimit != null) {
      storedLimit.stop();
    }
    for (ArrayDeque<Envelope> queue : waiting.values()) {
      queue.forEach(this::failStopping);
    }
    waiting.clear();
    buffered.set(0);
    registering = false;
    // Entities are not deployments: stop each (they refuse queued messages and write unsaved state), a
    // batch at a time, so a node with many entities does not send the store all their writes at once.
    List<EntityCell> active = new ArrayList<>();
    for (EntityCell cell : cells.all()) {
      if (cell.lifecycle == EntityLifecycle.ACTIVE) {
        cell.moveTo(EntityLifecycle.STOPPING);
        active.add(cell);
      }
    }
    return Future.join(shutdownInBatches(active, 0), entry.unregister(), inbox.unregister());
  }

  /** Entities stopped together at node shutdown, at most. */
  private static final int SHUTDOWN_BATCH = 256;

  private Future<Void> shutdownInBatches(List<EntityCell> cells, int from) {
    if (from >= cells.size()) {
      return Future.succeededFuture();
    }
    List<Future<?>> batch = new ArrayList<>();
    for (int i = from; i < Math.min(cells.size(), from + SHUTDOWN_BATCH); i++) {
      batch.add(cells.get(i).entity.shutdown());
    }
    return Future.join(batch).transform(ar -> shutdownInBatches(cells, from + SHUTDOWN_BATCH));
  }

  // ---------------------------------------------------------------- registration

  /** Starts the registration loop unless one is running. */
  private void register() {
    if (!registering) {
      registering = true;
      register(0);
    }
  }

  private void register(int attempt) {
    if (closing) {
      registering = false;
      return;
    }
    Register msg = new Register(type.name(), self, numberOfShards, options.isProxyOnly());
    eventBus.request(Addresses.COORDINATOR, Protocol.encode(msg), coordinatorOptions())
        .onSuccess(reply -> {
          registering = false;
          ready = true;
          refusal = null;
          registered.tryComplete();
        })
        .onFailure(err -> {
          noteRefusal(err);
          if (attempt > 0 && attempt % 20 == 0) {
            log.warn("region {} still not registered with the coordinator after {} attempts: {}", type.name(), attempt, err.getMessage());
          }
          vertx.setTimer(backoff(attempt), t -> register(attempt + 1));
        });
  }

  /**
   * This node lost the cluster's majority: the majority will give its shards to other nodes, so nothing here
   * may serve or write any more. Every entity is retired without writing (as after a conflict), what waited
   * is answered 503, and the region forgets what it hosted: after the majority is back it hosts only what the
   * coordinator gives it again.
   */
  private void onQuorumLost() {
    log.warn("{}: no majority; retiring {} entities of {} shard(s) without writing", type.name(), cells.size(), hosted.size());
    for (EntityCell cell : new ArrayList<>(cells.all())) {
      cell.entity.fenceOff("node " + self + " lost the cluster's majority");
    }
    hosted.clear();
    homes.clear();
    hostedShards.set(0);
    transferred.clear();
    stoppedStates.clear();
    for (Integer shard : new ArrayList<>(waiting.keySet())) {
      drainWaiting(shard, this::route); // answered 503 by route()
    }
  }

  private void onMembershipChange(Membership.Change change) {
    for (String gone : change.removed()) {
      homes.values().removeIf(home -> home.node().equals(gone));
      // Messages already sent there will never be answered: say so now rather than at their timeout.
      Set<Envelope> lost = inFlight.remove(gone);
      if (lost != null) {
        lost.forEach(env -> env.failRouting(StickyError.TIMEOUT,
            "node " + gone + " left while the message was in flight; outcome unknown"));
      }
    }
    // The coordinator may have moved (or a new one may have started): make sure it knows this region.
    register();
    if (!change.removed().isEmpty()) {
      vertx.setTimer(REVIVE_DELAY_MS, t -> reviveReminderShards());
    }
  }

  /** Lets the coordinator see the membership change before shards are asked for again. */
  private static final long REVIVE_DELAY_MS = 1_000;

  /**
   * A dead node's shards wait unallocated for their next message; a shard with reminders may get none. Every
   * region asks the coordinator for the home of each such shard it has no live home for: the one it is
   * allocated to (which learns it from the answer, allocations being lazy) hosts it and reads the reminders.
   */
  private void reviveReminderShards() {
    if (closing) {
      return;
    }
    reminderIndex.shards().onSuccess(shards -> {
      for (int shard : shards) {
        ShardHome home = homes.get(shard);
        if ((home == null || !membership.isMember(home.node())) && !hosted.containsKey(shard) && resolving.add(shard)) {
          resolveHome(shard, 0);
        }
      }
    }).onFailure(err -> log.warn("could not list the shards of {} with reminders: {}", type.name(), err.getMessage()));
  }

  // ---------------------------------------------------------------- entry points

  /** A message from a caller on this node. */
  private void onEntry(Message<Object> msg) {
    MultiMap headers = msg.headers();
    String id = headers.get(EntityAddress.ID_HEADER);
    if (!EntityAddress.isValidId(id)) {
      Envelope.failUnrouted(msg, StickyError.INVALID_ID, EntityAddress.INVALID_ID_DETAIL);
      return;
    }
    String kind = headers.get(EntityAddress.KIND_HEADER);
    kind = kind == null ? EntityAddress.KIND_ASK : kind;
    String bad = badMessage(kind, msg.body());
    String key = headers.get(EntityAddress.IDEMPOTENCY_KEY_HEADER);
    if (bad == null && key != null && !EntityAddress.isValidIdempotencyKey(key)) {
      bad = EntityAddress.INVALID_IDEMPOTENCY_KEY_DETAIL;
    }
    if (bad != null) {
      Envelope.failUnrouted(msg, StickyError.BAD_REQUEST, bad);
      return;
    }
    JsonObject body = EntityAddress.KIND_VIEW.equals(kind) ? null : (JsonObject) msg.body();
    long timeout = type.askTimeoutMs();
    String requested = headers.get(EntityAddress.TIMEOUT_HEADER);
    if (requested != null) {
      try {
        timeout = Math.max(1, Math.min(timeout, Long.parseLong(requested)));
      } catch (NumberFormatException ignored) {
        // keep the type's default
      }
    }
    route(new Envelope(id, ShardId.of(id, numberOfShards), kind, body, msg, timeout, false, 0, self)
        .traced(tracing, tracing.fromHeaders(headers)));
  }

  /** Why a message of this kind and body cannot go to an entity, or null if it can. */
  private static String badMessage(String kind, Object body) {
    if (EntityAddress.KIND_VIEW.equals(kind) || EntityAddress.KIND_ASK.equals(kind) && body instanceof JsonObject) {
      return null;
    }
    return EntityAddress.KIND_ASK.equals(kind) ? "message body must be a JSON object" : "unknown message kind: " + kind;
  }

  /**
   * A request through this node's own API ({@code Sticky.request}, the REST gateway): routed exactly like a
   * message on the entry address, minus the local event-bus hop (no headers, no reply registration). Callable
   * from any thread. The future completes on the caller's context with the reply, or with the same
   * {@link ReplyException} the event bus would deliver; {@code callerTimeoutMs} bounds the wait whatever
   * happens inside (the region's own deadline is the type's ask timeout).
   */
  public Future<EntityReply> ask(String id, String kind, JsonObject body, long callerTimeoutMs, boolean redirect,
                                 String idempotencyKey) {
    ContextInternal caller = ((VertxInternal) vertx).getOrCreateContext();
    Promise<EntityReply> reply = caller.promise();
    String k = kind == null ? EntityAddress.KIND_ASK : kind;
    String bad = !EntityAddress.isValidId(id) ? EntityAddress.INVALID_ID_DETAIL
        : idempotencyKey != null && !EntityAddress.isValidIdempotencyKey(idempotencyKey) ? EntityAddress.INVALID_IDEMPOTENCY_KEY_DETAIL
        : badMessage(k, body);
    if (bad != null) {
      reply.fail(StickyError.BAD_REQUEST.exception(bad));
      return reply.future();
    }
    Envelope env = new Envelope(id, ShardId.of(id, numberOfShards), k, EntityAddress.KIND_VIEW.equals(k) ? null : body,
        reply, typeOptions.getAskTimeoutMs(), self, redirect, idempotencyKey).traced(tracing, tracing.caller());
    // Scheduled and cancelled on the caller's event loop: a plain Netty task, cheaper than a Vert.x timer
    // (no timer id, no shared timer map), which counts at one per request.
    ScheduledFuture<?> deadline = caller.nettyEventLoop().schedule(() -> env.fail(StickyError.TIMEOUT,
        "no reply within " + callerTimeoutMs + " ms; outcome unknown", null), callerTimeoutMs, TimeUnit.MILLISECONDS);
    reply.future().onComplete(ar -> deadline.cancel(false));
    onRegionContext(env);
    return reply.future();
  }

  /** A one-way message through this node's own API: routed like {@link #ask}, never answered. */
  public void tell(String id, JsonObject body) {
    onRegionContext(new Envelope(id, ShardId.of(id, numberOfShards), EntityAddress.KIND_ASK, body, null,
        typeOptions.getAskTimeoutMs(), self, false, null).traced(tracing, tracing.caller()));
  }

  private void onRegionContext(Envelope env) {
    if (Vertx.currentContext() == context) {
      route(env);
    } else {
      context.runOnContext(v -> route(env));
    }
  }

  /** A message routed here by another node's region, or a control message from the coordinator. */
  private void onInbox(Message<Object> msg) {
    MultiMap headers = msg.headers();
    if (headers.contains(Headers.CONTROL)) {
      onControl(msg);
      return;
    }
    String id = headers.get(EntityAddress.ID_HEADER);
    String kind = headers.get(EntityAddress.KIND_HEADER);
    if (!EntityAddress.isValidId(id) || kind == null) {
      Envelope.failUnrouted(msg, StickyError.BAD_REQUEST, "malformed region message");
      return;
    }
    int shard = ShardId.of(id, numberOfShards);
    if (parseLong(headers.get(Headers.SHARD)) != shard) {
      Envelope.failUnrouted(msg, StickyError.ENTITY_FAILED, "nodes disagree on the number of shards of " + type.name()
          + " (this node: " + numberOfShards + "); every node must register the type with the same number");
      return;
    }
    long epoch = parseLong(headers.get(Headers.EPOCH));
    long timeout = Math.max(1, parseLong(headers.get(EntityAddress.TIMEOUT_HEADER)));
    JsonObject body = msg.body() instanceof JsonObject json ? json : null;
    route(new Envelope(id, shard, kind, body, msg, timeout, true, epoch, self).traced(tracing, tracing.fromHeaders(headers)));
  }

  // ---------------------------------------------------------------- routing

  private void route(Envelope env) {
    if (closing) {
      failStopping(env);
      return;
    }
    if (!quorum.held()) {
      env.failRouting(StickyError.UNAVAILABLE, "node " + self + " cannot reach a majority of the cluster (network partition or"
          + " pause), so it serves no entity; not applied, retry through another node");
      return;
    }
    if (handingOff.contains(env.shard)) {
      await(env);
      return;
    }
    ShardHome home = hosted.get(env.shard);
    if (home == null) {
      home = homes.get(env.shard);
    }
    if (home == null) {
      await(env);
    } else if (home.node().equals(self)) {
      deliverLocally(env);
    } else if (!membership.isMember(home.node())) {
      homes.remove(env.shard);
      await(env);
    } else if (env.fromRemote) {
      if (env.senderEpoch > home.epoch()) {
        // The sender was told of a newer allocation than ours: our cache is stale, ask again.
        homes.remove(env.shard);
        await(env);
      } else if (env.senderEpoch < home.epoch()) {
        // We know a newer home than the sender did (typically: we handed the shard there and the sender has
        // not heard yet). Passed on rather than bounced, so the sender does not pause. Each such hop needs
        // strictly newer knowledge, and epochs only grow, so it cannot loop.
        forward(env, home);
      } else {
        log.debug("wrong home for {}/{}: hosted by {} at epoch {}, sender thought epoch {}", type.name(), env.id, home.node(), home.epoch(), env.senderEpoch);
        env.failRouting(StickyError.WRONG_HOME, "shard " + env.shard + " of " + type.name() + " is hosted by " + home.node());
      }
    } else if (env.redirect) {
      env.fail(StickyError.REDIRECT, "shard " + env.shard + " of " + type.name() + " lives on node " + home.node(), home.node());
    } else {
      forward(env, home);
    }
  }

  /**
   * A message this stopping node will not deliver. Its own callers get 503 (retry); another region's message
   * is answered wrong-home, so that region routes it again (it was not delivered) instead of failing its
   * caller: typically one the old home forwarded here just before this node crashed or left.
   */
  private void failStopping(Envelope env) {
    if (env.fromRemote) {
      env.failRouting(StickyError.WRONG_HOME, "node " + self + " is stopping; route again");
    } else {
      env.failRouting(StickyError.UNAVAILABLE, "node is stopping; retry");
    }
  }

  /** Buffers a message until its shard's home is known; bounded per shard and per region. */
  private void await(Envelope env) {
    if (env.expired()) {
      log.debug("{}/{} (shard {}, remote={}, attempts={}) expired before its shard home was known",
          type.name(), env.id, env.shard, env.fromRemote, env.attempts);
      env.failRouting(StickyError.UNAVAILABLE, "shard " + env.shard + " of " + type.name() + " has no known home yet; retry");
      return;
    }
    ArrayDeque<Envelope> queue = waiting.computeIfAbsent(env.shard, s -> new ArrayDeque<>());
    if (queue.size() >= maxBufferedPerShard || buffered.get() >= options.getMaxBufferedPerRegion()
        || bufferedBytes.get() + env.bufferBytes() > options.getMaxBufferedBytesPerRegion()) {
      if (queue.isEmpty()) {
        waiting.remove(env.shard);
      }
      env.failRouting(StickyError.UNAVAILABLE, "too many messages waiting for shard homes of " + type.name() + "; retry");
      return;
    }
    queue.add(env);
    countBuffered(env, 1);
    ensureSweeping();
    if (!handingOff.contains(env.shard) && resolving.add(env.shard)) {
      resolveHome(env.shard, 0);
    }
  }

  private void resolveHome(int shard, int attempt) {
    if (closing) {
      return;
    }
    GetShardHome ask = new GetShardHome(type.name(), shard, self, numberOfShards, options.isProxyOnly());
    log.debug("asking the coordinator for the home of {}/{} (attempt {})", type.name(), shard, attempt);
    eventBus.<JsonObject>request(Addresses.COORDINATOR, Protocol.encode(ask), coordinatorOptions())
        .onSuccess(reply -> {
          ShardHome home = Protocol.decode(reply.body(), ShardHome.class);
          log.debug("home of {}/{} is {} at epoch {}", type.name(), shard, home.node(), home.epoch());
          if (handingOff.contains(shard)) {
            // We are handing it off: its end (or a ShardHome after a failed one) says where it goes.
            resolving.remove(shard);
            return;
          }
          if (!membership.isMember(home.node())) {
            // Our view of the cluster is ahead of the coordinator's: ask again shortly, not in a tight loop.
            vertx.setTimer(backoff(attempt), t -> resolveHome(shard, attempt + 1));
            return;
          }
          onShardHome(home);
        })
        .onFailure(err -> {
          noteRefusal(err);
          if (!waiting.containsKey(shard)) {
            log.debug("home of {}/{} not resolved ({}) and nothing waits for it", type.name(), shard, err.getMessage());
            resolving.remove(shard);
            return;
          }
          log.debug("shard home of {}/{} not resolved yet (attempt {}): {}", type.name(), shard, attempt, err.getMessage());
          vertx.setTimer(backoff(attempt), t -> resolveHome(shard, attempt + 1));
        });
  }

  private void onShardHome(ShardHome home) {
    resolving.remove(home.shard());
    ShardHome known = homes.get(home.shard());
    if (known != null && known.epoch() > home.epoch()) {
      // Older than what we know (e.g. an answer asked for before a hand-off that has happened since): never
      // acted on, above all not to host the shard here again. What waits goes by the newer home.
      drainWaiting(home.shard(), this::route);
      return;
    }
    homes.put(home.shard(), home);
    Map<String, String> stopped = stoppedStates.remove(home.shard());
    if (home.node().equals(self)) {
      if (stopped != null) {
        // an abandoned hand-off: the shard stays here, its entities resume from their snapshots
        transferred.putAll(stopped);
      }
      ShardHome before = hosted.put(home.shard(), home);
      if (store != null && (before == null || before.epoch() != home.epoch())) {
        store.hosting(type.name(), home.shard(), home.epoch());
      }
      if (before == null) {
        hostedShards.incrementAndGet();
        if (remembered != null) {
          remembered.hosting(home.shard());
        }
        reminderIndex.hosting(home.shard());
      }
    } else if (hosted.remove(home.shard()) != null) {
      hostedShards.decrementAndGet();
      reminderIndex.leaving(home.shard());
    }
    drainWaiting(home.shard(), this::route);
  }

  /** Takes every message waiting for {@code shard} out of its buffer, in order, and hands each to {@code next}. */
  private void drainWaiting(int shard, Consumer<Envelope> next) {
    ArrayDeque<Envelope> queue = waiting.remove(shard);
    if (queue != null) {
      queue.forEach(env -> countBuffered(env, -1));
      queue.forEach(next);
    }
  }

  /** Messages and bytes in this region's buffers. */
  private void countBuffered(Envelope env, int sign) {
    buffered.addAndGet(sign);
    bufferedBytes.addAndGet((long) sign * env.bufferBytes());
  }

  /** Starts the periodic sweep of buffered messages if it is not running. */
  private void ensureSweeping() {
    if (sweepTimer < 0) {
      sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, t -> sweep());
    }
  }

  /** Fails buffered messages whose deadline has passed; stops itself when nothing waits. */
  private void sweep() {
    for (Iterator<ArrayDeque<Envelope>> it = waiting.values().iterator(); it.hasNext(); ) {
      ArrayDeque<Envelope> queue = it.next();
      while (!queue.isEmpty() && queue.peek().expired()) {
        Envelope env = queue.poll();
        countBuffered(env, -1);
        String why = refusal;
        env.failRouting(StickyError.UNAVAILABLE, why != null ? "the coordinator refuses this node's " + type.name() + ": " + why
            : "shard " + env.shard + " of " + type.name() + " has no reachable home yet (being handed off, or the coordinator did not answer in time); retry");
      }
      if (queue.isEmpty()) {
        it.remove();
      }
    }
    if (waiting.isEmpty()) {
      vertx.cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  /** One hop to the region that hosts the shard. */
  private void forward(Envelope env, ShardHome home) {
    long remaining = env.remainingMs();
    if (remaining <= 0) {
      env.failRouting(StickyError.UNAVAILABLE, "ask timed out before it could be delivered (not applied); retry");
      return;
    }
    // The remote side gets a little less time, so its own answer (e.g. 503) arrives before our timeout.
    long remoteTimeout = Math.max(1, remaining - Math.min(100, remaining / 10));
    DeliveryOptions opts = new DeliveryOptions()
        .setSendTimeout(remaining)
        .addHeader(EntityAddress.ID_HEADER, env.id)
        .addHeader(EntityAddress.KIND_HEADER, env.kind)
        .addHeader(EntityAddress.TIMEOUT_HEADER, Long.toString(remoteTimeout))
        .addHeader(Headers.SHARD, Integer.toString(env.shard))
        .addHeader(Headers.EPOCH, Long.toString(home.epoch()));
    if (env.idempotencyKey != null) {
      opts.addHeader(EntityAddress.IDEMPOTENCY_KEY_HEADER, env.idempotencyKey);
    }
    env.forwarding(type.name(), opts);
    Set<Envelope> pendingOnNode = inFlight.computeIfAbsent(home.node(), n -> new HashSet<>());
    pendingOnNode.add(env);
    eventBus.<JsonObject>request(Addresses.region(type.name(), home.node()), env.body, opts).onComplete(ar -> {
      pendingOnNode.remove(env);
      if (pendingOnNode.isEmpty()) {
        inFlight.remove(home.node(), pendingOnNode);
      }
      if (ar.succeeded()) {
        MultiMap replyHeaders = ar.result().headers();
        String node = replyHeaders.get(EntityAddress.NODE_HEADER);
        env.reply(ar.result().body(), node != null ? node : home.node(), replyHeaders.contains(EntityAddress.REPLAYED_HEADER));
        return;
      }
      ReplyException failure = ar.cause() instanceof ReplyException re ? re
          : new ReplyException(ReplyFailure.ERROR, StickyError.ENTITY_FAILED.code(), ar.cause().getMessage());
      if (failure.failureType() == ReplyFailure.TIMEOUT) {
        env.failRouting(StickyError.TIMEOUT, "no reply from node " + home.node() + " within " + remaining + " ms; outcome unknown");
      } else if (failure.failureType() == ReplyFailure.NO_HANDLERS || failure.failureCode() == StickyError.WRONG_HOME.code()) {
        // Not delivered: the node has gone or no longer hosts the shard. Safe to route again.
        if (homes.get(env.shard) == home) {
          homes.remove(env.shard);
        }
        log.debug("{} for shard {} of {} on {}: routing again", failure.failureType(), env.shard, type.name(), home.node());
        retry(env, failure.getMessage());
      } else {
        env.relay(failure);
      }
    });
  }

  private void retry(Envelope env, String reason) {
    env.attempts++;
    if (env.attempts >= options.getMaxRouteAttempts() || env.expired()) {
      env.failRouting(StickyError.UNAVAILABLE, "could not reach the home of shard " + env.shard + " of " + type.name()
          + " after " + env.attempts + " attempts (" + reason + "); retry");
      return;
    }
    vertx.setTimer(backoff(env.attempts - 1), t -> route(env));
  }

  // ---------------------------------------------------------------- hosting

  private void deliverLocally(Envelope env) {
    env.handling(type.name());
    EntityCell cell = cells.get(env.id);
    if (cell == null) {
      activate(env.id, env.shard, env); // delivers env itself, or fails it
      return;
    }
    if (cell.passivating) {
      // Stopping to make room or because it was idle: the message waits for the next instance.
      queueFor(cell, env);
      return;
    }
    active.touch(cell, System.nanoTime());
    switch (cell.lifecycle) {
      case ACTIVE -> cell.entity.deliver(env);
      case ACTIVATING -> queueFor(cell, env);
      default -> env.fail(StickyError.UNAVAILABLE, type.name() + "/" + env.id + " is stopping; retry");
    }
  }

  private void queueFor(EntityCell cell, Envelope env) {
    if (cell.pending.size() >= mailboxCapacity) {
      env.fail(StickyError.UNAVAILABLE, "mailbox of " + type.name() + "/" + env.id + " is full; retry");
    } else {
      cell.pending.add(env);
    }
  }

  /** Activates an entity without a message (remembered, or a reminder is due), unless it is active already or its shard left. */
  private void wake(String id, int shard) {
    if (!closing && hosted.containsKey(shard) && !handingOff.contains(shard) && !cells.containsKey(id)) {
      activate(id, shard, null);
    }
  }

  /**
   * An entity's reminders as the index knows them, without activating it: {@code {"names":[..],"nextDueAt":ms}},
   * or null if it has none. Thread-safe.
   */
  public Future<JsonObject> reminders(String id) {
    return reminderIndex.lookup(id, ShardId.of(id, numberOfShards));
  }

  /** Activates an entity whose reminder is due; true if it is active already (it delivers its reminders itself). */
  private boolean wakeForReminder(String id, int shard) {
    if (cells.containsKey(id)) {
      return true;
    }
    wokenForReminders.add(id);
    wake(id, shard);
    wokenForReminders.remove(id);
    return false;
  }

  /** Starts an instance of {@code id}; {@code first} (may be null) is the message that asked for it. */
  private void activate(String id, int shard, Envelope first) {
    if (!passivates && active.size() >= typeOptions.getMaxActiveEntities()) {
      if (first != null) {
        first.fail(StickyError.UNAVAILABLE, type.name() + " has " + active.size() + " active entities on this node, its limit, and keeps"
            + " state only in memory (store none, passivateWithoutStore false), so none is passivated to make room; retry later");
      }
      return;
    }
    EntityHost entity;
    EntityCell cell;
    try {
      entity = EntityHosts.of(type.newEntity());
      entity.bind(type.name(), id, typeOptions);
      String carried = transferred.remove(id);
      if (carried != null) {
        entity.restoreFrom(carried);
      }
      cell = new EntityCell(id, shard, entity);
      ShardHome home = hosted.get(shard);
      entity.attachStore(store, home == null ? 0 : home.epoch(), () -> context.runOnContext(v -> retire(cell)));
      entity.refuseCreationWhen(() -> storedLimit.refusal(id));
      ReminderIndex index = reminderIndex;
      entity.attachReminderIndex((due, names) -> index.update(id, shard, due, names), wokenForReminders.contains(id));
    } catch (RuntimeException e) {
      log.error("cannot create entity {}/{}", type.name(), id, e);
      if (first != null) {
        first.fail(StickyError.ENTITY_FAILED, "entity " + type.name() + "/" + id + " could not be created");
      }
      return;
    }
    cells.put(cell);
    List<ActiveEntities.Entry> victims = active.add(cell, System.nanoTime());
    // the victims are no longer tracked (the policy dropped them), so they leave the count as this one joins
    peakActiveEntities.accumulateAndGet(activeEntities.addAndGet(1 - victims.size()), Math::max);
    for (ActiveEntities.Entry victim : victims) {
      evictions.incrementAndGet();
      passivate((EntityCell) victim);
    }
    Context on = entityContexts.get(Math.floorMod(id.hashCode(), entityContexts.size()));
    // Counted on the entity's context before its first reply, so a caller who got that reply sees it counted.
    entity.activate(vertx, on, first, activations::incrementAndGet).onComplete(ar -> {
      if (ar.succeeded()) {
        cell.moveTo(EntityLifecycle.ACTIVE);
        if (remembered != null) {
          remembered.activated(cell.shard, cell.id);
        }
        log.debug("activated {}/{} on {} (shard {})", type.name(), cell.id, self, cell.shard);
        // `first` is in the entity's mailbox already; these came after it
        while (!cell.pending.isEmpty()) {
          entity.deliver(cell.pending.poll());
        }
        // Last: a hand-off waiting on this activation must see the cell ACTIVE, with its queued messages
        // already in the entity's mailbox, or it would skip the entity and lose its state.
        cell.activation.complete();
      } else {
        untrack(cell);
        markStopped(cell);
        // A store that could not load is reported as such (not applied, retry); anything else is a bug.
        StickyError error = ar.cause() instanceof EntityException ee ? ee.error() : StickyError.ENTITY_FAILED;
        String detail = ar.cause() instanceof EntityException ee ? ee.getMessage()
            : "activation of " + type.name() + "/" + cell.id + " failed";
        if (error == StickyError.ENTITY_FAILED) {
          log.error("activation of {}/{} failed", type.name(), cell.id, ar.cause());
        } else {
          log.warn("activation of {}/{} failed: {}", type.name(), cell.id, detail);
        }
        if (first != null) {
          first.fail(error, detail);
        }
        while (!cell.pending.isEmpty()) {
          cell.pending.poll().fail(error, detail);
        }
        cell.activation.complete();
      }
    });
  }

  /**
   * Stops an instance that fenced itself off after a failed or conflicting write. The messages it had queued
   * are routed again once it is gone, so they reach a fresh instance that loads the stored state.
   */
  private void retire(EntityCell cell) {
    if (cells.get(cell.id) == cell && cell.lifecycle == EntityLifecycle.ACTIVATING) {
      // Fenced by its very first message, which runs before the region hears the activation is over.
      cell.activation.future().onComplete(v -> retire(cell));
      return;
    }
    if (cells.get(cell.id) != cell || cell.lifecycle != EntityLifecycle.ACTIVE) {
      return; // already stopping for a hand-off or shutdown, which hands its messages on too
    }
    untrack(cell);
    cell.moveTo(EntityLifecycle.STOPPING);
    cell.entity.stopForHandOff().onComplete(stopped -> {
      markStopped(cell);
      if (stopped.succeeded()) {
        stopped.result().unprocessed().forEach(d -> route((Envelope) d));
      }
      cell.pending.forEach(this::route);
      cell.pending.clear();
    });
  }

  /** No longer counted as active (stopping, stopped, or failed to start). */
  private void untrack(EntityCell cell) {
    if (active.isTracked(cell)) {
      active.remove(cell);
      activeEntities.decrementAndGet();
    }
  }

  /** The instance is gone: a new message starts a new one. */
  private void markStopped(EntityCell cell) {
    cells.remove(cell);
    cell.moveTo(EntityLifecycle.STOPPED);
    cell.stopped.tryComplete();
  }

  /** Passivates every entity idle for longer than the type's passivateAfterMs (a bounded number per check). */
  private void passivateIdle() {
    List<ActiveEntities.Entry> idle = active.idle(System.nanoTime() - passivateAfterNanos, MAX_IDLE_PASSIVATIONS_PER_CHECK);
    for (ActiveEntities.Entry e : idle) {
      EntityCell cell = (EntityCell) e;
      untrack(cell);
      passivate(cell);
    }
  }

  /**
   * Stops an entity that is no longer tracked as active (idle, or chosen by the limit): it finishes its current
   * message and writes its state per its policy. Messages it had queued, and those that arrived meanwhile,
   * then go to a new instance, which starts from the state just stopped (carried over, not re-read).
   */
  private void passivate(EntityCell cell) {
    if (cell.passivating) {
      return;
    }
    cell.passivating = true;
    passivations.incrementAndGet();
    if (remembered != null) {
      remembered.passivated(cell.shard, cell.id);
    }
    cell.activation.future().onComplete(ignored -> {
      if (cell.lifecycle != EntityLifecycle.ACTIVE) {
        return; // failed to start: its messages were answered
      }
      cell.moveTo(EntityLifecycle.STOPPING);
      cell.entity.stopForHandOff().onComplete(ar -> {
        List<Envelope> again = new ArrayList<>();
        if (ar.succeeded()) {
          ar.result().unprocessed().forEach(d -> again.add((Envelope) d));
          EntityHost.Stopped stopped = ar.result();
          if (stopped.state() != null && (!again.isEmpty() || !cell.pending.isEmpty() || stopped.unsaved())) {
            // Kept for the next instance: it is about to start, or the store did not take the final write
            // (then the next instance writes it; until then it stays in memory rather than being lost).
            transferred.put(cell.id, stopped.state());
            if (stopped.unsaved()) {
              log.warn("{}/{} passivated but its state store did not take its final write; kept in memory", type.name(), cell.id);
            }
          }
        }
        // Only now: a hand-off waiting for this cell then finds its state in `transferred`.
        markStopped(cell);
        again.addAll(cell.pending);
        cell.pending.clear();
        log.debug("passivated {}/{} on {}; {} message(s) waiting for its next instance", type.name(), cell.id, self, again.size());
        again.forEach(this::route);
      });
    });
  }

  // ---------------------------------------------------------------- hand-off (coordinator's control messages)

  private void onControl(Message<Object> msg) {
    String sender = msg.headers().get(Headers.CONTROL);
    if (!membership.isMember(sender)) {
      log.warn("control message to {} on {} refused: sender {} is not a member of the cluster", type.name(), self, sender);
      msg.fail(403, "sender " + sender + " is not a member of the cluster");
      return;
    }
    Record command;
    try {
      command = Protocol.decode((JsonObject) msg.body());
    } catch (RuntimeException e) {
      msg.fail(400, "malformed control message: " + e.getMessage());
      return;
    }
    if (command instanceof HandOff h) {
      IncomingHandOff.moving(vertx, type.name(), h.shard(), h.to(), h.epoch(), self).compose(v -> handOff(h)).onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(Protocol.encode(ar.result()));
        } else {
          msg.fail(ar.cause() instanceof ReplyException re ? re.failureCode() : 500,
              "could not hand off shard " + h.shard() + ": " + ar.cause().getMessage());
        }
      });
    } else if (command instanceof HostShard h) {
      new IncomingHandOff(this, h, sender).accept(msg);
    } else if (command instanceof ShardHome home) {
      OutgoingHandOff run = handingOffTo.get(home.shard());
      if (run != null) {
        // Its outcome decides: this home applies only if the run fails (the coordinator asks the old home
        // again rather than abandon a hand-off it has not heard the end of, so this is a late or stray message).
        if (run.deferred == null || home.epoch() > run.deferred.epoch()) {
          run.deferred = home;
        }
      } else {
        if (home.node().equals(self)) {
          handingOff.remove(home.shard()); // an abandoned hand-off: the shard stays here
        }
        onShardHome(home);
      }
      msg.reply(new JsonObject());
    } else if (command instanceof Protocol.GetRegionState) {
      Map<Integer, Integer> byShard = new java.util.TreeMap<>();
      hosted.keySet().forEach(shard -> byShard.put(shard, 0));
      byShard.putAll(cells.countByShard());
      msg.reply(Protocol.encode(new Protocol.RegionState(type.name(), self, byShard, activeEntities.get(), activations.get(), buffered.get(),
          StickyMetrics.of(vertx).traffic(type.name()), typeOptions.getMaxActiveEntities(), storeName(),
          store == null ? Protocol.Traffic.NONE : StickyMetrics.of(vertx).storeWrites(store.name()))));
    } else if (command instanceof Protocol.AcceptStateLoss) {
      Future<Integer> cleared = store == null ? Future.succeededFuture(0) : store.acceptStateLoss(type.name());
      cleared.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(Protocol.encode(new Protocol.StateLossAccepted(type.name(), self, ar.result())));
        } else {
          msg.fail(500, "the store did not accept the loss: " + ar.cause().getMessage());
        }
      });
    } else {
      msg.fail(400, "not a region command: " + command.getClass().getSimpleName());
    }
  }

  // ---------------------------------------------------------------- for IncomingHandOff

  String self() {
    return self;
  }

  Vertx vertx() {
    return vertx;
  }

  /** The newest home this region knows for the shard (its own, while it hosts or hands it off), or null. */
  ShardHome knownHome(int shard) {
    return homes.get(shard);
  }

  /** The shard's allocation while this node hosts it, or null. */
  ShardHome hostedHome(int shard) {
    return hosted.get(shard);
  }

  /** Hosts a shard handed over with its entities' snapshots (each entity starts from its own when next used). */
  void hostHandedOver(ShardHome hosting, Map<String, String> states) {
    transferred.putAll(states);
    handingOff.remove(hosting.shard());
    onShardHome(hosting);
  }

  /**
   * Hands a shard to another node (coordinator's {@link HandOff}): buffers its messages, stops its entities,
   * sends {@link HostShard} with their snapshots to the new home, forwards the buffer behind it (same sender,
   * same address: the new home gets them after HostShard), and from then on forwards what still arrives.
   * The coordinator decides by this answer only (it asks again while it waits), so a repeat of the same
   * HandOff is answered from the running hand-off, or at once when it is done. Stopping the shard may take
   * 3/4 of the hand-off timeout; longer, and the hand-off fails with the shard kept here.
   */
  private Future<ShardStopped> handOff(HandOff h) {
    int shard = h.shard();
    ShardHome target = new ShardHome(type.name(), shard, h.to(), h.epoch());
    OutgoingHandOff running = handingOffTo.get(shard);
    if (running != null) {
      return running.command.equals(h) ? running.result() : Future.failedFuture("shard " + shard + " is already being handed to " + running.command.to());
    }
    ShardHome hostedAs = hosted.get(shard);
    if (hostedAs != null && hostedAs.epoch() >= h.epoch()) {
      return Future.failedFuture("shard " + shard + " is hosted here at epoch " + hostedAs.epoch() + ", not older than " + h.epoch());
    }
    if (hostedAs == null && target.equals(homes.get(shard))) {
      return Future.succeededFuture(new ShardStopped(type.name(), shard, 0, 0, 0)); // done before: asked again by a new coordinator
    }
    if (h.to().equals(self)) {
      return Future.failedFuture("cannot hand shard " + shard + " to this node itself");
    }
    OutgoingHandOff run = new OutgoingHandOff(this, h);
    handingOffTo.put(shard, run);
    return run.run();
  }

  // ---------------------------------------------------------------- for OutgoingHandOff

  long handOffTimeoutMs() {
    return options.getHandOffTimeoutMs();
  }

  boolean isClosing() {
    return closing;
  }

  boolean isMember(String node) {
    return membership.isMember(node);
  }

  /**
   * HostShard to the new home, with the buffer forwarded right behind it (same sender, same address: it
   * arrives after HostShard; not after its reply, which saves a round trip of pause. A forwarded message that
   * fails comes back here and waits, since the shard is still handing off).
   */
  Future<Message<JsonObject>> sendHostShard(ShardHome target, Map<String, String> states, long timeoutMs) {
    Future<Message<JsonObject>> hostedThere = eventBus.request(Addresses.region(type.name(), target.node()),
        Protocol.encode(new HostShard(type.name(), target.shard(), target.epoch(), states)), Headers.control(self, timeoutMs));
    drainWaiting(target.shard(), env -> forward(env, target));
    return hostedThere;
  }

  void handOffEnded(OutgoingHandOff run) {
    handingOffTo.remove(run.command.shard(), run);
  }

  /**
   * A failed hand-off leaves the shard stopped and buffered here (snapshots in stoppedStates) until a ShardHome
   * says where it is: one that came meanwhile, the coordinator's, or the answer to our own question if that
   * one never comes.
   */
  void keepAfterFailedHandOff(int shard, ShardHome deferred) {
    if (deferred != null) {
      handingOff.remove(shard);
      onShardHome(deferred);
    } else {
      vertx.setTimer(options.getHandOffTimeoutMs(), t -> checkStranded(shard));
    }
  }

  /** The new home has the shard: the snapshots go, and what arrives is forwarded there. */
  void handedOver(ShardHome target) {
    stoppedStates.remove(target.shard());
    handingOff.remove(target.shard());
    onShardHome(target);
  }

  /**
   * A shard left stopped here by a failed hand-off whose ShardHome never came (the coordinator died before
   * sending it): ask where it lives. If here, host it again from its snapshots; otherwise keep waiting (a
   * coordinator that finds the failed move's intent sends HandOff again, which picks the snapshots up).
   */
  private void checkStranded(int shard) {
    if (closing || !handingOff.contains(shard) || handingOffTo.containsKey(shard)) {
      return;
    }
    eventBus.<JsonObject>request(Addresses.COORDINATOR, Protocol.encode(new GetShardHome(type.name(), shard, self, numberOfShards, options.isProxyOnly())), coordinatorOptions())
        .onComplete(ar -> {
          if (!handingOff.contains(shard) || handingOffTo.containsKey(shard)) {
            return; // settled meanwhile
          }
          ShardHome home = ar.succeeded() ? Protocol.decode(ar.result().body(), ShardHome.class) : null;
          ShardHome floor = homes.get(shard);
          if (home != null && home.node().equals(self)) {
            log.info("shard {} of {} was left stopped by a failed hand-off; hosting it again", shard, type.name());
            handingOff.remove(shard);
            onShardHome(home);
          } else if (home != null && (floor == null || home.epoch() > floor.epoch())) {
            // Allocated elsewhere since (e.g. this node is leaving): what waits goes there; the snapshots are
            // lost, as if this node had crashed.
            Map<String, String> dropped = stoppedStates.remove(shard);
            log.warn("shard {} of {} was left stopped by a failed hand-off and is now on {}; {} snapshot(s) dropped",
                shard, type.name(), home.node(), dropped == null ? 0 : dropped.size());
            handingOff.remove(shard);
            onShardHome(home);
          } else {
            vertx.setTimer(options.getHandOffTimeoutMs(), t -> checkStranded(shard));
          }
        });
  }

  /**
   * Stops every entity of a shard this node hosts: each finishes its current message, is snapshotted and
   * undeployed. Messages they had not started go back to the front of the shard's buffer, in order, for the
   * next home. Completes with the snapshots (including carried-over states never activated here).
   */
  Future<Map<String, String>> stopShard(int shard) {
    if (hosted.remove(shard) != null) {
      hostedShards.decrementAndGet();
    }
    handingOff.add(shard);
    // homes keeps this node's own entry (route() looks at handingOff first): the epoch floor below which
    // onShardHome ignores a home, so a late or stale one cannot redirect the shard or drop its snapshots.
    // Snapshots of an earlier, failed hand-off of this shard go too (they are all that is left of those entities).
    Map<String, String> earlier = stoppedStates.remove(shard);
    Map<String, String> states = earlier == null ? new HashMap<>() : new HashMap<>(earlier);
    List<EntityCell> inShard = cells.inShard(shard);
    List<Future<?>> stops = new ArrayList<>();
    for (EntityCell cell : inShard) {
      if (cell.passivating || cell.lifecycle == EntityLifecycle.STOPPING) {
        // Already stopping (passivated, or retired after being fenced): its state (if kept) and its messages
        // come back through transferred and route(). Waited for, so it is not running when the shard leaves.
        stops.add(cell.stopped.future());
        continue;
      }
      stops.add(cell.activation.future().compose(v -> {
        if (cell.lifecycle != EntityLifecycle.ACTIVE) {
          // activation failed: nothing to stop; its waiting messages were already answered
          return Future.succeededFuture();
        }
        untrack(cell);
        cell.moveTo(EntityLifecycle.STOPPING);
        // stopForHandOff completes on this (the caller's) context, so region state is safe to touch here.
        return cell.entity.stopForHandOff().map(stopped -> {
          if (stopped.state() != null) {
            states.put(cell.id, stopped.state());
          }
          requeueFirst(shard, stopped.unprocessed());
          // The entity takes no more messages and its state is captured: the shard can move now.
          markStopped(cell);
          log.debug("stopped {}/{} on {} for hand-off of shard {}", type.name(), cell.id, self, shard);
          return stopped;
        });
      }));
    }
    return Future.join(stops).transform(ar -> {
      // States carried in by an earlier hand-off and never activated here, or left by a passivation, go too.
      for (Iterator<Map.Entry<String, String>> it = transferred.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, String> e = it.next();
        if (ShardId.of(e.getKey(), numberOfShards) == shard) {
          states.putIfAbsent(e.getKey(), e.getValue());
          it.remove();
        }
      }
      // Kept in case the hand-off is abandoned and this node is told to keep the shard after all.
      stoppedStates.put(shard, states);
      // The next home reads the shard's remembered ids: write them before the shard goes.
      return remembered == null ? Future.succeededFuture(states) : remembered.handOver(shard).transform(w -> Future.succeededFuture(states));
    });
  }

  /** Puts messages an entity never started back at the front of its shard's buffer, keeping their order. */
  private void requeueFirst(int shard, List<io.sticky.internal.Delivery> unprocessed) {
    if (unprocessed.isEmpty()) {
      return;
    }
    ArrayDeque<Envelope> queue = waiting.computeIfAbsent(shard, s -> new ArrayDeque<>());
    for (int i = unprocessed.size() - 1; i >= 0; i--) {
      Envelope env = (Envelope) unprocessed.get(i);
      queue.addFirst(env);
      countBuffered(env, 1); // over the bound if need be: these were accepted already
    }
    ensureSweeping();
  }

  // ---------------------------------------------------------------- helpers

  private DeliveryOptions coordinatorOptions() {
    return Headers.control(self, options.getCoordinatorTimeoutMs());
  }

  private long backoff(int attempt) {
    return Math.min(maxBackoffMs, options.getRetryBackoffMs() << Math.min(attempt, 10));
  }

  private static long parseLong(String s) {
    if (s == null) {
      return 0;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
