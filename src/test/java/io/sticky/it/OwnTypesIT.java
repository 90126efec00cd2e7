package io.sticky.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TypeJars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team's own entity type on stock nodes: the fat jar started with {@code --lib} over a directory holding a jar
 * compiled from source (nothing of it on the node's class path), as an operator would deploy it.
 */
class OwnTypesIT {
  private final List<NodeProcess> nodes = new ArrayList<>();
  @TempDir
  Path lib;

  @AfterEach
  void stopAll() throws InterruptedException {
    ProcessCluster.killAlive(nodes);
  }

  @Test
  void stockNodesServeATypeFromALibJarAndNotTheExamples() {
    TypeJars.gadgetJar(lib, "gadgets.jar", "gadget");
    ProcessCluster cluster = ProcessCluster.of("sticky-own-types", 2);
    nodes.add(cluster.startReady(0, "lib0", "--lib", lib.toString(), "--store", "replicated"));
    nodes.add(cluster.startReady(1, "lib1", "--lib", lib.toString(), "--store", "replicated"));

    String home = null;
    for (int i = 1; i <= 6; i++) {
      NodeProcess via = nodes.get(i % 2);
      Response r = Http.post(via.httpPort, "/entities/gadget/g-1", "{\"op\":\"add\",\"n\":" + i + "}");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.json().getLong("total")).isEqualTo((long) i * (i + 1) / 2);
      home = home == null ? r.node() : home;
      assertThat(r.node()).as("one home, whichever node the call went through").isEqualTo(home);
    }
    Response bad = Http.post(nodes.get(0).httpPort, "/entities/gadget/g-1", "{\"op\":\"add\",\"n\":\"ten\"}");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.header("Content-Type")).startsWith("application/problem+json");
    assertThat(bad.json().getString("detail")).contains("n must be an integer");
    assertThat(Http.get(nodes.get(1).httpPort, "/entities/gadget/g-1").json().getLong("total")).as("the 400 applied nothing")
        .isEqualTo(21);
    assertThat(Http.increment(nodes.get(0).httpPort, "counter", "c-1").status()).as("the examples are off").isEqualTo(404);
  }

  @Test
  void aProviderThatFailsToLoadStopsTheNodeNamingTheJarAndTheClass() throws Exception {
    Path jar = TypeJars.brokenJar(lib, "broken.jar", "com.example.MissingProvider");
    ProcessCluster cluster = ProcessCluster.of("sticky-bad-lib", 1);
    NodeProcess node = NodeProcess.start("bad-lib", cluster.httpPorts.get(0), cluster.name, cluster.clusterPorts.get(0),
        cluster.members, "--lib", lib.toString());
    nodes.add(node);
    assertThat(node.process().waitFor(60, TimeUnit.SECONDS)).as("the node exits").isTrue();
    assertThat(node.process().exitValue()).isEqualTo(2);
    String log = Files.readString(node.log);
    assertThat(log).contains("com.example.MissingProvider").contains(jar.toString());
  }
}
