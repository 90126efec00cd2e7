package io.sticky.internal.region;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.sticky.internal.cluster.HazelcastFutures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remember-entities for one region: which ids are active per hosted shard, kept in the cluster map
 * {@code sticky.remembered.<type>} (key: shard, value: the ids, one per line), and the throttled re-activation
 * of a shard's remembered ids when this node starts hosting it (after a move, or a crash of its old home).
 *
 * <p>Changes are written per shard at most every {@link #FLUSH_INTERVAL_MS}; a hand-off writes the shard's set
 * before the shard leaves. So a crash forgets at most the last interval's activations (and remembers the
 * last interval's passivations). Confined to the region's context.
 */
final class RememberedEntities {
  private static final Logger log = LoggerFactory.getLogger(RememberedEntities.class);
  static final String MAP_PREFIX = "sticky.remembered.";
  static final long FLUSH_INTERVAL_MS = 500;
  private static final long WAKE_TICK_MS = 100;
  /** Without Hazelcast (a single, unclustered node): per JVM, so it still survives a region restart. */
  private static final Map<String, String> LOCAL = new ConcurrentHashMap<>();

  private final Vertx vertx;
  private final IMap<Integer, String> map;
  private final String type;
  private final int wakesPerTick;
  /** Activates an id of a shard without a message; the region skips ids already active or not hosted. */
  private final BiConsumer<String, Integer> wake;
  private final Map<Integer, Set<String>> byShard = new HashMap<>();
  private final Set<Integer> dirty = new HashSet<>();
  private final ArrayDeque<Object[]> toWake = new ArrayDeque<>();
  private long flushTimer = -1;
  private long wakeTimer = -1;

  RememberedEntities(Vertx vertx, HazelcastInstance hazelcast, String type, int activationsPerSecond, BiConsumer<String, Integer> wake) {
    this.vertx = vertx;
    this.map = hazelcast == null ? null : hazelcast.getMap(MAP_PREFIX + type);
    this.type = type;
    this.wakesPerTick = Math.max(1, (int) (activationsPerSecond * WAKE_TICK_MS / 1000));
    this.wake = wake;
  }

  void start() {
    flushTimer = vertx.setPeriodic(FLUSH_INTERVAL_MS, t -> flushDirty());
    wakeTimer = vertx.setPeriodic(WAKE_TICK_MS, t -> wakeSome());
  }

  void stop() {
    vertx.cancelTimer(flushTimer);
    vertx.cancelTimer(wakeTimer);
    toWake.clear();
  }

  void activated(int shard, String id) {
    if (byShard.computeIfAbsent(shard, s -> new LinkedHashSet<>()).add(id)) {
      dirty.add(shard);
    }
  }

  void passivated(int shard, String id) {
    Set<String> ids = byShard.get(shard);
    if (ids != null && ids.remove(id)) {
      dirty.add(shard);
    }
  }

  /** The shard is leaving this node: writes its set now (the next home reads it) and forgets it here. */
  Future<Void> handOver(int shard) {
    Set<String> ids = byShard.remove(shard);
    boolean changed = dirty.remove(shard);
    toWake.removeIf(w -> (int) w[1] == shard);
    return changed ? write(shard, ids) : Future.succeededFuture();
  }

  /** This node starts hosting the shard: its remembered ids are re-activated, a few per tick. */
  void hosting(int shard) {
    read(shard).onSuccess(value -> {
      if (value == null || value.isEmpty()) {
        return;
      }
      int n = 0;
      for (String id : value.split("\n")) {
        if (!id.isEmpty()) {
          toWake.add(new Object[] {id, shard});
          n++;
        }
      }
      log.info("re-activating {} remembered entities of type {}, shard {}", n, type, shard);
    }).onFailure(err -> log.warn("could not read remembered entities of {} shard {}: {}", type, shard, err.getMessage()));
  }

  /** Ids waiting for their throttled re-activation (tests, stats). */
  int waiting() {
    return toWake.size();
  }

  private void wakeSome() {
    for (int i = 0; i < wakesPerTick && !toWake.isEmpty(); i++) {
      Object[] next = toWake.poll();
      wake.accept((String) next[0], (Integer) next[1]);
    }
  }

  private void flushDirty() {
    for (Integer shard : dirty) {
      write(shard, byShard.get(shard));
    }
    dirty.clear();
  }

  private Future<Void> write(int shard, Set<String> ids) {
    String value = ids == null || ids.isEmpty() ? null : String.join("\n", ids);
    if (map == null) {
      if (value == null) {
        LOCAL.remove(type + '/' + shard);
      } else {
        LOCAL.put(type + '/' + shard, value);
      }
      return Future.succeededFuture();
    }
    Future<?> f = value == null ? HazelcastFutures.of(map.removeAsync(shard)) : HazelcastFutures.of(map.setAsync(shard, value));
    return f.<Void>mapEmpty().onFailure(err -> log.warn("could not write remembered entities of {} shard {}: {}", type, shard, err.getMessage()));
  }

  private Future<String> read(int shard) {
    return map == null ? Future.succeededFuture(LOCAL.get(type + '/' + shard)) : HazelcastFutures.of(map.getAsync(shard));
  }
}
