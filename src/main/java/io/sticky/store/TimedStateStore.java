package io.sticky.store;

import io.sticky.metrics.StickyMetrics;
import io.vertx.core.Future;
import java.util.function.Supplier;

/**
 * A store that times every call of another into {@code sticky_store_seconds{store,op,outcome}}. The runtime
 * wraps the stores its entity types use when metrics are on; the store itself knows nothing of it.
 */
public final class TimedStateStore implements StateStore {
  private final StateStore delegate;
  private final StickyMetrics metrics;

  private TimedStateStore(StateStore delegate, StickyMetrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
  }

  /** {@code store} timed, or {@code store} itself when metrics are off (or it is null: no store). */
  public static StateStore wrap(StateStore store, StickyMetrics metrics) {
    return store == null || !metrics.enabled() || store instanceof TimedStateStore ? store : new TimedStateStore(store, metrics);
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public Future<StoredState> load(String type, String id) {
    return timed("load", () -> delegate.load(type, id));
  }

  @Override
  public Future<StoredState> load(String type, String id, long epoch) {
    return timed("load", () -> delegate.load(type, id, epoch));
  }

  @Override
  public void hosting(String type, int shard, long epoch) {
    delegate.hosting(type, shard, epoch);
  }

  @Override
  public Future<Integer> acceptStateLoss(String type) {
    return delegate.acceptStateLoss(type);
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    return timed("write", () -> delegate.write(type, id, next));
  }

  @Override
  public Future<Long> count(String type) {
    return delegate.count(type);
  }

  @Override
  public Future<Void> ping() {
    return timed("ping", delegate::ping);
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }

  private <T> Future<T> timed(String op, Supplier<Future<T>> call) {
    long start = System.nanoTime();
    Future<T> result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      metrics.store(delegate.name(), op, "error", System.nanoTime() - start);
      throw e;
    }
    return result.andThen(ar -> metrics.store(delegate.name(), op,
        ar.succeeded() ? "ok" : ar.cause() instanceof StateConflictException ? "conflict" : "error", System.nanoTime() - start));
  }
}
