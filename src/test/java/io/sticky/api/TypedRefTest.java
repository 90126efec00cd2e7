package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.examples.CounterEntity;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Typed asks on a real node: records in, records out, and each failure a typed EntityException. */
class TypedRefTest {
  record Increment(long delta) {
  }

  record Get() {
  }

  record Explode() {
  }

  record CounterView(String id, long value) {
  }

  record NotACounter(List<String> value) {
  }

  /** Jackson cannot write it: no properties and no serializer. */
  static final class Opaque {
  }

  private static TestCluster cluster;
  private static Sticky sticky;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> o.setStore("none"));
    sticky = cluster.node(0).sticky();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.await(10, TimeUnit.SECONDS);
  }

  private static EntityException failure(Future<?> f) throws Exception {
    Throwable t = await(f.transform(ar -> Future.succeededFuture(ar.cause())));
    assertThat(t).isInstanceOf(EntityException.class);
    return (EntityException) t;
  }

  @Test
  void recordsGoInAndComeOut() throws Exception {
    EntityRef ref = sticky.entityRef("counter", "typed-1");
    assertThat(EntityRef.toJson(new Increment(5))).isEqualTo(new JsonObject().put("delta", 5L).put("op", "increment"));
    assertThat(await(ref.ask(new Increment(5), CounterView.class))).isEqualTo(new CounterView("typed-1", 5));
    assertThat(await(ref.ask(new Get(), CounterView.class)).value()).isEqualTo(5);
    assertThat(await(ref.view(CounterView.class))).isEqualTo(new CounterView("typed-1", 5));
  }

  @Test
  void eachFailureIsTypedWithItsKind() throws Exception {
    EntityException rejected = failure(sticky.entityRef("counter", "typed-2").ask(new Explode(), CounterView.class));
    assertThat(rejected.error()).isEqualTo(StickyError.BAD_REQUEST);
    assertThat(rejected.getMessage()).contains("unknown op 'explode'");
    assertThat(rejected.node()).as("the node that answered").isEqualTo(cluster.node(0).nodeId());

    assertThat(failure(sticky.entityRef("counter", "not valid!").ask(new Get(), CounterView.class)).error())
        .isEqualTo(StickyError.INVALID_ID);
    assertThat(failure(sticky.entityRef("wallet", "w-1").ask(new Get(), CounterView.class)).error())
        .isEqualTo(StickyError.UNKNOWN_TYPE);

    EntityException unwritable = failure(sticky.entityRef("counter", "typed-2").ask(new Opaque(), CounterView.class));
    assertThat(unwritable.error()).as("nothing was sent").isEqualTo(StickyError.BAD_REQUEST);
    assertThat(unwritable.getMessage()).contains(Opaque.class.getName());

    EntityException unreadable = failure(sticky.entityRef("counter", "typed-2").ask(new Increment(1), NotACounter.class));
    assertThat(unreadable.error()).as("applied, but the reply does not fit").isEqualTo(StickyError.ENTITY_FAILED);
    assertThat(unreadable.error().outcomeUnknown()).isTrue();
    assertThat(await(sticky.entityRef("counter", "typed-2").view(CounterView.class)).value()).as("the increment was applied")
        .isEqualTo(1);
  }
}
