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
import io.sticky.protocol.Protocol.BeginHandOff;
import io.sticky.protocol.Protocol.GetShardHome;
import io.sticky.protocol.Protocol.GracefulShutdownAck;
import io.sticky.protocol.Protocol.GracefulShutdownReq;
import io.sticky.protocol.Protocol.HandOff;
import io.sticky.protocol.Protocol.HostShard;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's single shard coordinator: decides which node hosts each shard.
 *
 * <h2>Design</h2>
 * <ul>
 *   <li><b>Where it runs.</b> On the oldest cluster member ({@link CoordinatorSingleton}); Hazelcast orders
 *   members by join time identically on every node, so all nodes agree who that is. When that node leaves,
 *   the next oldest starts a new coordinator.</li>
 *   <li><b>What survives it.</b> Every allocation is written to the cluster map {@value #TABLE} (a Hazelcast
 *   IMap with a synchronous backup) <em>before</em> anyone is told about it. A new coordinator reads the
 *   table back, so shards on surviving nodes keep their homes and epochs; shards whose node is no longer a
 *   member are treated as unallocated (their epoch is kept, so the next allocation is epoch + 1). Node ids
 *   are unique per process start, so a dead node's id never comes back, and deallocations need no write.</li>
 *   <li><b>Regions.</b> Regions register on start and again on every membership change, so a new
 *   coordinator learns them within one round trip; a region that asks for a shard home is registered
 *   implicitly.</li>
 *   <li><b>One allocation per shard at a time.</b> Requests for a shard whose allocation is being written,
 *   or which is being handed off, wait for that instead of allocating again.</li>
 *   <li><b>Hand-off</b> (rebalance, clean leave) of shard S from A to B: BeginHandOff to every region (they
 *   buffer S) and, right behind A's, HandOff to A (its entities finish their current message, are
 *   snapshotted and undeployed; a message a slower region still sends A meanwhile waits at A and is then
 *   answered wrong-home, so its sender routes it again)
 *   -> ShardStopped with the snapshots -> the table says B at epoch + 1 -> HostShard to B with the
 *   snapshots, and at the same time ShardHome to every other region, which flush their buffers to B. B is
 *   always a region that acknowledged BeginHandOff, so a message that reaches it before HostShard waits in
 *   its buffer: nothing runs on B before the snapshots are there. S is never active on A and B at once: B
 *   learns it hosts S only after A has stopped it. If A fails to stop S while still a member, the hand-off
 *   is abandoned and every region is told S is still on A.</li>
 * </ul>
 *
 * <h2>When the guarantees do not hold</h2>
 * A coordinator that dies during a hand-off loses the snapshots it was carrying: those entities restart
 * from their initial state (or, later, from the state store). Under a network partition Hazelcast may form two clusters, each with an oldest member and so a
 * coordinator; the two may allocate the same unallocated shard to different nodes. Split-brain protection
 * and conditional state writes (later issues) are what keep persisted state from forking then.
 */
public final class ShardCoordinator extends VerticleBase {
  /** Name of the cluster map holding the allocation table: key {@code type/shard}, value {@code {node, epoch}}. */
  public static final String TABLE = "sticky.allocations";
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);
  /** How long a rebalance leaves a shard alone after its hand-off failed. */
  static final long FAILED_MOVE_COOL_DOWN_MS = 5_000;

  private final Membership membership;
  private final ShardAllocationStrategy strategy;
  private final StickyOptions options;
  /** Shards being handed off, by key: completes with the new home. */
  private final Map<String, Future<ShardHome>> handOffs = new HashMap<>();
  /** Hand-offs whose table write is done: the state already lists the shard under its new home. */
  private final Set<String> landing = new HashSet<>();
  /** Shards whose last hand-off failed, by key: not moved again by a rebalance before this time (ms). */
  private final Map<String, Long> coolingDown = new HashMap<>();
  /** Nodes leaving cleanly: they get no new shards. */
  private final Set<String> leaving = new HashSet<>();
  private long rebalanceTimer = -1;
  /** Set on stop: hand-offs still ending then start no new moves. */
  private boolean stopped;
  private CoordinatorState state = CoordinatorState.EMPTY;
  private final Map<String, Future<ShardHome>> allocating = new HashMap<>();
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
    unsubscribe = membership.subscribe(vertx, this::onMembershipChange);
    return vertx.sharedData().<String, String>getAsyncMap(TABLE)
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

  private void recover(Map<String, String> entries) {
    int live = 0;
    for (Map.Entry<String, String> e : entries.entrySet()) {
      int slash = e.getKey().lastIndexOf('/');
      JsonObject value = new JsonObject(e.getValue());
      String type = e.getKey().substring(0, slash);
      int shard = Integer.parseInt(e.getKey().substring(slash + 1));
      String node = value.getString("node");
      boolean alive = node != null && membership.isMember(node);
      state = state.recovered(type, shard, alive ? node : null, value.getLong("epoch"));
      if (alive) {
        state = state.withRegion(type, node);
        live++;
      }
    }
    log.info("coordinator recovered {} allocations ({} on live nodes)", entries.size(), live);
  }

  private void onMembershipChange(Membership.Change change) {
    for (String gone : change.removed()) {
      state = state.withoutNode(gone);
      leaving.remove(gone);
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
    // (Java 17: no pattern matching in switch yet.)
    String mismatch = checkShardCount(command);
    if (mismatch != null) {
      log.error(mismatch);
      msg.fail(400, mismatch);
      return;
    }
    if (command instanceof Register r) {
      if (membership.isMember(r.node()) && !leaving.contains(r.node()) && !state.regions(r.type()).contains(r.node())) {
        state = state.withRegion(r.type(), r.node());
        // A new region: even out the load soon rather than at the next periodic check.
        vertx.setTimer(100, t -> rebalance());
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
    }
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
    if (membership.isMember(g.requester()) && !leaving.contains(g.requester())) {
      state = state.withRegion(g.type(), g.requester());
    }
    Allocation current = state.allocation(g.type(), g.shard());
    if (current != null && current.node() != null) {
      if (membership.isMember(current.node())) {
        return Future.succeededFuture(new ShardHome(g.type(), g.shard(), current.node(), current.epoch()));
      }
      state = state.withoutNode(current.node());
    }
    String key = g.type() + "/" + g.shard();
    Future<ShardHome> moving = handOffs.get(key);
    if (moving != null) {
      return moving;
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
    table.put(key, new JsonObject().put("node", node).put("epoch", epoch).encode()).onComplete(ar -> {
      allocating.remove(key, allocation.future());
      if (ar.failed()) {
        allocation.fail(ar.cause());
        return;
      }
      state = state.allocated(g.type(), g.shard(), node, epoch);
      log.debug("allocated {} to {} at epoch {} (table write {} ms)", key, node, epoch, (System.nanoTime() - started) / 1_000_000);
      allocation.complete(new ShardHome(g.type(), g.shard(), node, epoch));
    });
    return allocation.future();
  }

  /** Live regions of the type that may take shards (not leaving, not {@code except}), with their shards. */
  private Map<String, Set<Integer>> candidates(String type, String except) {
    return state.shardsByRegion(type).entrySet().stream()
        .filter(e -> membership.isMember(e.getKey()) && !leaving.contains(e.getKey()) && !e.getKey().equals(except))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
  }

  // ---------------------------------------------------------------- rebalance and hand-off

  /**
   * Starts the moves the strategy asks for, over every type. Called periodically, when a region registers,
   * and as each hand-off ends: a sliding window that keeps up to the limit of shards moving, rather than
   * rounds that each wait for their slowest move. A shard whose hand-off failed is not moved again for
   * {@link #FAILED_MOVE_COOL_DOWN_MS}, so a move that keeps failing does not pause its shard over and over.
   */
  private void rebalance() {
    if (stopped) {
      return;
    }
    long now = System.currentTimeMillis();
    coolingDown.values().removeIf(until -> until <= now);
    for (String type : state.types()) {
      Set<Integer> inProgress = new HashSet<>();
      Set<Integer> landed = new HashSet<>();
      handOffs.keySet().forEach(k -> {
        if (k.startsWith(type + "/")) {
          (landing.contains(k) ? landed : inProgress).add(Integer.parseInt(k.substring(type.length() + 1)));
        }
      });
      Map<String, Set<Integer>> current = candidates(type, null);
      Set<Integer> shards;
      try {
        // Moves whose table write is done are already listed under their new home: not "in progress" to
        // the strategy, which would place them again. They still count against the window below.
        shards = strategy.rebalance(current, inProgress);
      } catch (RuntimeException e) {
        log.error("rebalance strategy failed for {}", type, e);
        continue;
      }
      // The window is enforced here too, whatever the strategy returns (a custom one may ignore inProgress).
      int total = current.values().stream().mapToInt(Set::size).sum();
      int window = LeastShardAllocationStrategy.window(options.getRebalanceAbsoluteLimit(), options.getRebalanceRelativeLimit(), total);
      int free = window - inProgress.size() - landed.size();
      for (Integer shard : shards) {
        String key = type + "/" + shard;
        String from = state.home(type, shard);
        if (free <= 0) {
          break;
        }
        if (from != null && !handOffs.containsKey(key) && !coolingDown.containsKey(key)) {
          free--;
          handOff(type, shard, from).onComplete(ar -> {
            if (ar.failed()) {
              coolingDown.put(key, System.currentTimeMillis() + FAILED_MOVE_COOL_DOWN_MS);
            }
            vertx.runOnContext(v -> rebalance());
          });
        }
      }
    }
  }

  /**
   * Hands off every shard of a node that is leaving cleanly, {@code rebalanceAbsoluteLimit} at a time;
   * completes with the count moved.
   */
  private Future<Integer> handOffAllOf(String node) {
    leaving.add(node);
    List<String[]> work = new ArrayList<>();
    for (String type : state.types()) {
      if (candidates(type, node).isEmpty()) {
        continue; // the last region of its type: nowhere to move its shards
      }
      state.allocations(type).forEach((shard, a) -> {
        if (node.equals(a.node())) {
          work.add(new String[] {type, Integer.toString(shard)});
        }
      });
    }
    log.info("node {} is leaving: handing off its {} shard(s)", node, work.size());
    return handOffBatch(work, 0, 0).onComplete(ar -> {
      // Its regions stop after this: forget them now, so later hand-offs do not wait for their answers.
      // Anything it still hosts (a failed hand-off) becomes unallocated, as when a node dies.
      state = state.withoutNode(node);
    });
  }

  private Future<Integer> handOffBatch(List<String[]> work, int from, int moved) {
    if (from >= work.size()) {
      return Future.succeededFuture(moved);
    }
    List<Future<ShardHome>> batch = new ArrayList<>();
    int parallelism = options.getRebalanceAbsoluteLimit();
    for (int i = from; i < Math.min(work.size(), from + parallelism); i++) {
      String type = work.get(i)[0];
      int shard = Integer.parseInt(work.get(i)[1]);
      String key = type + "/" + shard;
      Future<ShardHome> running = handOffs.get(key);
      String home = state.home(type, shard);
      batch.add(running != null ? running : home == null ? Future.succeededFuture() : handOff(type, shard, home));
    }
    return Future.join(batch).transform(ar -> {
      int ok = 0;
      for (Future<ShardHome> f : batch) {
        ok += f.succeeded() ? 1 : 0;
      }
      return handOffBatch(work, from + parallelism, moved + ok);
    });
  }

  /** Moves one shard off {@code from}; see the class comment for the protocol. Completes with the new home. */
  private Future<ShardHome> handOff(String type, int shard, String from) {
    String key = type + "/" + shard;
    long started = System.nanoTime();
    long oldEpoch = state.allocation(type, shard).epoch();
    Promise<ShardHome> done = Promise.promise();
    handOffs.put(key, done.future());
    List<Future<?>> begun = new ArrayList<>();
    // Regions that acknowledged BeginHandOff, so buffer the shard: only one of them may become its new home.
    Set<String> buffering = new HashSet<>();
    for (String node : liveRegions(type)) {
      // A leaving node that is not the old home may already have stopped its regions: do not wait for it.
      // If it still routes a message for this shard to the old home, the old home answers wrong-home.
      if (!leaving.contains(node) || node.equals(from)) {
        begun.add(control(type, node, Protocol.encode(new BeginHandOff(type, shard)), options.getCoordinatorTimeoutMs())
            .onSuccess(ack -> buffering.add(node)));
      }
    }
    int[] moved = new int[1];
    String[] to = new String[1];
    // phase end times, for the hand-off log line: buffered everywhere, old home stopped (these two overlap),
    // table written, new home hosting
    long[] phase = new long[4];
    // HandOff right behind A's BeginHandOff (same sender, same connection: A gets them in that order), not
    // after every ack: a region that has not buffered yet may still send A a message, which A (buffering
    // since its BeginHandOff) holds and then answers wrong-home, so the sender routes it again. Saves a
    // round trip of pause per hand-off.
    Future<Map<String, String>> stoppedOnOldHome = (!membership.isMember(from) ? Future.succeededFuture(Map.<String, String>of())
        : control(type, from, Protocol.encode(new HandOff(type, shard))).map(reply -> Protocol.decode(reply, ShardStopped.class).states()))
        .andThen(ar -> phase[1] = System.nanoTime());
    Future.join(begun).andThen(ar -> phase[0] = System.nanoTime())
        .transform(ignored -> stoppedOnOldHome)
        .compose(states -> {
          moved[0] = states.size();
          Map<String, Set<Integer>> candidates = buffering(candidates(type, from), buffering);
          if (candidates.isEmpty()) {
            candidates = buffering(candidates(type, null), buffering);
          }
          if (candidates.isEmpty()) {
            return Future.failedFuture("no region that buffers " + key + " to move it to");
          }
          String target = strategy.allocateShard(candidates.keySet().iterator().next(), shard, candidates);
          to[0] = target;
          long epoch = state.nextEpoch(type, shard);
          return table.put(key, new JsonObject().put("node", target).put("epoch", epoch).encode())
              .map(v -> {
                phase[2] = System.nanoTime();
                state = state.moved(type, shard, target, epoch);
                landing.add(key);
                return new ShardHome(type, shard, target, epoch);
              })
              .compose(home -> {
                Future<JsonObject> hosted = control(type, target, Protocol.encode(new HostShard(type, shard, home.epoch(), states)));
                // Not waiting for B: what the others send it now waits in its buffer until HostShard is in.
                broadcast(type, home, target);
                return hosted.map(home);
              })
              .andThen(ar -> phase[3] = System.nanoTime());
        })
        .onComplete(ar -> {
          handOffs.remove(key, done.future());
          landing.remove(key);
          if (ar.succeeded()) {
            ShardHome home = ar.result();
            long stopsDone = Math.max(phase[0], phase[1]);
            log.info("hand-off type={} shard={} from={} to={} epoch={} entities={} durationMs={} (acksMs={} stopMs={} writeMs={} hostMs={})",
                type, shard, from, home.node(), home.epoch(), moved[0], (System.nanoTime() - started) / 1_000_000,
                (phase[0] - started) / 1_000_000, (phase[1] - started) / 1_000_000, (phase[2] - stopsDone) / 1_000_000,
                (phase[3] - phase[2]) / 1_000_000);
            metrics.handOff(type, "ok", System.nanoTime() - started, moved[0]);
            done.complete(home);
          } else {
            log.warn("hand-off of {} from {} abandoned: {}", key, from, ar.cause().getMessage());
            metrics.handOff(type, "abandoned", System.nanoTime() - started, 0);
            recoverAbandoned(type, shard, from, oldEpoch);
            done.fail(ar.cause());
          }
        });
    return done.future();
  }

  /**
   * After a failed hand-off every region is buffering the shard: tell them where it is. If the old home is
   * still a member it keeps the shard (it re-hosts it on this ShardHome); otherwise it is allocated afresh.
   */
  private void recoverAbandoned(String type, int shard, String from, long oldEpoch) {
    Allocation current = state.allocation(type, shard);
    if (current != null && current.node() != null && membership.isMember(current.node())) {
      broadcast(type, new ShardHome(type, shard, current.node(), current.epoch()));
      return;
    }
    Map<String, Set<Integer>> candidates = candidates(type, null);
    if (candidates.isEmpty()) {
      return;
    }
    shardHome(new GetShardHome(type, shard, candidates.keySet().iterator().next(), shardCounts.getOrDefault(type, shard + 1)))
        .onSuccess(home -> broadcast(type, home))
        .onFailure(err -> log.error("shard {}/{} left without a home after an abandoned hand-off: {}", type, shard, err.getMessage()));
  }

  private void broadcast(String type, ShardHome home) {
    broadcast(type, home, null);
  }

  /** ShardHome to every live region of the type but {@code except} (null: all). */
  private void broadcast(String type, ShardHome home, String except) {
    for (String node : liveRegions(type)) {
      if (!node.equals(except)) {
        control(type, node, Protocol.encode(home));
      }
    }
  }

  /** The candidates that are buffering the shard being handed off. */
  private static Map<String, Set<Integer>> buffering(Map<String, Set<Integer>> candidates, Set<String> buffering) {
    Map<String, Set<Integer>> result = new LinkedHashMap<>(candidates);
    result.keySet().retainAll(buffering);
    return result;
  }

  /** Registered regions of the type on nodes that are still members. */
  private List<String> liveRegions(String type) {
    return state.regions(type).stream().filter(membership::isMember).toList();
  }

  private Future<JsonObject> control(String type, String node, JsonObject command) {
    return control(type, node, command, options.getHandOffTimeoutMs());
  }

  private Future<JsonObject> control(String type, String node, JsonObject command, long timeoutMs) {
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(timeoutMs).addHeader(Headers.CONTROL, "1");
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
