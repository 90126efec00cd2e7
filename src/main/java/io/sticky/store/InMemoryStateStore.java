package io.sticky.store;

import io.vertx.core.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * States in this JVM's heap: survives an entity's passivation or re-activation on the same node, not a
 * node's crash or a shard's move to another node (hand-offs carry state themselves). For tests and for
 * entities whose state may be lost.
 *
 * <p>Node-local, so its version check is weaker than the contract's: a write succeeds if its version is
 * higher than the stored one (absent = 0), not only if it is exactly one higher. A state that arrives by
 * hand-off continues its versions here (this node's copy may be older, or missing); two racing writers of
 * one version still cannot both win.
 */
public final class InMemoryStateStore implements StateStore {
  private final ConcurrentMap<String, StoredState> states = new ConcurrentHashMap<>();

  @Override
  public String name() {
    return "memory";
  }

  @Override
  public Future<StoredState> load(String type, String id) {
    return Future.succeededFuture(states.get(key(type, id)));
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    boolean[] written = {false};
    states.compute(key(type, id), (k, current) -> {
      if (next.version() > (current == null ? 0 : current.version())) {
        written[0] = true;
        return next;
      }
      return current;
    });
    return written[0] ? Future.succeededFuture() : Future.failedFuture(new StateConflictException(type, id, next.version() - 1));
  }

  @Override
  public Future<Void> ping() {
    return Future.succeededFuture();
  }

  /** This node's count: the store is node-local. */
  @Override
  public Future<Long> count(String type) {
    String prefix = type + '/';
    return Future.succeededFuture(states.keySet().stream().filter(k -> k.startsWith(prefix)).count());
  }

  /** Number of stored states (tests, metrics). */
  public int size() {
    return states.size();
  }

  private static String key(String type, String id) {
    return type + '/' + id;
  }
}
