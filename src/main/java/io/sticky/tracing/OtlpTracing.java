package io.sticky.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.sticky.internal.NodeRuntime;
import java.time.Duration;

/**
 * The OpenTelemetry SDK of a node started with {@code --tracing-endpoint}: spans batched (a bounded queue;
 * spans beyond it are dropped, never waited for) and sent over OTLP/HTTP with the JDK's HTTP client.
 */
public final class OtlpTracing {
  /** Spans waiting for export; past this the SDK drops new ones rather than hold memory or block a request. */
  static final int MAX_QUEUED_SPANS = 8_192;

  private OtlpTracing() {
  }

  /** An SDK sending to {@code endpoint}/v1/traces; the caller shuts it down (which flushes) when the node stops. */
  public static OpenTelemetrySdk create(String endpoint, double sampleRatio, String hostAndPort) {
    OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint(endpoint + "/v1/traces")
        .setTimeout(Duration.ofSeconds(10))
        .build();
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
        AttributeKey.stringKey("service.name"), "sticky",
        AttributeKey.stringKey("service.version"), NodeRuntime.version(),
        AttributeKey.stringKey("service.instance.id"), hostAndPort)));
    SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
        .setResource(resource)
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(sampleRatio)))
        .addSpanProcessor(BatchSpanProcessor.builder(exporter).setMaxQueueSize(MAX_QUEUED_SPANS).build())
        .build();
    return OpenTelemetrySdk.builder()
        .setTracerProvider(tracerProvider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
  }
}
