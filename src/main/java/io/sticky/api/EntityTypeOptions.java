package io.sticky.api;

import io.vertx.core.json.JsonObject;

/**
 * Per entity type settings. Every field has a documented default; {@link #toJson()} and
 * {@link #EntityTypeOptions(JsonObject)} round-trip.
 */
public class EntityTypeOptions {
  /** Shards per type: fixed for the life of the cluster (rule of thumb: 10x the largest node count). */
  public static final int DEFAULT_NUMBER_OF_SHARDS = 100;
  /** How long an ask may take end to end before the caller gets a 504 (outcome unknown). */
  public static final long DEFAULT_ASK_TIMEOUT_MS = 5_000;
  /** Messages queued for one entity (waiting while it activates or handles a message); overflow -> 503. */
  public static final int DEFAULT_MAILBOX_CAPACITY = 1_000;
  /** Messages buffered for one shard while its home is being resolved; overflow -> 503. */
  public static final int DEFAULT_MAX_BUFFERED_PER_SHARD = 1_000;

  private int numberOfShards = DEFAULT_NUMBER_OF_SHARDS;
  private long askTimeoutMs = DEFAULT_ASK_TIMEOUT_MS;
  private int mailboxCapacity = DEFAULT_MAILBOX_CAPACITY;
  private int maxBufferedPerShard = DEFAULT_MAX_BUFFERED_PER_SHARD;

  public EntityTypeOptions() {
  }

  public EntityTypeOptions(EntityTypeOptions other) {
    this.numberOfShards = other.numberOfShards;
    this.askTimeoutMs = other.askTimeoutMs;
    this.mailboxCapacity = other.mailboxCapacity;
    this.maxBufferedPerShard = other.maxBufferedPerShard;
  }

  public EntityTypeOptions(JsonObject json) {
    this();
    setNumberOfShards(json.getInteger("numberOfShards", DEFAULT_NUMBER_OF_SHARDS));
    setAskTimeoutMs(json.getLong("askTimeoutMs", DEFAULT_ASK_TIMEOUT_MS));
    setMailboxCapacity(json.getInteger("mailboxCapacity", DEFAULT_MAILBOX_CAPACITY));
    setMaxBufferedPerShard(json.getInteger("maxBufferedPerShard", DEFAULT_MAX_BUFFERED_PER_SHARD));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("numberOfShards", numberOfShards)
        .put("askTimeoutMs", askTimeoutMs)
        .put("mailboxCapacity", mailboxCapacity)
        .put("maxBufferedPerShard", maxBufferedPerShard);
  }

  public int getNumberOfShards() {
    return numberOfShards;
  }

  public EntityTypeOptions setNumberOfShards(int numberOfShards) {
    this.numberOfShards = requirePositive("numberOfShards", numberOfShards);
    return this;
  }

  public long getAskTimeoutMs() {
    return askTimeoutMs;
  }

  public EntityTypeOptions setAskTimeoutMs(long askTimeoutMs) {
    this.askTimeoutMs = requirePositive("askTimeoutMs", askTimeoutMs);
    return this;
  }

  public int getMailboxCapacity() {
    return mailboxCapacity;
  }

  public EntityTypeOptions setMailboxCapacity(int mailboxCapacity) {
    this.mailboxCapacity = requirePositive("mailboxCapacity", mailboxCapacity);
    return this;
  }

  public int getMaxBufferedPerShard() {
    return maxBufferedPerShard;
  }

  public EntityTypeOptions setMaxBufferedPerShard(int maxBufferedPerShard) {
    this.maxBufferedPerShard = requirePositive("maxBufferedPerShard", maxBufferedPerShard);
    return this;
  }

  static int requirePositive(String key, long value) {
    if (value <= 0 || value > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " must be between 1 and " + Integer.MAX_VALUE + ", got " + value);
    }
    return (int) value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EntityTypeOptions other && toJson().equals(other.toJson());
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
