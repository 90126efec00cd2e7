package io.sticky.internal.coordinator;

import io.sticky.api.StickyOptions;
import io.sticky.internal.cluster.Membership;
import io.sticky.internal.cluster.Quorum;
import io.sticky.spi.ShardAllocationStrategy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps exactly one {@link ShardCoordinator} in the cluster: every node runs this watcher, and the one that
 * is the oldest member, if it holds the cluster's majority ({@link Quorum}), deploys the coordinator. Runs on
 * the context it was started from.
 */
public final class CoordinatorSingleton {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorSingleton.class);

  private final Vertx vertx;
  private final Membership membership;
  private final Quorum quorum;
  private final ShardAllocationStrategy strategy;
  private final StickyOptions options;
  private String deploymentId;
  private boolean deploying;
  private boolean closed;
  private Runnable unsubscribe;

  public CoordinatorSingleton(Vertx vertx, Membership membership, Quorum quorum, ShardAllocationStrategy strategy, StickyOptions options) {
    this.vertx = vertx;
    this.membership = membership;
    this.quorum = quorum;
    this.strategy = strategy;
    this.options = options;
  }

  /** Call on a Vert.x context; membership changes are handled on it. */
  public void start() {
    unsubscribe = membership.subscribe(vertx, change -> check());
    io.vertx.core.Context here = vertx.getOrCreateContext();
    quorum.onChange(held -> here.runOnContext(v -> check()));
    check();
  }

  public boolean isActiveHere() {
    return deploymentId != null;
  }

  private void check() {
    if (closed || deploying) {
      return;
    }
    // Only on the majority side: a minority's oldest member must not place shards the majority places too.
    boolean oldest = membership.self().equals(membership.oldest()) && quorum.held();
    if (oldest && deploymentId == null) {
      deploying = true;
      vertx.deployVerticle(new ShardCoordinator(membership, strategy, options)).onComplete(ar -> {
        deploying = false;
        if (ar.succeeded()) {
          deploymentId = ar.result();
          if (closed) {
            vertx.undeploy(deploymentId);
          }
        } else {
          log.error("coordinator failed to start on {}; retrying", membership.self(), ar.cause());
          vertx.setTimer(500, t -> check());
        }
      });
    } else if (!oldest && deploymentId != null) {
      String id = deploymentId;
      deploymentId = null;
      vertx.undeploy(id);
    }
  }

  public Future<Void> close() {
    closed = true;
    if (unsubscribe != null) {
      unsubscribe.run();
    }
    if (deploymentId == null) {
      return Future.succeededFuture();
    }
    String id = deploymentId;
    deploymentId = null;
    return vertx.undeploy(id);
  }
}
