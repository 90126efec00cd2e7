package io.sticky.internal.coordinator;

import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link HandOffPacer} with the pumps waiting for its next token: one timer wakes them all, however
 * often they asked. On the coordinator's context.
 */
final class Pace {
  private final Vertx vertx;
  private final HandOffPacer pacer;
  private final Set<Runnable> waiting = new LinkedHashSet<>();
  private long timer = -1;

  Pace(Vertx vertx, double ratePerSecond, int burst) {
    this.vertx = vertx;
    this.pacer = new HandOffPacer(ratePerSecond, burst, System.nanoTime());
  }

  /** True if a hand-off may start now; otherwise {@code pump} runs again when one may. */
  boolean take(Runnable pump) {
    long now = System.nanoTime();
    if (pacer.tryTake(now)) {
      return true;
    }
    waiting.add(pump);
    if (timer < 0) {
      timer = vertx.setTimer(pacer.millisUntilNext(now), t -> {
        timer = -1;
        List<Runnable> pumps = new ArrayList<>(waiting);
        waiting.clear();
        pumps.forEach(Runnable::run);
      });
    }
    return false;
  }
}
