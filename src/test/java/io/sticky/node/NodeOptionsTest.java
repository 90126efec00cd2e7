package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeOptionsTest {

  @Test
  void defaultsFormALoopbackClusterOnTheDocumentedPorts() {
    NodeOptions o = NodeOptions.parse(new String[0], Map.of());
    assertThat(o.getGateway().getPort()).isEqualTo(8080);
    assertThat(o.getClusterName()).isEqualTo("sticky");
    assertThat(o.getHost()).isEqualTo("127.0.0.1");
    assertThat(o.getMembers()).containsExactly("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703", "127.0.0.1:5704", "127.0.0.1:5705");
  }

  @Test
  void commandLineWinsOverEnvironment() {
    NodeOptions o = NodeOptions.parse(new String[] {"--http-port", "8081", "--cluster-name=blue"},
        Map.of("STICKY_HTTP_PORT", "9000", "STICKY_CLUSTER_NAME", "green", "STICKY_CLUSTER_PORT", "6000"));
    assertThat(o.getGateway().getPort()).isEqualTo(8081);
    assertThat(o.getClusterName()).isEqualTo("blue");
    assertThat(o.getClusterPort()).as("from the environment").isEqualTo(6000);
    assertThat(o.getMembers()).first().isEqualTo("127.0.0.1:6000");
  }

  @Test
  void explicitMembersAndHost() {
    NodeOptions o = NodeOptions.parse(new String[] {"--host", "10.0.0.5", "--members", "10.0.0.5:5701, 10.0.0.6:5701"}, Map.of());
    assertThat(o.getMembers()).containsExactly("10.0.0.5:5701", "10.0.0.6:5701");
    Config hz = HazelcastConfigs.create(o);
    assertThat(hz.getNetworkConfig().getJoin().getTcpIpConfig().getMembers()).containsExactly("10.0.0.5:5701", "10.0.0.6:5701");
    assertThat(hz.getNetworkConfig().getJoin().getMulticastConfig().isEnabled()).isFalse();
    assertThat(hz.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.0.0.5");
  }

  @Test
  void kubernetesServiceDnsReplacesTheTcpMemberList() {
    NodeOptions o = NodeOptions.parse(new String[] {"--cluster-port", "5801"},
        Map.of("STICKY_KUBERNETES_SERVICE_DNS", "sticky-hazelcast.prod.svc.cluster.local", "STICKY_HOST", "10.1.2.3"));
    JoinConfig join = HazelcastConfigs.create(o).getNetworkConfig().getJoin();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperty("service-dns")).isEqualTo("sticky-hazelcast.prod.svc.cluster.local");
    assertThat(join.getKubernetesConfig().getProperty("service-port")).as("pods are dialled on the cluster port").isEqualTo("5801");
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.isAutoDetectionEnabled()).isFalse();
    join.verify(); // Hazelcast's own check: exactly one join method enabled

    JoinConfig tcp = HazelcastConfigs.create(NodeOptions.parse(new String[0], Map.of())).getNetworkConfig().getJoin();
    assertThat(tcp.getKubernetesConfig().isEnabled()).as("off by default").isFalse();
    assertThat(tcp.getTcpIpConfig().isEnabled()).isTrue();
    tcp.verify();
  }

  @Test
  void membersAndKubernetesDiscoveryTogetherAreRefusedNamingBoth() {
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--members", "10.0.0.1:5701"},
        Map.of("STICKY_KUBERNETES_SERVICE_DNS", "sticky-hazelcast")))
        .hasMessageContaining("--members").hasMessageContaining("STICKY_KUBERNETES_SERVICE_DNS");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--kubernetes-service-dns", " "}, Map.of()))
        .hasMessageContaining("--kubernetes-service-dns");
  }

  @Test
  void metricsAreOnUnlessTurnedOff() {
    assertThat(NodeOptions.parse(new String[0], Map.of()).isMetrics()).isTrue();
    assertThat(NodeOptions.parse(new String[0], Map.of("STICKY_METRICS", "false")).isMetrics()).isFalse();
    assertThat(NodeOptions.parse(new String[] {"--metrics", "true"}, Map.of("STICKY_METRICS", "false")).isMetrics()).isTrue();
    assertThat(NodeOptions.parse(new String[] {"--metrics=FALSE"}, Map.of()).isMetrics()).isFalse();
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--metrics", "yes"}, Map.of()))
        .hasMessageContaining("--metrics").hasMessageContaining("true or false");
  }

  @Test
  void logFormatIsTextUnlessJsonIsAsked() {
    assertThat(NodeOptions.parse(new String[0], Map.of()).getLogFormat()).isEqualTo(LogFormat.TEXT);
    assertThat(NodeOptions.parse(new String[0], Map.of("STICKY_LOG_FORMAT", "json")).getLogFormat()).isEqualTo(LogFormat.JSON);
    assertThat(NodeOptions.parse(new String[] {"--log-format=text"}, Map.of("STICKY_LOG_FORMAT", "json")).getLogFormat())
        .isEqualTo(LogFormat.TEXT);
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--log-format", "xml"}, Map.of()))
        .hasMessageContaining("--log-format").hasMessageContaining("text or json");
  }

  @Test
  void tracingIsOffUntilAnEndpointIsGiven() {
    NodeOptions none = NodeOptions.parse(new String[0], Map.of());
    assertThat(none.getTracingEndpoint()).isNull();
    assertThat(none.getTracingSampleRatio()).isEqualTo(1.0);
    NodeOptions on = NodeOptions.parse(new String[] {"--tracing-sample-ratio", "0.25"},
        Map.of("STICKY_TRACING_ENDPOINT", "http://collector:4318/"));
    assertThat(on.getTracingEndpoint()).isEqualTo("http://collector:4318");
    assertThat(on.getTracingSampleRatio()).isEqualTo(0.25);
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--tracing-sample-ratio", "2"}, Map.of()))
        .hasMessageContaining("--tracing-sample-ratio").hasMessageContaining("0 to 1");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--tracing-endpoint", "collector:4318"}, Map.of()))
        .hasMessageContaining("--tracing-endpoint");
  }

  @Test
  void invalidInputNamesTheOption() {
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--http-port", "x"}, Map.of())).hasMessageContaining("--http-port");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--http-port", "70000"}, Map.of())).hasMessageContaining("--http-port");
    assertThatThrownBy(() -> NodeOptions.parse(new String[0], Map.of("STICKY_CLUSTER_PORT", "abc"))).hasMessageContaining("STICKY_CLUSTER_PORT");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--nope"}, Map.of())).hasMessageContaining("--nope");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--members"}, Map.of())).hasMessageContaining("needs a value");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--members", "hostonly"}, Map.of())).hasMessageContaining("host:port");
  }

  @Test
  void helpListsEveryOptionWithItsEnvironmentVariable() {
    String help = NodeOptions.describe();
    for (NodeOptionsParser.Option o : NodeOptionsParser.OPTIONS) {
      assertThat(help).contains(o.flag()).contains(o.env()).contains(o.defaultValue());
    }
    assertThat(NodeOptionsParser.OPTIONS).extracting(NodeOptionsParser.Option::flag)
        .containsAll(List.of("--http-port", "--cluster-name", "--cluster-port", "--members", "--host"));
  }

  @Test
  void passivationFlagsBecomeTypeDefaultsThatATypesOwnFileSectionOverrides() {
    NodeOptions o = NodeOptions.parse(new String[] {"--passivate-after", "90s"}, Map.of("STICKY_MAX_ACTIVE_ENTITIES", "5000"));
    assertThat(o.typeDefaults().getLong("passivateAfterMs")).isEqualTo(90_000);
    assertThat(o.typeDefaults().getInteger("maxActiveEntities")).isEqualTo(5_000);
    NodeConfig file = NodeConfig.of(new io.vertx.core.json.JsonObject()
        .put("entity-types", new io.vertx.core.json.JsonObject()
            .put("defaults", new io.vertx.core.json.JsonObject().put("maxActiveEntities", 10).put("passivateAfterMs", 1))
            .put("cart", new io.vertx.core.json.JsonObject().put("maxActiveEntities", 7))), "test");
    assertThat(file.typeOptions("counter", o.typeDefaults()).getMaxActiveEntities()).as("flag over file defaults").isEqualTo(5_000);
    assertThat(file.typeOptions("counter", o.typeDefaults()).getPassivateAfterMs()).isEqualTo(90_000);
    assertThat(file.typeOptions("cart", o.typeDefaults()).getMaxActiveEntities()).as("a type's own section wins").isEqualTo(7);
    assertThat(NodeOptions.parse(new String[0], Map.of()).typeDefaults().isEmpty()).as("nothing given, nothing replaced").isTrue();
  }

  @Test
  void durationsTakeUnitsAndOff() {
    assertThat(OptionValues.durationMs("x", "500ms")).isEqualTo(500);
    assertThat(OptionValues.durationMs("x", "2m")).isEqualTo(120_000);
    assertThat(OptionValues.durationMs("x", "1h")).isEqualTo(3_600_000);
    assertThat(OptionValues.durationMs("x", "250")).isEqualTo(250);
    assertThat(OptionValues.durationMs("x", "off")).isZero();
    assertThat(OptionValues.durationMs("x", "0")).isZero();
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--passivate-after", "soon"}, Map.of()))
        .hasMessageContaining("--passivate-after").hasMessageContaining("duration");
    assertThatThrownBy(() -> NodeOptions.parse(new String[] {"--max-active-entities", "0"}, Map.of()))
        .hasMessageContaining("--max-active-entities");
  }
}
