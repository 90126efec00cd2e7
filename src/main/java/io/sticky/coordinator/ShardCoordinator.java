package io.sticky.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.cluster.Membership;
import io.sticky.coordinator.CoordinatorState.Allocation;
import io.sticky.metrics.StickyMetrics;
import io.sticky.protocol.Addresses;
import io.sticky.protocol.Protocol;
import io.sticky.protocol.Protocol.Allocations;
import io.sticky.protocol.Protocol.GetAllocations;
import io.sticky.protocol.Headers;
import io.sticky.protocol.Protocol.GetShardHome;
import io.sticky.protocol.Protocol.GracefulShutdownAck;
import io.sticky.protocol.Protocol.GracefulShutdownReq;
import io.sticky.protocol.Protocol.HandOff;
import io.sticky.protocol.Protocol.Register;
import io.sticky.protocol.Protocol.RegisterAck;
import io.sticky.protocol.Protocol.RegionInfo;
import io.sticky.protocol.Protocol.ShardHome;
import io.sticky.protocol.Protocol.ShardStopped;
import io.sticky.spi.ShardAllocationStrategy;
import io.vertx.core.eventbus.DeliveryOptions;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's single shard coordinator, on the oldest member ({@link CoordinatorSingleton}): allocates
 * shards, writing each allocation to {@value #TABLE} before anyone hears of it; moves them (rebalance, drain,
 * an operator's move, a clean leave: one {@link ShardMove} each, a {@link NodeLeave} per leaving node); and
 * recovers the table when it takes over. The protocol, and when its guarantees do not hold, is in
 * docs/design.md ("The coordinator").
 */
public final class ShardCoordinator extends VerticleBase {
  /** Name of the cluster map holding the allocation table: key {@code type/shard}, value {@code {node, epoch}}. */
  public static final String TABLE = "sticky.allocations";
  /** Name of the cluster map of drained nodes (key: node id): read by a new coordinator and by readiness. */
  public static final String DRAINED = "sticky.drained";
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);
  /** How long a rebalance leaves a shard alone after its hand-off failed. */
  static final long FAILED_MOVE_COOL_DOWN_MS = 5_000;
  /** Ended hand-offs the coordinator remembers for GET /cluster/handoffs. */
  static final int RECENT_MOVES = 50;

  private final Membership membership;
  private final ShardAllocationStrategy strategy;
  private final StickyOptions options;
  /** Hand-offs running now, by key, oldest first: each counts at its target when choosing the next targets. */
  private final Map<String, ShardMove> moves = new java.util.LinkedHashMap<>();
  /** Shards whose last hand-off failed, by key: not moved again by a rebalance before this time (ms). */
  private final Map<String, Long> coolingDown = new HashMap<>();
  /** The latest hand-offs that ended, newest first, at most {@link #RECENT_MOVES}. */
  private final java.util.ArrayDeque<Protocol.Move> recentMoves = new java.util.ArrayDeque<>();
  /** Nodes leaving cleanly: they get no new shards. */
  private final Set<String> leaving = new HashSet<>();
  /** Nodes drained by an operator: they get no new shards, and the rebalance moves theirs off first. */
  private final Set<String> drained = new HashSet<>();
  /** Shards an operator moved, by key, with the node they were moved to: the rebalance leaves them there. */
  private final Map<String, String> pinned = new HashMap<>();
  private AsyncMap<String, String> drainedMap;
  private long rebalanceTimer = -1;
  /** Paces the hand-offs of rebalances (clean leaves get their own, see handOffAll). */
  private Pace rebalancePace;
  private final Runnable rebalanceTask = this::rebalance;
  /** When each node's first region registered here (ms): rebalances move nothing to it for rebalanceJoinDelayMs. */
  private final Map<String, Long> joinedAt = new HashMap<>();
  /** Hand-offs found unfinished in the table at recovery. */
  private final List<Unfinished> unfinished = new ArrayList<>();


  /** A hand-off of {@code shard} from {@code from} to {@code to} at {@code epoch} that a previous coordinator started. */
  private record Unfinished(String type, int shard, String from, String to, long epoch, String entry) {
  }
  /** Set on stop: hand-offs still ending then start no new moves. */
  private boolean stopped;
  private CoordinatorState state = CoordinatorState.EMPTY;
  private final Map<String, Future<ShardHome>> allocating = new HashMap<>();
  /**
   * Where each allocation in {@link #allocating} is going, until its table write ends: counted by the next
   * allocations and by the rebalance, so that a burst of first requests spreads instead of piling onto one node.
   */
  private final Map<String, String> allocatingTo = new HashMap<>();
  /** Proxy regions per type (nodes that route to it but never host it): told every new home, never allocated a shard. */
  private final Map<String, Set<String>> proxies = new HashMap<>();
  /** Number of shards per type, as the first region registered it; all others must agree. */
  private final Map<String, Integer> shardCounts = new HashMap<>();
  private AsyncMap<String, String> table;
  /** sticky_handoffs_seconds and sticky_handoff_entities_total (no-ops without metrics). */
  private StickyMetrics metrics = StickyMetrics.NONE;
  private MessageConsumer<JsonObject> consumer;
  private Runnable unsubscribe;

  public ShardCoordinator(Membership membership, ShardAllocationStrategy strategy, StickyOptions options) {
    this.membership = membership;
    this.strategy = strategy;
    this.options = options;
  }

  @Override
  public Future<?> start() {
    metrics = StickyMetrics.of(vertx);
    rebalancePace = new Pace(vertx, options.getHandOffRatePerSecond(), options.getRebalanceAbsoluteLimit());
    unsubscribe = membership.subscribe(vertx, this::onMembershipChange);
    return vertx.sharedData().<String, String>getAsyncMap(DRAINED)
        .compose(map -> {
          drainedMap = map;
          return map.keys();
        })
        .compose(nodes -> {
          drained.addAll(nodes);
          return vertx.sharedData().<String, String>getAsyncMap(TABLE);
        })
        .compose(map -> {
          table = map;
          return map.entries();
        })
        .compose(entries -> {
          recover(entries);
          consumer = vertx.eventBus().consumer(Addresses.COORDINATOR, this::onMessage);
          return consumer.completion();
        })
        .onSuccess(v -> {
          resumeHandOffs();
          rebalanceTimer = vertx.setPeriodic(options.getRebalanceIntervalMs(), t -> rebalance());
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

  /**
   * Reads the table back. An entry with {@code from} is a hand-off the previous coordinator had started: if
   * the old home is still a member it keeps the shard until the move is finished (see {@link #resumeHandOffs}),
   * else the target is the home.
   */
  private void recover(Map<String, String> entries) {
    long started = System.nanoTime();
    int live = 0;
    CoordinatorState.Recovery recovery = new CoordinatorState.Recovery();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      int slash = e.getKey().lastIndexOf('/');
      TableEntry value = TableEntry.decode(e.getValue());
      String type = e.getKey().substring(0, slash);
      int shard = Integer.parseInt(e.getKey().substring(slash + 1));
      String node = value.node();
      long epoch = value.epoch();
      String from = value.from();
      if (from != null && membership.isMember(from)) {
        recovery.allocation(type, shard, from, value.fromEpoch()).region(type, from);
        unfinished.add(new Unfinished(type, shard, from, node, epoch, e.getValue()));
        live++;
        continue;
      }
      boolean alive = node != null && membership.isMember(node);
      recovery.allocation(type, shard, alive ? node : null, epoch);
      if (alive) {
        recovery.region(type, node);
        live++;
      }
    }
    state = recovery.build();
    log.info("coordinator recovered {} allocations ({} on live nodes, {} hand-offs to finish) in {} ms", entries.size(), live,
        unfinished.size(), (System.nanoTime() - started) / 1_000_000);
  }

  /** Finishes the hand-offs a previous coordinator left in the table: the old homes answer at once if they are done. */
  private void resumeHandOffs() {
    for (Unfinished u : unfinished) {
      log.info("finishing the hand-off of {}/{} from {} to {} at epoch {} that the previous coordinator started",
          u.type(), u.shard(), u.from(), u.to(), u.epoch());
      runHandOff(u.type(), u.shard(), u.from(), u.to(), u.epoch(), u.entry(), false, "recovery");
    }
    unfinished.clear();
  }

  private void onMembershipChange(Membership.Change change) {
    for (String gone : change.removed()) {
      state = state.withoutNode(gone);
      leaving.remove(gone);
      joinedAt.remove(gone);
      if (drained.remove(gone)) {
        drainedMap.remove(gone);
      }
      pinned.values().removeIf(gone::equals);
      proxies.values().forEach(nodes -> nodes.remove(gone));
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
    String refusal = checkSender(msg.headers().get(Headers.CONTROL), command);
    if (refusal != null) {
      log.warn("coordinator message {} refused: {}", command.getClass().getSimpleName(), refusal);
      msg.fail(403, refusal);
      return;
    }
    String mismatch = checkShardCount(command);
    if (mismatch != null) {
      log.error(mismatch);
      msg.fail(400, mismatch);
      return;
    }
    if (command instanceof Register r && r.proxy()) {
      addProxy(r.type(), r.node());
      msg.reply(Protocol.encode(new RegisterAck(r.type(), membership.self())));
    } else if (command instanceof Register r) {
      if (membership.isMember(r.node()) && !leaving.contains(r.node()) && !state.regions(r.type()).contains(r.node())) {
        state = state.withRegion(r.type(), r.node());
        joinedAt.putIfAbsent(r.node(), System.currentTimeMillis());
        // A new region: even out the load soon (once its join delay is over) rather than at the next periodic check.
        vertx.setTimer(options.getRebalanceJoinDelayMs() + 100, t -> rebalance());
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
      msg.reply(Protocol.encode(allocations(a.type())));
    } else if (command instanceof GracefulShutdownReq req) {
      handOffAllOf(req.node()).onComplete(ar -> msg.reply(Protocol.encode(new GracefulShutdownAck(req.node(), ar.succeeded() ? ar.result() : 0))));
    } else if (command instanceof Protocol.Drain d) {
      drain(d, msg);
    } else if (command instanceof Protocol.MoveShard m) {
      move(m, msg);
    } else if (command instanceof Protocol.GetMoves) {
      msg.reply(Protocol.encode(new Protocol.Moves(moves.values().stream().map(ShardMove::view).toList(), List.copyOf(recentMoves))));
    }
  }

  /** Only members send commands, and a node speaks only for itself (it cannot register, or drain, another). */
  private String checkSender(String sender, Protocol.CoordinatorCommand command) {
    if (sender == null || !membership.isMember(sender)) {
      return "sender " + sender + " is not a member of the cluster";
    }
    String speaksFor = command instanceof Register r ? r.node()
        : command instanceof GetShardHome g ? g.requester()
        : command instanceof GracefulShutdownReq req ? req.node()
        : sender;
    return speaksFor.equals(sender) ? null : "node " + sender + " cannot act for node " + speaksFor;
  }

  /** Every node must use the same number of shards for a type, or they would disagree on where ids live. */
  private String checkShardCount(Protocol.CoordinatorCommand command) {
    String type;
    int count;
    if (command instanceof Register r) {
      type = r.type();
      count = r.numberOfShards();
    } else if (command instanceof GetShardHome g) {
      type = g.type();
      count = g.numberOfShards();
    } else {
      return null;
    }
    Integer known = shardCounts.putIfAbsent(type, count);
    if (known != null && known != count) {
      return "entity type " + type + " is registered with " + known + " shards but a node uses " + count
          + "; every node must use the same number of shards";
    }
    return null;
  }

  private Future<ShardHome> shardHome(GetShardHome g) {
    if (g.shard() < 0 || g.shard() >= g.numberOfShards()) {
      return Future.failedFuture("shard out of range");
    }
    if (g.proxy()) {
      addProxy(g.type(), g.requester());
    } else if (membership.isMember(g.requester()) && !leaving.contains(g.requester())) {
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
  private Map<String, Set<Integer>> candidates(String type, String except) {
    Map<String, Set<Integer>> planned = new TreeMap<>();
    state.shardsByRegion(type).forEach((node, shards) -> {
      if (membership.isMember(node) && !leaving.contains(node) && !drained.contains(node) && !node.equals(except)) {
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

  // ---------------------------------------------------------------- rebalance and hand-off

  /**
   * Starts the moves the strategy asks for, over every type. Called periodically, when a region registers,
   * and as each hand-off ends: a sliding window that keeps up to the limit of shards moving, rather than
   * rounds that each wait for their slowest move. Moves are also paced ({@code handOffRatePerSecond}), and a
   * node that has just joined takes none for {@code rebalanceJoinDelayMs}. A shard whose hand-off failed is
   * not moved again for {@link #FAILED_MOVE_COOL_DOWN_MS}, so a move that keeps failing does not pause its
   * shard over and over.
   */
  private void rebalance() {
    if (stopped) {
      return;
    }
    long now = System.currentTimeMillis();
    coolingDown.values().removeIf(until -> until <= now);
    for (String type : state.types()) {
      Set<Integer> inProgress = new HashSet<>();
      moves.keySet().forEach(k -> {
        int shard = shardOf(type, k);
        if (shard >= 0) {
          inProgress.add(shard);
        }
      });
      // Each moving shard on the region it is going to, each allocation being written on its region.
      Map<String, Set<Integer>> current = candidates(type, null);
      // A node that has just joined takes no shards from a rebalance yet (see rebalanceJoinDelayMs).
      current.keySet().removeIf(node -> justJoined(node, now));
      // Shards an operator put somewhere stay there: the strategy evens out the others.
      current.forEach((node, onNode) -> onNode.removeIf(shard -> node.equals(pinned.get(TableEntry.key(type, shard)))));
      // Drained nodes' shards go first (drained nodes are not candidates, so the strategy does not see them).
      Set<Integer> shards = new java.util.LinkedHashSet<>();
      state.allocations(type).forEach((shard, a) -> {
        if (a.node() != null && drained.contains(a.node()) && membership.isMember(a.node())) {
          shards.add(shard);
        }
      });
      try {
        shards.addAll(strategy.rebalance(current, inProgress));
      } catch (RuntimeException e) {
        log.error("rebalance strategy failed for {}", type, e);
      }
      // The window is enforced here too, whatever the strategy returns (a custom one may ignore inProgress).
      int total = current.values().stream().mapToInt(Set::size).sum();
      int window = LeastShardAllocationStrategy.window(options.getRebalanceAbsoluteLimit(), options.getRebalanceRelativeLimit(), total);
      int free = window - inProgress.size();
      for (Integer shard : shards) {
        String key = TableEntry.key(type, shard);
        String from = state.home(type, shard);
        if (free <= 0) {
          break;
        }
        if (from != null && !moves.containsKey(key) && !coolingDown.containsKey(key)) {
          if (!rebalancePace.take(rebalanceTask)) {
            return;
          }
          free--;
          handOff(type, shard, from, node -> !justJoined(node, now), drained.contains(from) ? "drain" : "rebalance").onComplete(ar -> {
            if (ar.failed()) {
              coolingDown.put(key, System.currentTimeMillis() + FAILED_MOVE_COOL_DOWN_MS);
            }
            vertx.runOnContext(v -> rebalance());
          });
        }
      }
    }
  }

  // ---------------------------------------------------------------- operator actions: drain and move

  /**
   * Drains a node (its shards move off it, paced like a rebalance; it gets no new ones) or undrains it. Refused
   * (409) for a node that is leaving, or whose region is the last of a type that could take its shards.
   */
  private void drain(Protocol.Drain d, Message<JsonObject> msg) {
    String node = d.node();
    if (!membership.isMember(node)) {
      msg.fail(404, "node " + node + " is not a member of the cluster");
      return;
    }
    if (d.drain() && leaving.contains(node)) {
      msg.fail(409, "node " + node + " is leaving the cluster; its shards are moving already");
      return;
    }
    if (d.drain() && !drained.contains(node)) {
      for (String type : state.types()) {
        if (state.regions(type).contains(node) && candidates(type, node).isEmpty()) {
          msg.fail(409, "node " + node + " is the only node that can host " + type + ": draining it would leave its shards nowhere to go");
          return;
        }
      }
    }
    Future<?> written = d.drain() ? drainedMap.put(node, "drained") : drainedMap.remove(node);
    written.onComplete(ar -> {
      if (ar.failed()) {
        msg.fail(503, "could not record the drain of " + node + ": " + ar.cause().getMessage());
        return;
      }
      if (d.drain() ? drained.add(node) : drained.remove(node)) {
        log.info("node {} {} by an operator", node, d.drain() ? "drained: its shards move off it" : "undrained: it takes shards again");
        if (!d.drain()) {
          joinedAt.put(node, 0L); // at once, as if it had joined long ago
        }
        pinned.values().removeIf(node::equals);
        rebalance();
      }
      int hosted = (int) state.types().stream().flatMap(t -> state.allocations(t).values().stream()).filter(a -> node.equals(a.node())).count();
      msg.reply(Protocol.encode(new Protocol.DrainState(node, drained.contains(node), hosted)));
    });
  }

  /**
   * Moves one shard to a chosen node: refused (404) for an unknown type, shard or node, and (409) when the
   * shard is moving or already there, or the target is leaving, drained or has no region of the type. Waits
   * for the rebalance's pace, then runs as any hand-off; the shard is then pinned to the target.
   */
  private void move(Protocol.MoveShard m, Message<JsonObject> msg) {
    String refusal = moveRefusal(m);
    if (refusal != null) {
      msg.fail(refusal.startsWith("unknown") ? 404 : 409, refusal);
      return;
    }
    String key = TableEntry.key(m.type(), m.shard());
    String from = state.home(m.type(), m.shard());
    Runnable[] start = new Runnable[1];
    start[0] = () -> {
      String now = moveRefusal(m);
      if (now != null) {
        log.warn("operator move of {} to {} dropped while it waited for its turn: {}", key, m.to(), now);
        return;
      }
      if (!rebalancePace.take(start[0])) {
        return;
      }
      pinned.put(key, m.to());
      long fromEpoch = state.allocation(m.type(), m.shard()).epoch();
      String home = state.home(m.type(), m.shard());
      log.info("operator move of {} from {} to {}", key, home, m.to());
      runHandOff(m.type(), m.shard(), home, m.to(), fromEpoch + 1, new TableEntry(m.to(), fromEpoch + 1, home, fromEpoch).encode(), true,
          "move")
          .onFailure(err -> pinned.remove(key, m.to()));
    };
    msg.reply(Protocol.encode(new Protocol.MoveStarted(m.type(), m.shard(), from, m.to())));
    start[0].run();
  }

  private String moveRefusal(Protocol.MoveShard m) {
    Integer shards = shardCounts.get(m.type());
    if (shards == null || !state.types().contains(m.type())) {
      return "unknown entity type " + m.type();
    }
    if (m.shard() < 0 || m.shard() >= shards) {
      return "unknown shard " + m.shard() + " of " + m.type() + " (0-" + (shards - 1) + ")";
    }
    if (!membership.isMember(m.to())) {
      return "unknown node " + m.to();
    }
    String key = TableEntry.key(m.type(), m.shard());
    String home = state.home(m.type(), m.shard());
    if (home == null) {
      return "shard " + key + " is not allocated (no entity of it was asked for since its node left): nothing to move";
    }
    if (moves.containsKey(key) || allocating.containsKey(key)) {
      return "shard " + key + " is moving already";
    }
    if (home.equals(m.to())) {
      return "shard " + key + " is on " + m.to() + " already";
    }
    if (leaving.contains(m.to()) || drained.contains(m.to())) {
      return "node " + m.to() + " is " + (leaving.contains(m.to()) ? "leaving" : "drained") + ": it takes no shards";
    }
    if (!state.regions(m.type()).contains(m.to())) {
      return "node " + m.to() + " hosts no " + m.type() + " (a proxy, or it does not register the type)";
    }
    return null;
  }

  /** True while a node that joined is within its {@code rebalanceJoinDelayMs}. */
  private boolean justJoined(String node, long nowMs) {
    return joinedAt.getOrDefault(node, 0L) + options.getRebalanceJoinDelayMs() > nowMs;
  }

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

  /**
   * Hands off every shard of a node that is leaving cleanly, {@code rebalanceAbsoluteLimit} at a time;
   * completes with the count moved.
   */
  private Future<Integer> handOffAllOf(String node) {
    leaving.add(node);
    // Moves already heading to it (it was a target before it said it leaves) land first, then leave again.
    List<Future<ShardHome>> arriving = new ArrayList<>();
    moves.values().forEach(move -> {
      if (move.to.equals(node)) {
        arriving.add(move.future());
      }
    });
    return Future.join(arriving).transform(ignored -> {
      List<NodeLeave.Work> work = new ArrayList<>();
      for (String type : state.types()) {
        if (candidates(type, node).isEmpty()) {
          continue; // the last region of its type: nowhere to move its shards
        }
        state.allocations(type).forEach((shard, a) -> {
          if (node.equals(a.node())) {
            work.add(new NodeLeave.Work(type, shard));
          }
        });
      }
      log.info("node {} is leaving: handing off its {} shard(s)", node, work.size());
      return handOffAll(node, work);
    }).onComplete(ar -> {
      // Its regions stop after this: forget them now, so later hand-offs do not wait for their answers.
      // Anything it still hosts (a failed hand-off) becomes unallocated, as when a node dies.
      state = state.withoutNode(node);
    });
  }

  /** Hands off {@code work} from a leaving {@code node}, paced like a rebalance; completes with the count moved. */
  private Future<Integer> handOffAll(String node, List<NodeLeave.Work> work) {
    // Paced like a rebalance, but never so slowly that the leave could not end within half its timeout.
    Pace pace = new Pace(vertx, Math.max(options.getHandOffRatePerSecond(), work.size() * 2_000.0 / options.getLeaveTimeoutMs()),
        options.getRebalanceAbsoluteLimit());
    // A move made again must be able to end (its old home gives up after 3/4 of the hand-off timeout) before
    // the leaving node stops waiting, leaveTimeoutMs after it asked; and may be tried for half of that at least.
    long retryWindowMs = Math.max(options.getLeaveTimeoutMs() / 2, options.getLeaveTimeoutMs() - options.getHandOffTimeoutMs() * 3 / 4);
    return new NodeLeave(this, vertx, node, work, options.getRebalanceAbsoluteLimit(), pace, retryWindowMs).run();
  }

  // ---------------------------------------------------------------- for NodeLeave

  ShardMove moveOf(String type, int shard) {
    return moves.get(TableEntry.key(type, shard));
  }

  String homeOf(String type, int shard) {
    return state.home(type, shard);
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
  private Future<ShardHome> handOff(String type, int shard, String from, Predicate<String> eligibleTarget, String reason) {
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
  private Future<ShardHome> runHandOff(String type, int shard, String from, String target, long epoch, String intent, boolean writeIntent,
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
    return control(move.type, move.from, Protocol.encode(new HandOff(move.type, move.shard, move.to, move.epoch)))
        .map(reply -> Protocol.decode(reply, ShardStopped.class));
  }

  long handOffTimeoutMs() {
    return options.getHandOffTimeoutMs();
  }

  /** The old home handed the shard over: the state and every other region name the new home. */
  void moved(ShardMove move, ShardStopped report, long writeMs) {
    state = state.withRegion(move.type, move.to).moved(move.type, move.shard, move.to, move.epoch);
    // Until now they routed to the old home, which forwards: from now on they go straight to the new one.
    broadcast(move.type, new ShardHome(move.type, move.shard, move.to, move.epoch), move.from, move.to);
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
    shardHome(new GetShardHome(type, shard, candidates.keySet().iterator().next(), shardCounts.getOrDefault(type, shard + 1), false))
        .onSuccess(home -> broadcast(type, home))
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
        .onComplete(ar -> broadcast(type, home));
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

  private void addProxy(String type, String node) {
    if (membership.isMember(node)) {
      proxies.computeIfAbsent(type, t -> new LinkedHashSet<>()).add(node);
    }
  }

  /** ShardHome to every live region of the type but those on the {@code except} nodes. */
  private void broadcast(String type, ShardHome home, String... except) {
    List<String> skipped = List.of(except);
    for (String node : liveRegions(type)) {
      if (!skipped.contains(node)) {
        tell(type, node, home);
      }
    }
    // Proxies route too: told so that they skip the hop through the old home.
    for (String node : proxies.getOrDefault(type, Set.of())) {
      if (membership.isMember(node) && !skipped.contains(node)) {
        tell(type, node, home);
      }
    }
  }

  /**
   * A ShardHome nobody waits for: sent without a reply, which saves a message per region and hand-off. One
   * that is lost only costs that region a hop through the old home, or a question to the coordinator.
   */
  private void tell(String type, String node, ShardHome home) {
    vertx.eventBus().send(Addresses.region(type, node), Protocol.encode(home), Headers.control(membership.self(), options.getHandOffTimeoutMs()));
  }

  /** Registered regions of the type on nodes that are still members. */
  private List<String> liveRegions(String type) {
    return state.regions(type).stream().filter(membership::isMember).toList();
  }

  private Future<JsonObject> control(String type, String node, JsonObject command) {
    return control(type, node, command, options.getHandOffTimeoutMs());
  }

  private Future<JsonObject> control(String type, String node, JsonObject command, long timeoutMs) {
    DeliveryOptions opts = Headers.control(membership.self(), timeoutMs);
    return vertx.eventBus().<JsonObject>request(Addresses.region(type, node), command, opts).map(m -> m.body());
  }

  private Allocations allocations(String type) {
    List<ShardHome> shards = new ArrayList<>();
    List<RegionInfo> regions = new ArrayList<>();
    for (String t : state.types()) {
      if (type != null && !type.equals(t)) {
        continue;
      }
      state.allocations(t).forEach((shard, a) -> {
        if (a.node() != null) {
          shards.add(new ShardHome(t, shard, a.node(), a.epoch()));
        }
      });
      state.regions(t).forEach(node -> regions.add(new RegionInfo(t, node)));
    }
    return new Allocations(membership.self(), shards, regions);
  }
}
