package io.sticky.gateway;

import io.vertx.core.json.JsonObject;

/** REST gateway settings, with documented defaults and a JSON round trip. */
public class GatewayOptions {
  public static final int DEFAULT_PORT = 8080;
  /** Interface the HTTP server binds; all interfaces by default so containers can publish it. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** Largest accepted request body; larger ones get 413 without being buffered. */
  public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;
  /** How often the HTTPS certificate files are checked for a change (a stat of two files). */
  public static final long DEFAULT_TLS_RELOAD_CHECK_MS = 10_000;
  /** HTTP server verticle instances (each on its own event loop). */
  public static final int DEFAULT_INSTANCES = 1;
  /** Requests between arrival and response per node; more get a fast 503 with Retry-After. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 10_000;
  /** Open connections per node on the public port; a request on one more gets 503 and its connection closed. */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  /** A request body must arrive whole within this of its headers (slow-body clients). */
  public static final int DEFAULT_REQUEST_READ_TIMEOUT_MS = 10_000;
  /** A connection that sends and receives nothing for this long is closed (half-open and idle clients). */
  public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 60;
  /** Signature algorithm of accepted JWTs (RS256, RS384, RS512, ES256, ES384, ES512, PS256, ...). */
  public static final String DEFAULT_JWT_ALGORITHM = "RS256";
  /** Interface of the management port when one is set: loopback, so only the host (or the pod) reaches it. */
  public static final String DEFAULT_MANAGEMENT_HOST = "127.0.0.1";

  private int port = DEFAULT_PORT;
  private String host = DEFAULT_HOST;
  private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  private int instances = DEFAULT_INSTANCES;
  /** Null: derived from the bind host (or, when that is a wildcard, the cluster host) and the actual port. */
  private String advertiseUrl;
  /** Bearer tokens and their roles, one per line (null: no access control). */
  private String tokensFile;
  /** PEM public keys that sign accepted JWTs (empty: no JWTs), their algorithm, and the claims they must carry. */
  private java.util.List<String> jwtKeyFiles = java.util.List.of();
  private String jwtAlgorithm = DEFAULT_JWT_ALGORITHM;
  private String jwtIssuer;
  private String jwtAudience;
  /** 0: no management port (management routes on the public port). */
  private int managementPort;
  private String managementHost = DEFAULT_MANAGEMENT_HOST;
  private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private int requestReadTimeoutMs = DEFAULT_REQUEST_READ_TIMEOUT_MS;
  private int idleTimeoutSeconds = DEFAULT_IDLE_TIMEOUT_SECONDS;
  /** PEM certificate chain and private key of the public port: both set, it speaks HTTPS only. */
  private String tlsCertPath;
  private String tlsKeyPath;
  private long tlsReloadCheckMs = DEFAULT_TLS_RELOAD_CHECK_MS;

  public GatewayOptions() {
  }

  public GatewayOptions(JsonObject json) {
    port = json.getInteger("port", DEFAULT_PORT);
    host = json.getString("host", DEFAULT_HOST);
    maxBodyBytes = json.getInteger("maxBodyBytes", DEFAULT_MAX_BODY_BYTES);
    instances = json.getInteger("instances", DEFAULT_INSTANCES);
    advertiseUrl = json.getString("advertiseUrl");
    tokensFile = json.getString("tokensFile");
    io.vertx.core.json.JsonArray keys = json.getJsonArray("jwtKeyFiles");
    jwtKeyFiles = keys == null ? java.util.List.of() : keys.stream().map(String::valueOf).toList();
    jwtAlgorithm = json.getString("jwtAlgorithm", DEFAULT_JWT_ALGORITHM);
    jwtIssuer = json.getString("jwtIssuer");
    jwtAudience = json.getString("jwtAudience");
    managementPort = json.getInteger("managementPort", 0);
    managementHost = json.getString("managementHost", DEFAULT_MANAGEMENT_HOST);
    maxInFlight = json.getInteger("maxInFlight", DEFAULT_MAX_IN_FLIGHT);
    maxConnections = json.getInteger("maxConnections", DEFAULT_MAX_CONNECTIONS);
    requestReadTimeoutMs = json.getInteger("requestReadTimeoutMs", DEFAULT_REQUEST_READ_TIMEOUT_MS);
    idleTimeoutSeconds = json.getInteger("idleTimeoutSeconds", DEFAULT_IDLE_TIMEOUT_SECONDS);
    tlsCertPath = json.getString("tlsCertPath");
    tlsKeyPath = json.getString("tlsKeyPath");
    tlsReloadCheckMs = json.getLong("tlsReloadCheckMs", DEFAULT_TLS_RELOAD_CHECK_MS);
  }

  public JsonObject toJson() {
    return new JsonObject().put("port", port).put("host", host).put("maxBodyBytes", maxBodyBytes).put("instances", instances).put("advertiseUrl", advertiseUrl)
        .put("tokensFile", tokensFile).put("jwtKeyFiles", new io.vertx.core.json.JsonArray(jwtKeyFiles)).put("jwtAlgorithm", jwtAlgorithm)
        .put("jwtIssuer", jwtIssuer).put("jwtAudience", jwtAudience).put("managementPort", managementPort).put("managementHost", managementHost)
        .put("maxInFlight", maxInFlight).put("maxConnections", maxConnections).put("requestReadTimeoutMs", requestReadTimeoutMs)
        .put("idleTimeoutSeconds", idleTimeoutSeconds).put("tlsCertPath", tlsCertPath).put("tlsKeyPath", tlsKeyPath)
        .put("tlsReloadCheckMs", tlsReloadCheckMs);
  }

  public int getPort() {
    return port;
  }

  public GatewayOptions setPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("http port must be 0-65535, got " + port);
    }
    this.port = port;
    return this;
  }

  public String getHost() {
    return host;
  }

  public GatewayOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getMaxBodyBytes() {
    return maxBodyBytes;
  }

  public GatewayOptions setMaxBodyBytes(int maxBodyBytes) {
    if (maxBodyBytes <= 0) {
      throw new IllegalArgumentException("max body bytes must be positive, got " + maxBodyBytes);
    }
    this.maxBodyBytes = maxBodyBytes;
    return this;
  }

  /** The URL clients and other nodes reach this gateway at, or null to derive it (see {@link #advertisedUrl}). */
  public String getAdvertiseUrl() {
    return advertiseUrl;
  }

  public GatewayOptions setAdvertiseUrl(String advertiseUrl) {
    this.advertiseUrl = advertiseUrl;
    return this;
  }

  /**
   * The URL to advertise: {@link #getAdvertiseUrl()} if set, else {@code http://<bind host>:<port>}, with
   * {@code clusterHost} in place of a wildcard bind host (0.0.0.0 or ::), as other nodes reach this one there.
   */
  public String advertisedUrl(String clusterHost, int actualPort) {
    if (advertiseUrl != null) {
      return advertiseUrl;
    }
    String h = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") ? clusterHost : host;
    return (isTls() ? "https://" : "http://") + (h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h) + ":" + actualPort;
  }

  /**
   * A file of bearer tokens, one {@code <token> <role>[,<role>...]} per line (roles read, write, admin), or null:
   * then the gateway asks for no credentials.
   */
  public String getTokensFile() {
    return tokensFile;
  }

  public GatewayOptions setTokensFile(String tokensFile) {
    this.tokensFile = tokensFile;
    return this;
  }

  /**
   * PEM public keys (files) of the issuers whose JWT bearer tokens are accepted; empty (the default): no JWTs.
   * A JWT must be signed with one of them using {@link #getJwtAlgorithm()}, must not be expired (and must carry
   * {@code exp}), must match {@link #getJwtIssuer()} and {@link #getJwtAudience()} when set, and carries its
   * roles in a {@code roles} claim (array) or {@code scope} (space-separated): read, write, admin.
   */
  public java.util.List<String> getJwtKeyFiles() {
    return jwtKeyFiles;
  }

  public GatewayOptions setJwtKeyFiles(java.util.List<String> jwtKeyFiles) {
    this.jwtKeyFiles = java.util.List.copyOf(jwtKeyFiles);
    return this;
  }

  public String getJwtAlgorithm() {
    return jwtAlgorithm;
  }

  public GatewayOptions setJwtAlgorithm(String jwtAlgorithm) {
    this.jwtAlgorithm = java.util.Objects.requireNonNull(jwtAlgorithm, "jwtAlgorithm");
    return this;
  }

  /** The {@code iss} an accepted JWT must carry; null: any. */
  public String getJwtIssuer() {
    return jwtIssuer;
  }

  public GatewayOptions setJwtIssuer(String jwtIssuer) {
    this.jwtIssuer = jwtIssuer;
    return this;
  }

  /** An {@code aud} an accepted JWT must carry; null: any. */
  public String getJwtAudience() {
    return jwtAudience;
  }

  public GatewayOptions setJwtAudience(String jwtAudience) {
    this.jwtAudience = jwtAudience;
    return this;
  }

  /**
   * The port of /health/*, /cluster* (but /cluster/routing, which clients use), /metrics and /openapi.json,
   * which then leave the public port; 0 (the default) keeps them on the public port.
   */
  public int getManagementPort() {
    return managementPort;
  }

  public GatewayOptions setManagementPort(int managementPort) {
    if (managementPort < 0 || managementPort > 65535) {
      throw new IllegalArgumentException("management port must be 1-65535 (0: none), got " + managementPort);
    }
    this.managementPort = managementPort;
    return this;
  }

  public String getManagementHost() {
    return managementHost;
  }

  public GatewayOptions setManagementHost(String managementHost) {
    this.managementHost = managementHost;
    return this;
  }

  public int getMaxInFlight() {
    return maxInFlight;
  }

  /** Open connections per node on the public port (all gateway instances together). */
  public int getMaxConnections() {
    return maxConnections;
  }

  public GatewayOptions setMaxConnections(int maxConnections) {
    this.maxConnections = positive("max connections", maxConnections);
    return this;
  }

  public GatewayOptions setMaxInFlight(int maxInFlight) {
    this.maxInFlight = positive("max in-flight requests", maxInFlight);
    return this;
  }

  public int getRequestReadTimeoutMs() {
    return requestReadTimeoutMs;
  }

  public GatewayOptions setRequestReadTimeoutMs(int requestReadTimeoutMs) {
    this.requestReadTimeoutMs = positive("request read timeout", requestReadTimeoutMs);
    return this;
  }

  public int getIdleTimeoutSeconds() {
    return idleTimeoutSeconds;
  }

  public GatewayOptions setIdleTimeoutSeconds(int idleTimeoutSeconds) {
    this.idleTimeoutSeconds = positive("idle timeout", idleTimeoutSeconds);
    return this;
  }

  /** The PEM certificate (chain) of the public port, or null for plain HTTP. */
  public String getTlsCertPath() {
    return tlsCertPath;
  }

  public GatewayOptions setTlsCertPath(String tlsCertPath) {
    this.tlsCertPath = tlsCertPath;
    return this;
  }

  /** How often the certificate and key files are checked, and reloaded when changed; 0 = never (default 10 s). */
  public long getTlsReloadCheckMs() {
    return tlsReloadCheckMs;
  }

  public GatewayOptions setTlsReloadCheckMs(long tlsReloadCheckMs) {
    this.tlsReloadCheckMs = tlsReloadCheckMs;
    return this;
  }

  /** The PEM private key (PKCS#8 or PKCS#1) that goes with {@link #getTlsCertPath()}. */
  public String getTlsKeyPath() {
    return tlsKeyPath;
  }

  public GatewayOptions setTlsKeyPath(String tlsKeyPath) {
    this.tlsKeyPath = tlsKeyPath;
    return this;
  }

  /** Whether the public port speaks HTTPS (both a certificate and a key are set). */
  public boolean isTls() {
    return tlsCertPath != null && tlsKeyPath != null;
  }

  private static int positive(String what, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(what + " must be positive, got " + value);
    }
    return value;
  }

  public int getInstances() {
    return instances;
  }

  public GatewayOptions setInstances(int instances) {
    if (instances <= 0) {
      throw new IllegalArgumentException("http instances must be positive, got " + instances);
    }
    this.instances = instances;
    return this;
  }
}
