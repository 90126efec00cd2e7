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
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("maxBufferedPerRegion", maxBufferedPerRegion)
        .put("coordinatorTimeoutMs", coordinatorTimeoutMs)
        .put("retryBackoffMs", retryBackoffMs)
        .put("maxRouteAttempts", maxRouteAttempts);
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
