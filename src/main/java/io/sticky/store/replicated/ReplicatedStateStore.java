package io.sticky.store.replicated;

import io.sticky.internal.cluster.Membership;
import io.sticky.internal.protocol.Addresses;
import io.sticky.api.ShardId;
import io.sticky.store.StateConflictException;
import io.sticky.store.StateLostException;
import io.sticky.store.StateStore;
import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entity's node holds the primary copy of its state; one other node, the shard's standby, holds the
 * second. A write is acknowledged once both have it, so {@code kill -9} of any one node loses no
 * acknowledged write, and no store operation is on the write path: one event-bus round trip to the standby,
 * shared by every write to the same standby that arrived while the previous batches were on their way.
 *
 * <p>How it stays one copy per shard, and safe:
 * <ul>
 *   <li><b>Acquire.</b> The first load or write of a shard at an allocation epoch newer than this node's copy
 *   (the shard was just placed here) asks every other member for its copy ({@code FETCH} at that epoch) and
 *   keeps the highest version of each entity. A node answering a fetch refuses, from then on, writes and copies
 *   of older epochs: an old home that still runs cannot write, and its standby rejects it.</li>
 *   <li><b>Standby.</b> The standby of a shard is the member after its primary in the member list (oldest
 *   first, wrapping round). A new standby first gets the whole shard ({@code SNAPSHOT}); writes wait for it.
 *   When the snapshot is in, the other members drop older copies ({@code RELEASE}).</li>
 *   <li><b>Order does not matter.</b> Copies merge by keeping each entity's higher version, so batches, retries
 *   and snapshots may arrive in any order.</li>
 * </ul>
 * Lost with the whole cluster, and when the primary and its standby die before a new standby holds the shard.
 * The wire format is {@link ReplicaWire}; docs/design.md has the full protocol.
 */
public final class ReplicatedStateStore implements StateStore {
  public static final String NAME = "replicated";
  private static final Logger log = LoggerFactory.getLogger(ReplicatedStateStore.class);
  /**
   * A fetch, snapshot or batch not answered in this time is sent again (all are idempotent). Well below the
   * ask timeout: a message to a node that is stopping can be lost without an answer, and the write waiting on
   * it must still be acknowledged in time by the next standby.
   */
  static final long REQUEST_TIMEOUT_MS = 1_000;
  /** Attempts at fetching one member's copy before the acquisition fails (the load or write then fails, not applied). */
  static final int FETCH_ATTEMPTS = 4;
  private static final long RETRY_MIN_MS = 20;
  private static final long RETRY_MAX_MS = 1_000;

  private final Vertx vertx;
  private final Membership membership;
  private final ToIntFunction<String> shardsOf;
  private final BooleanSupplier inQuorum;
  private final Predicate<String> reachable;
  private volatile ReplicaEndpoint endpoint;
  private final ConcurrentMap<ShardKey, ShardCopy> copies = new ConcurrentHashMap<>();
  private final StandbyWrites writes;
  private final CopyFetch fetcher;
  private volatile String deploymentId;

  /**
   * @param shardsOf the number of shards of an entity type (it must be what the type's regions use)
   */
  public ReplicatedStateStore(Vertx vertx, Membership membership, ToIntFunction<String> shardsOf) {
    this(vertx, membership, shardsOf, () -> true, node -> true);
  }

  /**
   * @param inQuorum whether this node is on the cluster's majority side: without it, this node neither
   *                 acknowledges a write (its own or, as a standby, another's) nor hands its copies over
   * @param reachable whether a member answers this node now: a standby is chosen among those, so that the
   *                  writes of a majority do not wait for a member cut off from it until Hazelcast evicts it;
   *                  call {@link #reachabilityChanged()} when the answer changes
   */
  public ReplicatedStateStore(Vertx vertx, Membership membership, ToIntFunction<String> shardsOf, BooleanSupplier inQuorum,
                              Predicate<String> reachable) {
    this.vertx = vertx;
    this.membership = membership;
    this.shardsOf = shardsOf;
    this.inQuorum = inQuorum;
    this.reachable = reachable;
    this.writes = new StandbyWrites(vertx, this::resync, inQuorum, () -> membership.members().size() <= 1);
    this.fetcher = new CopyFetch(vertx, membership);
  }

  /** Some member became reachable or unreachable: primaries pick their standby again. */
  public void reachabilityChanged() {
    ReplicaEndpoint endpoint = this.endpoint;
    if (endpoint != null) {
      endpoint.context().runOnContext(v -> reassignStandbys());
    }
  }

  /** Registers this node's replica endpoint; the store answers other nodes only once this completed. */
  public Future<Void> start() {
    ReplicaEndpoint replicas = new ReplicaEndpoint(membership, copies, inQuorum, this::onMembershipChange);
    return vertx.deployVerticle(replicas).onSuccess(id -> {
      endpoint = replicas;
      deploymentId = id;
    }).mapEmpty();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Future<StoredState> load(String type, String id) {
    return load(type, id, 0);
  }

  @Override
  public Future<StoredState> load(String type, String id, long epoch) {
    return primary(key(type, id), epoch).compose(copy -> {
      StoredState state = copy.states.get(id);
      if (state == null && copy.lost) {
        recheckLost(copy, others(), false);
        return Future.failedFuture(new StateLostException("the state of shard " + copy.key.shard() + " of " + type
            + " is lost: every copy of it was on nodes that failed together"));
      }
      return Future.succeededFuture(state);
    });
  }

  @Override
  public Future<Integer> acceptStateLoss(String type) {
    int cleared = 0;
    for (ShardCopy copy : copies.values()) {
      if (copy.key.type().equals(type) && copy.lost) {
        synchronized (copy) {
          copy.lost = false;
        }
        cleared++;
        log.warn("shard {}: its lost states are accepted as gone; its entities start fresh", copy.key);
      }
    }
    return Future.succeededFuture(cleared);
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    return primary(key(type, id), next.epoch()).compose(copy -> writeTo(copy, id, next));
  }

  @Override
  public void hosting(String type, int shard, long epoch) {
    // Acquire now rather than at the shard's first write: the old home's copy may leave with it (a clean leave).
    primary(new ShardKey(type, shard), epoch).onFailure(err ->
        log.debug("shard {}/{} not acquired at epoch {} yet: {}", type, shard, epoch, err.getMessage()));
  }

  /**
   * The sum of every member's primary copies of the type's shards: one question to each member. A member that
   * does not answer in time is left out, so the count may be low while a node is unreachable.
   */
  @Override
  public Future<Long> count(String type) {
    Buffer question = Buffer.buffer(32).appendByte(ReplicaWire.COUNT);
    ReplicaWire.putString(question, type);
    List<Future<Long>> answers = new ArrayList<>();
    for (String node : membership.members()) {
      answers.add(vertx.eventBus().<Buffer>request(Addresses.replica(node), question, new DeliveryOptions().setSendTimeout(REQUEST_TIMEOUT_MS))
          .map(m -> m.body().getLong(0)).otherwise(0L));
    }
    return Future.all(answers).map(all -> answers.stream().mapToLong(Future::result).sum());
  }

  @Override
  public Future<Void> ping() {
    return deploymentId != null ? Future.succeededFuture() : Future.failedFuture("replica endpoint not started");
  }

  @Override
  public Future<Void> close() {
    String id = deploymentId;
    deploymentId = null;
    return id == null ? Future.succeededFuture() : vertx.undeploy(id);
  }

  /** Entity states held here, primary and replica copies (tests, metrics). */
  public int size() {
    return copies.values().stream().mapToInt(c -> c.states.size()).sum();
  }

  private ShardKey key(String type, String id) {
    return new ShardKey(type, ShardId.of(id, shardsOf.applyAsInt(type)));
  }

  // ---------------------------------------------------------------- primary side

  /**
   * This node's primary copy of the shard at {@code epoch} (0: whatever epoch it has), acquiring it first if
   * needed. Fails with a conflict for an epoch older than one this node has seen.
   */
  private Future<ShardCopy> primary(ShardKey key, long epoch) {
    if (!inQuorum.getAsBoolean()) {
      return Future.failedFuture(noQuorum());
    }
    ShardCopy copy = copies.computeIfAbsent(key, ShardCopy::new);
    synchronized (copy) {
      if (epoch != 0 && (epoch < copy.epoch || epoch < copy.fence)) {
        return Future.failedFuture(stale(key, epoch, Math.max(copy.epoch, copy.fence)));
      }
      if (copy.primary && (epoch == 0 || epoch == copy.epoch)) {
        return copy.ready;
      }
      if (copy.acquiring != null && (epoch == 0 || epoch == copy.acquiringEpoch)) {
        return copy.acquiring;
      }
      return acquire(copy, epoch == 0 ? Math.max(copy.epoch, copy.fence) : epoch);
    }
  }

  /** Holds the copy's monitor. */
  private Future<ShardCopy> acquire(ShardCopy copy, long epoch) {
    Promise<ShardCopy> acquired = Promise.promise();
    copy.acquiring = acquired.future();
    copy.acquiringEpoch = epoch;
    List<Future<CopyFetch.Fetched>> fetches = new ArrayList<>();
    List<String> asked = others();
    for (String node : asked) {
      fetches.add(fetcher.fetch(node, copy.key, epoch, 1));
    }
    Future.all(fetches).onComplete(ar -> {
      String standby;
      synchronized (copy) {
        if (copy.acquiringEpoch != epoch) {
          acquired.fail(stale(copy.key, epoch, copy.acquiringEpoch));
          return;
        }
        copy.acquiring = null;
        if (ar.failed()) {
          acquired.fail(ar.cause());
          return;
        }
        if (epoch < copy.fence || epoch < copy.epoch) {
          acquired.fail(stale(copy.key, epoch, Math.max(copy.epoch, copy.fence)));
          return;
        }
        long held = copy.epoch;
        boolean lost = copy.lost;
        for (Future<CopyFetch.Fetched> f : fetches) {
          copy.mergeAll(f.result().states());
          held = Math.max(held, f.result().epoch());
          lost |= f.result().lost();
        }
        if (!lost && epoch > 1 && held == 0 && !asked.isEmpty()) {
          // The shard was hosted before (epoch > 1), yet no member holds a copy of it, empty or not: its primary
          // and standby copies both went. What it held is gone; its entities must not silently start over. (A
          // node alone never had a standby: it holds every copy there is.)
          lost = true;
          log.error("shard {}: taken over at epoch {} but no member holds a copy of it: its states are lost. Its entities"
              + " answer 503 state-lost until POST /cluster/types/{}/accept-state-loss", copy.key, epoch, copy.key.type());
        }
        copy.lost = lost;
        copy.primary = true;
        copy.epoch = epoch;
        copy.fence = epoch;
        copy.ready = Future.succeededFuture(copy);
        standby = successor();
        assignStandby(copy, standby);
      }
      if (standby != null) {
        syncStandby(copy, standby, epoch, 0);
      }
      acquired.complete(copy);
    });
    return acquired.future();
  }

  /** Holds the copy's monitor. A writer waiting for the previous standby's snapshot tries again with this one. */
  private void assignStandby(ShardCopy copy, String standby) {
    if (copy.standbySynced != null) {
      copy.standbySynced.tryFail("standby of " + copy.key + " changed to " + standby);
    }
    copy.standby = standby;
    copy.term++;
    copy.standbySynced = standby == null ? null : Promise.promise();
  }

  /** Sends the whole shard to its standby; once it is there, older copies elsewhere can go. */
  private void syncStandby(ShardCopy copy, String standby, long epoch, int attempt) {
    Buffer msg;
    Promise<Void> synced;
    long term;
    boolean lost;
    synchronized (copy) {
      if (!copy.primary || copy.epoch != epoch || !standby.equals(copy.standby)) {
        return;
      }
      synced = copy.standbySynced;
      term = copy.term;
      lost = copy.lost;
      msg = ReplicaWire.shardMessage(ReplicaWire.SNAPSHOT, copy.key, epoch).appendLong(term).appendByte(copy.lost ? (byte) 1 : 0);
      ReplicaWire.putStates(msg, copy.states);
    }
    vertx.eventBus().<Buffer>request(Addresses.replica(standby), msg, new DeliveryOptions().setSendTimeout(REQUEST_TIMEOUT_MS))
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result().body().getByte(0) == ReplicaWire.OK) {
            synced.tryComplete();
            // A lost shard releases nothing: a member back from a partition may hold the only good copy, which
            // its next check for the shard's states (recheckLost) still has to find.
            if (!lost) {
              release(copy.key, epoch, term, standby);
            }
          } else if (ar.succeeded()) {
            synchronized (copy) {
              copy.demote(epoch + 1);
            }
            log.warn("shard {} at epoch {}: its standby {} knows a newer epoch; this copy takes no more writes", copy.key, epoch, standby);
          } else {
            log.debug("shard {}: snapshot to standby {} failed (attempt {}): {}", copy.key, standby, attempt, ar.cause().getMessage());
            vertx.setTimer(backoff(attempt), t -> syncStandby(copy, standby, epoch, attempt + 1));
          }
        });
  }

  /** Tells every member but this one and the standby to drop copies older than this epoch and standby term. */
  private void release(ShardKey key, long epoch, long term, String standby) {
    Buffer msg = ReplicaWire.shardMessage(ReplicaWire.RELEASE, key, epoch).appendLong(term);
    for (String node : others()) {
      if (!node.equals(standby)) {
        vertx.eventBus().send(Addresses.replica(node), msg);
      }
    }
  }

  private Future<Void> writeTo(ShardCopy copy, String id, StoredState next) {
    if (!inQuorum.getAsBoolean()) {
      return Future.failedFuture(noQuorum());
    }
    long epoch;
    synchronized (copy) {
      if (!copy.primary || (next.epoch() != 0 && next.epoch() != copy.epoch)) {
        return Future.failedFuture(stale(copy.key, next.epoch(), Math.max(copy.epoch, copy.fence)));
      }
      if (!StoredState.canReplace(copy.states.get(id), next)) {
        return Future.failedFuture(new StateConflictException(copy.key.type(), id, next.version() - 1));
      }
      copy.states.put(id, next);
      epoch = copy.epoch;
    }
    return writes.replicate(copy, epoch, id, next);
  }

  /** The standby lost or never got the shard although it acknowledged a snapshot: send it again. */
  private void resync(ShardCopy copy, long epoch, String standby) {
    synchronized (copy) {
      if (!copy.primary || copy.epoch != epoch || !standby.equals(copy.standby) || !copy.standbyReady().isComplete()) {
        return;
      }
      assignStandby(copy, standby);
    }
    syncStandby(copy, standby, epoch, 0);
  }

  // ---------------------------------------------------------------- membership

  /** The first reachable member after this one, oldest first, wrapping round; null when there is none. */
  private String successor() {
    List<String> members = membership.members();
    int i = members.indexOf(membership.self());
    if (i < 0) {
      return null;
    }
    for (int k = 1; k < members.size(); k++) {
      String candidate = members.get((i + k) % members.size());
      if (reachable.test(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private List<String> others() {
    return membership.members().stream().filter(m -> !m.equals(membership.self())).toList();
  }

  /** A member came or went: primaries whose standby changed send their shard to the new one. */
  private void onMembershipChange(Membership.Change change) {
    change.removed().forEach(writes::standbyLeft);
    reassignStandbys();
    if (!change.added().isEmpty()) {
      recoverLost(change.added());
    }
  }

  /**
   * Members joined (or came back after a partition healed): a shard marked lost asks them for their copies
   * (and asks every member again, at most every {@link #LOST_RECHECK_MS} ms, while its entities are asked
   * for). If one still holds a whole copy (it was cut off, not dead), its states come back and the shard is
   * no longer lost.
   */
  private void recoverLost(java.util.Set<String> joined) {
    for (ShardCopy copy : copies.values()) {
      if (copy.lost) {
        recheckLost(copy, List.copyOf(joined), true);
      }
    }
  }

  /** Minimum time between two askings of the members for a lost shard's copies (its loads trigger them). */
  static final long LOST_RECHECK_MS = 1_000;

  /** Asks {@code nodes} whether one still holds a whole copy of a lost shard; if so, its states come back. */
  private void recheckLost(ShardCopy copy, List<String> nodes, boolean membersJoined) {
    long epoch;
    synchronized (copy) {
      long now = System.currentTimeMillis();
      // Members that just joined are asked at once; loads ask everyone at most every LOST_RECHECK_MS.
      if (!copy.primary || !copy.lost || nodes.isEmpty() || (!membersJoined && now - copy.lostCheckedAt < LOST_RECHECK_MS)) {
        return;
      }
      copy.lostCheckedAt = now;
      epoch = copy.epoch;
    }
    List<Future<CopyFetch.Fetched>> fetches = new ArrayList<>();
    nodes.forEach(node -> fetches.add(fetcher.fetch(node, copy.key, epoch, FETCH_ATTEMPTS)));
    Future.join(fetches).onComplete(ar -> {
      String standby = null;
      synchronized (copy) {
        if (!copy.primary || copy.epoch != epoch || !copy.lost) {
          return;
        }
        boolean found = false;
        for (Future<CopyFetch.Fetched> f : fetches) {
          if (f.succeeded() && f.result().epoch() > 0 && !f.result().lost()) {
            copy.mergeAll(f.result().states());
            found = true;
          }
        }
        if (found) {
          copy.lost = false;
          log.warn("shard {}: a member that came back held a copy of it; its states are recovered and it is no longer lost",
              copy.key);
          standby = copy.standby;
        }
      }
      if (standby != null) {
        syncStandby(copy, standby, epoch, 0);
      }
    });
  }

  private void reassignStandbys() {
    String next = successor();
    for (ShardCopy copy : copies.values()) {
      long epoch;
      synchronized (copy) {
        if (!copy.primary || Objects.equals(next, copy.standby)) {
          continue;
        }
        assignStandby(copy, next);
        epoch = copy.epoch;
      }
      if (next != null) {
        syncStandby(copy, next, epoch, 0);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  static StateConflictException stale(ShardKey key, long epoch, long newer) {
    return new StateConflictException("shard " + key.shard() + " of " + key.type() + " is hosted elsewhere since epoch " + newer
        + " (this instance is at epoch " + epoch + "): written elsewhere");
  }

  private IllegalStateException noQuorum() {
    return new IllegalStateException("node " + membership.self() + " is not in the cluster's majority; not applied");
  }

  static long backoff(int attempt) {
    return Math.min(RETRY_MAX_MS, RETRY_MIN_MS << Math.min(attempt, 10));
  }
}
