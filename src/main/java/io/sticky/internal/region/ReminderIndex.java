package io.sticky.internal.region;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.EntryProcessor;
import io.sticky.internal.cluster.HazelcastFutures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When each entity of a region's type with reminders is next due, so that a passivated entity, or one whose
 * node crashed, is activated to receive them. The reminders themselves live in the entities' stored states;
 * this index only says whom to wake and when (and their names, for the management view). It is the cluster map
 * {@code sticky.reminders.<type>} (key: the shard; value: one {@code <due> <id> <names as a JSON array>} line per
 * entity; one synchronous backup), changed in place by an entry
 * processor when an entity's earliest due time changes, and read per shard when this node starts hosting it.
 * Wakes are throttled: reminders due together after a restart do not become a thundering herd on the store.
 * The in-memory schedule is confined to the region's context.
 */
final class ReminderIndex {
  private static final Logger log = LoggerFactory.getLogger(ReminderIndex.class);
  static final String MAP_PREFIX = "sticky.reminders.";
  private static final long TICK_MS = 100;
  private static final long RECHECK_ACTIVE_MS = 5_000;
  /** Without Hazelcast (a single, unclustered node): per JVM. */
  private static final Map<String, String> LOCAL = new ConcurrentHashMap<>();

  private record Due(long at, String id, int shard) implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      int c = Long.compare(at, o.at);
      return c != 0 ? c : id.compareTo(o.id);
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final IMap<Integer, String> map;
  private final String type;
  private final int wakesPerTick;
  /**
   * Activates an entity for its reminders; true if it was active already (it delivers them itself, and is
   * looked at again later in case it passivates before it told this index its next due time).
   */
  private final java.util.function.BiPredicate<String, Integer> wake;
  private final TreeSet<Due> schedule = new TreeSet<>();
  private final Map<String, Due> byId = new HashMap<>();
  private final java.util.Set<Integer> hosted = new java.util.HashSet<>();
  private long tickTimer = -1;

  ReminderIndex(Vertx vertx, Context context, HazelcastInstance hazelcast, String type, int activationsPerSecond,
                java.util.function.BiPredicate<String, Integer> wake) {
    this.vertx = vertx;
    this.context = context;
    this.map = hazelcast == null ? null : hazelcast.getMap(MAP_PREFIX + type);
    this.type = type;
    this.wakesPerTick = Math.max(1, (int) (activationsPerSecond * TICK_MS / 1000));
    this.wake = wake;
  }

  void start() {
    tickTimer = vertx.setPeriodic(TICK_MS, t -> wakeDue());
  }

  void stop() {
    vertx.cancelTimer(tickTimer);
    schedule.clear();
    byId.clear();
  }

  /**
   * An entity's next due time changed ({@link Long#MAX_VALUE}: it has none). Thread-safe; completes once the
   * cluster map holds it (on the caller's context).
   */
  Future<Void> update(String id, int shard, long due, java.util.List<String> names) {
    String line = due == Long.MAX_VALUE ? null : due + " " + id + " " + new io.vertx.core.json.JsonArray(names).encode();
    Future<Void> written;
    if (map == null) {
      LOCAL.compute(type + '/' + shard, (k, value) -> Update.apply(value, id, line));
      written = Future.succeededFuture();
    } else {
      written = HazelcastFutures.of(map.submitToKey(shard, new Update(id, line))).mapEmpty();
    }
    return written.onSuccess(v -> context.runOnContext(x -> schedule(id, shard, due)));
  }

  /** This node starts hosting the shard: its entries are read and scheduled. */
  void hosting(int shard) {
    hosted.add(shard);
    read(shard).onSuccess(value -> {
      if (value == null || !hosted.contains(shard)) {
        return; // nothing due, or left again meanwhile
      }
      List<String[]> entries = entries(value);
      entries.forEach(e -> schedule(e[1], shard, Long.parseLong(e[0])));
      int n = entries.size();
      log.debug("{} entities of {} shard {} have reminders", n, type, shard);
    }).onFailure(err -> log.warn("could not read the reminder index of {} shard {}: {}", type, shard, err.getMessage()));
  }

  private Future<String> read(int shard) {
    return map == null ? Future.succeededFuture(LOCAL.get(type + '/' + shard)) : HazelcastFutures.of(map.getAsync(shard));
  }

  /** One entity's entry: {@code {"names":[..],"nextDueAt":ms}}, or null if it has none. */
  Future<io.vertx.core.json.JsonObject> lookup(String id, int shard) {
    return read(shard).map(value -> {
      for (String[] e : entries(value)) {
        if (e[1].equals(id)) {
          return new io.vertx.core.json.JsonObject().put("names", new io.vertx.core.json.JsonArray(e[2]))
              .put("nextDueAt", Long.parseLong(e[0]));
        }
      }
      return null;
    });
  }

  /** The shard left this node: its entries stay in the map for the next home, and leave this schedule. */
  void leaving(int shard) {
    hosted.remove(shard);
    schedule.removeIf(d -> {
      if (d.shard() == shard) {
        byId.remove(d.id());
        return true;
      }
      return false;
    });
  }

  /** The shards that have entries: after a node died, they are given a new home at once (no message may come). */
  Future<java.util.Set<Integer>> shards() {
    if (map == null) {
      java.util.Set<Integer> found = new java.util.HashSet<>();
      String prefix = type + '/';
      LOCAL.keySet().stream().filter(k -> k.startsWith(prefix)).forEach(k -> found.add(Integer.parseInt(k.substring(prefix.length()))));
      return Future.succeededFuture(found);
    }
    return vertx.executeBlocking(() -> new java.util.HashSet<>(map.keySet()), false); // Hazelcast's keySet blocks
  }

  /** A shard's entry as {@code [due, id, names]} per entity (null: none). */
  private static List<String[]> entries(String value) {
    List<String[]> entries = new java.util.ArrayList<>();
    if (value != null) {
      for (String line : value.split("\n")) {
        String[] parts = line.split(" ", 3);
        if (parts.length == 3) {
          entries.add(parts);
        }
      }
    }
    return entries;
  }

  /** Entities waiting for a reminder wake-up (tests, stats). */
  int scheduled() {
    return schedule.size();
  }

  private void schedule(String id, int shard, long due) {
    Due before = byId.remove(id);
    if (before != null) {
      schedule.remove(before);
    }
    if (due != Long.MAX_VALUE && hosted.contains(shard)) {
      Due next = new Due(due, id, shard);
      byId.put(id, next);
      schedule.add(next);
    }
  }

  /** Wakes the entities whose reminders are due, a few per tick; an active one delivers them itself. */
  private void wakeDue() {
    long now = System.currentTimeMillis();
    for (int i = 0; i < wakesPerTick && !schedule.isEmpty() && schedule.first().at() <= now; i++) {
      Due due = schedule.pollFirst();
      byId.remove(due.id());
      if (wake.test(due.id(), due.shard())) {
        schedule(due.id(), due.shard(), now + RECHECK_ACTIVE_MS);
      }
    }
  }

  /** Sets (or, with a null line, removes) one entity's line in its shard's entry, where the entry lives. */
  static final class Update implements EntryProcessor<Integer, String, Void>, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String id;
    private final String line;

    Update(String id, String line) {
      this.id = id;
      this.line = line;
    }

    @Override
    public Void process(Map.Entry<Integer, String> entry) {
      entry.setValue(apply(entry.getValue(), id, line));
      return null;
    }

    /** The shard's lines with {@code id}'s replaced by {@code line} (or dropped); null when none is left. */
    static String apply(String value, String id, String line) {
      StringBuilder out = new StringBuilder();
      for (String[] e : entries(value)) {
        if (!e[1].equals(id)) {
          out.append(String.join(" ", e)).append('\n');
        }
      }
      if (line != null) {
        out.append(line).append('\n');
      }
      return out.length() == 0 ? null : out.toString();
    }
  }
}
