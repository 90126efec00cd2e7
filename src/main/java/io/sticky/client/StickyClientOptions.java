package io.sticky.client;

import io.vertx.core.http.HttpClientOptions;
import java.util.List;

/** Settings of a {@link StickyClient}, with documented defaults. */
public class StickyClientOptions {
  /** Connections per node (each node has its own pool). */
  public static final int DEFAULT_CONNECTIONS_PER_NODE = 32;
  /** A call's whole budget, retries included; past it the call fails {@code timeout} (outcome unknown). */
  public static final long DEFAULT_CALL_TIMEOUT_MS = 10_000;
  /** Tries per call for failures that say "not applied" (node down, 503). */
  public static final int DEFAULT_MAX_ATTEMPTS = 6;
  /** Backoff before the second try; doubled per try, at most {@link #MAX_BACKOFF_MS}. */
  public static final long DEFAULT_BACKOFF_MS = 50;
  static final long MAX_BACKOFF_MS = 1_000;
  /** How long a node that refused a connection is avoided before it is tried again. */
  public static final long DEFAULT_NODE_QUARANTINE_MS = 2_000;

  private List<String> seeds = List.of();
  private int connectionsPerNode = DEFAULT_CONNECTIONS_PER_NODE;
  private long callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS;
  private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
  private long backoffMs = DEFAULT_BACKOFF_MS;
  private long nodeQuarantineMs = DEFAULT_NODE_QUARANTINE_MS;
  private boolean followTable = true;
  private boolean idempotentRetries;
  private String bearerToken;
  private HttpClientOptions httpClientOptions = new HttpClientOptions();

  public StickyClientOptions() {
  }

  /** Base URLs of some nodes ({@code http://host:port}); the routing table names the rest. */
  public List<String> getSeeds() {
    return seeds;
  }

  public StickyClientOptions setSeeds(List<String> seeds) {
    if (seeds == null || seeds.isEmpty()) {
      throw new IllegalArgumentException("at least one seed URL is needed");
    }
    this.seeds = seeds.stream().map(s -> s.endsWith("/") ? s.substring(0, s.length() - 1) : s).toList();
    return this;
  }

  public int getConnectionsPerNode() {
    return connectionsPerNode;
  }

  public StickyClientOptions setConnectionsPerNode(int connectionsPerNode) {
    if (connectionsPerNode <= 0) {
      throw new IllegalArgumentException("connections per node must be positive");
    }
    this.connectionsPerNode = connectionsPerNode;
    return this;
  }

  public long getCallTimeoutMs() {
    return callTimeoutMs;
  }

  public StickyClientOptions setCallTimeoutMs(long callTimeoutMs) {
    if (callTimeoutMs <= 0) {
      throw new IllegalArgumentException("call timeout must be positive");
    }
    this.callTimeoutMs = callTimeoutMs;
    return this;
  }

  public int getMaxAttempts() {
    return maxAttempts;
  }

  public StickyClientOptions setMaxAttempts(int maxAttempts) {
    if (maxAttempts <= 0) {
      throw new IllegalArgumentException("max attempts must be positive");
    }
    this.maxAttempts = maxAttempts;
    return this;
  }

  public long getBackoffMs() {
    return backoffMs;
  }

  public StickyClientOptions setBackoffMs(long backoffMs) {
    this.backoffMs = Math.max(0, backoffMs);
    return this;
  }

  public long getNodeQuarantineMs() {
    return nodeQuarantineMs;
  }

  public StickyClientOptions setNodeQuarantineMs(long nodeQuarantineMs) {
    this.nodeQuarantineMs = Math.max(0, nodeQuarantineMs);
    return this;
  }

  /**
   * True (default): send each call to its entity's node per the routing table. False: send every call to
   * the first live seed, as a plain HTTP client would (for comparisons).
   */
  public boolean isFollowTable() {
    return followTable;
  }

  public StickyClientOptions setFollowTable(boolean followTable) {
    this.followTable = followTable;
    return this;
  }

  /**
   * False (default): an ask whose outcome is unknown (504, 502, a connection lost after sending) fails. True:
   * every ask carries a generated {@code Idempotency-Key} and such failures are retried too, within the
   * attempts and the call's budget: the entity applies the ask at most once within its type's idempotency
   * window (docs/guarantees.md).
   */
  public boolean isIdempotentRetries() {
    return idempotentRetries;
  }

  public StickyClientOptions setIdempotentRetries(boolean idempotentRetries) {
    this.idempotentRetries = idempotentRetries;
    return this;
  }

  /** Sent as {@code Authorization: Bearer <token>} on every request when set. */
  public String getBearerToken() {
    return bearerToken;
  }

  public StickyClientOptions setBearerToken(String bearerToken) {
    this.bearerToken = bearerToken;
    return this;
  }

  /** The underlying Vert.x HTTP client's options (TLS, trust store, timeouts). */
  public HttpClientOptions getHttpClientOptions() {
    return httpClientOptions;
  }

  public StickyClientOptions setHttpClientOptions(HttpClientOptions httpClientOptions) {
    this.httpClientOptions = httpClientOptions;
    return this;
  }
}
