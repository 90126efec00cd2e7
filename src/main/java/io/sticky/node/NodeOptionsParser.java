package io.sticky.node;

import io.sticky.api.EntityTypeOptions;
import io.sticky.api.StickyOptions;
import io.sticky.gateway.GatewayOptions;
import io.sticky.store.PostgresStoreOptions;
import java.util.List;
import java.util.Map;

/**
 * The launcher's options as the user gives them: the one catalogue of flags, environment variables and
 * defaults ({@link #OPTIONS}, which {@code --help}, docs/configuration.md and the reference config follow), and
 * the parser that turns a config file, the environment and the command line into {@link NodeOptions}.
 */
final class NodeOptionsParser {
  private NodeOptionsParser() {
  }

  /** One option: its flag, environment variable, default and meaning. */
  record Option(String flag, String env, String defaultValue, String help) {
    /** A true/false option, which may be given alone to mean true. */
    boolean isSwitch() {
      return defaultValue.equals("true") || defaultValue.equals("false");
    }
  }

  static final List<Option> OPTIONS = List.of(
      new Option("--http-port", "STICKY_HTTP_PORT", Integer.toString(GatewayOptions.DEFAULT_PORT), "HTTP gateway port (0 = any free port)"),
      new Option("--http-host", "STICKY_HTTP_HOST", GatewayOptions.DEFAULT_HOST, "interface the HTTP gateway binds"),
      new Option("--advertise-http", "STICKY_ADVERTISE_HTTP", "http://<host>:<http-port>",
          "URL at which clients and other nodes reach this node's HTTP gateway (routing table, X-Sticky-Owner, redirects)"),
      new Option("--http-tls-cert", "STICKY_HTTP_TLS_CERT", "(none: plain HTTP)",
          "PEM certificate (chain) for HTTPS on the HTTP port (with --http-tls-key); HTTP/2 through ALPN"),
      new Option("--http-tls-key", "STICKY_HTTP_TLS_KEY", "(none)", "PEM private key that goes with --http-tls-cert"),
      new Option("--http-tls-reload", "STICKY_HTTP_TLS_RELOAD", GatewayOptions.DEFAULT_TLS_RELOAD_CHECK_MS / 1000 + "s",
          "how often the HTTPS certificate and key files are checked and, when changed, reloaded without a restart (off = never)"),
      new Option("--http-tokens-file", "STICKY_HTTP_TOKENS_FILE", "(none: no credentials asked)",
          "bearer tokens, one '<token> <role>[,<role>...]' per line (roles read, write, admin); then every route but /health/* needs one"),
      new Option("--http-jwt-keys", "STICKY_HTTP_JWT_KEYS", "(none: no JWTs)",
          "comma-separated PEM public key files; a JWT bearer token signed by one of them (and unexpired) is accepted, its roles in a 'roles' or 'scope' claim"),
      new Option("--http-jwt-algorithm", "STICKY_HTTP_JWT_ALGORITHM", GatewayOptions.DEFAULT_JWT_ALGORITHM, "signature algorithm of accepted JWTs (RS256, ES256, PS256, ...)"),
      new Option("--http-jwt-issuer", "STICKY_HTTP_JWT_ISSUER", "(any)", "the 'iss' an accepted JWT must carry"),
      new Option("--http-jwt-audience", "STICKY_HTTP_JWT_AUDIENCE", "(any)", "an 'aud' an accepted JWT must carry"),
      new Option("--management-port", "STICKY_MANAGEMENT_PORT", "(none)",
          "port for /health/*, /cluster* (but /cluster/routing), /metrics and /openapi.json, which then leave the HTTP port"),
      new Option("--management-host", "STICKY_MANAGEMENT_HOST", GatewayOptions.DEFAULT_MANAGEMENT_HOST, "interface the management port binds"),
      new Option("--http-max-in-flight", "STICKY_HTTP_MAX_IN_FLIGHT", Integer.toString(GatewayOptions.DEFAULT_MAX_IN_FLIGHT),
          "requests between arrival and response per node; more get a fast 503 with Retry-After, not applied"),
      new Option("--http-max-connections", "STICKY_HTTP_MAX_CONNECTIONS", Integer.toString(GatewayOptions.DEFAULT_MAX_CONNECTIONS),
          "open connections per node on the HTTP port; a request on one more gets a fast 503 and its connection is closed"),
      new Option("--http-request-read-timeout", "STICKY_HTTP_REQUEST_READ_TIMEOUT", GatewayOptions.DEFAULT_REQUEST_READ_TIMEOUT_MS + "ms",
          "a request whose body has not arrived whole this long after its headers is dropped (its connection closed)"),
      new Option("--http-idle-timeout", "STICKY_HTTP_IDLE_TIMEOUT", GatewayOptions.DEFAULT_IDLE_TIMEOUT_SECONDS + "s",
          "a connection that sends and receives nothing for this long is closed"),
      new Option("--cluster-name", "STICKY_CLUSTER_NAME", NodeOptions.DEFAULT_CLUSTER_NAME, "Hazelcast cluster name: only nodes with the same name join"),
      new Option("--host", "STICKY_HOST", NodeOptions.DEFAULT_HOST, "interface for cluster traffic (Hazelcast and event bus), advertised to other nodes"),
      new Option("--cluster-port", "STICKY_CLUSTER_PORT", Integer.toString(NodeOptions.DEFAULT_CLUSTER_PORT), "first Hazelcast port to try (up to +19 if busy)"),
      new Option("--bus-port", "STICKY_BUS_PORT", "0", "event-bus TCP port other nodes connect to (0 = any free port; fix it when nodes sit behind NAT or firewalls)"),
      new Option("--bus-tls-cert", "STICKY_BUS_TLS_CERT", "(none: plaintext event bus)",
          "PEM certificate (chain) of this node for mutual TLS on the event bus (with --bus-tls-key and --bus-tls-ca)"),
      new Option("--bus-tls-key", "STICKY_BUS_TLS_KEY", "(none)", "PEM private key that goes with --bus-tls-cert"),
      new Option("--bus-tls-ca", "STICKY_BUS_TLS_CA", "(none)",
          "PEM certificate(s) of the cluster's CA: only peers with a certificate it signed may connect to the event bus, or be connected to"),
      new Option("--members", "STICKY_MEMBERS", "<host>:<cluster-port>..+4", "comma-separated host:port list of members to join through (TCP/IP join, no multicast)"),
      new Option("--max-body-bytes", "STICKY_MAX_BODY_BYTES", Integer.toString(GatewayOptions.DEFAULT_MAX_BODY_BYTES), "largest accepted request body; larger ones get 413"),
      new Option("--http-instances", "STICKY_HTTP_INSTANCES", Integer.toString(GatewayOptions.DEFAULT_INSTANCES), "HTTP server verticle instances"),
      new Option("--store", "STICKY_STORE", StickyOptions.DEFAULT_DEFAULT_STORE, "state store of entity types left at store: default (replicated, hazelcast, postgres, memory or none)"),
      new Option("--postgres-uri", "STICKY_POSTGRES_URI", "(none)", "PostgreSQL for the postgres store, e.g. postgresql://user:secret@db:5432/sticky (table created if missing)"),
      new Option("--postgres-pool-size", "STICKY_POSTGRES_POOL_SIZE", Integer.toString(PostgresStoreOptions.DEFAULT_POOL_SIZE), "connections per node for the postgres store"),
      new Option("--kubernetes-service-dns", "STICKY_KUBERNETES_SERVICE_DNS", "(none)",
          "DNS name of a headless Service over the nodes' pods: Hazelcast Kubernetes discovery (DNS lookup) instead of --members"),
      new Option("--log-format", "STICKY_LOG_FORMAT", LogFormat.TEXT.flagValue(), "log lines: text (readable) or json (one JSON object per line)"),
      new Option("--metrics", "STICKY_METRICS", Boolean.toString(NodeOptions.DEFAULT_METRICS),
          "Prometheus metrics at GET /metrics (Vert.x, JVM and sticky_* series): true or false (no metrics are kept; /metrics answers 404)"),
      new Option("--tracing-endpoint", "STICKY_TRACING_ENDPOINT", "(none: no tracing)",
          "OTLP/HTTP collector URL, e.g. http://otel-collector:4318: turns tracing on (HTTP request, hop to the entity's node, handling, state write; spans POSTed to <url>/v1/traces)"),
      new Option("--tracing-sample-ratio", "STICKY_TRACING_SAMPLE_RATIO", Double.toString(NodeOptions.DEFAULT_TRACING_SAMPLE_RATIO),
          "share of new traces recorded, 0 to 1; a request that arrives in a sampled trace (W3C traceparent) is always recorded"),
      new Option("--max-active-entities", "STICKY_MAX_ACTIVE_ENTITIES", Integer.toString(EntityTypeOptions.DEFAULT_MAX_ACTIVE_ENTITIES),
          "active entities per type on this node; at the limit the least valuable is passivated (entity-types.<type> in the config file wins)"),
      new Option("--passivate-after", "STICKY_PASSIVATE_AFTER", "2m",
          "passivate an entity idle this long (e.g. 90s, 2m, 500ms; 0 or off = never); entity-types.<type> in the config file wins"),
      new Option("--lib", "STICKY_LIB", "(none)",
          "directory of jars with your entity types (io.sticky.spi.EntityTypeProvider services); the Docker image uses /opt/sticky/lib"),
      new Option("--types", "STICKY_TYPES", "(all found)",
          "comma-separated entity types this node hosts, of those found (naming counter or cart turns the examples on)"),
      new Option("--proxy-only", "STICKY_PROXY_ONLY", "false",
          "true: this node routes to every type (REST, EntityRef, event bus) but never hosts an entity (no shard is allocated to it)"),
      new Option("--config", "STICKY_CONFIG", "(none)", "YAML or JSON config file (see conf/sticky.reference.yaml); command line and environment win over it"));

  /**
   * The config file's {@code node} section, then the environment, then the arguments, each winning over the one
   * before. Throws {@link IllegalArgumentException} with a message naming the option for anything invalid.
   */
  static NodeOptions parse(String[] args, Map<String, String> env, NodeConfig file) {
    NodeOptions o = new NodeOptions();
    file.nodeSettings().forEach((flag, value) -> {
      if (!flag.equals("--config")) {
        set(o, flag, value, "config node." + flag.substring(2));
      }
    });
    for (Option opt : OPTIONS) {
      String v = env.get(opt.env());
      if (v != null && !v.isBlank()) {
        set(o, opt.flag(), v.trim(), opt.env());
      }
    }
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String flag = arg;
      String value;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else {
        if (OPTIONS.stream().noneMatch(opt -> opt.flag().equals(arg))) {
          throw new IllegalArgumentException("unknown option " + arg + " (see --help)");
        }
        boolean bareSwitch = OPTIONS.stream().anyMatch(opt -> opt.flag().equals(arg) && opt.isSwitch())
            && (i + 1 >= args.length || args[i + 1].startsWith("--"));
        if (bareSwitch) {
          value = "true";  // e.g. --proxy-only alone
        } else if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option " + arg + " needs a value");
        } else {
          value = args[++i];
        }
      }
      String f = flag;
      if (OPTIONS.stream().noneMatch(opt -> opt.flag().equals(f))) {
        throw new IllegalArgumentException("unknown option " + flag + " (see --help)");
      }
      set(o, flag, value, flag);
    }
    if ((o.gateway.getTlsCertPath() == null) != (o.gateway.getTlsKeyPath() == null)) {
      throw new IllegalArgumentException("--http-tls-cert and --http-tls-key go together: set both for HTTPS, or neither");
    }
    long busTlsFiles = java.util.stream.Stream.of(o.busTlsCert, o.busTlsKey, o.busTlsCa).filter(java.util.Objects::nonNull).count();
    if (busTlsFiles != 0 && busTlsFiles != 3) {
      throw new IllegalArgumentException("--bus-tls-cert, --bus-tls-key and --bus-tls-ca go together: set all three for mutual TLS"
          + " on the event bus, or none");
    }
    if (o.store.equals("postgres") && o.postgres == null) {
      throw new IllegalArgumentException("--store postgres needs --postgres-uri (or STICKY_POSTGRES_URI)");
    }
    if (o.postgres != null) {
      o.postgres.setPoolSize(o.postgresPoolSize);
    }
    // Two join methods would leave it unclear which one formed the cluster: refuse rather than pick one.
    if (o.members != null && o.kubernetesServiceDns != null) {
      throw new IllegalArgumentException(o.membersSource + " and " + o.kubernetesSource
          + " are exclusive: with Kubernetes discovery the members come from DNS; remove the member list");
    }
    return o;
  }

  private static void set(NodeOptions o, String flag, String value, String source) {
    switch (flag) {
      case "--http-port" -> o.gateway.setPort(OptionValues.intValue(source, value, 0, 65535));
      case "--http-host" -> o.gateway.setHost(OptionValues.nonBlank(source, value));
      case "--advertise-http" -> o.gateway.setAdvertiseUrl(OptionValues.httpUrl(source, value));
      case "--http-tls-cert" -> o.gateway.setTlsCertPath(OptionValues.readableFile(source, value));
      case "--http-tls-key" -> o.gateway.setTlsKeyPath(OptionValues.readableFile(source, value));
      case "--http-tls-reload" -> o.gateway.setTlsReloadCheckMs(OptionValues.durationMs(source, value));
      case "--http-tokens-file" -> o.gateway.setTokensFile(OptionValues.nonBlank(source, value));
      case "--http-jwt-keys" -> o.gateway.setJwtKeyFiles(java.util.Arrays.stream(OptionValues.nonBlank(source, value).split(","))
          .map(String::trim).filter(f -> !f.isEmpty()).map(f -> OptionValues.readableFile(source, f)).toList());
      case "--http-jwt-algorithm" -> o.gateway.setJwtAlgorithm(OptionValues.nonBlank(source, value));
      case "--http-jwt-issuer" -> o.gateway.setJwtIssuer(OptionValues.nonBlank(source, value));
      case "--http-jwt-audience" -> o.gateway.setJwtAudience(OptionValues.nonBlank(source, value));
      case "--http-max-in-flight" -> o.gateway.setMaxInFlight(OptionValues.intValue(source, value, 1, 1_000_000));
      case "--http-max-connections" -> o.gateway.setMaxConnections(OptionValues.intValue(source, value, 1, 1_000_000));
      case "--http-request-read-timeout" -> o.gateway.setRequestReadTimeoutMs(OptionValues.boundedMs(source, value, 100, 600_000));
      case "--http-idle-timeout" -> o.gateway.setIdleTimeoutSeconds((int) Math.max(1, OptionValues.boundedMs(source, value, 1_000, 3_600_000) / 1000));
      case "--management-port" -> o.gateway.setManagementPort(OptionValues.intValue(source, value, 1, 65535));
      case "--management-host" -> o.gateway.setManagementHost(OptionValues.nonBlank(source, value));
      case "--cluster-name" -> o.clusterName = OptionValues.nonBlank(source, value);
      case "--host" -> o.host = OptionValues.nonBlank(source, value);
      case "--cluster-port" -> o.clusterPort = OptionValues.intValue(source, value, 1, 65535);
      case "--bus-port" -> o.busPort = OptionValues.intValue(source, value, 0, 65535);
      case "--bus-tls-cert" -> o.busTlsCert = OptionValues.readableFile(source, value);
      case "--bus-tls-key" -> o.busTlsKey = OptionValues.readableFile(source, value);
      case "--bus-tls-ca" -> o.busTlsCa = OptionValues.readableFile(source, value);
      case "--members" -> {
        o.members = OptionValues.parseMembers(source, value);
        o.membersSource = source;
      }
      case "--kubernetes-service-dns" -> {
        o.kubernetesServiceDns = OptionValues.nonBlank(source, value);
        o.kubernetesSource = source;
      }
      case "--log-format" -> o.logFormat = LogFormat.parse(source, value);
      case "--metrics" -> o.metrics = OptionValues.booleanValue(source, value);
      case "--tracing-endpoint" -> o.tracingEndpoint = OptionValues.httpUrl(source, value);
      case "--tracing-sample-ratio" -> o.tracingSampleRatio = OptionValues.ratio(source, value);
      case "--max-body-bytes" -> o.gateway.setMaxBodyBytes(OptionValues.intValue(source, value, 1, 64 * 1024 * 1024));
      case "--http-instances" -> o.gateway.setInstances(OptionValues.intValue(source, value, 1, 64));
      case "--config" -> o.configFile = OptionValues.nonBlank(source, value);
      case "--lib" -> o.lib = OptionValues.nonBlank(source, value);
      case "--proxy-only" -> o.proxyOnly = OptionValues.booleanValue(source, value);
      case "--types" -> o.types = OptionValues.typeNames(source, value);
      case "--store" -> o.store = OptionValues.oneOf(source, value, "hazelcast", "replicated", "postgres", "memory", "none");
      case "--postgres-uri" -> o.postgres = OptionValues.postgresOptions(source, value);
      case "--postgres-pool-size" -> o.postgresPoolSize = OptionValues.intValue(source, value, 1, 1024);
      case "--max-active-entities" -> o.maxActiveEntities = OptionValues.intValue(source, value, 1, Integer.MAX_VALUE);
      case "--passivate-after" -> o.passivateAfterMs = OptionValues.durationMs(source, value);
      default -> throw new IllegalArgumentException("unknown option " + flag);
    }
  }

  /** The help text: every option with its environment variable and default. */
  static String describe() {
    StringBuilder sb = new StringBuilder();
    for (Option o : OPTIONS) {
      sb.append(String.format("  %-18s %-24s default: %s%n  %18s %s%n", o.flag(), "(" + o.env() + ")", o.defaultValue(), "", o.help()));
    }
    return sb.toString();
  }
}
