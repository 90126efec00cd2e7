package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.api.EntityTypeOptions;
import io.sticky.api.StickyOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {

  @Test
  void theShippedReferenceConfigIsValidAndStatesTheDefaults() {
    NodeConfig ref = NodeConfig.load("conf/sticky.reference.yaml");
    NodeOptions fromFile = NodeOptions.parse(new String[0], Map.of(), ref);
    NodeOptions builtIn = NodeOptions.parse(new String[0], Map.of());
    assertThat(fromFile.getGateway().toJson()).isEqualTo(builtIn.getGateway().toJson());
    assertThat(fromFile.getClusterName()).isEqualTo(builtIn.getClusterName());
    assertThat(fromFile.getHost()).isEqualTo(builtIn.getHost());
    assertThat(fromFile.getClusterPort()).isEqualTo(builtIn.getClusterPort());
    assertThat(fromFile.getBusPort()).isEqualTo(builtIn.getBusPort());
    assertThat(fromFile.getMembers()).isEqualTo(builtIn.getMembers());
    assertThat(fromFile.getStore()).isEqualTo(builtIn.getStore());
    assertThat(fromFile.getPostgres()).isNull();
    assertThat(fromFile.getLogFormat()).isEqualTo(builtIn.getLogFormat());
    assertThat(fromFile.isMetrics()).isEqualTo(builtIn.isMetrics()).isTrue();
    assertThat(fromFile.getKubernetesServiceDns()).isEqualTo(builtIn.getKubernetesServiceDns()).isNull();
    assertThat(ref.sharding()).isEqualTo(new StickyOptions());
    assertThat(ref.typeOptions("counter")).isEqualTo(new EntityTypeOptions());
  }

  @Test
  void commandLineBeatsEnvironmentBeatsFileBeatsDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, """
        node:
          http-port: 9000
          cluster-name: from-file
          members: [ "10.0.0.1:5701", "10.0.0.2:5701" ]
        sharding:
          maxRouteAttempts: 9
        entity-types:
          defaults:
            askTimeoutMs: 2500
          counter:
            numberOfShards: 7
        """);
    NodeConfig config = NodeConfig.load(file.toString());
    NodeOptions o = NodeOptions.parse(new String[0], Map.of("STICKY_CLUSTER_NAME", "from-env"), config);
    assertThat(o.getGateway().getPort()).as("file").isEqualTo(9000);
    assertThat(o.getClusterName()).as("env over file").isEqualTo("from-env");
    assertThat(o.getMembers()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
    assertThat(o.getGateway().getMaxBodyBytes()).as("default").isEqualTo(65536);
    assertThat(NodeOptions.parse(new String[] {"--http-port", "9100"}, Map.of("STICKY_HTTP_PORT", "9050"), config).getGateway().getPort())
        .as("command line over env over file").isEqualTo(9100);
    assertThat(config.sharding().getMaxRouteAttempts()).isEqualTo(9);
    assertThat(config.typeOptions("counter").getNumberOfShards()).isEqualTo(7);
    assertThat(config.typeOptions("counter").getAskTimeoutMs()).as("file defaults apply to every type").isEqualTo(2500);
    assertThat(config.typeOptions("cart").getNumberOfShards()).isEqualTo(EntityTypeOptions.DEFAULT_NUMBER_OF_SHARDS);
    assertThat(NodeOptions.configFileOf(new String[] {"--config", "a.yaml"}, Map.of("STICKY_CONFIG", "b.yaml"))).isEqualTo("a.yaml");
    assertThat(NodeOptions.configFileOf(new String[0], Map.of("STICKY_CONFIG", "b.yaml"))).isEqualTo("b.yaml");
  }

  @Test
  void invalidConfigFailsWithAMessageNamingTheKey(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> NodeConfig.of(new JsonObject().put("nodes", new JsonObject()), "f")).hasMessageContaining("'nodes'");
    assertThatThrownBy(() -> NodeConfig.of(new JsonObject().put("node", new JsonObject().put("htp-port", 1)), "f"))
        .hasMessageContaining("node.htp-port");
    assertThatThrownBy(() -> NodeConfig.of(new JsonObject().put("sharding", new JsonObject().put("nope", 1)), "f"))
        .hasMessageContaining("sharding.nope");
    assertThatThrownBy(() -> NodeConfig.of(new JsonObject().put("sharding", new JsonObject().put("maxRouteAttempts", 0)), "f"))
        .hasMessageContaining("maxRouteAttempts");
    assertThatThrownBy(() -> NodeConfig.of(new JsonObject().put("sharding", new JsonObject().put("maxRouteAttempts", "many")), "f"))
        .hasMessageContaining("sharding");
    assertThatThrownBy(() -> NodeConfig.of(new JsonObject().put("entity-types",
        new JsonObject().put("counter", new JsonObject().put("shards", 3))), "f")).hasMessageContaining("entity-types.counter.shards");
    NodeConfig badPort = NodeConfig.of(new JsonObject().put("node", new JsonObject().put("http-port", "eighty")), "f");
    assertThatThrownBy(() -> NodeOptions.parse(new String[0], Map.of(), badPort)).hasMessageContaining("node.http-port");
    assertThatThrownBy(() -> NodeConfig.load(dir.resolve("missing.yaml").toString())).hasMessageContaining("does not exist");
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "node: [unclosed");
    assertThatThrownBy(() -> NodeConfig.load(broken.toString())).hasMessageContaining("broken.yaml");
  }
}
