package io.sticky.region;

import io.sticky.api.Delivery;
import io.sticky.api.EntityAddress;
import io.sticky.api.StickyError;
import io.sticky.protocol.Failures;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

/**
 * One entity message inside a region: where it goes, where its reply goes, and how long it may take.
 * Replies and failures are sent at most once.
 */
final class Envelope implements Delivery {
  final String id;
  final int shard;
  final String kind;
  final JsonObject body;
  final Message<?> origin;
  final long deadlineNanos;
  /** Arrived from another node's region: it is never forwarded again (at most one hop). */
  final boolean fromRemote;
  /** Epoch the sending region believed the shard to be at (remote only). */
  final long senderEpoch;
  final String self;
  int attempts;
  private boolean answered;

  Envelope(String id, int shard, String kind, JsonObject body, Message<?> origin, long timeoutMs,
           boolean fromRemote, long senderEpoch, String self) {
    this.id = id;
    this.shard = shard;
    this.kind = kind;
    this.body = body;
    this.origin = origin;
    this.deadlineNanos = System.nanoTime() + timeoutMs * 1_000_000L;
    this.fromRemote = fromRemote;
    this.senderEpoch = senderEpoch;
    this.self = self;
  }

  /** Fails a message that never became an envelope (bad id, bad kind). */
  static void failUnrouted(Message<?> message, StickyError error, String detail) {
    Failures.fail(message, error, detail, null);
  }

  long remainingMs() {
    return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000L);
  }

  boolean expired() {
    return System.nanoTime() - deadlineNanos >= 0;
  }

  @Override
  public String kind() {
    return kind;
  }

  @Override
  public JsonObject body() {
    return body;
  }

  /** Reply produced by an entity hosted on this node. */
  @Override
  public void reply(JsonObject reply) {
    reply(reply, self);
  }

  /** Reply relayed from the node that hosts the entity. */
  synchronized void reply(JsonObject reply, String node) {
    if (!answered) {
      answered = true;
      origin.reply(reply, new DeliveryOptions().addHeader(EntityAddress.NODE_HEADER, node));
    }
  }

  /** Failure produced by an entity hosted on this node (or by this node's region). */
  @Override
  public void fail(StickyError error, String detail) {
    fail(error, detail, self);
  }

  /** Failure produced by routing, before any entity saw the message: names no node. */
  void failRouting(StickyError error, String detail) {
    fail(error, detail, null);
  }

  synchronized void fail(StickyError error, String detail, String node) {
    if (!answered) {
      answered = true;
      Failures.fail(origin, error, detail, node);
    }
  }

  synchronized void relay(io.vertx.core.eventbus.ReplyException failure) {
    if (!answered) {
      answered = true;
      Failures.relay(origin, failure);
    }
  }
}
