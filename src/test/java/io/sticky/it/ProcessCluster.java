package io.sticky.it;

import static org.awaitility.Awaitility.await;

import io.sticky.node.FreePorts;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Where a multi-process test cluster lives: a random cluster name and free loopback ports for each node, so
 * a node can be (re)started on its own ports. The nodes themselves are fat-jar JVMs ({@link NodeProcess}).
 */
final class ProcessCluster {
  final String name;
  final List<Integer> clusterPorts;
  final List<Integer> httpPorts;
  final List<String> members;

  private ProcessCluster(String prefix, int size) {
    this.name = prefix + "-" + UUID.randomUUID();
    this.clusterPorts = FreePorts.onLoopback(size);
    this.httpPorts = FreePorts.onLoopback(size);
    this.members = clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList();
  }

  static ProcessCluster of(String prefix, int size) {
    return new ProcessCluster(prefix, size);
  }

  /** Starts node {@code i} (its log file named after {@code label}) and waits until it reports ready. */
  NodeProcess startReady(int i, String label, String... extraArgs) {
    return startReady(i, label, List.of(), extraArgs);
  }

  /** As above, with extra JVM options. */
  NodeProcess startReady(int i, String label, List<String> jvmOptions, String... extraArgs) {
    NodeProcess node = NodeProcess.start(label, httpPorts.get(i), name, clusterPorts.get(i), members, jvmOptions, extraArgs);
    await(label + " ready (log: " + node.log + ")").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(node::ready);
    return node;
  }

  /** Test teardown: kill -9 whatever still runs. */
  static void killAlive(List<NodeProcess> nodes) throws InterruptedException {
    for (NodeProcess n : nodes) {
      if (n.isAlive()) {
        n.kill();
      }
    }
  }
}
