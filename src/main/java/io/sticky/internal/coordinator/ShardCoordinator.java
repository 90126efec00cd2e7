package io.sticky.internal.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.coordinator.CoordinatorState.Allocation;
import io.sticky.metrics.StickyMetrics;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.GetAllocations;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol.GetShardHome;
import io.sticky.internal.protocol.Protocol.GracefulShutdownAck;
import io.sticky.internal.protocol.Protocol.GracefulShutdownReq;
import io.sticky.internal.protocol.Protocol.HandOff;
import io.sticky.internal.protocol.Protocol.Register;
import io.sticky.internal.protocol.Protocol.RegisterAck;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.internal.protocol.Protocol.ShardStopped;
import io.sticky.spi.ShardAllocationStrategy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's single shard coordinator, on the oldest member ({@link CoordinatorSingleton}): allocates
 * shards, writing each allocation to {@value #TABLE} before anyone hears of it; moves them (one
 * {@link ShardMove} each: for the {@link Rebalancer}, an operator's {@link OperatorCommands}, or a
 * {@link NodeLeave}); and recovers the table when it takes over ({@link TableRecovery}). It knows nodes through
 * its {@link Roster} and talks to regions through a {@link RegionLink}. The protocol, and when its guarantees do
 * not hold, is in docs/design.md ("The coordinator").
 */
public final class ShardCoordinator extends VerticleBase {
  /** Name of the cluster map holding the allocation table: key {@code type/shard}, value {@code {node, epoch}}. */
  public static final String TABLE = "sticky.allocations";
  /** Name of the cluster map of drained nodes (key: node id): read by a new coordinator and by readiness. */
  public static final String DRAINED = "sticky.drained";
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);
  /** Ended hand-offs the coordinator remembers for GET /cluster/handoffs. */
  static final int RECENT_MOVES = 50;

  private final Membership membership;
  private final ShardAllocationStrategy strategy;
  private final StickyOptions options;
  /** Hand-offs running now, by key, oldest first: each counts at its target when choosing the next targets. */
  private final Map<String, ShardMove> moves = new java.util.LinkedHashMap<>();
  /** The latest hand-offs that ended, newest first, at most {@link #RECENT_MOVES}. */
  private final java.util.ArrayDeque<Protocol.Move> recentMoves = new java.util.ArrayDeque<>();
  /** Leaving, drained, joined, proxy and pinned: what is noted about nodes besides their regions. */
  private final Roster roster;
  private Rebalancer rebalancer;
  private OperatorCommands operator;
  private long rebalanceTimer = -1;
  /** Hand-offs found unfinished in the table at recovery. */
  private final List<TableRecovery.Unfinished> unfinished = new ArrayList<>();
  /** Set on stop: hand-offs still ending then start no new moves. */
  private boolean stopped;
  private CoordinatorState state = CoordinatorState.EMPTY;
  private final Map<String, Future<ShardHome>> allocating = new HashMap<>();
  /**
   * Where each allocation in {@link #allocating} is going, until its table write ends: counted by the next
   * allocations and by the rebalance, so that a burst of first requests spreads instead of piling onto one node.
   */
  private final Map<String, String> allocatingTo = new HashMap<>();
  private final CommandChecks checks;
  private RegionLink regions;
  private AsyncMap<String, String> table;
  /** sticky_handoffs_seconds and sticky_handoff_entities_total (no-ops without metrics). */
  private StickyMetrics metrics = StickyMetrics.NONE;
  private MessageConsumer<JsonObject> consumer;
  private Runnable unsubscribe;

  public ShardCoordinator(Membership membership, ShardAllocationStrategy strategy, StickyOptions options) {
    this.membership = membership;
    this.strategy = strategy;
    this.options = options;
    this.roster = new Roster(membership, options.getRebalanceJoinDelayMs());
    this.checks = new CommandChecks(membership);
  }

  @Override
  public Future<?> start() {
    metrics = StickyMetrics.of(vertx);
    regions = new RegionLink(this, roster, membership, options, vertx);
    rebalancer = new Rebalancer(this, roster, strategy, options, vertx);
    operator = new OperatorCommands(this, roster, rebalancer, checks);
    unsubscribe = membership.subscribe(vertx, this::onMembershipChange);
    return roster.load(vertx)
        .compose(v -> vertx.sharedData().<String, String>getAsyncMap(TABLE))
        .compose(map -> {
          table = map;
          return map.entries();
        })
        .compose(entries -> {
          TableRecovery.Recovered recovered = TableRecovery.read(entries, membership);
          state = recovered.state();
          unfinished.addAll(recovered.unfinished());
          consumer = vertx.eventBus().consumer(Addresses.COORDINATOR, this::onMessage);
          return consumer.completion();
        })
        .onSuccess(v -> {
          resumeHandOffs();
          rebalanceTimer = vertx.setPeriodic(options.getRebalanceIntervalMs(), t -> rebalancer.run());
          log.info("coordinator started on {}", membership.self());
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (rebalanceTimer >= 0) {
      vertx.cancelTimer(rebalanceTimer);
    }
    if (unsubscribe != null) {
      unsubscribe.run();
    }
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** Finishes the hand-offs a previous coordinator left in the table: the old homes answer at once if they are done. */
  private void resumeHandOffs() {
    for (TableRecovery.Unfinished u : unfinished) {
      log.info("finishing the hand-off of {}/{} from {} to {} at epoch {} that the previous coordinator started",
          u.type(), u.shard(), u.from(), u.to(), u.epoch());
      runHandOff(u.type(), u.shard(), u.from(), u.to(), u.epoch(), u.entry(), false, "recovery");
    }
    unfinished.clear();
  }

  private void onMembershipChange(Membership.Change change) {
    for (String gone : change.removed()) {
      state = state.withoutNode(gone);
      roster.forget(gone);
      log.info("node {} left: its shards are unallocated until next asked for", gone);
    }
  }

  private void onMessage(Message<JsonObject> msg) {
    Protocol.CoordinatorCommand command;
    try {
      command = (Protocol.CoordinatorCommand) Protocol.decode(msg.body());
    } catch (RuntimeException e) {
      msg.fail(400, "malformed coordinator message: " + e.getMessage());
      return;
    }
    String refusal = checks.checkSender(msg.headers().get(Headers.CONTROL), command);
    if (refusal != null) {
      log.warn("coordinator message {} refused: {}", command.getClass().getSimpleName(), refusal);
      msg.fail(403, refusal);
      return;
    }
    String mismatch = checks.checkShardCount(command);
    if (mismatch != null) {
      log.error(mismatch);
      msg.fail(400, mismatch);
      return;
    }
    if (command instanceof Register r && r.proxy()) {
      roster.addProxy(r.type(), r.node());
      msg.reply(Protocol.encode(new RegisterAck(r.type(), membership.self())));
    } else if (command instanceof Register r) {
      if (membership.isMember(r.node()) && !roster.isLeaving(r.node()) && !state.regions(r.type()).contains(r.node())) {
        state = state.withRegion(r.type(), r.node());
        roster.joined(r.node());
        // A new region: even out the load soon (once its join delay is over) rather than at the next periodic check.
        vertx.setTimer(options.getRebalanceJoinDelayMs() + 100, t -> rebalancer.run());
      }
      msg.reply(Protocol.encode(new RegisterAck(r.type(), membership.self())));
    } else if (command instanceof GetShardHome g) {
      shardHome(g).onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(Protocol.encode(ar.result()));
        } else {
          msg.fail(503, "cannot allocate shard " + g.type() + "/" + g.shard() + ": " + ar.cause().getMessage());
        }
      });
    } else if (command instanceof GetAllocations a) {
      msg.reply(Protocol.encode(state.view(membership.self(), a.type())));
    } else if (command instanceof GracefulShutdownReq req) {
      NodeLeave.start(this, roster, vertx, options, req.node()).onComplete(ar -> msg.reply(Protocol.encode(new GracefulShutdownAck(req.node(), ar.succeeded() ? ar.result() : 0))));
    } else if (command instanceof Protocol.Drain d) {
      operator.drain(d, msg);
    } else if (command instanceof Protocol.MoveShard m) {
      operator.move(m, msg);
    } else if (command instanceof Protocol.GetMoves) {
      msg.reply(Protocol.encode(new Protocol.Moves(moves.values().stream().map(ShardMove::view).toList(), List.copyOf(recentMoves))));
    }
  }

  private Future<ShardHome> shardHome(GetShardHome g) {
    if (g.shard() < 0 || g.shard() >= g.numberOfShards()) {
      return Future.failedFuture("shard out of range");
    }
    if (g.proxy()) {
      roster.addProxy(g.type(), g.requester());
    } else if (membership.isMember(g.requester()) && !roster.isLeaving(g.requester())) {
      state = state.withRegion(g.type(), g.requester());
    }
    Allocation current = state.allocation(g.type(), g.shard());
    if (current != null && current.node() != null) {
      if (membership.isMember(current.node())) {
        return Future.succeededFuture(new ShardHome(g.type(), g.shard(), current.node(), current.epoch()));
      }
      state = state.withoutNode(current.node());
    }
    String key = TableEntry.key(g.type(), g.shard());
    ShardMove moving = moves.get(key);
    if (moving != null) {
      return moving.future();
    }
    Future<ShardHome> inFlight = allocating.get(key);
    if (inFlight != null) {
      return inFlight;
    }
    Map<String, Set<Integer>> candidates = candidates(g.type(), null);
    if (candidates.isEmpty()) {
      return Future.failedFuture("no live region of " + g.type());
    }
    String requester = candidates.containsKey(g.requester()) ? g.requester() : candidates.keySet().iterator().next();
    String node = strategy.allocateShard(requester, g.shard(), candidates);
    if (!candidates.containsKey(node)) {
      return Future.failedFuture("allocation strategy chose " + node + ", which has no live region of " + g.type());
    }
    long epoch = state.nextEpoch(g.type(), g.shard());
    long started = System.nanoTime();
    // Registered before the write starts: if the write completed synchronously, removing it afterwards
    // would leave a finished allocation in the map, answered forever even after its node died.
    Promise<ShardHome> allocation = Promise.promise();
    allocating.put(key, allocation.future());
    allocatingTo.put(key, node);
    table.put(key, new TableEntry(node, epoch, null, 0).encode()).onComplete(ar -> {
      allocating.remove(key, allocation.future());
      allocatingTo.remove(key);
      if (ar.failed()) {
        allocation.fail(ar.cause());
        return;
      }
      try {
        state = state.allocated(g.type(), g.shard(), node, epoch);
      } catch (IllegalStateException e) {
        // e.g. the node left while the write was in flight: the requester asks again
        allocation.fail(e);
        return;
      }
      log.debug("allocated {} to {} at epoch {} (table write {} ms)", key, node, epoch, (System.nanoTime() - started) / 1_000_000);
      allocation.complete(new ShardHome(g.type(), g.shard(), node, epoch));
    });
    return allocation.future();
  }

  /**
   * Live regions of the type that may take shards (not leaving, not {@code except}), with their shards,
   * counting each shard being handed off on the region it is going to and each allocation being written on
   * the region it goes to: what a new allocation and a rebalance are judged by.
   */
  Map<String, Set<Integer>> candidates(String type, String except) {
    Map<String, Set<Integer>> planned = new TreeMap<>();
    state.shardsByRegion(type).forEach((node, shards) -> {
      if (roster.takesShards(node) && !node.equals(except)) {
        planned.put(node, new HashSet<>(shards));
      }
    });
    moves.forEach((key, move) -> {
      int shard = shardOf(type, key);
      if (shard >= 0) {
        planned.values().forEach(shards -> shards.remove(shard));
        Set<Integer> there = planned.get(move.to);
        if (there != null) {
          there.add(shard);
        }
      }
    });
    allocatingTo.forEach((key, node) -> {
      int shard = shardOf(type, key);
      Set<Integer> there = planned.get(node);
      if (shard >= 0 && there != null) {
        there.add(shard);
      }
    });
    return planned;
  }

  /** The shard of a {@code type/shard} key, or -1 if the key is of another type. */
  private static int shardOf(String type, String key) {
    return key.length() > type.length() && key.startsWith(type) && key.charAt(type.length()) == '/'
        ? Integer.parseInt(key.substring(type.length() + 1)) : -1;
  }

  // ---------------------------------------------------------------- hand-offs

  /** Where the strategy would move {@code shard} off {@code from}, among the nodes {@code eligible} accepts; null if none. */
  private String target(String type, int shard, String from, Predicate<String> eligible) {
    Map<String, Set<Integer>> candidates = candidates(type, from);
    candidates.keySet().removeIf(eligible.negate());
    if (candidates.isEmpty()) {
      return null;
    }
    String target = strategy.allocateShard(candidates.keySet().iterator().next(), shard, candidates);
    if (!candidates.containsKey(target)) {
      log.warn("allocation strategy chose {}, which cannot take {}/{}", target, type, shard);
      return null;
    }
    return target;
  }

  // ---------------------------------------------------------------- for Rebalancer, OperatorCommands and NodeLeave

  CoordinatorState state() {
    return state;
  }

  /** The moves now heading to {@code node}. */
  List<ShardMove> movesTo(String node) {
    return moves.values().stream().filter(move -> move.to.equals(node)).toList();
  }

  /** A leaving node's regions stop now: forgotten, so later hand-offs do not wait for them; what it still hosts becomes unallocated. */
  void forget(String node) {
    state = state.withoutNode(node);
  }

  /** The shards of the type being handed off now. */
  Set<Integer> movingShards(String type) {
    Set<Integer> moving = new HashSet<>();
    moves.keySet().stream().mapToInt(key -> shardOf(type, key)).filter(shard -> shard >= 0).forEach(moving::add);
    return moving;
  }

  /** True while the shard's first allocation is being written. */
  boolean isAllocating(String key) {
    return allocating.containsKey(key);
  }

  ShardMove moveOf(String type, int shard) {
    return moves.get(TableEntry.key(type, shard));
  }

  /** Moves a leaving node's shard to wherever the strategy puts it. */
  Future<ShardHome> moveOff(String type, int shard, String node) {
    return handOff(type, shard, node, target -> true, "leave");
  }

  boolean isMember(String node) {
    return membership.isMember(node);
  }

  boolean isStopped() {
    return stopped;
  }

  /**
   * Moves one shard off {@code from}; see the class comment for the protocol. Completes with the new home.
   * The target is chosen now among the nodes {@code eligibleTarget} accepts (a rebalance skips nodes within
   * their join delay), counting the moves already under way where they are going.
   */
  Future<ShardHome> handOff(String type, int shard, String from, Predicate<String> eligibleTarget, String reason) {
    String key = TableEntry.key(type, shard);
    String target = target(type, shard, from, eligibleTarget);
    if (target == null) {
      return Future.failedFuture("no other region of " + type + " can take " + key);
    }
    long fromEpoch = state.allocation(type, shard).epoch();
    return runHandOff(type, shard, from, target, fromEpoch + 1, new TableEntry(target, fromEpoch + 1, from, fromEpoch).encode(), true,
        reason);
  }

  /** Starts a hand-off whose target and epoch are decided: see {@link ShardMove#run}. */
  Future<ShardHome> runHandOff(String type, int shard, String from, String target, long epoch, String intent, boolean writeIntent,
                                       String reason) {
    ShardMove move = new ShardMove(type, shard, from, target, epoch, reason, intent);
    moves.put(move.key(), move);
    return move.run(this, writeIntent);
  }

  // ---------------------------------------------------------------- for ShardMove

  Future<Void> writeIntent(ShardMove move) {
    return table.put(move.key(), move.intent);
  }

  /** HandOff to the old home; its reply, or the event bus's failure (a timeout included). */
  Future<ShardStopped> askToHandOff(ShardMove move) {
    return regions.control(move.type, move.from, Protocol.encode(new HandOff(move.type, move.shard, move.to, move.epoch)))
        .map(reply -> Protocol.decode(reply, ShardStopped.class));
  }

  long handOffTimeoutMs() {
    return options.getHandOffTimeoutMs();
  }

  /** The old home handed the shard over: the state and every other region name the new home. */
  void moved(ShardMove move, ShardStopped report, long writeMs) {
    state = state.withRegion(move.type, move.to).moved(move.type, move.shard, move.to, move.epoch);
    // Until now they routed to the old home, which forwards: from now on they go straight to the new one.
    regions.broadcast(move.type, new ShardHome(move.type, move.shard, move.to, move.epoch), move.from, move.to);
    markDone(move.key(), move.intent, move.to, move.epoch);
    log.info("hand-off type={} shard={} from={} to={} epoch={} entities={} durationMs={} (writeMs={} stopMs={} hostMs={})",
        move.type, move.shard, move.from, move.to, move.epoch, report.entities(), move.elapsedNanos() / 1_000_000, writeMs,
        report.stopMs(), report.hostMs());
    metrics.handOff(move.type, "ok", move.elapsedNanos(), report.entities());
  }

  /** The move ended: it is no longer running; an abandoned one leaves the shard settled where it can be. */
  void ended(ShardMove move, Throwable failure) {
    moves.remove(move.key(), move);
    if (failure != null) {
      log.warn("hand-off of {} from {} to {} abandoned: {}", move.key(), move.from, move.to, failure.getMessage());
      metrics.handOff(move.type, "abandoned", move.elapsedNanos(), 0);
      try {
        recoverAbandoned(move.type, move.shard, move.from, move.to, move.epoch);
      } catch (RuntimeException e) {
        // never leave the hand-off's future pending: rebalance, leaves and shard-home asks wait on it
        log.error("could not settle {} after its abandoned hand-off", move.key(), e);
      }
    }
  }

  void remember(ShardMove move) {
    recentMoves.addFirst(move.view());
    while (recentMoves.size() > RECENT_MOVES) {
      recentMoves.removeLast();
    }
  }

  /**
   * After a failed hand-off the old home is buffering the shard (or has died), and the table names the
   * target of the failed move: write a newer allocation over it, then tell every region. If the old home is
   * still a member it keeps the shard (it re-hosts it on this ShardHome); otherwise it is allocated afresh.
   */
  private void recoverAbandoned(String type, int shard, String from, String target, long failedEpoch) {
    String key = TableEntry.key(type, shard);
    if (state.allocation(type, shard).epoch() < failedEpoch) {
      // The next allocation must outrank the failed move's, which the table (and maybe the target) has seen.
      state = state.recovered(type, shard, state.home(type, shard), failedEpoch);
    }
    if (membership.isMember(from) && state.regions(type).contains(from)) {
      settle(type, shard, from);
      return;
    }
    if (membership.isMember(target) && state.regions(type).contains(target)) {
      // The old home died mid-hand-off, maybe after the target took the shard: the target keeps it (with
      // what it got, or fresh), as a new coordinator would decide from the table.
      settle(type, shard, target);
      return;
    }
    state = state.withoutNode(from);
    Map<String, Set<Integer>> candidates = candidates(type, null);
    if (candidates.isEmpty()) {
      return;
    }
    shardHome(new GetShardHome(type, shard, candidates.keySet().iterator().next(), java.util.Objects.requireNonNullElse(checks.shardCount(type), shard + 1), false))
        .onSuccess(home -> regions.broadcast(type, home))
        .onFailure(err -> log.error("shard {} left without a home after an abandoned hand-off: {}", key, err.getMessage()));
  }

  /** Makes {@code node} the shard's home at a new epoch: state, table (overwriting a failed move's intent), every region. */
  private void settle(String type, int shard, String node) {
    String key = TableEntry.key(type, shard);
    long epoch = state.nextEpoch(type, shard);
    ShardHome home = new ShardHome(type, shard, node, epoch);
    state = state.moved(type, shard, node, epoch);
    table.put(key, new TableEntry(node, epoch, null, 0).encode())
        .onFailure(err -> log.error("could not record that {} is on {}: {}", key, node, err.getMessage()))
        // Told even if the write failed: the old home must stop buffering (it also asks the coordinator
        // itself after a while). A later coordinator that finds the failed move in the table sends HandOff
        // again, which the old home refuses (it hosts the shard at a newer epoch).
        .onComplete(ar -> regions.broadcast(type, home));
  }

  /**
   * Rewrites a finished hand-off's table entry without its "from": otherwise the next coordinator takes it
   * for unfinished and asks the old home again, for every move since the shard last changed hands. Only if the entry is still that
   * hand-off's intent: a compare-and-set, so it can never overwrite a newer move's intent, whatever order the
   * writes land in. Not waited for; if lost, the old home answers the next coordinator's ask at once.
   */
  private void markDone(String key, String intent, String target, long epoch) {
    table.replaceIfPresent(key, intent, new TableEntry(target, epoch, null, 0).encode())
        .onFailure(err -> log.debug("could not mark the hand-off of {} done in the table: {}", key, err.getMessage()));
  }


}
