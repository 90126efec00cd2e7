package io.sticky.internal.region;

import io.sticky.api.EntityAddress;
import io.sticky.api.StickyError;
import io.sticky.internal.cluster.Quorum;
import io.sticky.internal.Delivery;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.GetShardHome;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a region's messages go. A shard's home comes from its {@link ShardState}; an unknown home is asked of
 * the coordinator while messages for the shard wait in a bounded buffer. Home here: to {@link EntityHosting}.
 * Home elsewhere: one event-bus hop to that node's region, which forwards again only if it knows a newer home
 * than the sender did (it just handed the shard off). A stale route (that node gone, or it says it is not the
 * home) is tried again a bounded number of times after asking the coordinator again, which is safe because the
 * message was not delivered. On the region's context.
 */
final class ShardRouter {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);
  private static final long SWEEP_INTERVAL_MS = 100;

  private final RegionSetup setup;
  private final String type;
  private final String self;
  private final ShardTable table;
  private final EntityHosting hosting;
  private final Quorum quorum;
  private final EventBus eventBus;
  private final int maxBufferedPerShard;
  /** Notes why the coordinator refuses this region, from a failed request. */
  private final Consumer<Throwable> noteRefusal;
  /** Why the coordinator refuses this region, or null. */
  private final Supplier<String> refusal;
  /** Messages forwarded to another node and not answered yet, by node: failed at once if that node leaves. */
  private final Map<String, Set<Envelope>> inFlight = new HashMap<>();
  private final AtomicInteger buffered = new AtomicInteger();
  /** The buffered messages' {@link Envelope#bufferBytes()}: bounded by maxBufferedBytesPerRegion. */
  private final AtomicLong bufferedBytes = new AtomicLong();
  private long sweepTimer = -1;
  private boolean closing;

  ShardRouter(RegionSetup setup, ShardTable table, EntityHosting hosting, Quorum quorum, int maxBufferedPerShard,
              Consumer<Throwable> noteRefusal, Supplier<String> refusal) {
    this.setup = setup;
    this.type = setup.type();
    this.self = setup.self();
    this.table = table;
    this.hosting = hosting;
    this.quorum = quorum;
    this.eventBus = setup.vertx().eventBus();
    this.maxBufferedPerShard = maxBufferedPerShard;
    this.noteRefusal = noteRefusal;
    this.refusal = refusal;
  }

  /** Messages waiting in this region's buffers (thread-safe). */
  int buffered() {
    return buffered.get();
  }

  void route(Envelope env) {
    if (closing) {
      failStopping(env);
      return;
    }
    if (!quorum.held()) {
      env.failRouting(StickyError.UNAVAILABLE, "node " + self + " cannot reach a majority of the cluster (network partition or"
          + " pause), so it serves no entity; not applied, retry through another node");
      return;
    }
    ShardState state = table.get(env.shard);
    ShardHome home = state.routeHome();
    if (home == null) {
      await(state, env);
    } else if (home.node().equals(self)) {
      hosting.deliver(env);
    } else if (!setup.membership().isMember(home.node())) {
      state.home = null;
      await(state, env);
    } else if (env.fromRemote) {
      if (env.senderEpoch > home.epoch()) {
        // The sender was told of a newer allocation than ours: our cache is stale, ask again.
        state.home = null;
        await(state, env);
      } else if (env.senderEpoch < home.epoch()) {
        // We know a newer home than the sender did (typically: we handed the shard there and the sender has
        // not heard yet). Passed on rather than bounced, so the sender does not pause. Each such hop needs
        // strictly newer knowledge, and epochs only grow, so it cannot loop.
        forward(env, home);
      } else {
        log.debug("wrong home for {}/{}: hosted by {} at epoch {}, sender thought epoch {}", type, env.id, home.node(), home.epoch(), env.senderEpoch);
        env.failRouting(StickyError.WRONG_HOME, "shard " + env.shard + " of " + type + " is hosted by " + home.node());
      }
    } else if (env.redirect) {
      env.fail(StickyError.REDIRECT, "shard " + env.shard + " of " + type + " lives on node " + home.node(), home.node());
    } else {
      forward(env, home);
    }
  }

  /**
   * A message this stopping node will not deliver. Its own callers get 503 (retry); another region's message
   * is answered wrong-home, so that region routes it again (it was not delivered) instead of failing its
   * caller: typically one the old home forwarded here just before this node crashed or left.
   */
  void failStopping(Envelope env) {
    if (env.fromRemote) {
      env.failRouting(StickyError.WRONG_HOME, "node " + self + " is stopping; route again");
    } else {
      env.failRouting(StickyError.UNAVAILABLE, "node is stopping; retry");
    }
  }

  /** Buffers a message until its shard's home is known; bounded per shard and per region. */
  private void await(ShardState state, Envelope env) {
    if (env.expired()) {
      log.debug("{}/{} (shard {}, remote={}, attempts={}) expired before its shard home was known",
          type, env.id, env.shard, env.fromRemote, env.attempts);
      env.failRouting(StickyError.UNAVAILABLE, "shard " + env.shard + " of " + type + " has no known home yet; retry");
      return;
    }
    int queued = state.waiting == null ? 0 : state.waiting.size();
    if (queued >= maxBufferedPerShard || buffered.get() >= setup.options().getMaxBufferedPerRegion()
        || bufferedBytes.get() + env.bufferBytes() > setup.options().getMaxBufferedBytesPerRegion()) {
      env.failRouting(StickyError.UNAVAILABLE, "too many messages waiting for shard homes of " + type + "; retry");
      return;
    }
    if (state.waiting == null) {
      state.waiting = new ArrayDeque<>();
    }
    state.waiting.add(env);
    countBuffered(env, 1);
    ensureSweeping();
    resolve(state);
  }

  /** Asks the coordinator for the shard's home unless a question is out or the shard is being handed off from here. */
  void resolve(ShardState state) {
    if (!state.isHandingOff() && !state.resolving) {
      state.resolving = true;
      resolveHome(state, 0);
    }
  }

  private void resolveHome(ShardState state, int attempt) {
    if (closing) {
      return;
    }
    int shard = state.shard;
    log.debug("asking the coordinator for the home of {}/{} (attempt {})", type, shard, attempt);
    askHome(shard)
        .onSuccess(home -> {
          log.debug("home of {}/{} is {} at epoch {}", type, shard, home.node(), home.epoch());
          if (state.isHandingOff()) {
            // We are handing it off: its end (or a ShardHome after a failed one) says where it goes.
            state.resolving = false;
            return;
          }
          if (!setup.membership().isMember(home.node())) {
            // Our view of the cluster is ahead of the coordinator's: ask again shortly, not in a tight loop.
            setup.vertx().setTimer(setup.backoff(attempt), t -> resolveHome(state, attempt + 1));
            return;
          }
          onShardHome(home);
        })
        .onFailure(err -> {
          noteRefusal.accept(err);
          if (state.waiting == null) {
            log.debug("home of {}/{} not resolved ({}) and nothing waits for it", type, shard, err.getMessage());
            state.resolving = false;
            return;
          }
          log.debug("shard home of {}/{} not resolved yet (attempt {}): {}", type, shard, attempt, err.getMessage());
          setup.vertx().setTimer(setup.backoff(attempt), t -> resolveHome(state, attempt + 1));
        });
  }

  /** Asks the coordinator where the shard lives (allocating it if it has no live home). */
  Future<ShardHome> askHome(int shard) {
    GetShardHome ask = new GetShardHome(type, shard, self, setup.numberOfShards(), setup.options().isProxyOnly());
    return eventBus.<JsonObject>request(Addresses.COORDINATOR, Protocol.encode(ask), setup.coordinatorOptions())
        .map(reply -> Protocol.decode(reply.body(), ShardHome.class));
  }

  /** The coordinator (or a hand-off) names a shard's home: host it, or stop hosting it, and route what waits. */
  void onShardHome(ShardHome home) {
    ShardState state = table.get(home.shard());
    state.resolving = false;
    if (state.home != null && state.home.epoch() > home.epoch()) {
      // Older than what we know (e.g. an answer asked for before a hand-off that has happened since): never
      // acted on, above all not to host the shard here again. What waits goes by the newer home.
      drainWaiting(state, this::route);
      return;
    }
    Map<String, String> stopped = state.takeSnapshots();
    if (home.node().equals(self)) {
      if (stopped != null) {
        // an abandoned hand-off: the shard stays here, its entities resume from their snapshots
        state.carryAll(stopped);
      }
      hosting.hosting(home, state.host(home));
    } else {
      state.home = home;
      if (state.unhost()) {
        hosting.leaving(home.shard());
      }
    }
    drainWaiting(state, this::route);
  }

  /** Takes every message waiting for the shard out of its buffer, in order, and hands each to {@code next}. */
  void drainWaiting(ShardState state, Consumer<Envelope> next) {
    ArrayDeque<Envelope> queue = state.waiting;
    if (queue != null) {
      state.waiting = null;
      queue.forEach(env -> countBuffered(env, -1));
      queue.forEach(next);
    }
  }

  /** Puts messages an entity never started back at the front of its shard's buffer, keeping their order. */
  void requeueFirst(int shard, List<Delivery> unprocessed) {
    if (unprocessed.isEmpty()) {
      return;
    }
    ShardState state = table.get(shard);
    if (state.waiting == null) {
      state.waiting = new ArrayDeque<>();
    }
    for (int i = unprocessed.size() - 1; i >= 0; i--) {
      Envelope env = (Envelope) unprocessed.get(i);
      state.waiting.addFirst(env);
      countBuffered(env, 1); // over the bound if need be: these were accepted already
    }
    ensureSweeping();
  }

  private void countBuffered(Envelope env, int sign) {
    buffered.addAndGet(sign);
    bufferedBytes.addAndGet((long) sign * env.bufferBytes());
  }

  private void ensureSweeping() {
    if (sweepTimer < 0) {
      sweepTimer = setup.vertx().setPeriodic(SWEEP_INTERVAL_MS, t -> sweep());
    }
  }

  /** Fails buffered messages whose deadline has passed; stops itself when nothing waits. */
  private void sweep() {
    boolean waits = false;
    for (ShardState state : table.all()) {
      ArrayDeque<Envelope> queue = state.waiting;
      if (queue == null) {
        continue;
      }
      while (!queue.isEmpty() && queue.peek().expired()) {
        Envelope env = queue.poll();
        countBuffered(env, -1);
        String why = refusal.get();
        env.failRouting(StickyError.UNAVAILABLE, why != null ? "the coordinator refuses this node's " + type + ": " + why
            : "shard " + env.shard + " of " + type + " has no reachable home yet (being handed off, or the coordinator did not answer in time); retry");
      }
      if (queue.isEmpty()) {
        state.waiting = null;
      } else {
        waits = true;
      }
    }
    if (!waits) {
      setup.vertx().cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  /** One hop to the region that hosts the shard. */
  void forward(Envelope env, ShardHome home) {
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
    env.forwarding(type, opts);
    Set<Envelope> pendingOnNode = inFlight.computeIfAbsent(home.node(), n -> new HashSet<>());
    pendingOnNode.add(env);
    eventBus.<JsonObject>request(Addresses.region(type, home.node()), env.body, opts).onComplete(ar -> {
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
        ShardState state = table.get(env.shard);
        if (state.home == home) {
          state.home = null;
        }
        log.debug("{} for shard {} of {} on {}: routing again", failure.failureType(), env.shard, type, home.node());
        retry(env, failure.getMessage());
      } else {
        env.relay(failure);
      }
    });
  }

  private void retry(Envelope env, String reason) {
    env.attempts++;
    if (env.attempts >= setup.options().getMaxRouteAttempts() || env.expired()) {
      env.failRouting(StickyError.UNAVAILABLE, "could not reach the home of shard " + env.shard + " of " + type
          + " after " + env.attempts + " attempts (" + reason + "); retry");
      return;
    }
    setup.vertx().setTimer(setup.backoff(env.attempts - 1), t -> route(env));
  }

  /** A node left: its homes are forgotten, and messages sent there, never to be answered, fail now. */
  void nodeLeft(String gone) {
    for (ShardState state : table.all()) {
      if (state.home != null && state.home.node().equals(gone)) {
        state.home = null;
      }
    }
    Set<Envelope> lost = inFlight.remove(gone);
    if (lost != null) {
      lost.forEach(env -> env.failRouting(StickyError.TIMEOUT,
          "node " + gone + " left while the message was in flight; outcome unknown"));
    }
  }

  /**
   * This node lost the cluster's majority: it forgets every home and what it hosted (after the majority is back
   * it hosts only what the coordinator gives it again), and what waited is answered 503.
   */
  void forgetAll() {
    for (ShardState state : table.all()) {
      state.unhost();
      state.home = null;
      state.carried = null;
      state.snapshots = null;
    }
    for (ShardState state : table.all()) {
      drainWaiting(state, this::route);
    }
  }

  /** Stops routing: everything buffered is answered as by a stopping node. */
  void close() {
    closing = true;
    if (sweepTimer >= 0) {
      setup.vertx().cancelTimer(sweepTimer);
    }
    for (ShardState state : table.all()) {
      if (state.waiting != null) {
        state.waiting.forEach(this::failStopping);
        state.waiting = null;
      }
    }
    buffered.set(0);
    bufferedBytes.set(0);
  }
}
