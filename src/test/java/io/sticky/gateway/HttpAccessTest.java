package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.api.EntityType;
import io.sticky.client.StickyClient;
import io.sticky.client.StickyClientOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.node.FreePorts;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens (static and JWT) with roles on the gateway, and the management port, on a real node over real HTTP. */
class HttpAccessTest {
  private static final String READER = "reader-token-0123456789";
  private static final String WRITER = "writer-token-0123456789";
  private static final String ADMIN = "admin-token-012345678901";
  private static final String ALL = "all-roles-token-0123456789";

  @TempDir
  static Path dir;
  private static TestCluster cluster;
  private static int port;
  private static int managementPort;

  @BeforeAll
  static void start() throws IOException {
    Path tokens = Files.writeString(dir.resolve("tokens"), "# token role[,role]\n" + READER + " read\n" + WRITER + " write\n\n"
        + ADMIN + " admin\n" + ALL + " read,write,admin\n");
    managementPort = FreePorts.onLoopback(1).get(0);
    KeyPair issuerKeys = rsaKeys();
    Path issuerPublicKey = Files.writeString(dir.resolve("issuer.pem"), pem("PUBLIC KEY", issuerKeys.getPublic().getEncoded()));
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setTokensFile(tokens.toString()).setManagementPort(managementPort)
          .setJwtKeyFiles(List.of(issuerPublicKey.toString())).setJwtIssuer(ISSUER).setJwtAudience(AUDIENCE);
      return o;
    });
    StickyNode node = cluster.node(0);
    port = node.httpPort();
    issuer = signer(issuerKeys);
    impostor = signer(rsaKeys());
  }

  // ---------------------------------------------------------------- JWTs

  private static final String ISSUER = "https://issuer.example";
  private static final String AUDIENCE = "sticky";
  /** Signs with the key the node trusts, and with one it does not. */
  private static JWTAuth issuer;
  private static JWTAuth impostor;

  private static KeyPair rsaKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String kind, byte[] der) {
    return "-----BEGIN " + kind + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + kind + "-----\n";
  }

  private static JWTAuth signer(KeyPair keys) {
    return JWTAuth.create(cluster.node(0).vertx(), new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(pem("PRIVATE KEY", keys.getPrivate().getEncoded())))
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(pem("PUBLIC KEY", keys.getPublic().getEncoded()))));
  }

  private static String jwt(JWTAuth signer, JsonObject claims, String iss, String aud, Integer expiresInSeconds) {
    JWTOptions options = new JWTOptions().setAlgorithm("RS256").setIssuer(iss).setAudience(List.of(aud));
    if (expiresInSeconds != null) {
      options.setExpiresInSeconds(expiresInSeconds);
    }
    return signer.generateToken(claims, options);
  }

  private static JsonObject roles(String... roles) {
    return new JsonObject().put("sub", "alice").put("roles", new JsonArray(List.of(roles)));
  }

  @Test
  void aSignedUnexpiredJwtWithTheRoleIsAcceptedAndAnyOtherIsRefused() {
    String writer = jwt(issuer, roles("write"), ISSUER, AUDIENCE, 60);
    Response accepted = increment("jwt", writer);
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(200);
    assertThat(Http.get(port, "/entities/counter/jwt", bearer(writer)).status()).as("write does not imply read").isEqualTo(403);
    String scoped = jwt(issuer, new JsonObject().put("sub", "bob").put("scope", "read other"), ISSUER, AUDIENCE, 60);
    assertThat(Http.get(port, "/entities/counter/jwt", bearer(scoped)).status()).as("roles from scope").isEqualTo(200);

    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("another key", jwt(impostor, roles("write"), ISSUER, AUDIENCE, 60));
    refused.put("expired", jwt(issuer, roles("write"), ISSUER, AUDIENCE, -300));
    refused.put("never expires", jwt(issuer, roles("write"), ISSUER, AUDIENCE, null));
    refused.put("another issuer", jwt(issuer, roles("write"), "https://elsewhere.example", AUDIENCE, 60));
    refused.put("another audience", jwt(issuer, roles("write"), ISSUER, "someone-else", 60));
    String tampered = jwt(issuer, roles("read"), ISSUER, AUDIENCE, 60);
    String[] parts = tampered.split("\\.");
    refused.put("tampered", parts[0] + "." + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(roles("write", "admin").put("iss", ISSUER).put("aud", AUDIENCE).put("exp", 4_000_000_000L).encode().getBytes()) + "." + parts[2]);
    long before = Http.get(port, "/entities/counter/jwt", bearer(READER)).json().getLong("value");
    refused.forEach((why, token) -> {
      Response r = increment("jwt", token);
      assertThat(r.status()).as(why).isEqualTo(401);
      assertThat(r.header("Content-Type")).as(why).startsWith(Problem.CONTENT_TYPE);
    });
    assertThat(Http.get(port, "/entities/counter/jwt", bearer(READER)).json().getLong("value")).as("nothing applied")
        .isEqualTo(before);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  private static Response increment(String token) {
    return increment("guarded", token);
  }

  private static Response increment(String id, String token) {
    return Http.post("http://127.0.0.1:" + port + "/entities/counter/" + id, "{\"op\":\"increment\"}",
        token == null ? Map.of() : bearer(token));
  }

  @Test
  void entityCallsNeedATokenWithTheRoleAndARefusedOneAppliesNothing() {
    Response anonymous = increment(null);
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
    assertThat(anonymous.header("Content-Type")).startsWith(Problem.CONTENT_TYPE);
    assertThat(increment("not-a-known-token-at-all").status()).isEqualTo(401);
    Response readOnly = increment(READER);
    assertThat(readOnly.status()).isEqualTo(403);
    assertThat(readOnly.json().getString("detail")).contains("write");
    assertThat(Http.get(port, "/entities/counter/guarded", bearer(WRITER)).status()).as("write does not imply read").isEqualTo(403);

    Response view = Http.get(port, "/entities/counter/guarded", bearer(READER));
    assertThat(view.status()).isEqualTo(200);
    assertThat(view.json().getLong("value")).as("the refused calls applied nothing").isZero();
    assertThat(increment(WRITER).json().getLong("value")).isEqualTo(1);
    assertThat(increment(ALL).json().getLong("value")).isEqualTo(2);
  }

  @Test
  void stickyClientCallsWithItsToken() throws Exception {
    StickyClient client = StickyClient.connect(cluster.node(0).vertx(), new StickyClientOptions()
        .setSeeds(List.of("http://127.0.0.1:" + port)).setBearerToken(ALL)).await(20, TimeUnit.SECONDS);
    try {
      JsonObject reply = client.ask("counter", "client-1", new JsonObject().put("op", "increment")).await(20, TimeUnit.SECONDS);
      assertThat(reply.getLong("value")).isEqualTo(1);
    } finally {
      client.close();
    }
  }

  @Test
  void managementRoutesLeaveThePublicPortForTheManagementPort() {
    for (String path : List.of("/cluster", "/cluster/shards", "/metrics", "/openapi.json", "/health/ready", "/health/live")) {
      assertThat(Http.get(port, path, bearer(ALL)).status()).as("public " + path).isEqualTo(404);
    }
    assertThat(Http.get(port, "/cluster/routing", bearer(READER)).status()).as("clients' routing table stays public").isEqualTo(200);
    assertThat(Http.get(port, "/cluster/routing").status()).isEqualTo(401);

    assertThat(Http.get(managementPort, "/health/ready").status()).as("probes need no token").isEqualTo(200);
    assertThat(Http.get(managementPort, "/health/live").status()).isEqualTo(200);
    for (String path : List.of("/cluster", "/cluster/shards", "/metrics", "/openapi.json")) {
      assertThat(Http.get(managementPort, path).status()).as("anonymous " + path).isEqualTo(401);
      assertThat(Http.get(managementPort, path, bearer(READER)).status()).as("reader " + path).isEqualTo(403);
      assertThat(Http.get(managementPort, path, bearer(ADMIN)).status()).as("admin " + path).isEqualTo(200);
    }
    assertThat(Http.get(managementPort, "/entities/counter/guarded", bearer(ALL)).status()).as("entities stay public").isEqualTo(404);
  }

  @Test
  void aTokensFileWithAMistakeIsRefusedNamingTheLine() throws IOException {
    Path shortToken = Files.writeString(dir.resolve("short"), "abc read\n");
    assertThatThrownBy(() -> HttpAccess.fromTokensFile(shortToken.toString())).hasMessageContaining("line 1")
        .hasMessageContaining("at least 16");
    Path badRole = Files.writeString(dir.resolve("role"), READER + " read\n" + WRITER + " write,root\n");
    assertThatThrownBy(() -> HttpAccess.fromTokensFile(badRole.toString())).hasMessageContaining("line 2")
        .hasMessageContaining("unknown role 'root'");
    Path empty = Files.writeString(dir.resolve("empty"), "# nothing\n");
    assertThatThrownBy(() -> HttpAccess.fromTokensFile(empty.toString())).hasMessageContaining("lists no token");
  }
}
