package io.sticky.internal;

import io.sticky.api.EntityReply;
import io.sticky.api.Sticky;
import io.sticky.cluster.Membership;
import io.sticky.cluster.Quorum;
import io.sticky.protocol.Protocol.Allocations;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * What the REST gateway, health checks and management routes need of a running node beyond {@link Sticky}:
 * its cluster view, its shards and stores, and requests with the gateway's options.
 */
public interface NodeRuntime extends Sticky {
  /** True if this node runs the coordinator now. */
  boolean runsCoordinator();

  /** True once {@link #start()} has been called. */
  boolean isStarted();

  /** True once a clean leave (or close) has started. */
  boolean isLeaving();

  /** Each registered type's region: null if it is ready, else why not. */
  Map<String, String> regionStatus();

  /** Store name -> null if it answered a ping within {@code timeoutMs}, else why not. Never fails. */
  Future<Map<String, String>> pingStores(long timeoutMs);

  /** The store names in use, by type. */
  Map<String, String> storesByType();

  /**
   * A request as the gateway makes it: {@code redirect} asks for {@link io.sticky.api.StickyError#REDIRECT}
   * instead of a forward when the entity lives elsewhere.
   */
  Future<EntityReply> request(String typeName, String id, String kind, JsonObject message, boolean redirect, String idempotencyKey);

  /** An entity's reminders (names and due times), from its hosting node. */
  Future<JsonObject> reminders(String typeName, String id);

  /** The coordinator's allocation table for a type (every type if null). */
  Future<Allocations> allocations(String typeName);

  int numberOfShards(String typeName);

  /** Whether this node is on the cluster's majority side (null before start). */
  Quorum quorum();

  Membership membership();

  /** The advertised HTTP URL of a current member, or null. */
  String httpUrl(String node);

  /** The nodes an operator has drained (none if the cluster's record cannot be read). */
  Future<java.util.Set<String>> drainedNodes();

  /** Every current member's advertised HTTP URL, oldest first. */
  Map<String, String> httpUrls();
}
