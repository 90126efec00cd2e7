package io.sticky.api;

import io.sticky.internal.CarriedState;
import io.sticky.internal.Delivery;
import io.sticky.store.StateConflictException;
import io.sticky.store.StateLostException;
import io.sticky.store.StateStore;
import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An entity's link to its state store: the load on activation, conditional writes one at a time and in order,
 * the write policy, and what the store holds as this instance knows it (version, schema, unknown fields).
 * Confined to the entity's context.
 */
final class EntityPersistence<S> {
  private static final Logger log = LoggerFactory.getLogger(Entity.class);

  private final EntityRuntime<S> runtime;
  private final Entity<S> entity;
  /** Null: the type keeps its state only in memory. */
  StateStore store;
  long epoch;
  /** Why a new entity (no stored state) may not be created now, or null. */
  Supplier<String> creationRefusal = () -> null;
  WritePolicy writePolicy = EntityTypeOptions.DEFAULT_WRITE_POLICY;
  long writeBehindDelayMs = EntityTypeOptions.DEFAULT_WRITE_BEHIND_DELAY_MS;
  boolean startFreshOnStateLoss = EntityTypeOptions.DEFAULT_START_FRESH_ON_STATE_LOSS;
  /** State handed over from the entity's previous home ({@link CarriedState} encoded), or null. */
  String restoredState;
  /** Version of the state in the store as this instance knows it (0 = never written). */
  private long version;
  /** Schema version to write: the current one, or a newer one read from a newer node (never goes down). */
  private int schemaToWrite = 1;
  /** Fields of the stored JSON this code does not know (written by a newer version), kept on every write. */
  private JsonObject unknownFields;
  /** The encoding last read from or written to the store; an unchanged state is not written again. */
  private String lastStored;
  private long flushTimer = -1;
  /** A write is in flight: a message that outlives its ask timeout then fences the instance. */
  boolean writing;
  /** The last write (or a succeeded future): the next one starts after it, so writes go out one at a time, in order. */
  private Future<Void> lastWrite = Future.succeededFuture();

  EntityPersistence(EntityRuntime<S> runtime) {
    this.runtime = runtime;
    this.entity = runtime.entity();
  }

  boolean hasStore() {
    return store != null;
  }

  /** Sets the entity's state: carried from its previous home, loaded from the store, or initial. */
  Future<Void> load() {
    if (restoredState != null) {
      CarriedState carried = CarriedState.decode(restoredState);
      restoredState = null;
      return Future.succeededFuture(apply(carried.version(), carried.schemaVersion(), carried.data(), carried.dirty(), carried.meta()));
    }
    if (store == null) {
      return Future.succeededFuture(fresh());
    }
    String typeName = runtime.typeName();
    return runtime.here(store.load(typeName, runtime.id(), epoch)).transform(ar -> {
      if (ar.failed() && ar.cause() instanceof StateLostException lost) {
        if (!startFreshOnStateLoss) {
          return Future.failedFuture(new EntityException(StickyError.STATE_LOST, lost.getMessage() + "; not applied. An operator"
              + " can accept the loss (POST /cluster/types/" + typeName + "/accept-state-loss): the entity then starts fresh"));
        }
        log.warn("{}: {}; starting from the initial state (startFreshOnStateLoss)", runtime.label(), lost.getMessage());
        return Future.succeededFuture(fresh());
      }
      if (ar.failed()) {
        return Future.failedFuture(new EntityException(StickyError.UNAVAILABLE,
            "state store " + store.name() + " could not load " + runtime.label() + ": " + ar.cause().getMessage() + "; retry"));
      }
      StoredState stored = ar.result();
      if (stored == null) {
        String refused = creationRefusal.get();
        return refused == null ? Future.succeededFuture(fresh())
            : Future.failedFuture(new EntityException(StickyError.ENTITY_LIMIT, refused + "; not applied"));
      }
      return Future.succeededFuture(apply(stored.version(), stored.schemaVersion(), stored.data(), false, stored.meta()));
    });
  }

  private Void fresh() {
    if (runtime.appliedKeys != null) {
      runtime.appliedKeys.restore(null, 0);
    }
    entity.state = entity.initialState();
    version = 0;
    schemaToWrite = entity.stateSchemaVersion();
    lastStored = null;
    return null;
  }

  /** Sets the state from stored (or carried) data: migrates older schemas, remembers unknown fields. */
  private Void apply(long storedVersion, int schema, String data, boolean dirty, String encodedMeta) {
    JsonObject meta = encodedMeta == null ? null : new JsonObject(encodedMeta);
    if (runtime.appliedKeys != null) {
      runtime.appliedKeys.restore(meta == null ? null : meta.getJsonArray("appliedKeys"), System.currentTimeMillis());
    }
    JsonArray due = meta == null ? null : meta.getJsonArray("reminders");
    if (due != null) {
      runtime.reminders().restore(due);
    }
    int current = entity.stateSchemaVersion();
    boolean migrated = false;
    if (schema < current) {
      JsonObject json = new JsonObject(data);
      for (int v = schema; v < current; v++) {
        json = Objects.requireNonNull(entity.migrateState(v, json), "migrateState returned null");
      }
      data = json.encode();
      migrated = true;
    }
    entity.state = entity.restoreState(data);
    String known = entity.snapshotState();
    unknownFields = unknownFields(data, known);
    version = storedVersion;
    schemaToWrite = Math.max(schema, current);
    // A migrated or carried-but-unsaved state differs from the store: the next change or stop writes it.
    lastStored = migrated || dirty ? null : known;
    return null;
  }

  /** Fields of {@code stored} (recursively) that re-encoding the restored state dropped; null if none or not JSON. */
  private static JsonObject unknownFields(String stored, String known) {
    // The usual case, the state re-encodes as it was stored: nothing dropped, and no need to parse both (every
    // entity a hand-off brings in comes through here).
    if (stored.equals(known) || !stored.startsWith("{") || !known.startsWith("{")) {
      return null;
    }
    JsonObject extra = missing(new JsonObject(stored), new JsonObject(known));
    return extra.isEmpty() ? null : extra;
  }

  private static JsonObject missing(JsonObject stored, JsonObject known) {
    JsonObject extra = new JsonObject();
    for (String key : stored.fieldNames()) {
      Object value = stored.getValue(key);
      if (!known.containsKey(key)) {
        extra.put(key, value);
      } else if (value instanceof JsonObject inner && known.getValue(key) instanceof JsonObject innerKnown) {
        JsonObject nested = missing(inner, innerKnown);
        if (!nested.isEmpty()) {
          extra.put(key, nested);
        }
      }
    }
    return extra;
  }

  private static void mergeInto(JsonObject target, JsonObject extra) {
    for (String key : extra.fieldNames()) {
      Object value = extra.getValue(key);
      if (!target.containsKey(key)) {
        target.put(key, value);
      } else if (value instanceof JsonObject inner && target.getValue(key) instanceof JsonObject innerTarget) {
        mergeInto(innerTarget, inner);
      }
    }
  }

  /** What goes to the store for a snapshot: the snapshot plus the fields a newer version wrote. */
  private String forStore(String snapshot) {
    if (unknownFields == null || !snapshot.startsWith("{")) {
      return snapshot;
    }
    JsonObject json = new JsonObject(snapshot);
    mergeInto(json, unknownFields);
    return json.encode();
  }

  /**
   * The state to carry to the next home, written to the store first if it changed. Null when the next home
   * must load from the store instead (this instance is fenced) or the state cannot be serialised.
   */
  Future<String> finalState() {
    if (runtime.fenced()) {
      return Future.succeededFuture(null);
    }
    String snapshot;
    try {
      snapshot = entity.snapshotState();
    } catch (RuntimeException e) {
      log.error("{}: state not carried over", runtime.label(), e);
      return Future.succeededFuture(null);
    }
    if (store == null || (snapshot.equals(lastStored) && !keysDue())) {
      return Future.succeededFuture(new CarriedState(version, schemaToWrite, forStore(snapshot), false, encodedMeta()).encode());
    }
    return persist(false).transform(ar -> {
      if (runtime.fenced()) {
        return Future.succeededFuture(null);
      }
      // Not written (store down): carried as unsaved, so the next home writes it, conditional on our version.
      return Future.succeededFuture(new CarriedState(version, schemaToWrite, forStore(snapshot), ar.failed(), encodedMeta()).encode());
    });
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Writes the current state if it changed since the last write, after any write in flight (one at a time,
   * in order). A conflict fences this instance; another failure fences it only if {@code fenceOnFailure}.
   */
  Future<Void> persist(boolean fenceOnFailure) {
    return persist(fenceOnFailure, null);
  }

  /** As {@link #persist(boolean)}, the write recorded as a step of {@code cause} (the message that changed the state). */
  private Future<Void> persist(boolean fenceOnFailure, Delivery cause) {
    Future<Void> write = lastWrite.transform(previous -> {
      if (runtime.fenced()) {
        return Future.failedFuture(new EntityException(StickyError.STATE_CONFLICT, runtime.label() + " was fenced; retry"));
      }
      String snapshot = entity.snapshotState();
      if (snapshot.equals(lastStored) && !keysDue()) {
        return Future.succeededFuture();
      }
      AppliedKeys appliedKeys = runtime.appliedKeys;
      EntityReminders reminders = runtime.reminders;
      long keyChanges = appliedKeys == null ? 0 : appliedKeys.changes();
      long reminderChanges = reminders == null ? 0 : reminders.changes();
      StoredState next = new StoredState(version + 1, epoch, schemaToWrite, forStore(snapshot), encodedMeta());
      writing = true;
      Future<Void> written = cause == null ? store.write(runtime.typeName(), runtime.id(), next) : cause.step("store write", () -> store.write(runtime.typeName(), runtime.id(), next));
      return runtime.here(written).transform(ar -> {
        writing = false;
        if (ar.succeeded()) {
          version = next.version();
          lastStored = snapshot;
          if (appliedKeys != null) {
            appliedKeys.written(keyChanges);
          }
          if (reminders != null) {
            reminders.written(reminderChanges);
          }
          return Future.succeededFuture();
        }
        if (ar.cause() instanceof StateConflictException) {
          runtime.fence("its state was written by another instance since it was read (version " + version + ")");
          return Future.failedFuture(new EntityException(StickyError.STATE_CONFLICT, runtime.label()
              + " changed elsewhere since this instance read it; not applied, retry"));
        }
        if (fenceOnFailure) {
          runtime.fence("state store " + store.name() + " failed a write: " + ar.cause().getMessage());
        } else {
          log.warn("{}: state store {} failed a write: {}", runtime.label(), store.name(), ar.cause().getMessage());
        }
        return Future.failedFuture(new EntityException(StickyError.STORE_FAILED, "state store " + store.name()
            + " failed writing " + runtime.label() + "; outcome unknown"));
      });
    });
    lastWrite = write.recover(err -> Future.succeededFuture());
    return write;
  }

  /** The keys or the reminders changed since the last write: the next write carries them, changed state or not. */
  private boolean keysDue() {
    return (runtime.appliedKeys != null && runtime.appliedKeys.dirty()) || (runtime.reminders != null && runtime.reminders.dirty());
  }

  /**
   * The runtime's part of a stored state ({@link StoredState#meta()}): the applied idempotency keys and the
   * reminders; null if neither.
   */
  private String encodedMeta() {
    JsonArray keys = runtime.appliedKeys == null ? null : runtime.appliedKeys.toJson();
    JsonArray due = runtime.reminders == null ? null : runtime.reminders.toJson();
    if (keys == null && due == null) {
      return null;
    }
    JsonObject meta = new JsonObject();
    if (keys != null) {
      meta.put("appliedKeys", keys);
    }
    if (due != null) {
      meta.put("reminders", due);
    }
    return meta.encode();
  }

  /** After a successful message: write now, schedule a write, or only mark the state, per the policy. */
  Future<JsonObject> afterChange(JsonObject reply, Delivery cause) {
    switch (writePolicy) {
      case BEFORE_REPLY:
        return persist(true, cause).map(reply);
      case WRITE_BEHIND:
        if (flushTimer < 0) {
          flushTimer = runtime.runtimeVertx().setTimer(writeBehindDelayMs, t -> {
            flushTimer = -1;
            // A failed write stays due: the state is still unsaved, so the next change or stop retries it.
            persist(false);
          });
        }
        return Future.succeededFuture(reply);
      default:
        return Future.succeededFuture(reply);
    }
  }

  void cancelFlush() {
    if (flushTimer >= 0) {
      runtime.runtimeVertx().cancelTimer(flushTimer);
      flushTimer = -1;
    }
  }

  /** Writes what changed now (none without a store); a failure fences this instance. */
  Future<Void> persistNow() {
    return store == null ? Future.succeededFuture() : persist(true);
  }
}
