package io.sticky.coordinator;

import io.sticky.cluster.Membership;
import io.sticky.coordinator.CoordinatorState.Allocation;
import io.sticky.protocol.Addresses;
import io.sticky.protocol.Protocol;
import io.sticky.protocol.Protocol.Allocations;
import io.sticky.protocol.Protocol.GetAllocations;
import io.sticky.protocol.Protocol.GetShardHome;
import io.sticky.protocol.Protocol.Register;
import io.sticky.protocol.Protocol.RegisterAck;
import io.sticky.protocol.Protocol.RegionInfo;
import io.sticky.protocol.Protocol.ShardHome;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *   <li><b>One allocation per shard at a time.</b> Requests for a shard whose allocation is being written
 *   wait for that write instead of allocating again.</li>
 * </ul>
 *
 * <h2>When the guarantees do not hold</h2>
 * Under a network partition Hazelcast may form two clusters, each with an oldest member and so a
 * coordinator; the two may allocate the same unallocated shard to different nodes. Split-brain protection
 * and conditional state writes (later issues) are what keep persisted state from forking then.
 */
public final class ShardCoordinator extends VerticleBase {
  /** Name of the cluster map holding the allocation table: key {@code type/shard}, value {@code {node, epoch}}. */
  public static final String TABLE = "sticky.allocations";
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);

  private final Membership membership;
  private final ShardAllocationStrategy strategy;
  private CoordinatorState state = CoordinatorState.EMPTY;
  private final Map<String, Future<ShardHome>> allocating = new HashMap<>();
  /** Number of shards per type, as the first region registered it; all others must agree. */
  private final Map<String, Integer> shardCounts = new HashMap<>();
  private AsyncMap<String, String> table;
  private MessageConsumer<JsonObject> consumer;
  private Runnable unsubscribe;

  public ShardCoordinator(Membership membership, ShardAllocationStrategy strategy) {
    this.membership = membership;
    this.strategy = strategy;
  }

  @Override
  public Future<?> start() {
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
        .onSuccess(v -> log.info("coordinator started on {}", membership.self()));
  }

  @Override
  public Future<?> stop() {
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
      if (membership.isMember(r.node())) {
        state = state.withRegion(r.type(), r.node());
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
    if (membership.isMember(g.requester())) {
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
    Future<ShardHome> inFlight = allocating.get(key);
    if (inFlight != null) {
      return inFlight;
    }
    Map<String, Set<Integer>> candidates = state.shardsByRegion(g.type()).entrySet().stream()
        .filter(e -> membership.isMember(e.getKey()))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    if (candidates.isEmpty()) {
      return Future.failedFuture("no live region of " + g.type());
    }
    String node = strategy.allocateShard(g.requester(), g.shard(), candidates);
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
