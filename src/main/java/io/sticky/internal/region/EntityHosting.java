package io.sticky.internal.region;

import io.sticky.api.ShardId;
import io.sticky.api.EntityException;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.Sticky.RegionStats;
import io.sticky.api.StickyError;
import io.sticky.internal.Delivery;
import io.sticky.internal.EntityHost;
import io.sticky.internal.EntityHosts;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.store.StateStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entities of the shards a region hosts: activation on first message (from the carried or stored state),
 * delivery, passivation (idle, or to stay within the active limit), retirement after a fenced write, and
 * stopping a whole shard for a hand-off with its entities' snapshots. Entities run on their own contexts; this
 * runs on the region's, and its counters are atomics read by stats.
 */
final class EntityHosting {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);
  /** Idle passivations per check, so a mass expiry is spread over several checks (no long event-loop turn). */
  private static final int MAX_IDLE_PASSIVATIONS_PER_CHECK = 500;
  /** Entities stopped together at node shutdown, at most. */
  private static final int SHUTDOWN_BATCH = 256;

  private final EntityType type;
  private final String typeName;
  private final EntityTypeOptions typeOptions;
  /** The type's state store, or null when its state lives only in memory (and travels with hand-offs). */
  private final StateStore store;
  private final RegionSetup setup;
  private final Vertx vertx;
  /** The region's context: a fenced entity's retirement comes back here. */
  private final Context regionContext;
  private final ShardTable table;
  /** Routes a message again (after its entity stopped); the region's router. */
  private final Consumer<Envelope> reroute;
  /** Puts messages an entity never started back at the front of its shard's buffer. */
  private final BiConsumer<Integer, List<Delivery>> requeueFirst;
  private final EntityCells cells = new EntityCells();
  /** Active entities in recency order, and whom the limit passivates first. */
  private final ActiveEntities active;
  /** False for a type without a store that did not opt in to passivation: the active limit then refuses new entities. */
  private final boolean passivates;
  private final long passivateAfterNanos;
  /** Event-loop contexts the entities run on (by id hash): entities are hosted, not deployed one by one. */
  private final List<Context> entityContexts = new ArrayList<>();
  /** Ids being activated by the reminder index: told so, they answer it even when nothing is due. */
  private final Set<String> wokenForReminders = new HashSet<>();
  private final AtomicInteger activeEntities = new AtomicInteger();
  private final AtomicInteger peakActiveEntities = new AtomicInteger();
  private final AtomicLong activations = new AtomicLong();
  private final AtomicLong passivations = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  private long idleTimer = -1;
  /** Remember-entities, when the type asks for it (else null). */
  private RememberedEntities remembered;
  private ReminderIndex reminderIndex;
  /** maxStoredEntities: refuses new entities while the type's stored count is at it. */
  private StoredEntityLimit storedLimit;
  private boolean closing;

  EntityHosting(EntityType type, StateStore store, RegionSetup setup, Context regionContext, ShardTable table,
                Consumer<Envelope> reroute, BiConsumer<Integer, List<Delivery>> requeueFirst) {
    this.type = type;
    this.typeName = type.name();
    this.typeOptions = type.options();
    this.store = store;
    this.setup = setup;
    this.vertx = setup.vertx();
    this.regionContext = regionContext;
    this.table = table;
    this.reroute = reroute;
    this.requeueFirst = requeueFirst;
    this.active = ActiveEntities.create(typeOptions.getPassivationPolicy(), typeOptions.getMaxActiveEntities());
    // Passivating an entity of a type without a store would drop its state: only if the type says so.
    this.passivates = store != null || typeOptions.isPassivateWithoutStore();
    this.passivateAfterNanos = passivates ? typeOptions.getPassivateAfterMs() * 1_000_000L : 0;
  }

  void start() {
    // One context per event loop, so a type's entities use every core; each entity stays on one of them.
    // (Vert.x has no public way to make an event-loop context without deploying a verticle per context.)
    int loops = Math.max(1, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE);
    for (int i = 0; i < loops; i++) {
      entityContexts.add(((VertxInternal) vertx).createEventLoopContext());
    }
    if (passivateAfterNanos > 0) {
      long every = Math.max(50, Math.min(1_000, typeOptions.getPassivateAfterMs() / 4));
      idleTimer = vertx.setPeriodic(every, t -> passivateIdle());
    }
    if (typeOptions.isRememberEntities()) {
      remembered = new RememberedEntities(vertx, setup.membership().hazelcast(), typeName,
          typeOptions.getRememberActivationsPerSecond(), this::wake);
      remembered.start();
    }
    reminderIndex = new ReminderIndex(vertx, regionContext, setup.membership().hazelcast(), typeName,
        typeOptions.getReminderActivationsPerSecond(), this::wakeForReminder);
    reminderIndex.start();
    storedLimit = new StoredEntityLimit(vertx, typeName, store, typeOptions.getMaxStoredEntities(), typeOptions.getStoredEntitiesCheckMs());
    storedLimit.start();
  }

  // ---------------------------------------------------------------- what the region reads

  /** The type's counters on this node, with the router's and table's figures. Thread-safe. */
  RegionStats stats(int hostedShards, int buffered) {
    return new RegionStats(typeName, activeEntities.get(), activations.get(), hostedShards, buffered, passivations.get(),
        evictions.get(), peakActiveEntities.get());
  }

  int size() {
    return cells.size();
  }

  /** The number of entity instances of each shard that has any. */
  Map<Integer, Integer> countByShard() {
    return cells.countByShard();
  }

  /** An entity's reminders as the index knows them, or null if it has none. Thread-safe. */
  Future<JsonObject> reminders(String id) {
    return reminderIndex.lookup(id, ShardId.of(id, setup.numberOfShards()));
  }

  /** The shards that have entities with reminders. */
  Future<Set<Integer>> reminderShards() {
    return reminderIndex.shards();
  }

  // ---------------------------------------------------------------- shards coming and going

  /** The shard is hosted here at {@code home}; {@code before} is the allocation it was hosted at, or null. */
  void hosting(ShardHome home, ShardHome before) {
    if (store != null && (before == null || before.epoch() != home.epoch())) {
      store.hosting(typeName, home.shard(), home.epoch());
    }
    if (before == null) {
      if (remembered != null) {
        remembered.hosting(home.shard());
      }
      reminderIndex.hosting(home.shard());
    }
  }

  /** The shard is no longer hosted here. */
  void leaving(int shard) {
    reminderIndex.leaving(shard);
  }

  // ---------------------------------------------------------------- messages

  /** Delivers a message to its entity, which is activated first if it is not running. */
  void deliver(Envelope env) {
    env.handling(typeName);
    EntityCell cell = cells.get(env.id);
    if (cell == null) {
      activate(env.id, env.shard, env); // delivers env itself, or fails it
      return;
    }
    if (cell.passivating) {
      // Stopping to make room or because it was idle: the message waits for the next instance.
      queueFor(cell, env);
      return;
    }
    active.touch(cell, System.nanoTime());
    switch (cell.lifecycle) {
      case ACTIVE -> cell.entity.deliver(env);
      case ACTIVATING -> queueFor(cell, env);
      default -> env.fail(StickyError.UNAVAILABLE, typeName + "/" + env.id + " is stopping; retry");
    }
  }

  private void queueFor(EntityCell cell, Envelope env) {
    if (cell.pending.size() >= typeOptions.getMailboxCapacity()) {
      env.fail(StickyError.UNAVAILABLE, "mailbox of " + typeName + "/" + env.id + " is full; retry");
    } else {
      cell.pending.add(env);
    }
  }

  /** Activates an entity without a message (remembered, or a reminder is due), unless it is active already or its shard left. */
  private void wake(String id, int shard) {
    if (!closing && table.get(shard).isHosted() && !cells.containsKey(id)) {
      activate(id, shard, null);
    }
  }

  /** Activates an entity whose reminder is due; true if it is active already (it delivers its reminders itself). */
  private boolean wakeForReminder(String id, int shard) {
    if (cells.containsKey(id)) {
      return true;
    }
    wokenForReminders.add(id);
    wake(id, shard);
    wokenForReminders.remove(id);
    return false;
  }

  // ---------------------------------------------------------------- lifecycle of one entity

  /** Starts an instance of {@code id}; {@code first} (may be null) is the message that asked for it. */
  private void activate(String id, int shard, Envelope first) {
    if (!passivates && active.size() >= typeOptions.getMaxActiveEntities()) {
      if (first != null) {
        first.fail(StickyError.UNAVAILABLE, typeName + " has " + active.size() + " active entities on this node, its limit, and keeps"
            + " state only in memory (store none, passivateWithoutStore false), so none is passivated to make room; retry later");
      }
      return;
    }
    ShardState state = table.get(shard);
    EntityHost entity;
    EntityCell cell;
    try {
      entity = EntityHosts.of(type.newEntity());
      entity.bind(typeName, id, typeOptions);
      String carried = state.takeCarried(id);
      if (carried != null) {
        entity.restoreFrom(carried);
      }
      cell = new EntityCell(id, shard, entity);
      ShardHome home = state.hostedHome();
      entity.attachStore(store, home == null ? 0 : home.epoch(), () -> regionContext.runOnContext(v -> retire(cell)));
      entity.refuseCreationWhen(() -> storedLimit.refusal(id));
      ReminderIndex index = reminderIndex;
      entity.attachReminderIndex((due, names) -> index.update(id, shard, due, names), wokenForReminders.contains(id));
    } catch (RuntimeException e) {
      log.error("cannot create entity {}/{}", typeName, id, e);
      if (first != null) {
        first.fail(StickyError.ENTITY_FAILED, "entity " + typeName + "/" + id + " could not be created");
      }
      return;
    }
    cells.put(cell);
    List<ActiveEntities.Entry> victims = active.add(cell, System.nanoTime());
    // the victims are no longer tracked (the policy dropped them), so they leave the count as this one joins
    peakActiveEntities.accumulateAndGet(activeEntities.addAndGet(1 - victims.size()), Math::max);
    for (ActiveEntities.Entry victim : victims) {
      evictions.incrementAndGet();
      passivate((EntityCell) victim);
    }
    Context on = entityContexts.get(Math.floorMod(id.hashCode(), entityContexts.size()));
    // Counted on the entity's context before its first reply, so a caller who got that reply sees it counted.
    entity.activate(vertx, on, first, activations::incrementAndGet).onComplete(ar -> {
      if (ar.succeeded()) {
        cell.moveTo(EntityLifecycle.ACTIVE);
        if (remembered != null) {
          remembered.activated(cell.shard, cell.id);
        }
        log.debug("activated {}/{} on {} (shard {})", typeName, cell.id, setup.self(), cell.shard);
        // `first` is in the entity's mailbox already; these came after it
        while (!cell.pending.isEmpty()) {
          entity.deliver(cell.pending.poll());
        }
        // Last: a hand-off waiting on this activation must see the cell ACTIVE, with its queued messages
        // already in the entity's mailbox, or it would skip the entity and lose its state.
        cell.activation.complete();
      } else {
        untrack(cell);
        markStopped(cell);
        // A store that could not load is reported as such (not applied, retry); anything else is a bug.
        StickyError error = ar.cause() instanceof EntityException ee ? ee.error() : StickyError.ENTITY_FAILED;
        String detail = ar.cause() instanceof EntityException ee ? ee.getMessage()
            : "activation of " + typeName + "/" + cell.id + " failed";
        if (error == StickyError.ENTITY_FAILED) {
          log.error("activation of {}/{} failed", typeName, cell.id, ar.cause());
        } else {
          log.warn("activation of {}/{} failed: {}", typeName, cell.id, detail);
        }
        if (first != null) {
          first.fail(error, detail);
        }
        while (!cell.pending.isEmpty()) {
          cell.pending.poll().fail(error, detail);
        }
        cell.activation.complete();
      }
    });
  }

  /**
   * Stops an instance that fenced itself off after a failed or conflicting write. The messages it had queued
   * are routed again once it is gone, so they reach a fresh instance that loads the stored state.
   */
  private void retire(EntityCell cell) {
    if (cells.get(cell.id) == cell && cell.lifecycle == EntityLifecycle.ACTIVATING) {
      // Fenced by its very first message, which runs before the region hears the activation is over.
      cell.activation.future().onComplete(v -> retire(cell));
      return;
    }
    if (cells.get(cell.id) != cell || cell.lifecycle != EntityLifecycle.ACTIVE) {
      return; // already stopping for a hand-off or shutdown, which hands its messages on too
    }
    untrack(cell);
    cell.moveTo(EntityLifecycle.STOPPING);
    cell.entity.stopForHandOff().onComplete(stopped -> {
      markStopped(cell);
      if (stopped.succeeded()) {
        stopped.result().unprocessed().forEach(d -> reroute.accept((Envelope) d));
      }
      cell.pending.forEach(reroute);
      cell.pending.clear();
    });
  }

  /** No longer counted as active (stopping, stopped, or failed to start). */
  private void untrack(EntityCell cell) {
    if (active.isTracked(cell)) {
      active.remove(cell);
      activeEntities.decrementAndGet();
    }
  }

  /** The instance is gone: a new message starts a new one. */
  private void markStopped(EntityCell cell) {
    cells.remove(cell);
    cell.moveTo(EntityLifecycle.STOPPED);
    cell.stopped.tryComplete();
  }

  /** Passivates every entity idle for longer than the type's passivateAfterMs (a bounded number per check). */
  private void passivateIdle() {
    List<ActiveEntities.Entry> idle = active.idle(System.nanoTime() - passivateAfterNanos, MAX_IDLE_PASSIVATIONS_PER_CHECK);
    for (ActiveEntities.Entry e : idle) {
      EntityCell cell = (EntityCell) e;
      untrack(cell);
      passivate(cell);
    }
  }

  /**
   * Stops an entity that is no longer tracked as active (idle, or chosen by the limit): it finishes its current
   * message and writes its state per its policy. Messages it had queued, and those that arrived meanwhile,
   * then go to a new instance, which starts from the state just stopped (carried over, not re-read).
   */
  private void passivate(EntityCell cell) {
    if (cell.passivating) {
      return;
    }
    cell.passivating = true;
    passivations.incrementAndGet();
    if (remembered != null) {
      remembered.passivated(cell.shard, cell.id);
    }
    cell.activation.future().onComplete(ignored -> {
      if (cell.lifecycle != EntityLifecycle.ACTIVE) {
        return; // failed to start: its messages were answered
      }
      cell.moveTo(EntityLifecycle.STOPPING);
      cell.entity.stopForHandOff().onComplete(ar -> {
        List<Envelope> again = new ArrayList<>();
        if (ar.succeeded()) {
          ar.result().unprocessed().forEach(d -> again.add((Envelope) d));
          EntityHost.Stopped stopped = ar.result();
          if (stopped.state() != null && (!again.isEmpty() || !cell.pending.isEmpty() || stopped.unsaved())) {
            // Kept for the next instance: it is about to start, or the store did not take the final write
            // (then the next instance writes it; until then it stays in memory rather than being lost).
            table.get(cell.shard).carry(cell.id, stopped.state());
            if (stopped.unsaved()) {
              log.warn("{}/{} passivated but its state store did not take its final write; kept in memory", typeName, cell.id);
            }
          }
        }
        // Only now: a hand-off waiting for this cell then finds its state carried.
        markStopped(cell);
        again.addAll(cell.pending);
        cell.pending.clear();
        log.debug("passivated {}/{} on {}; {} message(s) waiting for its next instance", typeName, cell.id, setup.self(), again.size());
        again.forEach(reroute);
      });
    });
  }

  // ---------------------------------------------------------------- whole shards, the whole region

  /**
   * Stops every entity of a shard for a hand-off: each finishes its current message and is snapshotted.
   * Messages they had not started go back to the front of the shard's buffer, in order, for the next home.
   * Completes with the snapshots (including carried states never activated here), also kept on the shard in
   * case the hand-off is abandoned.
   */
  Future<Map<String, String>> stopShard(int shard) {
    ShardState state = table.get(shard);
    state.startHandOff();
    // Snapshots of an earlier, failed hand-off of this shard go too (they are all that is left of those entities).
    Map<String, String> earlier = state.takeSnapshots();
    Map<String, String> states = earlier == null ? new HashMap<>() : new HashMap<>(earlier);
    List<Future<?>> stops = new ArrayList<>();
    for (EntityCell cell : cells.inShard(shard)) {
      if (cell.passivating || cell.lifecycle == EntityLifecycle.STOPPING) {
        // Already stopping (passivated, or retired after being fenced): its state (if kept) and its messages
        // come back as carried and rerouted. Waited for, so it is not running when the shard leaves.
        stops.add(cell.stopped.future());
        continue;
      }
      stops.add(cell.activation.future().compose(v -> {
        if (cell.lifecycle != EntityLifecycle.ACTIVE) {
          // activation failed: nothing to stop; its waiting messages were already answered
          return Future.succeededFuture();
        }
        untrack(cell);
        cell.moveTo(EntityLifecycle.STOPPING);
        // stopForHandOff completes on this (the caller's) context, so region state is safe to touch here.
        return cell.entity.stopForHandOff().map(stopped -> {
          if (stopped.state() != null) {
            states.put(cell.id, stopped.state());
          }
          requeueFirst.accept(shard, stopped.unprocessed());
          // The entity takes no more messages and its state is captured: the shard can move now.
          markStopped(cell);
          log.debug("stopped {}/{} on {} for hand-off of shard {}", typeName, cell.id, setup.self(), shard);
          return stopped;
        });
      }));
    }
    return Future.join(stops).transform(ar -> {
      // States carried in by an earlier hand-off and never activated here, or left by a passivation, go too.
      if (state.carried != null) {
        state.carried.forEach(states::putIfAbsent);
        state.carried = null;
      }
      state.snapshots = states;
      // The next home reads the shard's remembered ids: write them before the shard goes.
      return remembered == null ? Future.succeededFuture(states) : remembered.handOver(shard).transform(w -> Future.succeededFuture(states));
    });
  }

  /** This node lost the cluster's majority: every entity is retired without writing (as after a conflict). */
  void fenceAll(String why) {
    for (EntityCell cell : new ArrayList<>(cells.all())) {
      cell.entity.fenceOff(why);
    }
  }

  /**
   * Node shutdown. Entities are not deployments: each is stopped (it refuses queued messages and writes unsaved
   * state), a batch at a time, so a node with many entities does not send the store all their writes at once.
   */
  Future<Void> stop() {
    closing = true;
    if (idleTimer >= 0) {
      vertx.cancelTimer(idleTimer);
    }
    if (remembered != null) {
      remembered.stop();
    }
    if (reminderIndex != null) {
      reminderIndex.stop();
    }
    if (storedLimit != null) {
      storedLimit.stop();
    }
    List<EntityCell> running = new ArrayList<>();
    for (EntityCell cell : cells.all()) {
      if (cell.lifecycle == EntityLifecycle.ACTIVE) {
        cell.moveTo(EntityLifecycle.STOPPING);
        running.add(cell);
      }
    }
    return shutdownInBatches(running, 0);
  }

  private Future<Void> shutdownInBatches(List<EntityCell> running, int from) {
    if (from >= running.size()) {
      return Future.succeededFuture();
    }
    List<Future<?>> batch = new ArrayList<>();
    for (int i = from; i < Math.min(running.size(), from + SHUTDOWN_BATCH); i++) {
      batch.add(running.get(i).entity.shutdown());
    }
    return Future.join(batch).transform(ar -> shutdownInBatches(running, from + SHUTDOWN_BATCH));
  }
}
