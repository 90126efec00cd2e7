package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.testkit.Postgres;
import io.vertx.core.Vertx;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract against a real PostgreSQL server, on a table of its own. */
class PostgresStateStoreTest extends StateStoreContract {
  private final String table = "state_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

  @Override
  protected StateStore createStore(Vertx vertx) throws Exception {
    return PostgresStateStore.start(vertx, new PostgresStoreOptions().setUri(Postgres.uri()).setTable(table)).await(30, TimeUnit.SECONDS);
  }

  @Test
  void aSecondStoreOnTheSameTableSeesTheWritesOfTheFirst() throws Exception {
    String id = newId();
    await(store.write("counter", id, new StoredState(1, 1, 1, "{\"value\":5}")));
    StateStore other = PostgresStateStore.start(vertx, new PostgresStoreOptions().setUri(Postgres.uri()).setTable(table)).await(30, TimeUnit.SECONDS);
    try {
      assertThat(await(other.load("counter", id)).data()).isEqualTo("{\"value\":5}");
      assertThatThrownBy(() -> await(other.write("counter", id, new StoredState(1, 1, 1, "{}")))).isInstanceOf(StateConflictException.class);
    } finally {
      other.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anUnreachableServerFailsAtStartWithAClearMessage() {
    assertThatThrownBy(() -> PostgresStateStore.start(vertx, new PostgresStoreOptions().setUri("postgresql://postgres@127.0.0.1:1/postgres"))
        .await(30, TimeUnit.SECONDS))
        .hasMessageContaining("PostgreSQL store unavailable")
        .hasMessageNotContaining("secret");
  }
}
