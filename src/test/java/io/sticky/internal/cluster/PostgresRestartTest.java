package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.examples.Examples;
import io.sticky.store.PostgresStoreOptions;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.Postgres;
import io.sticky.testkit.TestCluster;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** With the PostgreSQL store, entity state (and its idempotency keys) survives stopping every node and starting a new cluster. */
class PostgresRestartTest {
  private static final int IDS = 60;

  @Test
  void valuesSurviveAWholeClusterRestart() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    PostgresStoreOptions pg = new PostgresStoreOptions().setUri(Postgres.uri());
    try (TestCluster first = TestCluster.start(2, Examples.types(), o -> o.setStore("postgres").setPostgres(pg))) {
      for (int i = 0; i < IDS; i++) {
        for (int k = 0; k <= i % 4; k++) {
          Response r = Http.increment(first.node(k % 2).httpPort(), "counter", run + "-" + i);
          assertThat(r.status()).as(r.toString()).isEqualTo(200);
        }
      }
      Response cart = Http.post(first.node(0).httpPort(), "/entities/cart/" + run, "{\"op\":\"add\",\"item\":\"pear\",\"quantity\":3}");
      assertThat(cart.status()).as(cart.toString()).isEqualTo(200);
      Response keyed = Http.post("http://127.0.0.1:" + first.node(1).httpPort() + "/entities/counter/" + run + "-keyed",
          "{\"op\":\"increment\",\"delta\":7}", java.util.Map.of("Idempotency-Key", "op-" + run));
      assertThat(keyed.status()).as(keyed.toString()).isEqualTo(200);
    }
    // every node of the first cluster is gone (Hazelcast memory with it); a new cluster, new name
    try (TestCluster second = TestCluster.start(2, Examples.types(), o -> o.setStore("postgres").setPostgres(pg))) {
      for (int i = 0; i < IDS; i++) {
        Response r = Http.get(second.node(i % 2).httpPort(), "/entities/counter/" + run + "-" + i);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().getLong("value")).as(run + "-" + i).isEqualTo(i % 4 + 1);
      }
      Response cart = Http.get(second.node(1).httpPort(), "/entities/cart/" + run);
      assertThat(cart.json().getJsonArray("items").encode()).isEqualTo("[{\"item\":\"pear\",\"quantity\":3}]");
      // an idempotency key is kept with the state in PostgreSQL: a retry after the restart is answered, not applied
      Response retry = Http.post("http://127.0.0.1:" + second.node(0).httpPort() + "/entities/counter/" + run + "-keyed",
          "{\"op\":\"increment\",\"delta\":7}", java.util.Map.of("Idempotency-Key", "op-" + run));
      assertThat(retry.header("Idempotent-Replayed")).as(retry.toString()).isEqualTo("true");
      assertThat(Http.get(second.node(1).httpPort(), "/entities/counter/" + run + "-keyed").json().getLong("value")).isEqualTo(7);
    }
  }

  @Test
  void onStopStatesOfManyEntitiesAreAllWrittenWhenTheLastNodeStops() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    PostgresStoreOptions pg = new PostgresStoreOptions().setUri(Postgres.uri());
    // more entities than the store's write queue (1,000): the node must not send them all at once
    int ids = 1_500;
    java.util.List<io.sticky.api.EntityType> types = java.util.List.of(io.sticky.api.EntityType.of("counter",
        io.sticky.examples.CounterEntity::new, new io.sticky.api.EntityTypeOptions().setWritePolicy(io.sticky.api.WritePolicy.ON_STOP)));
    try (TestCluster first = TestCluster.start(1, types, o -> o.setStore("postgres").setPostgres(pg))) {
      // 200 at a time: each first message is a store read, and the pool queues at most 1,000 (then 503)
      for (int from = 0; from < ids; from += 200) {
        java.util.List<io.vertx.core.Future<?>> batch = new java.util.ArrayList<>();
        for (int i = from; i < Math.min(ids, from + 200); i++) {
          batch.add(first.node(0).sticky().request("counter", run + "-" + i, io.sticky.api.EntityAddress.KIND_ASK,
              new io.vertx.core.json.JsonObject().put("op", "increment").put("delta", i)));
        }
        io.vertx.core.Future.all(batch).await(60, java.util.concurrent.TimeUnit.SECONDS);
      }
      assertThat(first.node(0).sticky().stats("counter").activeEntities()).isEqualTo(ids);
    }
    try (TestCluster second = TestCluster.start(1, types, o -> o.setStore("postgres").setPostgres(pg))) {
      for (int i = 0; i < ids; i += 7) {
        Response r = Http.get(second.node(0).httpPort(), "/entities/counter/" + run + "-" + i);
        assertThat(r.json().getLong("value")).as(run + "-" + i).isEqualTo(i);
      }
    }
  }
}
