package io.sticky.api;

import io.vertx.core.json.JsonObject;

/**
 * Node-level sharding settings (per-type settings live in {@link EntityTypeOptions}). Every field has a
 * documented default; {@link #toJson()} and {@link #StickyOptions(JsonObject)} round-trip.
 */
public class StickyOptions {
  /** Messages one region (node and type) may buffer in total while shard homes are resolved; overflow -> 503. */
  public static final int DEFAULT_MAX_BUFFERED_PER_REGION = 10_000;
  /** Timeout of one request to the coordinator (register, get shard home) before it is retried. */
  public static final long DEFAULT_COORDINATOR_TIMEOUT_MS = 2_000;
  /** First back-off before retrying the coordinator or a stale route; doubles up to 10x. */
  public static final long DEFAULT_RETRY_BACKOFF_MS = 50;
  /** How many times one message may be re-routed after stale routing (wrong home, node gone). */
  public static final int DEFAULT_MAX_ROUTE_ATTEMPTS = 5;

  /** How often the coordinator checks whether shards should move to even out the load (also on every join). */
  public static final long DEFAULT_REBALANCE_INTERVAL_MS = 2_000;
  /**
   * At most this many shards of a type move at once, for a rebalance or a clean leave; as each move ends the
   * next starts (a sliding window) ... Every moving shard buffers its messages until it has moved, and moves
   * slow down when many run at once, so a small window keeps the tail latency of a move low.
   */
  public static final int DEFAULT_REBALANCE_ABSOLUTE_LIMIT = 5;
  /** ... and at most this fraction of its shards (at least one). */
  public static final double DEFAULT_REBALANCE_RELATIVE_LIMIT = 0.1;
  /** How long one step of a hand-off (e.g. the old home stopping the shard) may take before it is abandoned. */
  public static final long DEFAULT_HAND_OFF_TIMEOUT_MS = 10_000;
  /** How long a node leaving cleanly waits for its shards to be handed off before it leaves anyway. */
  public static final long DEFAULT_LEAVE_TIMEOUT_MS = 20_000;
  /**
   * The store of entity types whose {@code store} is "default": "hazelcast" (the cluster's memory, one
   * synchronous backup; "memory" on a non-clustered Vert.x), "memory", "postgres" (once registered) or "none".
   */
  public static final String DEFAULT_DEFAULT_STORE = "hazelcast";

  private long rebalanceIntervalMs = DEFAULT_REBALANCE_INTERVAL_MS;
  private int rebalanceAbsoluteLimit = DEFAULT_REBALANCE_ABSOLUTE_LIMIT;
  private double rebalanceRelativeLimit = DEFAULT_REBALANCE_RELATIVE_LIMIT;
  private long handOffTimeoutMs = DEFAULT_HAND_OFF_TIMEOUT_MS;
  private long leaveTimeoutMs = DEFAULT_LEAVE_TIMEOUT_MS;
  private String defaultStore = DEFAULT_DEFAULT_STORE;
  private int maxBufferedPerRegion = DEFAULT_MAX_BUFFERED_PER_REGION;
  private long coordinatorTimeoutMs = DEFAULT_COORDINATOR_TIMEOUT_MS;
  private long retryBackoffMs = DEFAULT_RETRY_BACKOFF_MS;
  private int maxRouteAttempts = DEFAULT_MAX_ROUTE_ATTEMPTS;

  public StickyOptions() {
  }

  public StickyOptions(StickyOptions other) {
    this(other.toJson());
  }

  public StickyOptions(JsonObject json) {
    setMaxBufferedPerRegion(json.getInteger("maxBufferedPerRegion", DEFAULT_MAX_BUFFERED_PER_REGION));
    setCoordinatorTimeoutMs(json.getLong("coordinatorTimeoutMs", DEFAULT_COORDINATOR_TIMEOUT_MS));
    setRetryBackoffMs(json.getLong("retryBackoffMs", DEFAULT_RETRY_BACKOFF_MS));
    setMaxRouteAttempts(json.getInteger("maxRouteAttempts", DEFAULT_MAX_ROUTE_ATTEMPTS));
    setRebalanceIntervalMs(json.getLong("rebalanceIntervalMs", DEFAULT_REBALANCE_INTERVAL_MS));
    setRebalanceAbsoluteLimit(json.getInteger("rebalanceAbsoluteLimit", DEFAULT_REBALANCE_ABSOLUTE_LIMIT));
    setRebalanceRelativeLimit(json.getDouble("rebalanceRelativeLimit", DEFAULT_REBALANCE_RELATIVE_LIMIT));
    setHandOffTimeoutMs(json.getLong("handOffTimeoutMs", DEFAULT_HAND_OFF_TIMEOUT_MS));
    setLeaveTimeoutMs(json.getLong("leaveTimeoutMs", DEFAULT_LEAVE_TIMEOUT_MS));
    setDefaultStore(json.getString("defaultStore", DEFAULT_DEFAULT_STORE));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("maxBufferedPerRegion", maxBufferedPerRegion)
        .put("coordinatorTimeoutMs", coordinatorTimeoutMs)
        .put("retryBackoffMs", retryBackoffMs)
        .put("maxRouteAttempts", maxRouteAttempts)
        .put("rebalanceIntervalMs", rebalanceIntervalMs)
        .put("rebalanceAbsoluteLimit", rebalanceAbsoluteLimit)
        .put("rebalanceRelativeLimit", rebalanceRelativeLimit)
        .put("handOffTimeoutMs", handOffTimeoutMs)
        .put("leaveTimeoutMs", leaveTimeoutMs)
        .put("defaultStore", defaultStore);
  }

  public long getRebalanceIntervalMs() {
    return rebalanceIntervalMs;
  }

  public StickyOptions setRebalanceIntervalMs(long rebalanceIntervalMs) {
    this.rebalanceIntervalMs = EntityTypeOptions.requirePositive("rebalanceIntervalMs", rebalanceIntervalMs);
    return this;
  }

  public int getRebalanceAbsoluteLimit() {
    return rebalanceAbsoluteLimit;
  }

  public StickyOptions setRebalanceAbsoluteLimit(int rebalanceAbsoluteLimit) {
    this.rebalanceAbsoluteLimit = EntityTypeOptions.requirePositive("rebalanceAbsoluteLimit", rebalanceAbsoluteLimit);
    return this;
  }

  public double getRebalanceRelativeLimit() {
    return rebalanceRelativeLimit;
  }

  public StickyOptions setRebalanceRelativeLimit(double rebalanceRelativeLimit) {
    if (!(rebalanceRelativeLimit > 0 && rebalanceRelativeLimit <= 1)) {
      throw new IllegalArgumentException("rebalanceRelativeLimit must be in (0, 1], got " + rebalanceRelativeLimit);
    }
    this.rebalanceRelativeLimit = rebalanceRelativeLimit;
    return this;
  }

  public long getHandOffTimeoutMs() {
    return handOffTimeoutMs;
  }

  public StickyOptions setHandOffTimeoutMs(long handOffTimeoutMs) {
    this.handOffTimeoutMs = EntityTypeOptions.requirePositive("handOffTimeoutMs", handOffTimeoutMs);
    return this;
  }

  public String getDefaultStore() {
    return defaultStore;
  }

  public StickyOptions setDefaultStore(String defaultStore) {
    if (defaultStore == null || defaultStore.isBlank() || defaultStore.equals(EntityTypeOptions.NODE_DEFAULT_STORE)) {
      throw new IllegalArgumentException("defaultStore must name a store (hazelcast, postgres, memory, ...) or none, got " + defaultStore);
    }
    this.defaultStore = defaultStore;
    return this;
  }

  public long getLeaveTimeoutMs() {
    return leaveTimeoutMs;
  }

  public StickyOptions setLeaveTimeoutMs(long leaveTimeoutMs) {
    this.leaveTimeoutMs = EntityTypeOptions.requirePositive("leaveTimeoutMs", leaveTimeoutMs);
    return this;
  }

  public int getMaxBufferedPerRegion() {
    return maxBufferedPerRegion;
  }

  public StickyOptions setMaxBufferedPerRegion(int maxBufferedPerRegion) {
    this.maxBufferedPerRegion = EntityTypeOptions.requirePositive("maxBufferedPerRegion", maxBufferedPerRegion);
    return this;
  }

  public long getCoordinatorTimeoutMs() {
    return coordinatorTimeoutMs;
  }

  public StickyOptions setCoordinatorTimeoutMs(long coordinatorTimeoutMs) {
    this.coordinatorTimeoutMs = EntityTypeOptions.requirePositive("coordinatorTimeoutMs", coordinatorTimeoutMs);
    return this;
  }

  public long getRetryBackoffMs() {
    return retryBackoffMs;
  }

  public StickyOptions setRetryBackoffMs(long retryBackoffMs) {
    this.retryBackoffMs = EntityTypeOptions.requirePositive("retryBackoffMs", retryBackoffMs);
    return this;
  }

  public int getMaxRouteAttempts() {
    return maxRouteAttempts;
  }

  public StickyOptions setMaxRouteAttempts(int maxRouteAttempts) {
    this.maxRouteAttempts = EntityTypeOptions.requirePositive("maxRouteAttempts", maxRouteAttempts);
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StickyOptions other && toJson().equals(other.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return toJson().encode();
  }
}
