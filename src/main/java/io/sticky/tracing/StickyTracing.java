package io.sticky.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.sticky.internal.NodeRuntime;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * Sticky's spans around an entity message: the hop to another node, the entity handling it, its state write.
 * Only messages that arrive inside a sampled trace get spans (an HTTP request when Vert.x traces it, or a
 * caller's span); the trace crosses the event bus in W3C {@code traceparent}/{@code tracestate} headers. {@link #OFF}
 * costs a null check per message.
 */
public final class StickyTracing {
  public static final StickyTracing OFF = new StickyTracing(null, null);
  public static final String INSTRUMENTATION = "io.sticky";

  private final Tracer tracer;
  private final TextMapPropagator propagator;

  private StickyTracing(Tracer tracer, TextMapPropagator propagator) {
    this.tracer = tracer;
    this.propagator = propagator;
  }

  /** Spans into {@code openTelemetry}'s tracer provider, trace context in its propagators; null gives {@link #OFF}. */
  public static StickyTracing of(OpenTelemetry openTelemetry) {
    if (openTelemetry == null) {
      return OFF;
    }
    return new StickyTracing(openTelemetry.getTracer(INSTRUMENTATION, NodeRuntime.version()),
        openTelemetry.getPropagators().getTextMapPropagator());
  }

  public boolean enabled() {
    return tracer != null;
  }

  /** The caller's trace (the current OpenTelemetry context, as Vert.x keeps it per request), or null if none. */
  public Context caller() {
    return tracer == null ? null : traced(Context.current());
  }

  /** The trace an event-bus message carries in its headers, else the caller's, or null. */
  public Context fromHeaders(MultiMap headers) {
    if (tracer == null) {
      return null;
    }
    Context carried = traced(propagator.extract(Context.root(), headers, HEADERS));
    return carried != null ? carried : caller();
  }

  /** Adds {@code span}'s trace context to an event-bus message. */
  public void toHeaders(Span span, DeliveryOptions options) {
    if (span != null) {
      propagator.inject(Context.root().with(span), options, SETTER);
    }
  }

  /** Starts a span under {@code parent}, or returns null when there is no trace to join. */
  public Span start(String name, SpanKind kind, Context parent, String type, String id, String node) {
    if (tracer == null || parent == null) {
      return null;
    }
    return tracer.spanBuilder(name).setParent(parent).setSpanKind(kind)
        .setAttribute("sticky.type", type).setAttribute("sticky.entity.id", id).setAttribute("sticky.node", node).startSpan();
  }

  /** Starts a span under another of Sticky's spans (null when the parent is null). */
  public Span child(String name, Span parent) {
    if (tracer == null || parent == null) {
      return null;
    }
    return tracer.spanBuilder(name).setParent(Context.root().with(parent)).setSpanKind(SpanKind.INTERNAL).startSpan();
  }

  /** Ends a span (null-safe), marked as an error with Sticky's error code when {@code errorCode} is not null. */
  public static void end(Span span, String errorCode, String detail) {
    if (span == null) {
      return;
    }
    if (errorCode != null) {
      span.setAttribute("sticky.error", errorCode);
      span.setStatus(StatusCode.ERROR, detail == null ? errorCode : detail);
    }
    span.end();
  }

  /**
   * The context if its trace is being recorded here. An unsampled trace gets no spans of Sticky's and is not
   * carried over the hop: its spans would be dropped anyway, and skipping them keeps a low sample ratio cheap.
   */
  private static Context traced(Context context) {
    return Span.fromContext(context).getSpanContext().isSampled() ? context : null;
  }

  private static final TextMapGetter<MultiMap> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(MultiMap carrier) {
      return carrier.names();
    }

    @Override
    public String get(MultiMap carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private static final TextMapSetter<DeliveryOptions> SETTER = (opts, key, value) -> opts.addHeader(key, value);
}
