package io.sticky.internal.region;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityException;
import io.sticky.api.EntityReply;
import io.sticky.api.StickyError;
import io.sticky.internal.Delivery;
import io.sticky.internal.protocol.Failures;
import io.sticky.tracing.StickyTracing;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;

/**
 * One entity message inside a region: where it goes, where its reply goes, and how long it may take.
 * Replies and failures are sent at most once, either to an event-bus message ({@code origin}) or, for a
 * request made through this node's own API, to a promise ({@code local}); a tell has neither.
 * A failure reaches a local caller typed, as an {@link EntityException}; an event-bus sender gets it encoded.
 */
final class Envelope implements Delivery {
  final String id;
  final int shard;
  final String kind;
  final JsonObject body;
  /** The event-bus message to answer, or null. */
  final Message<?> origin;
  /** The local caller to answer (completes on the caller's context), or null. */
  private final Promise<EntityReply> local;
  final long deadlineNanos;
  /** Arrived from another node's region: it is never forwarded again (at most one hop). */
  final boolean fromRemote;
  /** Epoch the sending region believed the shard to be at (remote only). */
  final long senderEpoch;
  final String self;
  /** A local caller's wish: if the entity lives on another node, fail with {@link StickyError#REDIRECT} instead of forwarding. */
  final boolean redirect;
  /** The caller's idempotency key (checked at the edge), or null. */
  final String idempotencyKey;
  int attempts;
  private boolean answered;
  /** The trace the message arrived in, or null (then it gets no spans). */
  private Context trace;
  private StickyTracing tracing = StickyTracing.OFF;
  /** This node's spans for the message: the hop to another node, the entity's handling. */
  private Span hopSpan;
  private Span handleSpan;

  Envelope(String id, int shard, String kind, JsonObject body, Message<?> origin, long timeoutMs,
           boolean fromRemote, long senderEpoch, String self) {
    this(id, shard, kind, body, origin, null, timeoutMs, fromRemote, senderEpoch, self, false,
        origin.headers().get(EntityAddress.IDEMPOTENCY_KEY_HEADER));
  }

  /** A request or tell from this node's own API ({@code local} is null for a tell). */
  Envelope(String id, int shard, String kind, JsonObject body, Promise<EntityReply> local, long timeoutMs, String self,
           boolean redirect, String idempotencyKey) {
    this(id, shard, kind, body, null, local, timeoutMs, false, 0, self, redirect, idempotencyKey);
  }

  private Envelope(String id, int shard, String kind, JsonObject body, Message<?> origin, Promise<EntityReply> local,
                   long timeoutMs, boolean fromRemote, long senderEpoch, String self, boolean redirect, String idempotencyKey) {
    this.id = id;
    this.shard = shard;
    this.kind = kind;
    this.body = body;
    this.origin = origin;
    this.local = local;
    this.deadlineNanos = System.nanoTime() + timeoutMs * 1_000_000L;
    this.fromRemote = fromRemote;
    this.senderEpoch = senderEpoch;
    this.self = self;
    this.redirect = redirect;
    this.idempotencyKey = idempotencyKey;
  }

  /** Joins the message to {@code trace} (null: not traced); returns this envelope. */
  Envelope traced(StickyTracing tracing, Context trace) {
    this.tracing = tracing;
    this.trace = trace;
    return this;
  }

  /** The message goes to another node: its hop span starts (once) and its context rides in the headers. */
  void forwarding(String type, DeliveryOptions options) {
    if (trace != null) {
      if (hopSpan == null) {
        hopSpan = tracing.start("forward " + type, SpanKind.CLIENT, trace, type, id, self);
      }
      tracing.toHeaders(hopSpan, options);
    }
  }

  /** The message goes to an entity on this node: its handling span starts (once). */
  void handling(String type) {
    if (trace != null && handleSpan == null) {
      Context parent = hopSpan == null ? trace : trace.with(hopSpan);
      handleSpan = tracing.start("handle " + type, fromRemote ? SpanKind.SERVER : SpanKind.INTERNAL, parent, type, id, self);
    }
  }

  @Override
  public <T> Future<T> step(String name, Supplier<Future<T>> work) {
    Span span = tracing.child(name, handleSpan);
    if (span == null) {
      return work.get();
    }
    Future<T> result = work.get();
    result.onComplete(ar -> StickyTracing.end(span, ar.failed() ? "step-failed" : null, ar.failed() ? ar.cause().getMessage() : null));
    return result;
  }

  private void endSpans(String errorCode, String detail) {
    if (trace != null) {
      StickyTracing.end(handleSpan, errorCode, detail);
      StickyTracing.end(hopSpan, errorCode, detail);
    }
  }

  /** Fails a message that never became an envelope (bad id, bad kind). */
  static void failUnrouted(Message<?> message, StickyError error, String detail) {
    Failures.fail(message, error, detail, null);
  }

  /** What the message weighs in a buffer: its JSON size plus a fixed overhead; computed once, when first buffered. */
  int bufferBytes() {
    if (bufferBytes == 0) {
      bufferBytes = BUFFER_OVERHEAD_BYTES + (body == null ? 0 : body.encode().length());
    }
    return bufferBytes;
  }

  private static final int BUFFER_OVERHEAD_BYTES = 256;
  private int bufferBytes;

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

  @Override
  public String idempotencyKey() {
    return idempotencyKey;
  }

  /** Reply produced by an entity hosted on this node. */
  @Override
  public void reply(JsonObject reply) {
    reply(reply, self, false);
  }

  @Override
  public void replay(JsonObject reply) {
    reply(reply, self, true);
  }

  /** Reply relayed from the node that hosts the entity. */
  synchronized void reply(JsonObject reply, String node, boolean replayed) {
    if (!answered) {
      try {
        if (origin != null) {
          DeliveryOptions headers = new DeliveryOptions().addHeader(EntityAddress.NODE_HEADER, node);
          origin.reply(reply, replayed ? headers.addHeader(EntityAddress.REPLAYED_HEADER, "true") : headers);
        } else if (local != null) {
          // A copy, as the event bus makes: the entity may go on changing the object it replied with.
          local.tryComplete(new EntityReply(reply.copy(), node, replayed));
        }
        answered = true;
        endSpans(null, null);
      } catch (RuntimeException e) {
        // e.g. a value JSON cannot carry: the caller gets a clear failure, the entity goes on
        fail(StickyError.ENTITY_FAILED, "the entity's reply could not be sent as JSON: " + e.getMessage(), node);
      }
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
      endSpans(error.slug(), detail);
      if (origin != null) {
        Failures.fail(origin, error, detail, node);
      } else if (local != null) {
        local.tryFail(new EntityException(error, detail, node));
      }
    }
  }

  synchronized void relay(ReplyException failure) {
    if (!answered) {
      answered = true;
      endSpans(StickyError.of(failure).slug(), failure.getMessage());
      if (origin != null) {
        Failures.relay(origin, failure);
      } else if (local != null) {
        local.tryFail(EntityException.from(failure)); // decoded once, where it came off the event bus
      }
    }
  }
}
