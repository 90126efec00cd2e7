package io.sticky.internal.coordinator;

import io.sticky.internal.protocol.Protocol;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An operator's drain, undrain and move of one shard (the console and the management routes send them). On the coordinator's context. */
final class OperatorCommands {
  private static final Logger log = LoggerFactory.getLogger(ShardCoordinator.class);

  private final ShardCoordinator coordinator;
  private final Roster roster;
  private final Rebalancer rebalancer;
  private final CommandChecks checks;

  OperatorCommands(ShardCoordinator coordinator, Roster roster, Rebalancer rebalancer, CommandChecks checks) {
    this.coordinator = coordinator;
    this.roster = roster;
    this.rebalancer = rebalancer;
    this.checks = checks;
  }

  /**
   * Drains a node (its shards move off it, paced like a rebalance; it gets no new ones) or undrains it. Refused
   * (409) for a node that is leaving, or whose region is the last of a type that could take its shards.
   */
  void drain(Protocol.Drain d, Message<JsonObject> msg) {
    String node = d.node();
    if (!coordinator.isMember(node)) {
      msg.fail(404, "node " + node + " is not a member of the cluster");
      return;
    }
    if (d.drain() && roster.isLeaving(node)) {
      msg.fail(409, "node " + node + " is leaving the cluster; its shards are moving already");
      return;
    }
    CoordinatorState state = coordinator.state();
    if (d.drain() && !roster.isDrained(node)) {
      for (String type : state.types()) {
        if (state.regions(type).contains(node) && coordinator.candidates(type, node).isEmpty()) {
          msg.fail(409, "node " + node + " is the only node that can host " + type + ": draining it would leave its shards nowhere to go");
          return;
        }
      }
    }
    roster.setDrained(node, d.drain()).onComplete(ar -> {
      if (ar.failed()) {
        msg.fail(503, "could not record the drain of " + node + ": " + ar.cause().getMessage());
        return;
      }
      if (ar.result()) {
        log.info("node {} {} by an operator", node, d.drain() ? "drained: its shards move off it" : "undrained: it takes shards again");
        rebalancer.run();
      }
      CoordinatorState now = coordinator.state();
      int hosted = (int) now.types().stream().flatMap(t -> now.allocations(t).values().stream()).filter(a -> node.equals(a.node())).count();
      msg.reply(Protocol.encode(new Protocol.DrainState(node, roster.isDrained(node), hosted)));
    });
  }

  /**
   * Moves one shard to a chosen node: refused (404) for an unknown type, shard or node, and (409) when the
   * shard is moving or already there, or the target is leaving, drained or has no region of the type. Waits
   * for the rebalance's pace, then runs as any hand-off; the shard is then pinned to the target.
   */
  void move(Protocol.MoveShard m, Message<JsonObject> msg) {
    String refusal = moveRefusal(m);
    if (refusal != null) {
      msg.fail(refusal.startsWith("unknown") ? 404 : 409, refusal);
      return;
    }
    msg.reply(Protocol.encode(new Protocol.MoveStarted(m.type(), m.shard(), coordinator.state().home(m.type(), m.shard()), m.to())));
    startMove(m);
  }

  /** Starts the move when the pace allows (called again by the pace), unless it became unsafe meanwhile. */
  private void startMove(Protocol.MoveShard m) {
    String key = TableEntry.key(m.type(), m.shard());
    String now = moveRefusal(m);
    if (now != null) {
      log.warn("operator move of {} to {} dropped while it waited for its turn: {}", key, m.to(), now);
      return;
    }
    if (!rebalancer.pace.take(() -> startMove(m))) {
      return;
    }
    roster.pin(key, m.to());
    CoordinatorState state = coordinator.state();
    long fromEpoch = state.allocation(m.type(), m.shard()).epoch();
    String home = state.home(m.type(), m.shard());
    log.info("operator move of {} from {} to {}", key, home, m.to());
    coordinator.runHandOff(m.type(), m.shard(), home, m.to(), fromEpoch + 1, new TableEntry(m.to(), fromEpoch + 1, home, fromEpoch).encode(),
        true, "move").onFailure(err -> roster.unpin(key, m.to()));
  }

  private String moveRefusal(Protocol.MoveShard m) {
    Integer shards = checks.shardCount(m.type());
    CoordinatorState state = coordinator.state();
    if (shards == null || !state.types().contains(m.type())) {
      return "unknown entity type " + m.type();
    }
    if (m.shard() < 0 || m.shard() >= shards) {
      return "unknown shard " + m.shard() + " of " + m.type() + " (0-" + (shards - 1) + ")";
    }
    if (!coordinator.isMember(m.to())) {
      return "unknown node " + m.to();
    }
    String key = TableEntry.key(m.type(), m.shard());
    String home = state.home(m.type(), m.shard());
    if (home == null) {
      return "shard " + key + " is not allocated (no entity of it was asked for since its node left): nothing to move";
    }
    if (coordinator.moveOf(m.type(), m.shard()) != null || coordinator.isAllocating(key)) {
      return "shard " + key + " is moving already";
    }
    if (home.equals(m.to())) {
      return "shard " + key + " is on " + m.to() + " already";
    }
    if (roster.isLeaving(m.to()) || roster.isDrained(m.to())) {
      return "node " + m.to() + " is " + (roster.isLeaving(m.to()) ? "leaving" : "drained") + ": it takes no shards";
    }
    if (!state.regions(m.type()).contains(m.to())) {
      return "node " + m.to() + " hosts no " + m.type() + " (a proxy, or it does not register the type)";
    }
    return null;
  }
}
