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
import io.vertx.core.json.JsonObject;
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

/** Bearer tokens with roles on the gateway, and the management port, on a real node over real HTTP. */
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
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setTokensFile(tokens.toString()).setManagementPort(managementPort);
      return o;
    });
    StickyNode node = cluster.node(0);
    port = node.httpPort();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static Map<String, String> bearer(String token) {
    return Map.of("Authorization", "Bearer " + token);
  }

  private static Response increment(String token) {
    return Http.post("http://127.0.0.1:" + port + "/entities/counter/guarded", "{\"op\":\"increment\"}",
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
