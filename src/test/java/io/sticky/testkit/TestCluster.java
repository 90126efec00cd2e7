package io.sticky.testkit;

import io.sticky.api.EntityType;
import io.sticky.api.StickyOptions;
import io.sticky.node.FreePorts;
import io.sticky.node.NodeOptions;
import io.sticky.node.StickyNode;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Several real Sticky nodes in this JVM: each its own clustered Vert.x and Hazelcast member, joined over
 * loopback TCP only, under a random cluster name so parallel or leftover runs never meet.
 */
public final class TestCluster implements AutoCloseable {
  private final String name = "sticky-test-" + UUID.randomUUID();
  private final List<Integer> clusterPorts;
  private final List<EntityType> types;
  private final StickyOptions stickyOptions;
  private final List<StickyNode> nodes = new ArrayList<>();
  private final UnaryOperator<NodeOptions> tweak;

  private TestCluster(int capacity, List<EntityType> types, StickyOptions stickyOptions, UnaryOperator<NodeOptions> tweak) {
    this.clusterPorts = new ArrayList<>(FreePorts.onLoopback(capacity));
    this.types = types;
    this.stickyOptions = stickyOptions;
    this.tweak = tweak;
  }

  /** Starts {@code size} nodes one after another (so node 0 is the oldest and runs the coordinator). */
  public static TestCluster start(int size, List<EntityType> types) {
    return start(size, types, o -> o);
  }

  /** As {@link #start(int, List)}, with node options adjusted (store, ...) before each node starts. */
  public static TestCluster start(int size, List<EntityType> types, UnaryOperator<NodeOptions> tweak) {
    return start(size, types, new StickyOptions(), tweak);
  }

  /** As {@link #start(int, List, UnaryOperator)}, with cluster-wide options (timeouts, rebalance limits) for every node too. */
  public static TestCluster start(int size, List<EntityType> types, StickyOptions stickyOptions, UnaryOperator<NodeOptions> tweak) {
    TestCluster c = new TestCluster(size + 2, types, stickyOptions, tweak);
    for (int i = 0; i < size; i++) {
      c.startNode();
    }
    return c;
  }

  /** Starts one more node (ports for two extra nodes are reserved up front). */
  public StickyNode startNode() {
    return startNode(o -> o);
  }

  /** As {@link #startNode()}, with this node's options adjusted after the cluster's own adjustment. */
  public StickyNode startNode(UnaryOperator<NodeOptions> extra) {
    int index = nodes.size();
    if (index >= clusterPorts.size()) {
      throw new IllegalStateException("no reserved port left");
    }
    for (int attempt = 1; ; attempt++) {
      List<String> members = clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList();
      NodeOptions options = new NodeOptions()
          .setClusterName(name)
          .setHost("127.0.0.1")
          .setClusterPort(clusterPorts.get(index))
          .setClusterPortAutoIncrement(false)
          .setMembers(members);
      options.getGateway().setPort(0).setHost("127.0.0.1");
      try {
        StickyNode node = StickyNode.start(extra.apply(tweak.apply(options)), stickyOptions, types).await(60, TimeUnit.SECONDS);
        nodes.add(node);
        return node;
      } catch (Exception e) {
        // A port found free a moment ago can be taken by another process before Hazelcast binds it: pick another.
        if (attempt < 3 && portTaken(e)) {
          clusterPorts.set(index, FreePorts.onLoopback(1).get(0));
          continue;
        }
        throw new IllegalStateException("node " + index + " did not start", e);
      }
    }
  }

  private static boolean portTaken(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.BindException || String.valueOf(t.getMessage()).contains("already in use")) {
        return true;
      }
    }
    return false;
  }

  public StickyNode node(int i) {
    return nodes.get(i);
  }

  public List<StickyNode> nodes() {
    return nodes;
  }

  public String name() {
    return name;
  }

  @Override
  public void close() {
    for (StickyNode n : nodes) {
      try {
        n.close().await(20, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // already crashed or closed
      }
    }
  }
}
