package io.sticky.internal;

import io.sticky.api.Entity;
import io.sticky.api.EntityTypeOptions;
import io.sticky.store.StateStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * One entity instance as its region drives it: the mailbox, persistence, fencing and lifecycle around the
 * application's {@link Entity}, which keeps only its own contract. {@link EntityHosts#of} makes one.
 * The set-up calls ({@code bind} .. {@code attachReminderIndex}) come once each, before {@link #activate}.
 */
public interface EntityHost {
  /**
   * What a stopped entity leaves behind: its state for the next home ({@link CarriedState} encoded; null if the
   * next home must load it from the store) and the messages it had not started.
   */
  record Stopped(String state, List<Delivery> unprocessed) {
    /** The carried state's data (the entity's own encoding), or null. */
    public String data() {
      return state == null ? null : CarriedState.decode(state).data();
    }

    /** True if the state has changes the store did not take (its final write failed): it must not be dropped. */
    public boolean unsaved() {
      return state != null && CarriedState.decode(state).dirty();
    }
  }

  /** The application's entity. */
  Entity<?> entity();

  void bind(String typeName, String id, EntityTypeOptions options);

  /** The state to start from instead of the store or the initial state: {@link Stopped#state()} of the previous instance. */
  void restoreFrom(String carriedState);

  /**
   * The store this instance loads from and writes to (null = none), its shard's allocation epoch, and what to
   * call (on this entity's context) once it is fenced off after a failed or conflicting write.
   */
  void attachStore(StateStore store, long epoch, Runnable onFenced);

  /** Asked when the store holds no state for this entity; a non-null answer refuses the activation (entity-limit). */
  void refuseCreationWhen(Supplier<String> refusal);

  /**
   * The region's reminder index, told when this entity is next due (epoch ms, {@link Long#MAX_VALUE} for never)
   * and its reminders' names. {@code woken}: the index activated this instance, which answers it even if nothing is due.
   */
  void attachReminderIndex(BiFunction<Long, List<String>, Future<Void>> index, boolean woken);

  /**
   * Starts the entity on a context the region chose (no deployment of its own: one costs ~1-1.6 KB and
   * ~30-55 µs per entity). {@code first} (may be null) is queued once started, on the entity's context; if the
   * start fails it is left for the caller to answer. {@code onStarted} runs on the entity's context before
   * {@code first} is handled. Completes on the caller's context.
   */
  Future<Void> activate(Vertx vertx, Context on, Delivery first, Runnable onStarted);

  /** Queues a message in the bounded mailbox; thread-safe. Failed with unavailable if the mailbox is full. */
  void deliver(Delivery delivery);

  /**
   * Stops taking messages, lets the current one finish, runs the entity's {@code onStop} and snapshots the
   * state; queued messages come back unanswered for the next home. Completes on the caller's context.
   */
  Future<Stopped> stopForHandOff();

  /** Stops for a node shutdown: queued messages are refused (retry reaches the next home), the state written. */
  Future<Void> shutdown();

  /** This instance may no longer be the only one (quorum lost): it takes and writes nothing more, and is retired. */
  void fenceOff(String reason);
}
