package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

class InMemoryStateStoreTest extends StateStoreContract {
  @Override
  protected StateStore createStore(Vertx vertx) {
    return new InMemoryStateStore();
  }

  @Override
  protected boolean exactVersions() {
    return false;
  }

  @Test
  void aStateCarriedInByAHandOffContinuesItsVersionsOnThisNode() throws Exception {
    String id = newId();
    await(store.write("counter", id, new StoredState(1, 1, 1, "{\"value\":1}")));
    // the shard went away and came back with the entity at version 6 (written on other nodes meanwhile)
    await(store.write("counter", id, new StoredState(7, 3, 1, "{\"value\":7}")));
    assertThat(await(store.load("counter", id)).version()).isEqualTo(7);
    assertThatThrownBy(() -> await(store.write("counter", id, new StoredState(7, 3, 1, "{}")))).isInstanceOf(StateConflictException.class);
  }
}
