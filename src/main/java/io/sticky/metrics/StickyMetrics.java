package io.sticky.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sticky.api.Sticky.RegionStats;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.impl.MicrometerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Sticky's own Micrometer meters ({@code sticky_*} in Prometheus), recorded into the registry of the
 * Vert.x instance they run on. A Vert.x built without Micrometer metrics gets {@link #NONE}: every method
 * is then a no-op, so nothing depends on metrics being on.
 *
 * <p>Series (Prometheus names; see docs/operations.md#metrics):
 * <ul>
 *   <li>{@code sticky_requests_seconds{type,kind,outcome}}: requests made on this node (REST gateway,
 *   {@code Sticky.request}, {@code EntityRef}), by outcome {@code ok} or the {@link io.sticky.api.StickyError}
 *   slug; a histogram. {@code sticky_tells_total{type}}: fire-and-forget messages sent.</li>
 *   <li>{@code sticky_entities_active}, {@code sticky_entities_active_peak}, {@code sticky_shards_hosted},
 *   {@code sticky_messages_buffered} (gauges) and {@code sticky_activations_total},
 *   {@code sticky_passivations_total}, {@code sticky_evictions_total} (counters), all by {@code type}:
 *   this node's regions, read from {@link RegionStats} at scrape time.</li>
 *   <li>{@code sticky_handoffs_seconds{type,outcome}} ({@code ok}, {@code abandoned}) and
 *   {@code sticky_handoff_entities_total{type}}: recorded by the coordinator, so on its node only.</li>
 *   <li>{@code sticky_store_seconds{store,op,outcome}}: state store calls ({@code load}, {@code write},
 *   {@code ping}; {@code ok}, {@code conflict}, {@code error}).</li>
 * </ul>
 */
public final class StickyMetrics {
  /** Metrics off: records nothing. */
  public static final StickyMetrics NONE = new StickyMetrics(null);

  // Latency histograms: entity calls can be well under a millisecond (Micrometer's default floor) and are
  // bounded by the ask timeout (at most a minute in practice).
  private static final Duration MIN_LATENCY = Duration.ofNanos(100_000);
  private static final Duration MAX_LATENCY = Duration.ofSeconds(60);

  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  /** Micrometer holds a function counter's object weakly: the region suppliers are kept alive here. */
  private final List<Supplier<RegionStats>> regionStats = new CopyOnWriteArrayList<>();

  private StickyMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The metrics of a Vert.x instance: its Micrometer registry, or {@link #NONE} if it has none. */
  public static StickyMetrics of(Vertx vertx) {
    MeterRegistry registry = registryOf(vertx);
    return registry == null ? NONE : new StickyMetrics(registry);
  }

  /** For tests and custom set-ups: record into this registry. */
  public static StickyMetrics of(MeterRegistry registry) {
    return registry == null ? NONE : new StickyMetrics(registry);
  }

  /**
   * The Micrometer registry a Vert.x instance reports to, or null if it was built without Micrometer
   * metrics. (vertx-micrometer-metrics has no public accessor for it; its metrics SPI object has one.)
   */
  public static MeterRegistry registryOf(Vertx vertx) {
    if (vertx instanceof VertxInternal internal && internal.metrics() instanceof MicrometerMetrics micrometer) {
      return micrometer.registry();
    }
    return null;
  }

  /**
   * A Vert.x builder with the given options and, if {@code enabled}, Micrometer metrics into a new
   * Prometheus registry: Vert.x's own (HTTP server with the route as a label, event bus, pools), the JVM's,
   * and Sticky's once a {@code Sticky} runs on it.
   */
  public static VertxBuilder vertxBuilder(VertxOptions options, boolean enabled) {
    if (!enabled) {
      return Vertx.builder().with(options);
    }
    options.setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        // vertx-micrometer keeps registries in a JVM-wide map by this name: one per instance, so that several
        // nodes in one JVM (the tests) each report into their own.
        .setRegistryName("sticky-" + UUID.randomUUID())
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .setJvmMetricsEnabled(true)
        .addLabels(Label.HTTP_ROUTE));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(MeterFilter.replaceTagValues(Label.HTTP_ROUTE.toString(), StickyMetrics::routeLabel));
    return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry));
  }

  /**
   * Vert.x Web labels a request with every route it passed through, joined by '>': a POST to an entity
   * passes three routes of the same path (content-type check, body reader, handler). Repeats of one path
   * are one route to an operator.
   */
  static String routeLabel(String route) {
    if (route == null || route.indexOf('>') < 0) {
      return route;
    }
    List<String> parts = new ArrayList<>();
    for (String part : route.split(">")) {
      if (parts.isEmpty() || !parts.get(parts.size() - 1).equals(part)) {
        parts.add(part);
      }
    }
    return String.join(">", parts);
  }

  public boolean enabled() {
    return registry != null;
  }

  /** The registry, or null when metrics are off. */
  public MeterRegistry registry() {
    return registry;
  }

  /** One request's outcome ({@code ok} or an error slug) and duration. */
  public void request(String type, String kind, String outcome, long nanos) {
    if (registry == null) {
      return;
    }
    timer("sticky.requests", "requests made on this node (gateway and API), by outcome",
        "type", type, "kind", kind, "outcome", outcome).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void tell(String type) {
    if (registry != null) {
      registry.counter("sticky.tells", "type", type).increment();
    }
  }

  /** One hand-off (coordinator): {@code ok} or {@code abandoned}, its duration and the entities it moved. */
  public void handOff(String type, String outcome, long nanos, int entities) {
    if (registry == null) {
      return;
    }
    timer("sticky.handoffs", "shard hand-offs run by the coordinator on this node", "type", type, "outcome", outcome)
        .record(nanos, TimeUnit.NANOSECONDS);
    if (entities > 0) {
      registry.counter("sticky.handoff.entities", "type", type).increment(entities);
    }
  }

  /** The requests of {@code type} that entered through this node (every kind), for the console. */
  public io.sticky.internal.protocol.Protocol.Traffic traffic(String type) {
    return registry == null ? io.sticky.internal.protocol.Protocol.Traffic.NONE
        : histogram(registry.find("sticky.requests").tag("type", type).timers());
  }

  /** This node's writes to the store named {@code store}, for the console. */
  public io.sticky.internal.protocol.Protocol.Traffic storeWrites(String store) {
    return registry == null ? io.sticky.internal.protocol.Protocol.Traffic.NONE
        : histogram(registry.find("sticky.store").tag("store", store).tag("op", "write").timers());
  }

  private static io.sticky.internal.protocol.Protocol.Traffic histogram(java.util.Collection<Timer> timers) {
    long ok = 0;
    long failed = 0;
    java.util.TreeMap<Double, Long> okAtOrUnder = new java.util.TreeMap<>();
    for (Timer t : timers) {
      if ("ok".equals(t.getId().getTag("outcome"))) {
        ok += t.count();
        for (io.micrometer.core.instrument.distribution.CountAtBucket b : t.takeSnapshot().histogramCounts()) {
          okAtOrUnder.merge(b.bucket(TimeUnit.MILLISECONDS), (long) b.count(), Long::sum);
        }
      } else {
        failed += t.count();
      }
    }
    return new io.sticky.internal.protocol.Protocol.Traffic(ok, failed, List.copyOf(okAtOrUnder.keySet()), List.copyOf(okAtOrUnder.values()));
  }

  /** One reload of the HTTPS certificate after its files changed: {@code ok}, or {@code failed} (the old one kept). */
  public void tlsReload(String outcome) {
    if (registry != null) {
      registry.counter("sticky.tls.reloads", "outcome", outcome).increment();
    }
  }

  /** One state store call: {@code op} load, write or ping; {@code outcome} ok, conflict or error. */
  public void store(String store, String op, String outcome, long nanos) {
    if (registry == null) {
      return;
    }
    timer("sticky.store", "state store calls", "store", store, "op", op, "outcome", outcome)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Gauges and counters over one region's {@link RegionStats}, read at scrape time. Returns the meters, to
   * remove them when the region stops ({@link #remove}).
   */
  public List<Meter> region(String type, Supplier<RegionStats> stats) {
    List<Meter> meters = new ArrayList<>();
    if (registry == null) {
      return meters;
    }
    regionStats.add(stats);
    meters.add(gauge("sticky.entities.active", "active entities of the type on this node", type, stats, RegionStats::activeEntities));
    meters.add(gauge("sticky.entities.active.peak", "most active entities of the type at once on this node since start", type, stats,
        RegionStats::peakActiveEntities));
    meters.add(gauge("sticky.shards.hosted", "shards of the type hosted by this node", type, stats, RegionStats::hostedShards));
    meters.add(gauge("sticky.messages.buffered", "messages this node's region buffers while shard homes are resolved or shards move",
        type, stats, RegionStats::bufferedMessages));
    meters.add(counter("sticky.activations", "entities activated on this node", type, stats, RegionStats::activations));
    meters.add(counter("sticky.passivations", "entities passivated on this node (idle, or evicted by the limit)", type, stats,
        RegionStats::passivations));
    meters.add(counter("sticky.evictions", "passivations forced by the active-entity limit", type, stats, RegionStats::evictions));
    return meters;
  }

  /** Removes meters (a stopped region's), so that the page does not show its last values forever. */
  public void remove(List<Meter> meters) {
    if (registry != null) {
      meters.forEach(registry::remove);
    }
  }

  private Meter gauge(String name, String help, String type, Supplier<RegionStats> stats, ToDoubleFunction<RegionStats> value) {
    return Gauge.builder(name, stats, s -> value.applyAsDouble(s.get())).description(help).tag("type", type)
        .strongReference(true).register(registry);
  }

  private Meter counter(String name, String help, String type, Supplier<RegionStats> stats, ToDoubleFunction<RegionStats> value) {
    return FunctionCounter.builder(name, stats, s -> value.applyAsDouble(s.get())).description(help).tag("type", type)
        .register(registry);
  }

  private Timer timer(String name, String help, String... tags) {
    // Cached: building a meter id per request costs more than the map lookup.
    return timers.computeIfAbsent(name + String.join("\u0000", tags), k -> Timer.builder(name).description(help).tags(tags)
        .publishPercentileHistogram()
        .minimumExpectedValue(MIN_LATENCY)
        .maximumExpectedValue(MAX_LATENCY)
        .register(registry));
  }
}
