package io.sticky.internal.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/** Hazelcast's async results as Vert.x futures that complete on the caller's context. */
public final class HazelcastFutures {
  private HazelcastFutures() {
  }

  /**
   * Hazelcast runs even non-async callbacks on its default executor: the common ForkJoinPool, which on a
   * 2-core machine has one thread and makes CompletableFuture fall back to a new thread per callback, which
   * cuts a node's writes by several times. The callback is handed straight to the caller's
   * Vert.x context instead, so no Hazelcast thread ever runs Sticky code.
   */
  public static <T> Future<T> of(CompletionStage<T> stage) {
    Context caller = Vertx.currentContext();
    Promise<T> promise = Promise.promise();
    Executor onCaller = caller == null ? Runnable::run : task -> caller.runOnContext(v -> task.run());
    stage.whenCompleteAsync((value, err) -> {
      if (err != null) {
        promise.fail(err);
      } else {
        promise.complete(value);
      }
    }, onCaller);
    return promise.future();
  }
}
