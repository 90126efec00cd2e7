package io.sticky.internal.region;

import io.sticky.api.ShardId;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.EntityReply;
import io.sticky.api.EntityType;
import io.sticky.api.Sticky.RegionStats;
import io.sticky.api.StickyError;
import io.sticky.api.StickyOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.cluster.Quorum;
import io.sticky.internal.Requests;
import io.sticky.metrics.StickyMetrics;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.HandOff;
import io.sticky.internal.protocol.Protocol.HostShard;
import io.sticky.internal.protocol.Protocol.Register;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.store.StateStore;
import io.sticky.tracing.StickyTracing;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region of one entity type on one node, a verticle: takes the type's messages in (the local entry address
 * {@link EntityAddress#of}, this node's own API, and the clustered inbox {@link Addresses#region} where other
 * nodes' regions forward), registers with the coordinator and applies its control messages. The work is in its
 * parts, all on this verticle's context:
 * <ul>
 *   <li>{@link ShardRouter}: where each message goes (a hosted entity, another node, or a buffer while the home
 *   is unknown or moving);</li>
 *   <li>{@link EntityHosting}: the entities of the shards hosted here;</li>
 *   <li>{@link RegionHandOffs}: the hand-off commands;</li>
 *   <li>{@link ShardTable}: one {@link ShardState} per shard, which all of them read and change.</li>
 * </ul>
 * Entities run on their own contexts and reply straight to the message's sender. The counters read by
 * {@link #stats()} are atomics.
 */
public final class ShardRegion extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);
  /** How long after an ask's deadline its caller is answered at the latest (see {@link #ask}). */
  private static final long CALLER_MARGIN_MS = 1_000;
  /** Lets the coordinator see a membership change before shards are asked for again. */
  private static final long REVIVE_DELAY_MS = 1_000;

  private final EntityType type;
  /** The type's state store, or null when its state lives only in memory (and travels with hand-offs). */
  private final StateStore store;
  /** Whether this node is on the cluster's majority side: without it, nothing is served (see {@link Quorum}). */
  private final Quorum quorum;
  private final StickyOptions options;
  private final Membership membership;
  private final String self;
  private final int numberOfShards;
  private final StickyTracing tracing;
  private final ShardTable table = new ShardTable();
  private RegionSetup setup;
  private ShardRouter router;
  private EntityHosting hosting;
  private RegionHandOffs handOffs;

  private boolean registering;
  private final Promise<Void> registered = Promise.promise();
  private volatile String refusal;
  private volatile boolean leaving;
  private volatile boolean ready;
  private boolean closing;
  private MessageConsumer<Object> entry;
  private MessageConsumer<Object> inbox;
  private Runnable unsubscribe;

  public ShardRegion(EntityType type, StickyOptions options, Membership membership, StateStore store, Quorum quorum) {
    this.type = type;
    this.quorum = quorum;
    this.store = store;
    this.options = options;
    this.membership = membership;
    this.self = membership.self();
    this.numberOfShards = type.numberOfShards();
    this.tracing = StickyTracing.of(options.getOpenTelemetry());
  }

  @Override
  public Future<?> start() {
    setup = new RegionSetup(type.name(), numberOfShards, self, options, membership, vertx);
    hosting = new EntityHosting(type, store, setup, context, table, env -> router.route(env),
        (shard, unprocessed) -> router.requeueFirst(shard, unprocessed));
    router = new ShardRouter(setup, table, hosting, quorum, type.options().getMaxBufferedPerShard(), this::noteRefusal, () -> refusal);
    handOffs = new RegionHandOffs(setup, table, router, hosting);
    hosting.start();
    EventBus eventBus = vertx.eventBus();
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
    if (hosting == null) {
      return new RegionStats(type.name(), 0, 0, 0, 0, 0, 0, 0);
    }
    return hosting.stats(table.hostedCount(), router.buffered());
  }

  @Override
  public Future<?> stop() {
    closing = true;
    ready = false;
    registering = false;
    if (unsubscribe != null) {
      unsubscribe.run();
    }
    handOffs.close();
    router.close();
    return Future.join(hosting.stop(), entry.unregister(), inbox.unregister());
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
    vertx.eventBus().request(Addresses.COORDINATOR, Protocol.encode(msg), setup.coordinatorOptions())
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
          vertx.setTimer(setup.backoff(attempt), t -> register(attempt + 1));
        });
  }

  /**
   * This node lost the cluster's majority: the majority will give its shards to other nodes, so nothing here
   * may serve or write any more. Every entity is retired without writing (as after a conflict), what waited
   * is answered 503, and the region forgets what it hosted: after the majority is back it hosts only what the
   * coordinator gives it again.
   */
  private void onQuorumLost() {
    log.warn("{}: no majority; retiring {} entities of {} shard(s) without writing", type.name(), hosting.size(), table.hostedCount());
    hosting.fenceAll("node " + self + " lost the cluster's majority");
    router.forgetAll();
  }

  private void onMembershipChange(Membership.Change change) {
    change.removed().forEach(router::nodeLeft);
    // The coordinator may have moved (or a new one may have started): make sure it knows this region.
    register();
    if (!change.removed().isEmpty()) {
      vertx.setTimer(REVIVE_DELAY_MS, t -> reviveReminderShards());
    }
  }

  /**
   * A dead node's shards wait unallocated for their next message; a shard with reminders may get none. Every
   * region asks the coordinator for the home of each such shard it has no live home for: the one it is
   * allocated to (which learns it from the answer, allocations being lazy) hosts it and reads the reminders.
   */
  private void reviveReminderShards() {
    if (closing) {
      return;
    }
    hosting.reminderShards().onSuccess(shards -> {
      for (int shard : shards) {
        ShardState state = table.get(shard);
        if ((state.home == null || !membership.isMember(state.home.node())) && !state.isHosted()) {
          router.resolve(state);
        }
      }
    }).onFailure(err -> log.warn("could not list the shards of {} with reminders: {}", type.name(), err.getMessage()));
  }

  // ---------------------------------------------------------------- entry points

  /** A message from a caller on this node, through the entry address: checked here, at the edge. */
  private void onEntry(Message<Object> msg) {
    MultiMap headers = msg.headers();
    String id = headers.get(EntityAddress.ID_HEADER);
    String kind = headers.get(EntityAddress.KIND_HEADER);
    kind = kind == null ? EntityAddress.KIND_ASK : kind;
    EntityException bad = Requests.check(id, kind, msg.body(), headers.get(EntityAddress.IDEMPOTENCY_KEY_HEADER));
    if (bad != null) {
      Envelope.failUnrouted(msg, bad.error(), bad.getMessage());
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
    router.route(new Envelope(id, ShardId.of(id, numberOfShards), kind, body, msg, timeout, false, 0, self)
        .traced(tracing, tracing.fromHeaders(headers)));
  }

  /**
   * A request through this node's own API ({@code Sticky.request}, the REST gateway), which has checked it
   * ({@link Requests#check}): routed exactly like a message on the entry address, minus the local event-bus hop.
   * Callable from any thread. The future completes on the caller's context with the reply or a typed
   * {@link EntityException}. Its one deadline is the type's ask timeout: routing and buffering stop at it, and
   * the caller is answered {@value #CALLER_MARGIN_MS} ms after it whatever happens inside (an entity that never
   * answers), so the region's own, more precise answer normally comes first.
   */
  public Future<EntityReply> ask(String id, String kind, JsonObject body, boolean redirect, String idempotencyKey) {
    // Internal API on the hot path: a promise that completes on the caller's context from any thread (the public
    // Promise completes on the completing thread, and a hop back would cost a runOnContext per request).
    ContextInternal caller = ((VertxInternal) vertx).getOrCreateContext();
    Promise<EntityReply> reply = caller.promise();
    String k = kind == null ? EntityAddress.KIND_ASK : kind;
    Envelope env = new Envelope(id, ShardId.of(id, numberOfShards), k, EntityAddress.KIND_VIEW.equals(k) ? null : body,
        reply, type.askTimeoutMs(), self, redirect, idempotencyKey).traced(tracing, tracing.caller());
    long callerTimeoutMs = env.remainingMs() + CALLER_MARGIN_MS;
    // Scheduled and cancelled on the caller's event loop: a plain Netty task, cheaper than a Vert.x timer
    // (no timer id, no shared timer map), which counts at one per request.
    ScheduledFuture<?> deadline = caller.nettyEventLoop().schedule(() -> env.fail(StickyError.TIMEOUT,
        "no reply within " + callerTimeoutMs + " ms; outcome unknown", null), callerTimeoutMs, TimeUnit.MILLISECONDS);
    reply.future().onComplete(ar -> deadline.cancel(false));
    onRegionContext(env);
    return reply.future();
  }

  /**
   * An entity's reminders as the index knows them, without activating it: {@code {"names":[..],"nextDueAt":ms}},
   * or null if it has none. Thread-safe.
   */
  public Future<JsonObject> reminders(String id) {
    return hosting.reminders(id);
  }

  /** A one-way message through this node's own API: routed like {@link #ask}, never answered. */
  public void tell(String id, JsonObject body) {
    onRegionContext(new Envelope(id, ShardId.of(id, numberOfShards), EntityAddress.KIND_ASK, body, null,
        type.askTimeoutMs(), self, false, null).traced(tracing, tracing.caller()));
  }

  private void onRegionContext(Envelope env) {
    if (Vertx.currentContext() == context) {
      router.route(env);
    } else {
      context.runOnContext(v -> router.route(env));
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
    router.route(new Envelope(id, shard, kind, body, msg, timeout, true, epoch, self).traced(tracing, tracing.fromHeaders(headers)));
  }

  // ---------------------------------------------------------------- control messages

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
      IncomingHandOff.moving(vertx, type.name(), h.shard(), h.to(), h.epoch(), self).compose(v -> handOffs.handOff(h)).onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(Protocol.encode(ar.result()));
        } else {
          msg.fail(ar.cause() instanceof ReplyException re ? re.failureCode() : 500,
              "could not hand off shard " + h.shard() + ": " + ar.cause().getMessage());
        }
      });
    } else if (command instanceof HostShard h) {
      new IncomingHandOff(handOffs, h, sender).accept(msg);
    } else if (command instanceof ShardHome home) {
      handOffs.onShardHome(home);
      msg.reply(new JsonObject());
    } else if (command instanceof Protocol.GetRegionState) {
      Map<Integer, Integer> byShard = new java.util.TreeMap<>();
      table.all().stream().filter(ShardState::isHosted).forEach(s -> byShard.put(s.shard, 0));
      byShard.putAll(hosting.countByShard());
      RegionStats stats = stats();
      msg.reply(Protocol.encode(new Protocol.RegionState(type.name(), self, byShard, stats.activeEntities(), stats.activations(), stats.bufferedMessages(),
          StickyMetrics.of(vertx).traffic(type.name()), type.options().getMaxActiveEntities(), storeName(),
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

  // ---------------------------------------------------------------- helpers

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
