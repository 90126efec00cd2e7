package io.sticky.store;

import io.vertx.core.Future;

/**
 * Where entity states live beyond one instance (SPI). Every method is asynchronous and must never block the
 * calling event loop; futures may complete on any thread (the runtime hops back to the entity's context).
 *
 * <p>Contract (checked for every built-in store by {@code StateStoreContract} in the tests):
 * <ul>
 *   <li>{@link #load} of an entity never written completes with {@code null};</li>
 *   <li>{@link #write} is conditional: it stores {@code next} only if the stored version is
 *   {@code next.version() - 1} (absent counts as 0), and otherwise fails with
 *   {@link StateConflictException} and changes nothing;</li>
 *   <li>a write that completed successfully is seen by every later {@link #load}, from any node.</li>
 * </ul>
 * A node-local store (the in-memory one) cannot see other nodes' writes and accepts any higher version
 * instead; it protects against racing writers on one node only.
 */
public interface StateStore {
  /** A short name for logs and {@code /health/ready} ("hazelcast", "postgres", ...). */
  String name();

  /**
   * Reads an entity's state; {@code null} if none was ever written. Fails with {@link StateLostException} if
   * the store knows the entity's state existed but every copy of it is lost.
   */
  Future<StoredState> load(String type, String id);

  /**
   * Reads an entity's state for an instance hosted at allocation {@code epoch} of its shard. Stores that keep
   * shards on their hosting node (the replicated store) take the shard over at a newer epoch first, and refuse
   * an older one with {@link StateConflictException}; others ignore the epoch.
   */
  default Future<StoredState> load(String type, String id, long epoch) {
    return load(type, id);
  }

  /** Writes {@code next} if the stored version is {@code next.version() - 1}; else fails with {@link StateConflictException}. */
  Future<Void> write(String type, String id, StoredState next);

  /**
   * Told by a region when this node starts hosting {@code shard} of {@code type} at {@code epoch}, before its
   * entities run. A hint: a store may prepare the shard (the replicated store takes its copy over now rather
   * than at the first write); loads and writes must stay correct without it.
   */
  default void hosting(String type, int shard, long epoch) {
  }

  /**
   * An operator accepts that the lost states of {@code type}'s entities on this node are gone: from now on
   * their loads answer {@code null} (the entities start fresh). Returns how many lost shards or partitions
   * this cleared here.
   */
  default Future<Integer> acceptStateLoss(String type) {
    return Future.succeededFuture(0);
  }

  /**
   * How many entities of {@code type} have a stored state, across the cluster, as of about now (used to bound
   * the entities clients can create, {@code maxStoredEntities}). A store that cannot count answers -1; then
   * no limit applies. Called every few seconds per node and type, so it may cost a query, not a scan per call.
   */
  default Future<Long> count(String type) {
    return Future.succeededFuture(-1L);
  }

  /** Succeeds if the store can serve requests now (readiness). */
  Future<Void> ping();

  /** Releases connections; the store is not used afterwards. */
  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
