package io.sticky.api;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * How {@link EntityRef#withRetries} retries an ask: at most {@code maxAttempts} sends in all, waiting a random
 * time up to {@code initialBackoffMs}, doubling up to {@code maxBackoffMs}, between them ("full jitter", so
 * that the callers of a failed node do not come back all at once).
 */
public record RetryPolicy(int maxAttempts, long initialBackoffMs, long maxBackoffMs) {
  /** 4 attempts, backoff from 100 ms up to 2 s: about 3.5 s at most in waits, within a client's patience. */
  public static final RetryPolicy DEFAULT = new RetryPolicy(4, 100, 2_000);

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
    }
    if (initialBackoffMs < 1 || maxBackoffMs < initialBackoffMs) {
      throw new IllegalArgumentException("backoff must be 1 <= initialBackoffMs <= maxBackoffMs, got "
          + initialBackoffMs + " and " + maxBackoffMs);
    }
  }

  /** Whether a failure of this kind is worth another attempt with the same idempotency key. */
  public static boolean retryable(StickyError error) {
    return error == StickyError.TIMEOUT || error == StickyError.STORE_FAILED || error == StickyError.UNAVAILABLE
        || error == StickyError.STATE_CONFLICT;
  }

  <T> Future<T> run(Vertx vertx, Supplier<Future<T>> attempt) {
    Promise<T> result = Promise.promise();
    attempt(vertx, attempt, 1, initialBackoffMs, result);
    return result.future();
  }

  private <T> void attempt(Vertx vertx, Supplier<Future<T>> attempt, int n, long backoffMs, Promise<T> result) {
    attempt.get().onComplete(ar -> {
      if (ar.succeeded() || n >= maxAttempts || !retryable(StickyError.of(ar.cause()))) {
        result.handle(ar);
        return;
      }
      long wait = 1 + ThreadLocalRandom.current().nextLong(backoffMs);
      vertx.setTimer(wait, t -> attempt(vertx, attempt, n + 1, Math.min(maxBackoffMs, backoffMs * 2), result));
    });
  }
}
