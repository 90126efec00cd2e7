package io.sticky.internal.region;

import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.protocol.Protocol;
import io.sticky.internal.protocol.Protocol.HandOff;
import io.sticky.internal.protocol.Protocol.HostShard;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.sticky.internal.protocol.Protocol.ShardStopped;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A region's side of the coordinator's hand-off commands: starts an {@link OutgoingHandOff} for a HandOff,
 * hosts what an {@link IncomingHandOff} accepts, applies a ShardHome sent during or after a hand-off, and
 * recovers a shard a failed hand-off left stopped here. The protocol is in docs/design.md. On the region's context.
 */
final class RegionHandOffs {
  private static final Logger log = LoggerFactory.getLogger(ShardRegion.class);

  private final RegionSetup setup;
  private final String type;
  private final String self;
  private final ShardTable table;
  private final ShardRouter router;
  private final EntityHosting hosting;
  private boolean closing;

  RegionHandOffs(RegionSetup setup, ShardTable table, ShardRouter router, EntityHosting hosting) {
    this.setup = setup;
    this.type = setup.type();
    this.self = setup.self();
    this.table = table;
    this.router = router;
    this.hosting = hosting;
  }

  void close() {
    closing = true;
  }

  /**
   * Hands a shard to another node (the coordinator's {@link HandOff}). The coordinator decides by this answer
   * only (it asks again while it waits), so a repeat of the same HandOff is answered from the running hand-off,
   * or at once when it is done.
   */
  Future<ShardStopped> handOff(HandOff h) {
    int shard = h.shard();
    ShardState state = table.get(shard);
    ShardHome target = new ShardHome(type, shard, h.to(), h.epoch());
    OutgoingHandOff running = state.outgoing;
    if (running != null) {
      return running.command.equals(h) ? running.result() : Future.failedFuture("shard " + shard + " is already being handed to " + running.command.to());
    }
    ShardHome hostedAs = state.hostedHome();
    if (hostedAs != null && hostedAs.epoch() >= h.epoch()) {
      return Future.failedFuture("shard " + shard + " is hosted here at epoch " + hostedAs.epoch() + ", not older than " + h.epoch());
    }
    if (hostedAs == null && target.equals(state.home)) {
      return Future.succeededFuture(new ShardStopped(type, shard, 0, 0, 0)); // done before: asked again by a new coordinator
    }
    if (h.to().equals(self)) {
      return Future.failedFuture("cannot hand shard " + shard + " to this node itself");
    }
    OutgoingHandOff run = new OutgoingHandOff(this, h);
    state.outgoing = run;
    return run.run();
  }

  /** A ShardHome from the coordinator. While this node hands the shard off, the hand-off's outcome decides. */
  void onShardHome(ShardHome home) {
    ShardState state = table.get(home.shard());
    OutgoingHandOff run = state.outgoing;
    if (run != null) {
      // The home applies only if the run fails (the coordinator asks the old home again rather than abandon a
      // hand-off it has not heard the end of, so this is a late or stray message).
      if (run.deferred == null || home.epoch() > run.deferred.epoch()) {
        run.deferred = home;
      }
      return;
    }
    if (home.node().equals(self)) {
      state.endHandOff(); // an abandoned hand-off: the shard stays here
    }
    router.onShardHome(home);
  }

  // ---------------------------------------------------------------- for IncomingHandOff

  String self() {
    return self;
  }

  Vertx vertx() {
    return setup.vertx();
  }

  /** The newest home this region knows for the shard (its own, while it hosts or hands it off), or null. */
  ShardHome knownHome(int shard) {
    return table.get(shard).home;
  }

  /** The shard's allocation while this node hosts it, or null. */
  ShardHome hostedHome(int shard) {
    return table.get(shard).hostedHome();
  }

  /** Hosts a shard handed over with its entities' snapshots (each entity starts from its own when next used). */
  void hostHandedOver(ShardHome hosting, Map<String, String> states) {
    ShardState state = table.get(hosting.shard());
    state.carryAll(states);
    state.endHandOff();
    router.onShardHome(hosting);
  }

  // ---------------------------------------------------------------- for OutgoingHandOff

  long handOffTimeoutMs() {
    return setup.options().getHandOffTimeoutMs();
  }

  boolean isClosing() {
    return closing;
  }

  boolean isMember(String node) {
    return setup.membership().isMember(node);
  }

  Future<Map<String, String>> stopShard(int shard) {
    return hosting.stopShard(shard);
  }

  /**
   * HostShard to the new home, with the buffer forwarded right behind it (same sender, same address: it
   * arrives after HostShard; not after its reply, which saves a round trip of pause. A forwarded message that
   * fails comes back here and waits, since the shard is still handing off).
   */
  Future<Message<JsonObject>> sendHostShard(ShardHome target, Map<String, String> states, long timeoutMs) {
    Future<Message<JsonObject>> hostedThere = setup.vertx().eventBus().request(Addresses.region(type, target.node()),
        Protocol.encode(new HostShard(type, target.shard(), target.epoch(), states)), Headers.control(self, timeoutMs));
    router.drainWaiting(table.get(target.shard()), env -> router.forward(env, target));
    return hostedThere;
  }

  void handOffEnded(OutgoingHandOff run) {
    ShardState state = table.get(run.command.shard());
    if (state.outgoing == run) {
      state.outgoing = null;
    }
  }

  /**
   * A failed hand-off leaves the shard stopped and buffered here (its snapshots on the shard) until a ShardHome
   * says where it is: one that came meanwhile, the coordinator's, or the answer to our own question if that one
   * never comes.
   */
  void keepAfterFailedHandOff(int shard, ShardHome deferred) {
    if (deferred != null) {
      table.get(shard).endHandOff();
      router.onShardHome(deferred);
    } else {
      setup.vertx().setTimer(handOffTimeoutMs(), t -> checkStranded(shard));
    }
  }

  /** The new home has the shard: the snapshots go, and what arrives is forwarded there. */
  void handedOver(ShardHome target) {
    ShardState state = table.get(target.shard());
    state.takeSnapshots();
    state.endHandOff();
    router.onShardHome(target);
  }

  /**
   * A shard left stopped here by a failed hand-off whose ShardHome never came (the coordinator died before
   * sending it): ask where it lives. If here, host it again from its snapshots; otherwise keep waiting (a
   * coordinator that finds the failed move's intent sends HandOff again, which picks the snapshots up).
   */
  private void checkStranded(int shard) {
    ShardState state = table.get(shard);
    if (closing || !state.isHandingOff() || state.outgoing != null) {
      return;
    }
    router.askHome(shard)
        .onComplete(ar -> {
          if (!state.isHandingOff() || state.outgoing != null) {
            return; // settled meanwhile
          }
          ShardHome home = ar.succeeded() ? ar.result() : null;
          ShardHome floor = state.home;
          if (home != null && home.node().equals(self)) {
            log.info("shard {} of {} was left stopped by a failed hand-off; hosting it again", shard, type);
            state.endHandOff();
            router.onShardHome(home);
          } else if (home != null && (floor == null || home.epoch() > floor.epoch())) {
            // Allocated elsewhere since (e.g. this node is leaving): what waits goes there; the snapshots are
            // lost, as if this node had crashed.
            Map<String, String> dropped = state.takeSnapshots();
            log.warn("shard {} of {} was left stopped by a failed hand-off and is now on {}; {} snapshot(s) dropped",
                shard, type, home.node(), dropped == null ? 0 : dropped.size());
            state.endHandOff();
            router.onShardHome(home);
          } else {
            setup.vertx().setTimer(handOffTimeoutMs(), t -> checkStranded(shard));
          }
        });
  }
}
