package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sticky.metrics.StickyMetrics;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

/** The timing decorator: one sticky_store_seconds sample per call, by store, op and outcome; calls unchanged. */
class TimedStateStoreTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private long count(String store, String op, String outcome) {
    Timer t = registry.find("sticky.store").tags("store", store, "op", op, "outcome", outcome).timer();
    return t == null ? 0 : t.count();
  }

  @Test
  void timesLoadsWritesAndPingsByOutcomeAndPassesResultsThrough() {
    InMemoryStateStore memory = new InMemoryStateStore();
    StateStore timed = TimedStateStore.wrap(memory, StickyMetrics.of(registry));
    assertThat(timed).isNotSameAs(memory);
    assertThat(timed.name()).isEqualTo("memory");

    assertThat(timed.load("counter", "c1").await()).isNull();
    StoredState v1 = new StoredState(1, 1, 1, "{\"value\":1}");
    timed.write("counter", "c1", v1).await();
    assertThat(timed.load("counter", "c1").await()).isEqualTo(v1);
    // The same version again: a conflict, passed through as such.
    assertThatThrownBy(() -> timed.write("counter", "c1", v1).await()).isInstanceOf(StateConflictException.class);
    timed.ping().await();

    assertThat(count("memory", "load", "ok")).isEqualTo(2);
    assertThat(count("memory", "write", "ok")).isEqualTo(1);
    assertThat(count("memory", "write", "conflict")).isEqualTo(1);
    assertThat(count("memory", "ping", "ok")).isEqualTo(1);
    assertThat(memory.size()).isEqualTo(1);
  }

  @Test
  void aFailingStoreIsCountedAsError() {
    StateStore broken = new StateStore() {
      @Override
      public String name() {
        return "broken";
      }

      @Override
      public Future<StoredState> load(String type, String id) {
        return Future.failedFuture("connection reset");
      }

      @Override
      public Future<Void> write(String type, String id, StoredState next) {
        throw new IllegalStateException("pool closed");
      }

      @Override
      public Future<Void> ping() {
        return Future.failedFuture("connection refused");
      }
    };
    StateStore timed = TimedStateStore.wrap(broken, StickyMetrics.of(registry));
    assertThat(timed.load("t", "i").failed()).isTrue();
    assertThatThrownBy(() -> timed.write("t", "i", new StoredState(1, 1, 1, "{}"))).hasMessage("pool closed");
    assertThat(timed.ping().failed()).isTrue();
    assertThat(count("broken", "load", "error")).isEqualTo(1);
    assertThat(count("broken", "write", "error")).isEqualTo(1);
    assertThat(count("broken", "ping", "error")).isEqualTo(1);
  }

  @Test
  void withoutMetricsTheStoreIsNotWrapped() {
    InMemoryStateStore memory = new InMemoryStateStore();
    assertThat(TimedStateStore.wrap(memory, StickyMetrics.NONE)).isSameAs(memory);
    assertThat(TimedStateStore.wrap(null, StickyMetrics.of(registry))).isNull();
  }
}
