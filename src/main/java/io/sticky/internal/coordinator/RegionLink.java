package io.sticky.internal.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** How the coordinator talks to regions: control requests to one, and new homes told to all (proxies too). */
final class RegionLink {
  private final ShardCoordinator coordinator;
  private final Roster roster;
  private final Membership membership;
  private final StickyOptions options;
  private final Vertx vertx;

  RegionLink(ShardCoordinator coordinator, Roster roster, Membership membership, StickyOptions options, Vertx vertx) {
    this.coordinator = coordinator;
    this.roster = roster;
    this.membership = membership;
    this.options = options;
    this.vertx = vertx;
  }

  /** ShardHome to every live region of the type but those on the {@code except} nodes. */
  void broadcast(String type, ShardHome home, String... except) {
    List<String> skipped = List.of(except);
    for (String node : liveRegions(type)) {
      if (!skipped.contains(node)) {
        tell(type, node, home);
      }
    }
    // Proxies route too: told so that they skip the hop through the old home.
    for (String node : roster.proxies(type)) {
      if (membership.isMember(node) && !skipped.contains(node)) {
        tell(type, node, home);
      }
    }
  }

  /**
   * A ShardHome nobody waits for: sent without a reply, which saves a message per region and hand-off. One
   * that is lost only costs that region a hop through the old home, or a question to the coordinator.
   */
  private void tell(String type, String node, ShardHome home) {
    vertx.eventBus().send(Addresses.region(type, node), Protocol.encode(home), Headers.control(membership.self(), options.getHandOffTimeoutMs()));
  }

  /** Registered regions of the type on nodes that are still members. */
  private List<String> liveRegions(String type) {
    return coordinator.state().regions(type).stream().filter(membership::isMember).toList();
  }

  /** A control command to one region, answered within the hand-off timeout. */
  Future<JsonObject> control(String type, String node, JsonObject command) {
    DeliveryOptions opts = Headers.control(membership.self(), options.getHandOffTimeoutMs());
    return vertx.eventBus().<JsonObject>request(Addresses.region(type, node), command, opts).map(m -> m.body());
  }
}
