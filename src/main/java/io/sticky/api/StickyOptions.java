package io.sticky.api;

import io.opentelemetry.api.OpenTelemetry;
import io.vertx.core.json.JsonObject;

/**
 * Node-level sharding settings (per-type settings live in {@link EntityTypeOptions}). Every field has a
 * documented default; {@link #toJson()} and {@link #StickyOptions(JsonObject)} round-trip.
 */
public class StickyOptions {
  /** Messages one region (node and type) may buffer in total while shard homes are resolved; overflow -> 503. */
  public static final int DEFAULT_MAX_BUFFERED_PER_REGION = 10_000;
  /**
   * The same buffer bounded in bytes (messages' JSON size): 10,000 messages of the 64 KiB a request may carry
   * would be more than a small node's heap. 64 MiB.
   */
  public static final long DEFAULT_MAX_BUFFERED_BYTES_PER_REGION = 64L * 1024 * 1024;
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
  /**
   * Hand-offs the coordinator starts per second, over all types (a token bucket holding at most
   * {@code rebalanceAbsoluteLimit}). Each move costs CPU on its old and new home (stop, snapshot, send,
   * start) and, the first times a JVM moves shards, JIT compilation: unpaced, a 4th node's 250 moves ran at
   * ~140 a second on 2 cores and the p99 of every request rose 3-5x while they ran; at 60 a second the
   * windows with moves stayed within 2x (bench/README.md), and the join settles in ~4.7 s. A clean leave
   * goes faster when it must: at least its shards / (leaveTimeoutMs / 2) a second, so it ends in time.
   */
  public static final double DEFAULT_HAND_OFF_RATE_PER_SECOND = 60;
  /**
   * A node that joins gets no shards from a rebalance for this long after its region registers (new
   * shards may still be allocated to it), so its own start is over before the first moves compete with it.
   */
  public static final long DEFAULT_REBALANCE_JOIN_DELAY_MS = 500;
  /** How long one step of a hand-off (e.g. the old home stopping the shard) may take before it is abandoned. */
  public static final long DEFAULT_HAND_OFF_TIMEOUT_MS = 10_000;
  /** How long a node leaving cleanly waits for its shards to be handed off before it leaves anyway. */
  public static final long DEFAULT_LEAVE_TIMEOUT_MS = 20_000;
  /**
   * The cluster's intended size, for a static quorum: a node serves only while it reaches a majority of this
   * many nodes. 0 (the default): a majority of the last membership that was stable for 10 s (see Quorum).
   */
  public static final int DEFAULT_EXPECTED_NODES = 0;
  /**
   * The store of entity types whose {@code store} is "default": "replicated" (each state on its entity's node
   * and on its shard's standby node), "hazelcast" (the cluster's memory, one synchronous backup; "memory" on a
   * non-clustered Vert.x), "memory", "postgres" (once registered) or "none".
   */
  public static final String DEFAULT_DEFAULT_STORE = "replicated";

  private long rebalanceIntervalMs = DEFAULT_REBALANCE_INTERVAL_MS;
  private int rebalanceAbsoluteLimit = DEFAULT_REBALANCE_ABSOLUTE_LIMIT;
  private double rebalanceRelativeLimit = DEFAULT_REBALANCE_RELATIVE_LIMIT;
  private double handOffRatePerSecond = DEFAULT_HAND_OFF_RATE_PER_SECOND;
  private long rebalanceJoinDelayMs = DEFAULT_REBALANCE_JOIN_DELAY_MS;
  private long handOffTimeoutMs = DEFAULT_HAND_OFF_TIMEOUT_MS;
  private long leaveTimeoutMs = DEFAULT_LEAVE_TIMEOUT_MS;
  private int expectedNodes = DEFAULT_EXPECTED_NODES;
  private String defaultStore = DEFAULT_DEFAULT_STORE;
  private int maxBufferedPerRegion = DEFAULT_MAX_BUFFERED_PER_REGION;
  private long maxBufferedBytesPerRegion = DEFAULT_MAX_BUFFERED_BYTES_PER_REGION;
  private long coordinatorTimeoutMs = DEFAULT_COORDINATOR_TIMEOUT_MS;
  private long retryBackoffMs = DEFAULT_RETRY_BACKOFF_MS;
  private int maxRouteAttempts = DEFAULT_MAX_ROUTE_ATTEMPTS;
  private boolean proxyOnly;
  private OpenTelemetry openTelemetry;

  public StickyOptions() {
  }

  public StickyOptions(StickyOptions other) {
    this(other.toJson());
    this.openTelemetry = other.openTelemetry;
  }

  public StickyOptions(JsonObject json) {
    setMaxBufferedPerRegion(json.getInteger("maxBufferedPerRegion", DEFAULT_MAX_BUFFERED_PER_REGION));
    setMaxBufferedBytesPerRegion(json.getLong("maxBufferedBytesPerRegion", DEFAULT_MAX_BUFFERED_BYTES_PER_REGION));
    setCoordinatorTimeoutMs(json.getLong("coordinatorTimeoutMs", DEFAULT_COORDINATOR_TIMEOUT_MS));
    setRetryBackoffMs(json.getLong("retryBackoffMs", DEFAULT_RETRY_BACKOFF_MS));
    setMaxRouteAttempts(json.getInteger("maxRouteAttempts", DEFAULT_MAX_ROUTE_ATTEMPTS));
    setRebalanceIntervalMs(json.getLong("rebalanceIntervalMs", DEFAULT_REBALANCE_INTERVAL_MS));
    setRebalanceAbsoluteLimit(json.getInteger("rebalanceAbsoluteLimit", DEFAULT_REBALANCE_ABSOLUTE_LIMIT));
    setRebalanceRelativeLimit(json.getDouble("rebalanceRelativeLimit", DEFAULT_REBALANCE_RELATIVE_LIMIT));
    setHandOffRatePerSecond(json.getDouble("handOffRatePerSecond", DEFAULT_HAND_OFF_RATE_PER_SECOND));
    setRebalanceJoinDelayMs(json.getLong("rebalanceJoinDelayMs", DEFAULT_REBALANCE_JOIN_DELAY_MS));
    setHandOffTimeoutMs(json.getLong("handOffTimeoutMs", DEFAULT_HAND_OFF_TIMEOUT_MS));
    setLeaveTimeoutMs(json.getLong("leaveTimeoutMs", DEFAULT_LEAVE_TIMEOUT_MS));
    setExpectedNodes(json.getInteger("expectedNodes", DEFAULT_EXPECTED_NODES));
    setDefaultStore(json.getString("defaultStore", DEFAULT_DEFAULT_STORE));
    setProxyOnly(json.getBoolean("proxyOnly", false));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("maxBufferedPerRegion", maxBufferedPerRegion)
        .put("maxBufferedBytesPerRegion", maxBufferedBytesPerRegion)
        .put("coordinatorTimeoutMs", coordinatorTimeoutMs)
        .put("retryBackoffMs", retryBackoffMs)
        .put("maxRouteAttempts", maxRouteAttempts)
        .put("rebalanceIntervalMs", rebalanceIntervalMs)
        .put("rebalanceAbsoluteLimit", rebalanceAbsoluteLimit)
        .put("rebalanceRelativeLimit", rebalanceRelativeLimit)
        .put("handOffRatePerSecond", handOffRatePerSecond)
        .put("rebalanceJoinDelayMs", rebalanceJoinDelayMs)
        .put("handOffTimeoutMs", handOffTimeoutMs)
        .put("leaveTimeoutMs", leaveTimeoutMs)
        .put("expectedNodes", expectedNodes)
        .put("defaultStore", defaultStore)
        .put("proxyOnly", proxyOnly);
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

  public double getHandOffRatePerSecond() {
    return handOffRatePerSecond;
  }

  public StickyOptions setHandOffRatePerSecond(double handOffRatePerSecond) {
    if (!(handOffRatePerSecond > 0) || Double.isInfinite(handOffRatePerSecond)) {
      throw new IllegalArgumentException("handOffRatePerSecond must be a positive number, got " + handOffRatePerSecond);
    }
    this.handOffRatePerSecond = handOffRatePerSecond;
    return this;
  }

  public long getRebalanceJoinDelayMs() {
    return rebalanceJoinDelayMs;
  }

  public StickyOptions setRebalanceJoinDelayMs(long rebalanceJoinDelayMs) {
    this.rebalanceJoinDelayMs = EntityTypeOptions.requireNonNegative("rebalanceJoinDelayMs", rebalanceJoinDelayMs);
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

  public int getExpectedNodes() {
    return expectedNodes;
  }

  /** A static quorum of {@code expectedNodes} nodes; 0 counts the majority from the last stable membership. */
  public StickyOptions setExpectedNodes(int expectedNodes) {
    this.expectedNodes = EntityTypeOptions.requireNonNegative("expectedNodes", expectedNodes);
    return this;
  }

  public int getMaxBufferedPerRegion() {
    return maxBufferedPerRegion;
  }

  public StickyOptions setMaxBufferedPerRegion(int maxBufferedPerRegion) {
    this.maxBufferedPerRegion = EntityTypeOptions.requirePositive("maxBufferedPerRegion", maxBufferedPerRegion);
    return this;
  }

  public long getMaxBufferedBytesPerRegion() {
    return maxBufferedBytesPerRegion;
  }

  public StickyOptions setMaxBufferedBytesPerRegion(long maxBufferedBytesPerRegion) {
    if (maxBufferedBytesPerRegion < 1) {
      throw new IllegalArgumentException("maxBufferedBytesPerRegion must be >= 1, got " + maxBufferedBytesPerRegion);
    }
    this.maxBufferedBytesPerRegion = maxBufferedBytesPerRegion;
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

  /**
   * A proxy node routes to every registered type (REST gateway, {@code EntityRef}, the event-bus entry address)
   * but never hosts an entity: the coordinator never allocates it a shard. Default false. The launcher sets it
   * from {@code --proxy-only}.
   */
  public boolean isProxyOnly() {
    return proxyOnly;
  }

  public StickyOptions setProxyOnly(boolean proxyOnly) {
    this.proxyOnly = proxyOnly;
    return this;
  }

  public OpenTelemetry getOpenTelemetry() {
    return openTelemetry;
  }

  /**
   * Where Sticky's spans go (an entity message's hop between nodes, its handling, its state write), joined to
   * the trace the message arrives in. Default null: no spans. {@code StickyNode} sets it from
   * {@code --tracing-endpoint}; an application that builds its own Vert.x passes the OpenTelemetry it gave
   * Vert.x's tracer. Not part of {@link #toJson()}.
   */
  public StickyOptions setOpenTelemetry(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
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
