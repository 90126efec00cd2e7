package io.sticky.internal.coordinator;

import io.sticky.internal.cluster.Membership;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.AsyncMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the coordinator notes about nodes besides their regions: which are leaving, which an operator drained
 * (also kept in the cluster map {@value ShardCoordinator#DRAINED}, for the next coordinator and for readiness),
 * when each joined, which only proxy a type, and which shards an operator pinned where. On the coordinator's context.
 */
final class Roster {
  private final Membership membership;
  private final long joinDelayMs;
  /** Nodes leaving cleanly: they get no new shards. */
  private final Set<String> leaving = new HashSet<>();
  /** Nodes drained by an operator: they get no new shards, and the rebalance moves theirs off first. */
  private final Set<String> drained = new HashSet<>();
  /** Shards an operator moved, by key, with the node they were moved to: the rebalance leaves them there. */
  private final Map<String, String> pinned = new HashMap<>();
  /** When each node's first region registered (ms): rebalances move nothing to it for the join delay. */
  private final Map<String, Long> joinedAt = new HashMap<>();
  /** Proxy regions per type (nodes that route to it but never host it): told every new home, never allocated a shard. */
  private final Map<String, Set<String>> proxies = new HashMap<>();
  private AsyncMap<String, String> drainedMap;

  Roster(Membership membership, long joinDelayMs) {
    this.membership = membership;
    this.joinDelayMs = joinDelayMs;
  }

  /** Reads the drained nodes an earlier coordinator recorded. */
  Future<Void> load(Vertx vertx) {
    return vertx.sharedData().<String, String>getAsyncMap(ShardCoordinator.DRAINED).compose(map -> {
      drainedMap = map;
      return map.keys();
    }).map(nodes -> {
      drained.addAll(nodes);
      return null;
    });
  }

  /** A member that is neither leaving nor drained: one that may be given shards. */
  boolean takesShards(String node) {
    return membership.isMember(node) && !leaving.contains(node) && !drained.contains(node);
  }

  boolean isLeaving(String node) {
    return leaving.contains(node);
  }

  void leaving(String node) {
    leaving.add(node);
  }

  boolean isDrained(String node) {
    return drained.contains(node);
  }

  /** Records a drain (or undrain) in the cluster map, then here; true if that changed anything. */
  Future<Boolean> setDrained(String node, boolean drain) {
    Future<?> written = drain ? drainedMap.put(node, "drained") : drainedMap.remove(node);
    return written.map(v -> {
      boolean changed = drain ? drained.add(node) : drained.remove(node);
      if (changed) {
        if (!drain) {
          joinedAt.put(node, 0L); // takes shards at once, as if it had joined long ago
        }
        pinned.values().removeIf(node::equals);
      }
      return changed;
    });
  }

  /** The node's first region registered now (a later one does not restart its join delay). */
  void joined(String node) {
    joinedAt.putIfAbsent(node, System.currentTimeMillis());
  }

  /** True while a node that joined is within its join delay ({@code rebalanceJoinDelayMs}). */
  boolean justJoined(String node, long nowMs) {
    return joinedAt.getOrDefault(node, 0L) + joinDelayMs > nowMs;
  }

  /** The node an operator moved the shard ({@code type/shard}) to, or null. */
  String pinnedTo(String key) {
    return pinned.get(key);
  }

  void pin(String key, String node) {
    pinned.put(key, node);
  }

  void unpin(String key, String node) {
    pinned.remove(key, node);
  }

  void addProxy(String type, String node) {
    if (membership.isMember(node)) {
      proxies.computeIfAbsent(type, t -> new LinkedHashSet<>()).add(node);
    }
  }

  Set<String> proxies(String type) {
    return proxies.getOrDefault(type, Set.of());
  }

  /** The node left the cluster: nothing noted about it holds any more. */
  void forget(String gone) {
    leaving.remove(gone);
    joinedAt.remove(gone);
    if (drained.remove(gone)) {
      drainedMap.remove(gone);
    }
    pinned.values().removeIf(gone::equals);
    proxies.values().forEach(nodes -> nodes.remove(gone));
  }
}
