package io.sticky.testkit;

import io.sticky.store.InMemoryStateStore;
import io.sticky.store.StateStore;
import io.sticky.store.StoredState;
import io.vertx.core.Future;

/** A state store for tests: the in-memory store under another name; override the operation a test needs to break. */
public class MemoryBackedStore implements StateStore {
  private final String name;
  private final InMemoryStateStore memory = new InMemoryStateStore();

  public MemoryBackedStore(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Future<StoredState> load(String type, String id) {
    return memory.load(type, id);
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    return memory.write(type, id, next);
  }

  @Override
  public Future<Void> ping() {
    return Future.succeededFuture();
  }
}
