package io.sticky.internal.cluster;

import com.hazelcast.replicatedmap.ReplicatedMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each member's advertised HTTP URL (the {@code --advertise-http} option), so that any node can tell a
 * client where an entity's owner answers.
 *
 * <p>Kept in a Hazelcast {@link ReplicatedMap}: every member holds a full copy, so a lookup on the request
 * path is a local read, never a Hazelcast operation. Entries of nodes that left are dropped by every member
 * that sees them go, and lookups only answer for current members.
 */
public final class NodeDirectory {
  static final String MAP_NAME = "sticky.nodes.http";

  private final Vertx vertx;
  private final Membership membership;
  /** The replicated map, or, on a non-clustered Vert.x, a local one. */
  private final Map<String, String> urls;
  private final Runnable unsubscribe;

  public NodeDirectory(Vertx vertx, Membership membership) {
    this.vertx = vertx;
    this.membership = membership;
    if (membership.clustered()) {
      ReplicatedMap<String, String> map = membership.hazelcast().getReplicatedMap(MAP_NAME);
      this.urls = map;
    } else {
      this.urls = new ConcurrentHashMap<>();
    }
    this.unsubscribe = membership.subscribe(vertx, change -> {
      if (!change.removed().isEmpty()) {
        vertx.executeBlocking(() -> {
          change.removed().forEach(urls::remove);
          return null;
        }, false);
      }
    });
  }

  /** Advertises this node's URL (a replicated put: off the event loop). */
  public Future<Void> publish(String url) {
    if (url == null) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      urls.put(membership.self(), url);
      return null;
    }, false);
  }

  /** The advertised URL of a current member, or null (unknown node, or one that advertised none). */
  public String url(String node) {
    return node == null || !membership.isMember(node) ? null : urls.get(node);
  }

  /** Every current member's URL, oldest member first; members without one are left out. */
  public Map<String, String> urls() {
    Map<String, String> result = new LinkedHashMap<>();
    for (String node : membership.members()) {
      String url = urls.get(node);
      if (url != null) {
        result.put(node, url);
      }
    }
    return result;
  }

  public void close() {
    unsubscribe.run();
  }
}
