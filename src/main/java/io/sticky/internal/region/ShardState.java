package io.sticky.internal.region;

import io.sticky.internal.protocol.Protocol.ShardHome;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Everything a region knows and holds of one shard: where it lives, whether this node hosts it or is handing it
 * off, the messages waiting for it, and the states carried for its entities. Confined to the region's context;
 * the phase changes only through the transitions below.
 */
final class ShardState {
  enum Phase {
    /** Not hosted here: messages go to {@link #home}, or wait while it is unknown. */
    ELSEWHERE,
    /** Hosted here at {@link #home}'s epoch: messages go to its entities. */
    HOSTED,
    /** Being stopped for a hand-off, or stopped after a failed one: messages wait until a ShardHome says where it went. */
    HANDING_OFF
  }

  final int shard;
  private final AtomicInteger hostedCount;
  private Phase phase = Phase.ELSEWHERE;
  /**
   * The newest home the coordinator named, or null. While the shard is hosted or handed off from here it is this
   * node's own allocation: the epoch floor below which a late ShardHome is ignored.
   */
  ShardHome home;
  /** Messages waiting for a home (or for the end of a hand-off), in order; null when none. */
  ArrayDeque<Envelope> waiting;
  /** A GetShardHome for it is in flight. */
  boolean resolving;
  /** The hand-off of this shard away from here while it runs, or null. */
  OutgoingHandOff outgoing;
  /** Snapshots taken when it was stopped for a hand-off, kept until a ShardHome says where it went; or null. */
  Map<String, String> snapshots;
  /** Serialised states for its entities, by id, until each is activated here (hand-offs, passivation); or null. */
  Map<String, String> carried;

  ShardState(int shard, AtomicInteger hostedCount) {
    this.shard = shard;
    this.hostedCount = hostedCount;
  }

  boolean isHosted() {
    return phase == Phase.HOSTED;
  }

  boolean isHandingOff() {
    return phase == Phase.HANDING_OFF;
  }

  /** This node's allocation while it hosts the shard, or null. */
  ShardHome hostedHome() {
    return phase == Phase.HOSTED ? home : null;
  }

  /** The home messages are routed by: none while handing off. */
  ShardHome routeHome() {
    return phase == Phase.HANDING_OFF ? null : home;
  }

  /** Any phase -> HOSTED at {@code allocation}; the allocation it had before, or null if it was not hosted. */
  ShardHome host(ShardHome allocation) {
    ShardHome before = hostedHome();
    if (before == null) {
      hostedCount.incrementAndGet();
    }
    phase = Phase.HOSTED;
    home = allocation;
    return before;
  }

  /** HOSTED -> ELSEWHERE; false if it was not hosted. */
  boolean unhost() {
    if (phase != Phase.HOSTED) {
      return false;
    }
    hostedCount.decrementAndGet();
    phase = Phase.ELSEWHERE;
    return true;
  }

  /** Any phase -> HANDING_OFF; keeps {@link #home} as the epoch floor. */
  void startHandOff() {
    unhost();
    phase = Phase.HANDING_OFF;
  }

  /** HANDING_OFF -> ELSEWHERE, for the ShardHome that follows to decide; false if it was not handing off. */
  boolean endHandOff() {
    if (phase != Phase.HANDING_OFF) {
      return false;
    }
    phase = Phase.ELSEWHERE;
    return true;
  }

  void carry(String id, String state) {
    if (carried == null) {
      carried = new HashMap<>();
    }
    carried.put(id, state);
  }

  void carryAll(Map<String, String> states) {
    states.forEach(this::carry);
  }

  /** The carried state of {@code id}, removed, or null. */
  String takeCarried(String id) {
    if (carried == null) {
      return null;
    }
    String state = carried.remove(id);
    if (carried.isEmpty()) {
      carried = null;
    }
    return state;
  }

  /** The snapshots of an earlier stop, removed, or null. */
  Map<String, String> takeSnapshots() {
    Map<String, String> s = snapshots;
    snapshots = null;
    return s;
  }
}
