package io.sticky.internal.region;

import io.sticky.api.StickyOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.protocol.Headers;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

/** What a region's parts share: the type, this node, the node's options and cluster view. */
record RegionSetup(String type, int numberOfShards, String self, StickyOptions options, Membership membership, Vertx vertx) {

  /** Delivery options for a request to the coordinator (or a control message), with this node as sender. */
  DeliveryOptions coordinatorOptions() {
    return Headers.control(self, options.getCoordinatorTimeoutMs());
  }

  /** Exponential back-off for attempt {@code attempt} (0-based), capped at ten times the base. */
  long backoff(int attempt) {
    return Math.min(options.getRetryBackoffMs() * 10, options.getRetryBackoffMs() << Math.min(attempt, 10));
  }
}
