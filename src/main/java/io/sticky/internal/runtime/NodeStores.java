package io.sticky.internal.runtime;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.cluster.Quorum;
import io.sticky.metrics.StickyMetrics;
import io.sticky.store.HazelcastStateStore;
import io.sticky.store.InMemoryStateStore;
import io.sticky.store.StateStore;
import io.sticky.store.TimedStateStore;
import io.sticky.store.replicated.ReplicatedStateStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToIntFunction;

/** A node's state stores: those the application registered, the built-ins, which type uses which, and their health. */
final class NodeStores {
  /** By name: registered by the user or the node, plus the built-ins added at start. */
  private final Map<String, StateStore> byName = new LinkedHashMap<>();
  /** The stores some type uses (timed when metrics are on): pinged by readiness. */
  private final List<StateStore> inUse = new CopyOnWriteArrayList<>();

  void register(String name, StateStore store) {
    if (name == null || name.equals(EntityTypeOptions.NODE_DEFAULT_STORE) || name.equals(EntityTypeOptions.NO_STORE)) {
      throw new IllegalArgumentException("store name must not be null, \"default\" or \"none\"");
    }
    byName.put(name, Objects.requireNonNull(store, "store"));
  }

  /**
   * Adds the built-in stores (unless the application registered its own under their names) and chooses each
   * type's store: type name -> store, null for a type without one. Throws IllegalArgumentException naming a
   * store that is not available.
   */
  Map<String, StateStore> assign(Collection<EntityType> types, String defaultStore, Vertx vertx, Membership membership, Quorum quorum,
                                 ToIntFunction<String> numberOfShards, StickyMetrics metrics) {
    byName.putIfAbsent("memory", new InMemoryStateStore());
    byName.computeIfAbsent("hazelcast", n -> membership.clustered() ? new HazelcastStateStore(membership.hazelcast()) : byName.get("memory"));
    byName.computeIfAbsent(ReplicatedStateStore.NAME, n -> {
      ReplicatedStateStore replicated = new ReplicatedStateStore(vertx, membership, numberOfShards, quorum::held, quorum::reaches);
      quorum.onReachabilityChange(reachable -> replicated.reachabilityChanged());
      return replicated;
    });
    Map<String, StateStore> byType = new LinkedHashMap<>();
    // One timing wrapper per store, however many types share it (metrics off: the stores themselves).
    Map<StateStore, StateStore> timed = new IdentityHashMap<>();
    for (EntityType type : types) {
      StateStore store = storeFor(type, defaultStore);
      byType.put(type.name(), store == null ? null : timed.computeIfAbsent(store, st -> TimedStateStore.wrap(st, metrics)));
    }
    byType.values().stream().filter(Objects::nonNull).forEach(inUse::add);
    return byType;
  }

  /** The store of a type (null = none), or an exception naming the missing store. */
  private StateStore storeFor(EntityType type, String defaultStore) {
    String name = type.options().getStore();
    if (name.equals(EntityTypeOptions.NODE_DEFAULT_STORE)) {
      name = defaultStore;
    }
    if (name.equals(EntityTypeOptions.NO_STORE)) {
      return null;
    }
    StateStore store = byName.get(name);
    if (store == null) {
      throw new IllegalArgumentException("entity type '" + type.name() + "' uses state store '" + name
          + "', which is not available on this node (available: " + byName.keySet() + ", none)");
    }
    return store;
  }

  /** The replicated store if a type uses it: it must answer other nodes' fetches before any region here hosts a shard. */
  Future<Void> startReplicated() {
    return byName.get(ReplicatedStateStore.NAME) instanceof ReplicatedStateStore replicated
        && inUse.stream().anyMatch(st -> st.name().equals(ReplicatedStateStore.NAME))
        ? replicated.start() : Future.succeededFuture();
  }

  /** Closes the replicated store's verticles: on an application's own Vert.x nothing of Sticky stays deployed. */
  Future<Void> close() {
    return byName.get(ReplicatedStateStore.NAME) instanceof ReplicatedStateStore replicated ? replicated.close() : Future.succeededFuture();
  }

  /**
   * Pings every store in use at once, each bounded by {@code timeoutMs} (a store that hangs must not hang
   * the readiness probe): store name -> null if it answered, else why not. Never fails.
   */
  Future<Map<String, String>> ping(long timeoutMs) {
    Map<String, Future<Void>> pings = new LinkedHashMap<>();
    for (StateStore store : new LinkedHashSet<>(inUse)) {
      Future<Void> ping;
      try {
        ping = store.ping();
      } catch (RuntimeException e) {
        ping = Future.failedFuture(e);
      }
      pings.putIfAbsent(store.name(), ping.timeout(timeoutMs, TimeUnit.MILLISECONDS)
          .recover(err -> Future.failedFuture(err instanceof TimeoutException
              ? "no answer within " + timeoutMs + " ms" : String.valueOf(err.getMessage()))));
    }
    return Future.join(new ArrayList<>(pings.values())).transform(ignored -> {
      Map<String, String> result = new LinkedHashMap<>();
      pings.forEach((name, ping) -> result.put(name, ping.succeeded() ? null : ping.cause().getMessage()));
      return Future.succeededFuture(result);
    });
  }
}
