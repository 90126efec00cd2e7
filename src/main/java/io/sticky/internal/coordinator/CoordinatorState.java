package io.sticky.internal.coordinator;

import io.sticky.internal.protocol.Protocol.Allocations;
import io.sticky.internal.protocol.Protocol.RegionInfo;
import io.sticky.internal.protocol.Protocol.ShardHome;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The coordinator's knowledge, as an immutable value changed only through methods that check its
 * invariants (an illegal change is a bug and throws):
 * <ul>
 *   <li>a shard is allocated to at most one node at a time;</li>
 *   <li>a shard's epoch only grows: every new allocation has a strictly larger epoch than the last;</li>
 *   <li>a shard is only allocated to a node with a registered region of its type.</li>
 * </ul>
 * A node that leaves keeps its shards' epochs (so the next allocation continues from them) but loses the
 * shards themselves and its regions.
 */
public final class CoordinatorState {
  /** One shard's allocation; {@code node == null} means unallocated since {@code epoch}. */
  public record Allocation(String node, long epoch) {
  }

  public static final CoordinatorState EMPTY = new CoordinatorState(Map.of(), Map.of());

  private final Map<String, Map<Integer, Allocation>> shards;
  private final Map<String, Set<String>> regions;
  /** {@link #shardsByRegion} by type, filled on first use (the coordinator's verticle is its only user). */
  private final Map<String, Map<String, Set<Integer>>> byRegion = new HashMap<>();

  private CoordinatorState(Map<String, Map<Integer, Allocation>> shards, Map<String, Set<String>> regions) {
    this.shards = shards;
    this.regions = regions;
  }

  /** The allocation of a shard, or null if it was never allocated. */
  public Allocation allocation(String type, int shard) {
    return shards.getOrDefault(type, Map.of()).get(shard);
  }

  /** The node hosting a shard, or null. */
  public String home(String type, int shard) {
    Allocation a = allocation(type, shard);
    return a == null ? null : a.node();
  }

  public Set<String> regions(String type) {
    return regions.getOrDefault(type, Set.of());
  }

  public Set<String> types() {
    Set<String> all = new TreeSet<>(shards.keySet());
    all.addAll(regions.keySet());
    return all;
  }

  /** Every allocation of a type, by shard (unallocated ones included). */
  public Map<Integer, Allocation> allocations(String type) {
    return Collections.unmodifiableMap(shards.getOrDefault(type, Map.of()));
  }

  /** Every registered region of the type with the shards it hosts (empty set for none). */
  /** The allocated shards and registered regions of one type (every type if {@code type} is null), as the coordinator on {@code self} reports them. */
  public Allocations view(String self, String type) {
    List<ShardHome> shards = new ArrayList<>();
    List<RegionInfo> regions = new ArrayList<>();
    for (String t : types()) {
      if (type != null && !type.equals(t)) {
        continue;
      }
      allocations(t).forEach((shard, a) -> {
        if (a.node() != null) {
          shards.add(new ShardHome(t, shard, a.node(), a.epoch()));
        }
      });
      regions(t).forEach(node -> regions.add(new RegionInfo(t, node)));
    }
    return new Allocations(self, shards, regions);
  }

  public Map<String, Set<Integer>> shardsByRegion(String type) {
    // Asked several times per state while shards move (the rebalance, then each move's target): computed once
    // per state and type, which is safe because the state never changes.
    return byRegion.computeIfAbsent(type, t -> {
      Map<String, Set<Integer>> result = new TreeMap<>();
      for (String node : regions(t)) {
        result.put(node, new TreeSet<>());
      }
      shards.getOrDefault(t, Map.of()).forEach((shard, a) -> {
        if (a.node() != null && result.containsKey(a.node())) {
          result.get(a.node()).add(shard);
        }
      });
      result.replaceAll((node, hosted) -> Collections.unmodifiableSet(hosted));
      return Collections.unmodifiableMap(result);
    });
  }

  /** The epoch the next allocation of this shard gets. */
  public long nextEpoch(String type, int shard) {
    Allocation a = allocation(type, shard);
    return a == null ? 1 : a.epoch() + 1;
  }

  public CoordinatorState withRegion(String type, String node) {
    if (regions(type).contains(node)) {
      return this;
    }
    Map<String, Set<String>> r = new HashMap<>(regions);
    Set<String> nodes = new HashSet<>(regions(type));
    nodes.add(node);
    r.put(type, Set.copyOf(nodes));
    return new CoordinatorState(shards, Map.copyOf(r));
  }

  /** Allocates an unallocated shard to a registered region, with a strictly larger epoch. */
  public CoordinatorState allocated(String type, int shard, String node, long epoch) {
    Allocation current = allocation(type, shard);
    if (current != null && current.node() != null) {
      throw new IllegalStateException("shard " + type + "/" + shard + " already allocated to " + current.node());
    }
    if (current != null && epoch <= current.epoch()) {
      throw new IllegalStateException("epoch of " + type + "/" + shard + " must grow: " + current.epoch() + " -> " + epoch);
    }
    if (!regions(type).contains(node)) {
      throw new IllegalStateException("no region of " + type + " registered on " + node);
    }
    return withAllocation(type, shard, new Allocation(node, epoch));
  }

  /** Moves an allocated shard to another registered region (end of a hand-off), with a larger epoch. */
  public CoordinatorState moved(String type, int shard, String node, long epoch) {
    Allocation current = allocation(type, shard);
    if (current == null) {
      throw new IllegalStateException("shard " + type + "/" + shard + " was never allocated");
    }
    if (epoch <= current.epoch()) {
      throw new IllegalStateException("epoch of " + type + "/" + shard + " must grow: " + current.epoch() + " -> " + epoch);
    }
    if (!regions(type).contains(node)) {
      throw new IllegalStateException("no region of " + type + " registered on " + node);
    }
    return withAllocation(type, shard, new Allocation(node, epoch));
  }

  /**
   * Restores an allocation read from the cluster's allocation table (recovery by a new coordinator).
   * Keeps the higher epoch if the shard is already known.
   */
  public CoordinatorState recovered(String type, int shard, String node, long epoch) {
    Allocation current = allocation(type, shard);
    if (current != null && current.epoch() >= epoch) {
      return this;
    }
    return withAllocation(type, shard, new Allocation(node, epoch));
  }

  /**
   * Builds a state from the whole allocation table at once (a new coordinator's recovery). Each change to a
   * state copies its type's allocations, so restoring entries one {@link #recovered} at a time is quadratic:
   * 70 ms for 1000 shards and 550 ms for 5000 in a cold JVM, on the event loop of a coordinator taking over.
   */
  public static final class Recovery {
    private final Map<String, Map<Integer, Allocation>> shards = new HashMap<>();
    private final Map<String, Set<String>> regions = new HashMap<>();

    /** As {@link #recovered}: the higher epoch wins if the shard is already known. */
    public Recovery allocation(String type, int shard, String node, long epoch) {
      shards.computeIfAbsent(type, t -> new HashMap<>())
          .merge(shard, new Allocation(node, epoch), (known, read) -> read.epoch() > known.epoch() ? read : known);
      return this;
    }

    public Recovery region(String type, String node) {
      regions.computeIfAbsent(type, t -> new HashSet<>()).add(node);
      return this;
    }

    public CoordinatorState build() {
      Map<String, Map<Integer, Allocation>> s = new HashMap<>();
      shards.forEach((type, byShard) -> s.put(type, Map.copyOf(byShard)));
      Map<String, Set<String>> r = new HashMap<>();
      regions.forEach((type, nodes) -> r.put(type, Set.copyOf(nodes)));
      return new CoordinatorState(Map.copyOf(s), Map.copyOf(r));
    }
  }

  /** The node left: its regions are gone and its shards become unallocated (epochs kept). */
  public CoordinatorState withoutNode(String node) {
    Map<String, Set<String>> r = new HashMap<>();
    regions.forEach((type, nodes) -> {
      Set<String> rest = new HashSet<>(nodes);
      rest.remove(node);
      r.put(type, Set.copyOf(rest));
    });
    Map<String, Map<Integer, Allocation>> s = new HashMap<>();
    shards.forEach((type, byShard) -> {
      Map<Integer, Allocation> copy = new HashMap<>(byShard);
      copy.replaceAll((shard, a) -> node.equals(a.node()) ? new Allocation(null, a.epoch()) : a);
      s.put(type, Map.copyOf(copy));
    });
    return new CoordinatorState(Map.copyOf(s), Map.copyOf(r));
  }

  private CoordinatorState withAllocation(String type, int shard, Allocation allocation) {
    // One copy of the type's allocations per change, wrapped rather than copied again into an immutable
    // map: this runs for every allocation and every hand-off on the coordinator's event loop.
    Map<String, Map<Integer, Allocation>> s = new HashMap<>(shards);
    Map<Integer, Allocation> byShard = new HashMap<>(shards.getOrDefault(type, Map.of()));
    byShard.put(shard, allocation);
    s.put(type, Collections.unmodifiableMap(byShard));
    return new CoordinatorState(Collections.unmodifiableMap(s), regions);
  }
}
