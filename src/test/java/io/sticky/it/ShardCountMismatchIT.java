package io.sticky.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose config gives a type another number of shards than the cluster's stays up but not ready, and
 * says why: its readiness and its 503s name the mismatch instead of "no reachable home yet".
 */
class ShardCountMismatchIT {
  private final List<NodeProcess> nodes = new ArrayList<>();
  @TempDir
  Path dir;

  @AfterEach
  void stopAll() throws InterruptedException {
    ProcessCluster.killAlive(nodes);
  }

  @Test
  void aShardCountMismatchIsNamedInReadinessAndInThe503() throws Exception {
    ProcessCluster cluster = ProcessCluster.of("sticky-mismatch", 2);
    nodes.add(cluster.startReady(0, "good"));
    Path config = Files.writeString(dir.resolve("sticky.yaml"), "entity-types:\n  counter:\n    numberOfShards: 50\n");
    NodeProcess odd = NodeProcess.start("odd", cluster.httpPorts.get(1), cluster.name, cluster.clusterPorts.get(1), cluster.members,
        "--config", config.toString());
    nodes.add(odd);
    await("the odd node reports why it is not ready (log: " + odd.log + ")").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(300)).ignoreExceptions()
        .until(() -> Http.get(odd.httpPort, "/health/ready").raw().body().contains("refused"));
    Response ready = Http.get(odd.httpPort, "/health/ready");
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.raw().body()).contains("1000 shards").contains("50");

    Response call = Http.increment(odd.httpPort, "counter", "m-1");
    assertThat(call.status()).isEqualTo(503);
    assertThat(call.json().getString("detail")).contains("refuses").contains("shards");
    assertThat(Http.increment(nodes.get(0).httpPort, "counter", "m-1").status()).as("the cluster serves on").isEqualTo(200);
  }
}
