package io.sticky.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.Http;
import io.sticky.testkit.Scrape;
import io.sticky.testkit.TestCluster;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/monitoring/ use only series that nodes
 * export: every metric name in their expressions is on a real node's /metrics page once the cluster has
 * served requests, failed one and moved a shard.
 */
class MonitoringFilesTest {
  private static final Path DASHBOARD = Path.of("deploy/monitoring/grafana-dashboard.json");
  private static final Path RULES = Path.of("deploy/monitoring/prometheus-rules.yaml");
  /** Series names as exported (Prometheus adds {@code up} itself). */
  private static final Pattern SERIES = Pattern.compile("\\b((?:sticky|vertx|jvm|process|system)_[a-z0-9_]+)\\b");
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void everySeriesTheDashboardAndTheAlertsUseIsExported() throws Exception {
    List<String> expressions = new ArrayList<>(dashboardExpressions());
    assertThat(expressions).as("dashboard panels").hasSizeGreaterThan(10);
    List<String> rules = ruleExpressions();
    assertThat(rules).as("alert rules").hasSizeGreaterThan(5);
    expressions.addAll(rules);
    Set<String> used = new TreeSet<>();
    for (String expr : expressions) {
      Matcher m = SERIES.matcher(expr);
      while (m.find()) {
        used.add(m.group(1));
      }
    }

    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)));
    int port = cluster.node(0).httpPort();
    for (int i = 0; i < 20; i++) {
      assertThat(Http.increment(cluster.node(i % 2).httpPort(), CounterEntity.TYPE, "mon-" + i).status()).isEqualTo(200);
    }
    assertThat(Http.post(port, "/entities/" + CounterEntity.TYPE + "/mon-0", "{\"op\":\"nope\"}").status()).isEqualTo(400);
    // A hand-off, so that the coordinator's node has hand-off series: move one shard of node 0 to node 1.
    JsonArray shards = Http.get(port, "/cluster/shards?type=" + CounterEntity.TYPE).json().getJsonArray("shards");
    JsonObject onFirst = shards.stream().map(JsonObject.class::cast)
        .filter(s -> s.getString("node").equals(cluster.node(0).nodeId())).findFirst().orElseThrow();
    int shard = onFirst.getInteger("shard");
    assertThat(Http.post(port, "/cluster/shards/" + CounterEntity.TYPE + "/" + shard + "/move",
        new JsonObject().put("to", cluster.node(1).nodeId()).encode()).status()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(20)).until(() -> exported().contains("sticky_handoffs_seconds_count"));

    Set<String> exported = exported();
    assertThat(used).as("series used by deploy/monitoring/ but not exported").isSubsetOf(exported);
  }

  private Set<String> exported() {
    return cluster.nodes().stream().flatMap(n -> Scrape.of(n.httpPort()).samples().stream()).map(Scrape.Sample::name)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static List<String> dashboardExpressions() throws Exception {
    JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
    List<String> exprs = new ArrayList<>();
    for (Object p : dashboard.getJsonArray("panels")) {
      for (Object t : ((JsonObject) p).getJsonArray("targets")) {
        exprs.add(((JsonObject) t).getString("expr"));
      }
    }
    return exprs;
  }

  @SuppressWarnings("unchecked")
  private static List<String> ruleExpressions() throws Exception {
    Map<String, Object> doc = new Yaml().load(Files.readString(RULES));
    List<String> exprs = new ArrayList<>();
    for (Object group : (List<Object>) doc.get("groups")) {
      for (Object rule : (List<Object>) ((Map<String, Object>) group).get("rules")) {
        Map<String, Object> r = (Map<String, Object>) rule;
        assertThat(r).containsKeys("alert", "expr");
        exprs.add(r.get("expr").toString());
      }
    }
    return exprs;
  }
}
