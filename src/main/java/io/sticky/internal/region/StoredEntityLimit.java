package io.sticky.internal.region;

import io.sticky.store.StateStore;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A type's limit on stored entities ({@code maxStoredEntities}), checked against the store's count, refreshed
 * every {@code storedEntitiesCheckMs}: while the count is at the limit, an entity with no stored state is not
 * created. Approximate by design: a burst of new ids between two counts can overshoot the limit by that burst.
 */
final class StoredEntityLimit {
  private static final Logger log = LoggerFactory.getLogger(StoredEntityLimit.class);

  private final Vertx vertx;
  private final String type;
  private final StateStore store;
  private final long max;
  private final long checkMs;
  /** The last count (-1: none yet, or the store cannot count). */
  private volatile long count = -1;
  private boolean counting;
  private long timer = -1;

  StoredEntityLimit(Vertx vertx, String type, StateStore store, long max, long checkMs) {
    this.vertx = vertx;
    this.type = type;
    this.store = store;
    this.max = max;
    this.checkMs = checkMs;
  }

  void start() {
    if (max > 0 && store != null) {
      refresh();
      timer = vertx.setPeriodic(checkMs, t -> refresh());
    }
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void refresh() {
    if (counting) {
      return;
    }
    counting = true;
    store.count(type).onComplete(ar -> {
      counting = false;
      if (ar.succeeded()) {
        long previous = count;
        count = ar.result();
        if (count >= max && previous < max) {
          log.warn("{} has {} stored entities, its limit (maxStoredEntities): new ids are refused (507 entity-limit)", type, count);
        }
      } else {
        log.debug("could not count the stored entities of {}: {}", type, ar.cause().getMessage());
      }
    });
  }

  /** Null while a new entity may be created; else why it may not. */
  String refusal(String id) {
    long c = count;
    return max > 0 && c >= max
        ? type + " has " + c + " stored entities, its limit (maxStoredEntities); " + type + "/" + id + " is not created"
        : null;
  }
}
