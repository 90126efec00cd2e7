package io.sticky.api;

import io.vertx.core.json.JsonObject;

/**
 * Per entity type settings. Every field has a documented default; {@link #toJson()} and
 * {@link #EntityTypeOptions(JsonObject)} round-trip.
 */
public class EntityTypeOptions {
  /** Shards per type: fixed for the life of the cluster (rule of thumb: 10x the largest node count). */
  public static final int DEFAULT_NUMBER_OF_SHARDS = 1000;
  /** How long an ask may take end to end before the caller gets a 504 (outcome unknown). */
  public static final long DEFAULT_ASK_TIMEOUT_MS = 5_000;
  /** Messages queued for one entity (waiting while it activates or handles a message); overflow -> 503. */
  public static final int DEFAULT_MAILBOX_CAPACITY = 1_000;
  /** Messages buffered for one shard while its home is being resolved; overflow -> 503. */
  public static final int DEFAULT_MAX_BUFFERED_PER_SHARD = 1_000;
  /** State store name: {@link #NODE_DEFAULT_STORE} takes the node's default store; {@link #NO_STORE} keeps state only in memory. */
  public static final String NODE_DEFAULT_STORE = "default";
  public static final String NO_STORE = "none";
  public static final String DEFAULT_STORE = NODE_DEFAULT_STORE;
  public static final WritePolicy DEFAULT_WRITE_POLICY = WritePolicy.BEFORE_REPLY;
  /** Longest delay between a change and its write under {@link WritePolicy#WRITE_BEHIND} (the loss window). */
  public static final long DEFAULT_WRITE_BEHIND_DELAY_MS = 1_000;
  /** An entity that got no message for this long is passivated (state written, instance dropped); 0 = never. */
  public static final long DEFAULT_PASSIVATE_AFTER_MS = 120_000;
  /** Active entities of the type on one node; at the limit, the least valuable one is passivated first. */
  public static final int DEFAULT_MAX_ACTIVE_ENTITIES = 100_000;
  /** Which entity the limit passivates first. */
  public static final PassivationPolicy DEFAULT_PASSIVATION_POLICY = PassivationPolicy.W_TINY_LFU;
  /**
   * Passivate entities of a type without a store ({@code store: none}), which drops their state. Off: such
   * entities are never passivated, and at {@code maxActiveEntities} a new one is refused (503) instead.
   */
  public static final boolean DEFAULT_PASSIVATE_WITHOUT_STORE = false;
  /**
   * When every stored copy of an entity's state is lost (nodes that held them failed together), start the
   * entity from its initial state (with a warning). Off: it answers 503 {@code state-lost} until an operator
   * accepts the loss.
   */
  public static final boolean DEFAULT_START_FRESH_ON_STATE_LOSS = false;
  /** Re-activate the entities that were active when their shard moves or their node restarts (opt-in). */
  public static final boolean DEFAULT_REMEMBER_ENTITIES = false;
  /** Throttle of those re-activations, per region: never a thundering herd on the store. */
  public static final int DEFAULT_REMEMBER_ACTIVATIONS_PER_SECOND = 1_000;
  /**
   * Idempotency keys each entity remembers, with their replies, stored with its state (0 turns keys off: a
   * message with a key is then applied every time it arrives). The oldest go first.
   */
  public static final int DEFAULT_IDEMPOTENCY_KEYS = 100;
  /** How long an applied key is remembered: a retry later than this is applied again. 24 hours. */
  public static final long DEFAULT_IDEMPOTENCY_RETENTION_MS = 86_400_000;
  /**
   * Entities of the type with a stored state, cluster-wide; at the limit, an id with no stored state is refused
   * (507 {@code entity-limit}): clients cannot grow the store without bound by inventing ids. Checked against a
   * count refreshed every few seconds, so a burst of new ids can overshoot by what arrives in between. 0 = none.
   */
  public static final long DEFAULT_MAX_STORED_ENTITIES = 1_000_000;
  /** How often each node counts the type's stored entities against {@code maxStoredEntities} (one store query). */
  public static final long DEFAULT_STORED_ENTITIES_CHECK_MS = 5_000;
  /** Entities a region activates per second, at most, because a reminder is due: no thundering herd after a restart. */
  public static final int DEFAULT_REMINDER_ACTIVATIONS_PER_SECOND = 200;

  private int numberOfShards = DEFAULT_NUMBER_OF_SHARDS;
  private long askTimeoutMs = DEFAULT_ASK_TIMEOUT_MS;
  private int mailboxCapacity = DEFAULT_MAILBOX_CAPACITY;
  private int maxBufferedPerShard = DEFAULT_MAX_BUFFERED_PER_SHARD;
  private String store = DEFAULT_STORE;
  private WritePolicy writePolicy = DEFAULT_WRITE_POLICY;
  private long writeBehindDelayMs = DEFAULT_WRITE_BEHIND_DELAY_MS;
  private long passivateAfterMs = DEFAULT_PASSIVATE_AFTER_MS;
  private int maxActiveEntities = DEFAULT_MAX_ACTIVE_ENTITIES;
  private PassivationPolicy passivationPolicy = DEFAULT_PASSIVATION_POLICY;
  private boolean passivateWithoutStore = DEFAULT_PASSIVATE_WITHOUT_STORE;
  private boolean startFreshOnStateLoss = DEFAULT_START_FRESH_ON_STATE_LOSS;
  private boolean rememberEntities = DEFAULT_REMEMBER_ENTITIES;
  private int rememberActivationsPerSecond = DEFAULT_REMEMBER_ACTIVATIONS_PER_SECOND;
  private int idempotencyKeys = DEFAULT_IDEMPOTENCY_KEYS;
  private long idempotencyRetentionMs = DEFAULT_IDEMPOTENCY_RETENTION_MS;
  private int reminderActivationsPerSecond = DEFAULT_REMINDER_ACTIVATIONS_PER_SECOND;
  private long maxStoredEntities = DEFAULT_MAX_STORED_ENTITIES;
  private long storedEntitiesCheckMs = DEFAULT_STORED_ENTITIES_CHECK_MS;

  public EntityTypeOptions() {
  }

  public EntityTypeOptions(EntityTypeOptions other) {
    this.numberOfShards = other.numberOfShards;
    this.askTimeoutMs = other.askTimeoutMs;
    this.mailboxCapacity = other.mailboxCapacity;
    this.maxBufferedPerShard = other.maxBufferedPerShard;
    this.store = other.store;
    this.writePolicy = other.writePolicy;
    this.writeBehindDelayMs = other.writeBehindDelayMs;
    this.passivateAfterMs = other.passivateAfterMs;
    this.maxActiveEntities = other.maxActiveEntities;
    this.passivationPolicy = other.passivationPolicy;
    this.passivateWithoutStore = other.passivateWithoutStore;
    this.startFreshOnStateLoss = other.startFreshOnStateLoss;
    this.rememberEntities = other.rememberEntities;
    this.rememberActivationsPerSecond = other.rememberActivationsPerSecond;
    this.idempotencyKeys = other.idempotencyKeys;
    this.idempotencyRetentionMs = other.idempotencyRetentionMs;
    this.reminderActivationsPerSecond = other.reminderActivationsPerSecond;
    this.maxStoredEntities = other.maxStoredEntities;
    this.storedEntitiesCheckMs = other.storedEntitiesCheckMs;
  }

  public EntityTypeOptions(JsonObject json) {
    this();
    setNumberOfShards(json.getInteger("numberOfShards", DEFAULT_NUMBER_OF_SHARDS));
    setAskTimeoutMs(json.getLong("askTimeoutMs", DEFAULT_ASK_TIMEOUT_MS));
    setMailboxCapacity(json.getInteger("mailboxCapacity", DEFAULT_MAILBOX_CAPACITY));
    setMaxBufferedPerShard(json.getInteger("maxBufferedPerShard", DEFAULT_MAX_BUFFERED_PER_SHARD));
    setStore(json.getString("store", DEFAULT_STORE));
    setWritePolicy(WritePolicy.parse(json.getString("writePolicy", DEFAULT_WRITE_POLICY.configName())));
    setWriteBehindDelayMs(json.getLong("writeBehindDelayMs", DEFAULT_WRITE_BEHIND_DELAY_MS));
    setPassivateAfterMs(json.getLong("passivateAfterMs", DEFAULT_PASSIVATE_AFTER_MS));
    setMaxActiveEntities(json.getInteger("maxActiveEntities", DEFAULT_MAX_ACTIVE_ENTITIES));
    setPassivationPolicy(PassivationPolicy.parse(json.getString("passivationPolicy", DEFAULT_PASSIVATION_POLICY.configName())));
    setPassivateWithoutStore(json.getBoolean("passivateWithoutStore", DEFAULT_PASSIVATE_WITHOUT_STORE));
    setStartFreshOnStateLoss(json.getBoolean("startFreshOnStateLoss", DEFAULT_START_FRESH_ON_STATE_LOSS));
    setRememberEntities(json.getBoolean("rememberEntities", DEFAULT_REMEMBER_ENTITIES));
    setRememberActivationsPerSecond(json.getInteger("rememberActivationsPerSecond", DEFAULT_REMEMBER_ACTIVATIONS_PER_SECOND));
    setIdempotencyKeys(json.getInteger("idempotencyKeys", DEFAULT_IDEMPOTENCY_KEYS));
    setIdempotencyRetentionMs(json.getLong("idempotencyRetentionMs", DEFAULT_IDEMPOTENCY_RETENTION_MS));
    setReminderActivationsPerSecond(json.getInteger("reminderActivationsPerSecond", DEFAULT_REMINDER_ACTIVATIONS_PER_SECOND));
    setMaxStoredEntities(json.getLong("maxStoredEntities", DEFAULT_MAX_STORED_ENTITIES));
    setStoredEntitiesCheckMs(json.getLong("storedEntitiesCheckMs", DEFAULT_STORED_ENTITIES_CHECK_MS));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("numberOfShards", numberOfShards)
        .put("askTimeoutMs", askTimeoutMs)
        .put("mailboxCapacity", mailboxCapacity)
        .put("maxBufferedPerShard", maxBufferedPerShard)
        .put("store", store)
        .put("writePolicy", writePolicy.configName())
        .put("writeBehindDelayMs", writeBehindDelayMs)
        .put("passivateAfterMs", passivateAfterMs)
        .put("maxActiveEntities", maxActiveEntities)
        .put("passivationPolicy", passivationPolicy.configName())
        .put("passivateWithoutStore", passivateWithoutStore)
        .put("startFreshOnStateLoss", startFreshOnStateLoss)
        .put("rememberEntities", rememberEntities)
        .put("rememberActivationsPerSecond", rememberActivationsPerSecond)
        .put("idempotencyKeys", idempotencyKeys)
        .put("idempotencyRetentionMs", idempotencyRetentionMs)
        .put("reminderActivationsPerSecond", reminderActivationsPerSecond)
        .put("maxStoredEntities", maxStoredEntities)
        .put("storedEntitiesCheckMs", storedEntitiesCheckMs);
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

  public String getStore() {
    return store;
  }

  /** A store name registered on the node ("hazelcast", "postgres", "memory", ...), "default" or "none". */
  public EntityTypeOptions setStore(String store) {
    if (store == null || store.isBlank()) {
      throw new IllegalArgumentException("store must be a store name, \"default\" or \"none\"");
    }
    this.store = store;
    return this;
  }

  public WritePolicy getWritePolicy() {
    return writePolicy;
  }

  public EntityTypeOptions setWritePolicy(WritePolicy writePolicy) {
    this.writePolicy = java.util.Objects.requireNonNull(writePolicy, "writePolicy");
    return this;
  }

  public long getWriteBehindDelayMs() {
    return writeBehindDelayMs;
  }

  public EntityTypeOptions setWriteBehindDelayMs(long writeBehindDelayMs) {
    this.writeBehindDelayMs = requirePositive("writeBehindDelayMs", writeBehindDelayMs);
    return this;
  }

  public long getPassivateAfterMs() {
    return passivateAfterMs;
  }

  /** Idle time before passivation; 0 turns idle passivation off (the active-entity limit still applies). */
  public EntityTypeOptions setPassivateAfterMs(long passivateAfterMs) {
    if (passivateAfterMs < 0) {
      throw new IllegalArgumentException("passivateAfterMs must be >= 0 (0 = never), got " + passivateAfterMs);
    }
    this.passivateAfterMs = passivateAfterMs;
    return this;
  }

  public int getMaxActiveEntities() {
    return maxActiveEntities;
  }

  public EntityTypeOptions setMaxActiveEntities(int maxActiveEntities) {
    this.maxActiveEntities = requirePositive("maxActiveEntities", maxActiveEntities);
    return this;
  }

  /** Entities with a stored state, cluster-wide, beyond which new ids are refused; 0 = no limit. */
  public long getMaxStoredEntities() {
    return maxStoredEntities;
  }

  public EntityTypeOptions setMaxStoredEntities(long maxStoredEntities) {
    if (maxStoredEntities < 0) {
      throw new IllegalArgumentException("maxStoredEntities must be >= 0 (0 = no limit), got " + maxStoredEntities);
    }
    this.maxStoredEntities = maxStoredEntities;
    return this;
  }

  public long getStoredEntitiesCheckMs() {
    return storedEntitiesCheckMs;
  }

  public EntityTypeOptions setStoredEntitiesCheckMs(long storedEntitiesCheckMs) {
    this.storedEntitiesCheckMs = requirePositive("storedEntitiesCheckMs", storedEntitiesCheckMs);
    return this;
  }

  public PassivationPolicy getPassivationPolicy() {
    return passivationPolicy;
  }

  public EntityTypeOptions setPassivationPolicy(PassivationPolicy passivationPolicy) {
    this.passivationPolicy = java.util.Objects.requireNonNull(passivationPolicy, "passivationPolicy");
    return this;
  }

  public boolean isPassivateWithoutStore() {
    return passivateWithoutStore;
  }

  /** Whether entities of a type without a store may be passivated, losing their state (see the default). */
  public EntityTypeOptions setPassivateWithoutStore(boolean passivateWithoutStore) {
    this.passivateWithoutStore = passivateWithoutStore;
    return this;
  }

  public boolean isStartFreshOnStateLoss() {
    return startFreshOnStateLoss;
  }

  /** Whether an entity whose stored state is lost starts from its initial state (see the default). */
  public EntityTypeOptions setStartFreshOnStateLoss(boolean startFreshOnStateLoss) {
    this.startFreshOnStateLoss = startFreshOnStateLoss;
    return this;
  }

  public boolean isRememberEntities() {
    return rememberEntities;
  }

  public EntityTypeOptions setRememberEntities(boolean rememberEntities) {
    this.rememberEntities = rememberEntities;
    return this;
  }

  public int getRememberActivationsPerSecond() {
    return rememberActivationsPerSecond;
  }

  public EntityTypeOptions setRememberActivationsPerSecond(int rememberActivationsPerSecond) {
    this.rememberActivationsPerSecond = requirePositive("rememberActivationsPerSecond", rememberActivationsPerSecond);
    return this;
  }

  public int getIdempotencyKeys() {
    return idempotencyKeys;
  }

  /** How many applied idempotency keys each entity keeps (see the default); 0 turns keys off. */
  public EntityTypeOptions setIdempotencyKeys(int idempotencyKeys) {
    this.idempotencyKeys = requireNonNegative("idempotencyKeys", idempotencyKeys);
    return this;
  }

  public long getIdempotencyRetentionMs() {
    return idempotencyRetentionMs;
  }

  /** How long an applied idempotency key is kept (see the default). */
  public EntityTypeOptions setIdempotencyRetentionMs(long idempotencyRetentionMs) {
    if (idempotencyRetentionMs < 1) {
      throw new IllegalArgumentException("idempotencyRetentionMs must be >= 1, got " + idempotencyRetentionMs);
    }
    this.idempotencyRetentionMs = idempotencyRetentionMs;
    return this;
  }

  public int getReminderActivationsPerSecond() {
    return reminderActivationsPerSecond;
  }

  public EntityTypeOptions setReminderActivationsPerSecond(int reminderActivationsPerSecond) {
    this.reminderActivationsPerSecond = requirePositive("reminderActivationsPerSecond", reminderActivationsPerSecond);
    return this;
  }

  /** {@code value} if it is 0 .. 2^31-1, else an error naming {@code key}. */
  static int requireNonNegative(String key, long value) {
    if (value < 0 || value > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " must be between 0 and " + Integer.MAX_VALUE + ", got " + value);
    }
    return (int) value;
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
