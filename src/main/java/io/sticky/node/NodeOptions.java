package io.sticky.node;

import io.sticky.api.StickyOptions;
import io.sticky.gateway.GatewayOptions;
import io.sticky.store.PostgresStoreOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How to run one node: cluster membership, the HTTP gateway, the store, observability. A plain options object
 * with setters (for code and tests); {@link #parse} reads the launcher's config file, environment and command
 * line through {@link NodeOptionsParser}, whose catalogue {@link #describe()} prints.
 */
public final class NodeOptions {
  public static final String DEFAULT_CLUSTER_NAME = "sticky";
  /** Interface for Hazelcast and the event bus, and the address other nodes reach this one on. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** First Hazelcast port; the next free one up to +19 is taken if it is busy (several nodes per host). */
  public static final int DEFAULT_CLUSTER_PORT = 5701;
  /** How many ports from the cluster port the default member list names. */
  static final int DEFAULT_MEMBER_PORTS = 5;
  /** Metrics cost little (counters, and one histogram per type and outcome) and are what operators look at first. */
  public static final boolean DEFAULT_METRICS = true;
  /** Every trace, as a collector's tail sampling expects; lower it when the collector samples nothing itself. */
  public static final double DEFAULT_TRACING_SAMPLE_RATIO = 1.0;


  String clusterName = DEFAULT_CLUSTER_NAME;
  String host = DEFAULT_HOST;
  int clusterPort = DEFAULT_CLUSTER_PORT;
  int busPort;
  boolean clusterPortAutoIncrement = true;
  String busTlsCert;
  String busTlsKey;
  String busTlsCa;
  List<String> members;
  /** Where members and the Kubernetes service came from, to name both when they are set together. */
  String membersSource;
  String kubernetesServiceDns;
  String kubernetesSource;
  LogFormat logFormat = LogFormat.TEXT;
  boolean metrics = DEFAULT_METRICS;
  String tracingEndpoint;
  double tracingSampleRatio = DEFAULT_TRACING_SAMPLE_RATIO;
  final GatewayOptions gateway = new GatewayOptions();
  String configFile;
  String lib;
  boolean proxyOnly;
  List<String> types;
  String store = StickyOptions.DEFAULT_DEFAULT_STORE;
  /** Entity-type settings given as flags (null = not given): they replace the file's entity-types.defaults. */
  Integer maxActiveEntities;
  Long passivateAfterMs;
  PostgresStoreOptions postgres;
  int postgresPoolSize = PostgresStoreOptions.DEFAULT_POOL_SIZE;

  /**
   * Parses the config file's {@code node} section, then the environment, then arguments (each wins over the one
   * before); see {@link NodeOptionsParser}.
   */
  public static NodeOptions parse(String[] args, Map<String, String> env) {
    return NodeOptionsParser.parse(args, env, NodeConfig.defaults());
  }

  /** As {@link #parse(String[], Map)}, with the {@code node} section of a config file under both. */
  public static NodeOptions parse(String[] args, Map<String, String> env, NodeConfig file) {
    return NodeOptionsParser.parse(args, env, file);
  }

  /** Entity-type settings given as flags or environment variables, as EntityTypeOptions JSON keys. */
  public io.vertx.core.json.JsonObject typeDefaults() {
    io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject();
    if (maxActiveEntities != null) {
      json.put("maxActiveEntities", maxActiveEntities);
    }
    if (passivateAfterMs != null) {
      json.put("passivateAfterMs", passivateAfterMs);
    }
    return json;
  }

  /** The help text: every option with its environment variable and default. */
  public static String describe() {
    return NodeOptionsParser.describe();
  }

  public String getClusterName() {
    return clusterName;
  }

  public NodeOptions setClusterName(String clusterName) {
    this.clusterName = clusterName;
    return this;
  }

  public String getHost() {
    return host;
  }

  public NodeOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getClusterPort() {
    return clusterPort;
  }

  public NodeOptions setClusterPort(int clusterPort) {
    this.clusterPort = clusterPort;
    return this;
  }

  /** Event-bus TCP port (0 = any free port). */
  public int getBusPort() {
    return busPort;
  }

  public NodeOptions setBusPort(int busPort) {
    this.busPort = busPort;
    return this;
  }

  /** Whether the event bus runs mutual TLS (all three PEM files set). */
  public boolean isBusTls() {
    return busTlsCert != null;
  }

  /** This node's PEM certificate on the event bus, or null (plaintext). */
  public String getBusTlsCert() {
    return busTlsCert;
  }

  public String getBusTlsKey() {
    return busTlsKey;
  }

  /** The PEM certificates a peer's certificate must chain to. */
  public String getBusTlsCa() {
    return busTlsCa;
  }

  /** Mutual TLS on the event bus: this node's certificate and key, and the CA its peers' certificates must chain to. */
  public NodeOptions setBusTls(String cert, String key, String ca) {
    if ((cert == null) != (key == null) || (cert == null) != (ca == null)) {
      throw new IllegalArgumentException("bus TLS needs a certificate, its key and a CA, or none of them");
    }
    this.busTlsCert = cert;
    this.busTlsKey = key;
    this.busTlsCa = ca;
    return this;
  }

  /** Whether Hazelcast may try the next ports when the cluster port is busy (default true). */
  public boolean isClusterPortAutoIncrement() {
    return clusterPortAutoIncrement;
  }

  public NodeOptions setClusterPortAutoIncrement(boolean autoIncrement) {
    this.clusterPortAutoIncrement = autoIncrement;
    return this;
  }

  /** Members to join through: the explicit list, else host:clusterPort .. host:clusterPort+4. */
  public List<String> getMembers() {
    if (members != null) {
      return members;
    }
    List<String> defaults = new ArrayList<>();
    for (int i = 0; i < DEFAULT_MEMBER_PORTS; i++) {
      defaults.add(host + ":" + (clusterPort + i));
    }
    return defaults;
  }

  public NodeOptions setMembers(List<String> members) {
    this.members = List.copyOf(members);
    return this;
  }

  /**
   * DNS name of the headless Service whose records are the nodes' pods (e.g.
   * {@code sticky-hazelcast.default.svc.cluster.local}), or null: then the TCP/IP member list is used.
   */
  public String getKubernetesServiceDns() {
    return kubernetesServiceDns;
  }

  public NodeOptions setKubernetesServiceDns(String kubernetesServiceDns) {
    this.kubernetesServiceDns = kubernetesServiceDns;
    return this;
  }

  public LogFormat getLogFormat() {
    return logFormat;
  }

  public NodeOptions setLogFormat(LogFormat logFormat) {
    this.logFormat = logFormat;
    return this;
  }

  /** The OTLP/HTTP collector URL that spans go to, or null (default): no tracing. */
  public String getTracingEndpoint() {
    return tracingEndpoint;
  }

  public NodeOptions setTracingEndpoint(String tracingEndpoint) {
    this.tracingEndpoint = tracingEndpoint;
    return this;
  }

  /** Share of new traces recorded (default 1.0); traces that arrive sampled are always recorded. */
  public double getTracingSampleRatio() {
    return tracingSampleRatio;
  }

  public NodeOptions setTracingSampleRatio(double tracingSampleRatio) {
    this.tracingSampleRatio = tracingSampleRatio;
    return this;
  }

  /** Whether the node keeps Micrometer metrics and serves them at GET /metrics (default true). */
  public boolean isMetrics() {
    return metrics;
  }

  public NodeOptions setMetrics(boolean metrics) {
    this.metrics = metrics;
    return this;
  }

  /** Whether this node only routes and never hosts an entity (--proxy-only). */
  public boolean isProxyOnly() {
    return proxyOnly;
  }

  public NodeOptions setProxyOnly(boolean proxyOnly) {
    this.proxyOnly = proxyOnly;
    return this;
  }

  /** The directory of jars with entity-type providers (--lib), or null. */
  public String getLib() {
    return lib;
  }

  public NodeOptions setLib(String lib) {
    this.lib = lib;
    return this;
  }

  /** The entity types this node hosts (--types), or null for every type found. */
  public List<String> getTypes() {
    return types;
  }

  public NodeOptions setTypes(List<String> types) {
    this.types = types == null ? null : List.copyOf(types);
    return this;
  }

  /** The config file named by --config / STICKY_CONFIG, or null. */
  public String getConfigFile() {
    return configFile;
  }

  /** Finds --config (or STICKY_CONFIG) before the rest is parsed, so the file can sit under both. */
  public static String configFileOf(String[] args, Map<String, String> env) {
    String found = env.get("STICKY_CONFIG");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        found = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        found = args[i].substring("--config=".length());
      }
    }
    return found == null || found.isBlank() ? null : found;
  }

  /** The default state store name (--store). */
  public String getStore() {
    return store;
  }

  public NodeOptions setStore(String store) {
    this.store = OptionValues.oneOf("store", store, "hazelcast", "replicated", "postgres", "memory", "none");
    return this;
  }

  /** PostgreSQL store settings, or null when no --postgres-uri was given (the postgres store is then absent). */
  public PostgresStoreOptions getPostgres() {
    return postgres;
  }

  public NodeOptions setPostgres(PostgresStoreOptions postgres) {
    this.postgres = postgres;
    return this;
  }

  public GatewayOptions getGateway() {
    return gateway;
  }
}
