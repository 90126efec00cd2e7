package io.sticky.api;

import io.sticky.internal.runtime.StickyImpl;
import io.sticky.spi.ShardAllocationStrategy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * Cluster sharding on one Vert.x instance (one node). Register the entity types this node hosts, then
 * {@link #start()}: the node registers one region per type with the cluster's coordinator and from then on
 * routes messages for any (type, id) to wherever that entity lives, activating it on demand.
 *
 * <pre>{@code
 * Sticky sticky = Sticky.create(vertx);
 * sticky.register(EntityType.of("counter", CounterEntity::new));
 * sticky.start().await();
 * sticky.entityRef("counter", "42").ask(new JsonObject().put("op", "increment"));
 * }</pre>
 *
 * Works on a clustered Vert.x (Hazelcast cluster manager) and, as a single node, on a plain one.
 * Other verticles of the same node may also use the plain event bus: see {@link EntityAddress}.
 */
public interface Sticky {

  static Sticky create(Vertx vertx) {
    return new StickyImpl(vertx, new StickyOptions(), null);
  }

  static Sticky create(Vertx vertx, StickyOptions options) {
    return new StickyImpl(vertx, options, null);
  }

  /** With a custom allocation strategy (used when this node runs the coordinator). */
  static Sticky create(Vertx vertx, StickyOptions options, ShardAllocationStrategy strategy) {
    return new StickyImpl(vertx, options, strategy);
  }

  /**
   * Makes a state store available to entity types under a name (their {@code store} option), or replaces a
   * built-in one ("hazelcast", "memory"); only before {@link #start()}. The caller keeps ownership: Sticky
   * does not close it.
   */
  Sticky registerStore(String name, io.sticky.store.StateStore store);

  /** Registers an entity type; only before {@link #start()}. */
  Sticky register(EntityType type);

  /** Starts the regions (and the coordinator if this is the oldest node); completes when they are registered. */
  Future<Void> start();

  /**
   * Leaves the cluster cleanly, step one: the node reports not-ready and the coordinator hands off every
   * shard it hosts (entities finish their current message and move with their state) while the node keeps
   * routing. Completes when its shards are gone, or after {@link StickyOptions#getLeaveTimeoutMs()}.
   * Idempotent; {@link #close()} calls it first.
   */
  Future<Void> leave();

  /** Leaves cleanly ({@link #leave()}), then stops regions, entities and the coordinator on this node. */
  Future<Void> close();

  /** The Vert.x instance this node runs on. */
  Vertx vertx();

  /** This node's id (the Vert.x cluster node id). */
  String nodeId();

  /** True once every region has been acknowledged by the coordinator and the node is not closing. */
  boolean isReady();

  /** The registered type names. */
  Set<String> typeNames();

  EntityRef entityRef(String typeName, String id);

  /**
   * The general request: kind {@code ask} or {@code view}; the reply names the hosting node. Answers like an
   * event-bus request to {@link EntityAddress#of} with the same headers (same replies, same failures), minus
   * the local event-bus hop. The entity gets a copy of {@code message}; the future completes on the caller's
   * context, within the type's ask timeout plus a margin whatever happens.
   */
  Future<EntityReply> request(String typeName, String id, String kind, JsonObject message);

  /**
   * As {@link #request(String, String, String, JsonObject)}, with an idempotency key naming the operation
   * (null: none; 1-255 visible ASCII characters). The entity remembers the keys it applied, with their replies,
   * in its stored state: a retry with the same key and message gets the stored reply
   * ({@link EntityReply#replayed()}) and is not applied again; the same key with another message fails with
   * {@link StickyError#IDEMPOTENCY_KEY_REUSED}. See {@link EntityTypeOptions#setIdempotencyKeys}.
   */
  Future<EntityReply> request(String typeName, String id, String kind, JsonObject message, String idempotencyKey);

  /** Fire-and-forget (a null message, an unknown type or an invalid id is dropped). */
  void tell(String typeName, String id, JsonObject message);

  /** Counters of this node's region of the given type (for tests, health and metrics). */
  RegionStats stats(String typeName);

  /** A point-in-time view of one region. */
  /**
   * One region's counters: active entities now (and the most at once), activations and passivations since
   * start (evictions: passivations forced by the active-entity limit), hosted shards and buffered messages.
   */
  record RegionStats(String typeName, int activeEntities, long activations, int hostedShards, int bufferedMessages,
                     long passivations, long evictions, int peakActiveEntities) {
    public JsonObject toJson() {
      return new JsonObject().put("type", typeName).put("activeEntities", activeEntities)
          .put("activations", activations).put("hostedShards", hostedShards).put("bufferedMessages", bufferedMessages)
          .put("passivations", passivations).put("evictions", evictions).put("peakActiveEntities", peakActiveEntities);
    }
  }
}
