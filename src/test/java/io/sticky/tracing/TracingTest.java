package io.sticky.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Nodes started with --tracing-endpoint send their spans over OTLP/HTTP to a collector (here: a real HTTP
 * server decoding the protobuf). One request's trace, started by the client's traceparent, runs from the HTTP
 * request on the entry node over the event-bus hop to the entity's node, its handling and its state write.
 */
class TracingTest {
  /** One exported span, as the collector decoded it. */
  record Exported(String traceId, String spanId, String parentId, String name, int kind, Map<String, String> attributes) {
  }

  private static final Queue<Exported> spans = new ConcurrentLinkedQueue<>();
  private static Vertx collectorVertx;
  private static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    collectorVertx = Vertx.vertx();
    HttpServer collector = collectorVertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      if (!req.path().equals("/v1/traces")) {
        req.response().setStatusCode(404).end();
        return;
      }
      try {
        collect(ExportTraceServiceRequest.parseFrom(body.getBytes()));
        req.response().putHeader("Content-Type", "application/x-protobuf").end();
      } catch (Exception e) {
        req.response().setStatusCode(400).end();
      }
    })).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    String endpoint = "http://127.0.0.1:" + collector.actualPort();
    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)),
        o -> o.setTracingEndpoint(endpoint));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    collectorVertx.close().await(10, TimeUnit.SECONDS);
  }

  private static void collect(ExportTraceServiceRequest request) {
    HexFormat hex = HexFormat.of();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (io.opentelemetry.proto.trace.v1.Span s : ss.getSpansList()) {
          Map<String, String> attributes = s.getAttributesList().stream()
              .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue(), (a, b) -> a));
          spans.add(new Exported(hex.formatHex(s.getTraceId().toByteArray()), hex.formatHex(s.getSpanId().toByteArray()),
              hex.formatHex(s.getParentSpanId().toByteArray()), s.getName(), s.getKindValue(), attributes));
        }
      }
    }
  }

  @Test
  void oneTraceRunsFromTheHttpRequestOverTheHopToTheEntityAndItsStateWrite() {
    StickyNode entry = cluster.node(0);
    String remoteId = idHostedAway(entry);
    String traceId = randomHex(16);
    String callerSpan = randomHex(8);
    Http.Response r = post(entry, remoteId, "{\"op\":\"increment\"}", "00-" + traceId + "-" + callerSpan + "-01");
    assertThat(r.status()).isEqualTo(200);
    String home = r.node();
    assertThat(home).isNotEqualTo(entry.nodeId());

    List<Exported> trace = awaitTrace(traceId, 4);
    Exported server = one(trace, s -> s.kind() == KIND_SERVER && s.parentId().equals(callerSpan), "the entry node's HTTP span");
    Exported hop = one(trace, s -> s.name().equals("forward " + CounterEntity.TYPE), "the hop");
    Exported handle = one(trace, s -> s.name().equals("handle " + CounterEntity.TYPE), "the entity's handling");
    Exported write = one(trace, s -> s.name().equals("store write"), "the state write");

    assertThat(hop.parentId()).as("the hop runs inside the HTTP request").isEqualTo(server.spanId());
    assertThat(hop.kind()).isEqualTo(KIND_CLIENT);
    assertThat(hop.attributes()).containsEntry("sticky.node", entry.nodeId()).containsEntry("sticky.entity.id", remoteId);
    assertThat(handle.parentId()).as("the entity's node continues the trace from the event-bus headers").isEqualTo(hop.spanId());
    assertThat(handle.kind()).isEqualTo(KIND_SERVER);
    assertThat(handle.attributes()).containsEntry("sticky.node", home).containsEntry("sticky.type", CounterEntity.TYPE);
    assertThat(write.parentId()).isEqualTo(handle.spanId());
  }

  @Test
  void aLocalEntityIsHandledInsideTheHttpSpanWithoutAHop() {
    StickyNode entry = cluster.node(1);
    String localId = idHostedOn(entry);
    String traceId = randomHex(16);
    Http.Response r = post(entry, localId, "{\"op\":\"increment\"}", "00-" + traceId + "-" + randomHex(8) + "-01");
    assertThat(r.status()).isEqualTo(200);

    List<Exported> trace = awaitTrace(traceId, 3);
    Exported server = one(trace, s -> s.kind() == KIND_SERVER && !s.name().startsWith("handle"), "the HTTP span");
    Exported handle = one(trace, s -> s.name().equals("handle " + CounterEntity.TYPE), "the entity's handling");
    assertThat(handle.parentId()).isEqualTo(server.spanId());
    assertThat(handle.kind()).isEqualTo(KIND_INTERNAL);
    assertThat(one(trace, s -> s.name().equals("store write"), "the state write").parentId()).isEqualTo(handle.spanId());
    assertThat(trace).noneMatch(s -> s.name().startsWith("forward"));
  }

  @Test
  void aFailedMessageEndsItsSpansAsErrors() {
    StickyNode entry = cluster.node(0);
    String traceId = randomHex(16);
    Http.Response r = post(entry, idHostedAway(entry), "{\"op\":\"no-such-op\"}", "00-" + traceId + "-" + randomHex(8) + "-01");
    assertThat(r.status()).isEqualTo(400);
    List<Exported> trace = awaitTrace(traceId, 3);
    Exported handle = one(trace, s -> s.name().equals("handle " + CounterEntity.TYPE), "the entity's handling");
    assertThat(handle.attributes()).containsEntry("sticky.error", "bad-request");
    assertThat(one(trace, s -> s.name().startsWith("forward"), "the hop").attributes()).containsEntry("sticky.error", "bad-request");
  }

  @Test
  void anUnsampledTraceGetsNoSpans() {
    StickyNode entry = cluster.node(0);
    String unsampled = randomHex(16);
    Http.Response r = post(entry, idHostedAway(entry), "{\"op\":\"increment\"}", "00-" + unsampled + "-" + randomHex(8) + "-00");
    assertThat(r.status()).isEqualTo(200);
    // A sampled request after it: once its spans are in, the unsampled one's would have been too.
    String sampled = randomHex(16);
    post(entry, idHostedAway(entry), "{\"op\":\"increment\"}", "00-" + sampled + "-" + randomHex(8) + "-01");
    awaitTrace(sampled, 4);
    assertThat(spans).noneMatch(s -> s.traceId().equals(unsampled));
  }

  private static final int KIND_INTERNAL = io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_INTERNAL_VALUE;
  private static final int KIND_SERVER = io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER_VALUE;
  private static final int KIND_CLIENT = io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT_VALUE;

  private static List<Exported> awaitTrace(String traceId, int atLeast) {
    await().atMost(Duration.ofSeconds(30)).until(() -> spans.stream().filter(s -> s.traceId().equals(traceId)).count() >= atLeast);
    return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
  }

  private static Exported one(List<Exported> trace, java.util.function.Predicate<Exported> which, String what) {
    List<Exported> found = trace.stream().filter(which).toList();
    assertThat(found).as("%s in %s", what, trace).hasSize(1);
    return found.get(0);
  }

  /** A message through {@code entry}'s HTTP port, in the trace {@code traceparent} names. */
  private static Http.Response post(StickyNode entry, String id, String body, String traceparent) {
    return Http.post("http://127.0.0.1:" + entry.httpPort() + "/entities/" + CounterEntity.TYPE + "/" + id, body,
        Map.of("traceparent", traceparent));
  }

  private static String idHostedAway(StickyNode entry) {
    return idWhere(entry, home -> !home.equals(entry.nodeId()));
  }

  private static String idHostedOn(StickyNode entry) {
    return idWhere(entry, home -> home.equals(entry.nodeId()));
  }

  private static String idWhere(StickyNode entry, java.util.function.Predicate<String> home) {
    for (int i = 0; i < 200; i++) {
      String id = "t-" + ThreadLocalRandom.current().nextInt(1_000_000);
      Http.Response r = Http.increment(entry.httpPort(), CounterEntity.TYPE, id);
      if (r.status() == 200 && home.test(r.node())) {
        return id;
      }
    }
    throw new AssertionError("no such entity in 200 tries");
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    b[0] |= 1; // never all zeros (an invalid id)
    return HexFormat.of().formatHex(b);
  }
}
