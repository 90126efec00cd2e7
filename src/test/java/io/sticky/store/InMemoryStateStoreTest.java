package io.sticky.store;

import io.vertx.core.Vertx;

class InMemoryStateStoreTest extends StateStoreContract {
  @Override
  protected StateStore createStore(Vertx vertx) {
    return new InMemoryStateStore();
  }
}
