package io.sticky.internal.coordinator;

/**
 * Paces hand-off starts: a token bucket that refills at {@code ratePerSecond} and holds at most
 * {@code burst} tokens, so at most {@code burst} moves start at once and no more than the rate on average.
 * Times are passed in (nanoseconds, as from {@link System#nanoTime()}), so it is a plain value to test.
 */
final class HandOffPacer {
  private final double ratePerSecond;
  private final double burst;
  private double tokens;
  private long updatedAt;

  /** Starts with one token: the first move goes at once, the rest are paced. */
  HandOffPacer(double ratePerSecond, int burst, long nowNanos) {
    if (!(ratePerSecond > 0) || burst < 1) {
      throw new IllegalArgumentException("rate must be > 0 and burst >= 1");
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = 1;
    this.updatedAt = nowNanos;
  }

  double ratePerSecond() {
    return ratePerSecond;
  }

  /** Takes a token if there is one: true means a move may start now. */
  boolean tryTake(long nowNanos) {
    refill(nowNanos);
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until the next token (at least 1). */
  long millisUntilNext(long nowNanos) {
    refill(nowNanos);
    return Math.max(1, (long) Math.ceil((1 - tokens) * 1000 / ratePerSecond));
  }

  private void refill(long nowNanos) {
    if (nowNanos > updatedAt) {
      tokens = Math.min(burst, tokens + (nowNanos - updatedAt) * ratePerSecond / 1e9);
      updatedAt = nowNanos;
    }
  }
}
