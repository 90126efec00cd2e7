package io.sticky.store;

import io.sticky.internal.cluster.Membership;
import io.sticky.store.replicated.ReplicatedStateStore;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;

/**
 * The contract on a single, non-clustered node: the store's own copy is the only one. What two copies add
 * (surviving a crash, fencing an old home) needs a cluster: {@code ReplicatedStoreClusterTest}.
 */
class ReplicatedStateStoreTest extends StateStoreContract {
  @Override
  protected StateStore createStore(Vertx vertx) throws Exception {
    ReplicatedStateStore store = new ReplicatedStateStore(vertx, Membership.of(vertx), type -> 16);
    store.start().await(10, TimeUnit.SECONDS);
    return store;
  }
}
