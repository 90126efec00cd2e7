package io.sticky.internal.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Which Vert.x nodes are in the cluster, oldest first, and a way to hear about changes.
 *
 * <p>Backed by a Hazelcast {@link MembershipListener} rather than Vert.x's {@code NodeListener}: Vert.x
 * has one listener slot (taken by HA when enabled), and Hazelcast's event arrives before Vert.x has
 * finished cleaning the dead node's subscriptions, so Sticky reacts sooner. Members are identified by
 * the Vert.x node id that vertx-hazelcast stores as the member attribute {@value #NODE_ID_ATTRIBUTE}.
 * On a non-clustered Vert.x the membership is this node alone.
 */
public final class Membership {
  static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  /** A change: the full member list after it (oldest first) and what was added or removed. */
  public record Change(List<String> members, Set<String> added, Set<String> removed) {
  }

  private final String self;
  private final HazelcastInstance hazelcast;
  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
  private final UUID listenerId;
  private volatile List<String> members;
  private final java.util.Map<String, String> addresses = new java.util.concurrent.ConcurrentHashMap<>();

  private record Subscriber(Context context, Handler<Change> handler) {
  }

  private Membership(String self, HazelcastInstance hazelcast) {
    this.self = self;
    this.hazelcast = hazelcast;
    if (hazelcast == null) {
      this.members = List.of(self);
      this.listenerId = null;
    } else {
      this.listenerId = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
          update(event.getMembers());
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          update(event.getMembers());
        }
      });
      // Read after subscribing, so no change can fall between the two.
      this.members = nodeIds(hazelcast.getCluster().getMembers());
    }
  }

  /**
   * The cluster manager of a Vert.x instance, or null if it is not clustered. Vert.x 5 has no public accessor:
   * this is the one place Sticky reads it from the internal API.
   */
  public static ClusterManager clusterManagerOf(Vertx vertx) {
    return vertx instanceof VertxInternal vi ? vi.clusterManager() : null;
  }

  /** The membership of the given Vert.x instance. */
  public static Membership of(Vertx vertx) {
    ClusterManager cm = clusterManagerOf(vertx);
    if (cm == null) {
      return new Membership("local", null);
    }
    if (cm instanceof HazelcastClusterManager hz) {
      return new Membership(cm.getNodeId(), hz.getHazelcastInstance());
    }
    throw new IllegalStateException("Sticky needs the Hazelcast cluster manager, got " + cm.getClass().getName());
  }

  public String self() {
    return self;
  }

  /** The Hazelcast member (null when not clustered). */
  public HazelcastInstance hazelcast() {
    return hazelcast;
  }

  public boolean clustered() {
    return hazelcast != null;
  }

  /** Current members, oldest first. */
  public List<String> members() {
    return members;
  }

  public boolean isMember(String nodeId) {
    return members.contains(nodeId);
  }

  /** The oldest member: it runs the coordinator. */
  public String oldest() {
    List<String> m = members;
    return m.isEmpty() ? null : m.get(0);
  }

  /**
   * Calls {@code handler} on the caller's current context for every change from now on. Returns a
   * runnable that unsubscribes.
   */
  public Runnable subscribe(Vertx vertx, Handler<Change> handler) {
    Subscriber s = new Subscriber(vertx.getOrCreateContext(), handler);
    subscribers.add(s);
    return () -> subscribers.remove(s);
  }

  public void close() {
    subscribers.clear();
    if (hazelcast != null && listenerId != null && hazelcast.getLifecycleService().isRunning()) {
      try {
        hazelcast.getCluster().removeMembershipListener(listenerId);
      } catch (RuntimeException ignored) {
        // the instance is shutting down: nothing left to unsubscribe from
      }
    }
  }

  private synchronized void update(Set<Member> current) {
    List<String> next = nodeIds(current);
    List<String> previous = members;
    Set<String> added = new HashSet<>(next);
    added.removeAll(previous);
    Set<String> removed = new HashSet<>(previous);
    removed.removeAll(next);
    members = next;
    if (added.isEmpty() && removed.isEmpty()) {
      return;
    }
    Change change = new Change(next, Set.copyOf(added), Set.copyOf(removed));
    for (Subscriber s : subscribers) {
      s.context().runOnContext(v -> s.handler().handle(change));
    }
  }

  /**
   * Hazelcast members that are not Vert.x nodes (no {@value #NODE_ID_ATTRIBUTE}), as {@code host:port}: a plain
   * Hazelcast member that joined with the cluster name. It owns partitions of Sticky's maps without Sticky's
   * serializers, so operations on them fail; readiness reports it.
   */
  public List<String> foreignMembers() {
    if (hazelcast == null || !hazelcast.getLifecycleService().isRunning()) {
      return List.of();
    }
    List<String> foreign = new ArrayList<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      if (m.getAttribute(NODE_ID_ATTRIBUTE) == null) {
        foreign.add(addressOf(m));
      }
    }
    return foreign;
  }

  /** The cluster (Hazelcast) address of a member, {@code host:port}, or null if unknown. */
  public String address(String nodeId) {
    return addresses.get(nodeId);
  }

  private List<String> nodeIds(Set<Member> members) {
    List<String> ids = new ArrayList<>(members.size());
    for (Member m : members) {
      String id = m.getAttribute(NODE_ID_ATTRIBUTE);
      if (id != null) {
        ids.add(id);
        addresses.put(id, addressOf(m));
      }
    }
    addresses.keySet().retainAll(ids);
    return List.copyOf(ids);
  }

  private static String addressOf(Member m) {
    return m.getAddress().getHost() + ":" + m.getAddress().getPort();
  }
}
