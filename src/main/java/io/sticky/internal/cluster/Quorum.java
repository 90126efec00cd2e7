package io.sticky.internal.cluster;

import io.sticky.internal.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node is on the majority side of the cluster, and so may serve entities and write state.
 *
 * <p>A member counts as reachable while it answered one of this node's pings within the last
 * {@link #LEASE_MS}, measured on this node's clock from when the ping was sent (an answer that sat in a buffer
 * while this node was paused is already old when it is read), and said that it has this node in its cluster
 * (a node evicted during a pause still reaches the others, but is no longer one of them). The node holds quorum while the reachable members
 * (itself included) are more than half of the <em>base</em>: {@code expectedNodes} when configured, else the
 * last membership that stayed unchanged for {@link #STABLE_AFTER_MS} while quorum was held (a member that
 * announced a clean leave leaves the base at once). An even split is won by the side with the base's oldest
 * member.
 *
 * <p>Why a lease of its own rather than Hazelcast's member list: Hazelcast evicts an unreachable member after
 * {@code max.no.heartbeat.seconds} (10 s), on both sides at about the same moment, and the majority then
 * reallocates the minority's shards. The minority must have stopped before that: with a 2 s lease it stops
 * within about 2.5 s of losing its majority, long before the majority takes over.
 */
public final class Quorum {
  private static final Logger log = LoggerFactory.getLogger(Quorum.class);
  /** Pings to every other member this often. */
  public static final long PING_INTERVAL_MS = 250;
  /** A member counts as reachable for this long after the ping it answered was sent. */
  public static final long LEASE_MS = 2_000;
  /** A membership unchanged (and in quorum) for this long becomes the base the majority is counted from. */
  public static final long STABLE_AFTER_MS = 10_000;

  static final byte PING = 1;
  static final byte LEAVING = 2;
  static final byte PONG_MEMBER = 3;
  static final byte PONG_STRANGER = 4;

  private final Vertx vertx;
  private final Membership membership;
  private final int expectedNodes;
  /** Member -> System.nanoTime() at which this node sent the latest ping that member answered. */
  private final Map<String, Long> answeredPingSentAt = new ConcurrentHashMap<>();
  private final List<Handler<Boolean>> listeners = new CopyOnWriteArrayList<>();
  /** Test hook: members whose pings this node ignores (as if the network between them were cut). */
  private final Set<String> deaf = ConcurrentHashMap.newKeySet();
  /** Members that announced a clean leave: never part of the base again (node ids are unique per process). */
  private final Set<String> leaving = ConcurrentHashMap.newKeySet();
  private volatile List<String> base;
  /** Members (this one included) that answered within the lease, as of the last evaluation. */
  private volatile Set<String> reachable = Set.of();
  private final List<Handler<Set<String>>> reachabilityListeners = new CopyOnWriteArrayList<>();
  private volatile boolean held;
  private long membershipChangedAt = System.nanoTime();
  private volatile long evaluatedAt = System.nanoTime();
  private String deploymentId;

  /**
   * @param expectedNodes the cluster's size for a static quorum; 0 counts from the last stable membership
   */
  public Quorum(Vertx vertx, Membership membership, int expectedNodes) {
    this.vertx = vertx;
    this.membership = membership;
    this.expectedNodes = expectedNodes;
    this.base = membership.members();
    // A node that joins others holds quorum only once they answered; one that starts alone is the cluster.
    this.held = isMajority(Set.of(membership.self()), base, expectedNodes);
  }

  /**
   * Starts answering and sending pings. Completes once this node holds quorum, or after {@code waitMs} without
   * (a node that joins a cluster holds it once the others answered; readiness tells meanwhile).
   */
  public Future<Void> start(long waitMs) {
    if (!membership.clustered()) {
      return Future.succeededFuture(); // one node: always the whole cluster
    }
    return vertx.deployVerticle(new Pinger()).onSuccess(id -> deploymentId = id).compose(id -> {
      if (held()) {
        return Future.succeededFuture();
      }
      io.vertx.core.Promise<Void> holds = io.vertx.core.Promise.promise();
      onChange(now -> {
        if (now) {
          holds.tryComplete();
        }
      });
      vertx.setTimer(waitMs, t -> holds.tryComplete());
      return holds.future();
    });
  }

  public Future<Void> close() {
    String id = deploymentId;
    deploymentId = null;
    return id == null ? Future.succeededFuture() : vertx.undeploy(id).recover(err -> Future.succeededFuture());
  }

  /**
   * True while this node is on the majority side (always true for a single, non-clustered node). A verdict
   * older than the lease does not count: after a pause, requests that waited in buffers are refused before the
   * pinger has even run again.
   */
  public boolean held() {
    return held && (!membership.clustered() || System.nanoTime() - evaluatedAt <= TimeUnit.MILLISECONDS.toNanos(LEASE_MS));
  }

  /** Calls {@code listener} with the new value each time {@link #held()} changes (on the quorum's own context). */
  public void onChange(Handler<Boolean> listener) {
    listeners.add(listener);
  }

  /**
   * The members that answered this node's pings within the lease (this node included). A node that has not
   * started pinging (not clustered) reaches every member.
   */
  public boolean reaches(String node) {
    return !membership.clustered() || deploymentId == null || reachable.contains(node);
  }

  /** Calls {@code listener} with the new set each time the reachable members change (on the quorum's own context). */
  public void onReachabilityChange(Handler<Set<String>> listener) {
    reachabilityListeners.add(listener);
  }

  /** Tells the other members that this node is leaving cleanly: they count their majority without it at once. */
  public void announceLeave() {
    for (String node : membership.members()) {
      if (!node.equals(membership.self())) {
        vertx.eventBus().send(Addresses.quorum(node), Buffer.buffer(64).appendByte(LEAVING).appendString(membership.self()));
      }
    }
  }

  /** Test hook: ignore (or stop ignoring) the pings of {@code node}, as if the network between them were cut. */
  public void ignorePingsFrom(String node, boolean ignore) {
    if (ignore) {
      deaf.add(node);
    } else {
      deaf.remove(node);
    }
  }

  /** The base the majority is counted from (members, oldest first). */
  public List<String> base() {
    return base;
  }

  /**
   * The rule, on its own: whether {@code reachable} (this node included) is a majority of {@code base}, or of
   * {@code expectedNodes} when that is positive. An exact half wins if it holds the base's oldest member.
   */
  static boolean isMajority(Set<String> reachable, List<String> base, int expectedNodes) {
    int total = expectedNodes > 0 ? expectedNodes : base.size();
    int counted = expectedNodes > 0 ? reachable.size() : (int) base.stream().filter(reachable::contains).count();
    if (expectedNodes <= 0) {
      // Members that joined after the base was taken count too: the side they could join is the one they see.
      counted += (int) reachable.stream().filter(m -> !base.contains(m)).count();
    }
    if (2 * counted > total) {
      return true;
    }
    return 2 * counted == total && !base.isEmpty() && reachable.contains(base.get(0));
  }

  private void evaluate() {
    long now = System.nanoTime();
    List<String> members = membership.members();
    Set<String> reachable = new HashSet<>();
    reachable.add(membership.self());
    long lease = TimeUnit.MILLISECONDS.toNanos(LEASE_MS);
    for (String m : members) {
      Long at = answeredPingSentAt.get(m);
      if (at != null && now - at <= lease) {
        reachable.add(m);
      }
    }
    boolean next = isMajority(reachable, base, expectedNodes);
    evaluatedAt = now;
    if (!reachable.equals(this.reachable)) {
      Set<String> nowReachable = Set.copyOf(reachable);
      this.reachable = nowReachable;
      reachabilityListeners.forEach(l -> l.handle(nowReachable));
    }
    List<String> staying = members.stream().filter(m -> !leaving.contains(m)).toList();
    if (next && !staying.equals(base) && now - membershipChangedAt >= TimeUnit.MILLISECONDS.toNanos(STABLE_AFTER_MS)
        && reachable.containsAll(members)) {
      log.info("quorum base is now the {} member(s) of the last {} s", staying.size(), STABLE_AFTER_MS / 1000);
      base = staying;
    }
    if (next != held) {
      held = next;
      if (next) {
        log.info("node {} is in the majority again: {} of base {} reachable", membership.self(), reachable.size(), base.size());
      } else {
        log.warn("node {} lost its majority: {} of base {} reachable ({}); it stops serving entities", membership.self(),
            reachable.size(), base.size(), reachable);
      }
      listeners.forEach(l -> l.handle(next));
    }
  }

  /** Answers other members' pings and pings them, on one event loop. */
  private final class Pinger extends VerticleBase {
    private long timer = -1;
    private Runnable unsubscribe;

    @Override
    public Future<?> start() {
      unsubscribe = membership.subscribe(vertx, change -> {
        membershipChangedAt = System.nanoTime();
        answeredPingSentAt.keySet().retainAll(change.members());
        leaving.retainAll(change.members());
        evaluate();
      });
      timer = vertx.setPeriodic(PING_INTERVAL_MS, t -> pingAll());
      vertx.runOnContext(v -> pingAll());
      return vertx.eventBus().<Buffer>consumer(Addresses.quorum(membership.self()), this::onMessage).completion();
    }

    @Override
    public Future<?> stop() {
      vertx.cancelTimer(timer);
      if (unsubscribe != null) {
        unsubscribe.run();
      }
      return Future.succeededFuture();
    }

    private void pingAll() {
      List<String> others = new ArrayList<>(membership.members());
      others.remove(membership.self());
      DeliveryOptions opts = new DeliveryOptions().setSendTimeout(LEASE_MS);
      for (String node : others) {
        long sentAt = System.nanoTime();
        Buffer ping = Buffer.buffer(1 + 64).appendByte(PING).appendString(membership.self());
        vertx.eventBus().<Buffer>request(Addresses.quorum(node), ping, opts).onSuccess(pong -> {
          // Counted only if that member counts this node as a member too: a node evicted after a pause still
          // reaches the others, but they no longer have it in their cluster.
          if (!deaf.contains(node) && pong.body().getByte(0) == PONG_MEMBER) {
            answeredPingSentAt.merge(node, sentAt, Math::max);
          }
        });
      }
      evaluate();
    }

    private void onMessage(Message<Buffer> msg) {
      Buffer body = msg.body();
      String from = body.getString(1, body.length());
      if (body.getByte(0) == PING) {
        if (!deaf.contains(from)) {
          msg.reply(Buffer.buffer(1).appendByte(membership.isMember(from) ? PONG_MEMBER : PONG_STRANGER));
        }
      } else if (body.getByte(0) == LEAVING) {
        leaving.add(from);
        List<String> next = new ArrayList<>(base);
        if (next.remove(from)) {
          base = List.copyOf(next);
          log.info("member {} leaves cleanly: quorum base is now {} member(s)", from, next.size());
          evaluate();
        }
      }
    }
  }
}
