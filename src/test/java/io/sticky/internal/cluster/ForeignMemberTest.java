package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.node.FreePorts;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A plain Hazelcast member that joins with the cluster's name holds parts of Sticky's maps without Sticky's
 * serializers. Readiness says so (and names it) for as long as it is there.
 */
class ForeignMemberTest {
  private TestCluster cluster;
  private HazelcastInstance foreign;

  @BeforeEach
  void start() {
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)));
  }

  @AfterEach
  void stop() {
    if (foreign != null && foreign.getLifecycleService().isRunning()) {
      foreign.getLifecycleService().terminate();
    }
    cluster.close();
  }

  @Test
  void readinessNamesAForeignMemberWhileItIsInTheCluster() {
    StickyNode node = cluster.node(0);
    assertThat(Http.get(node.httpPort(), "/health/ready").status()).isEqualTo(200);

    int port = FreePorts.onLoopback(1).get(0);
    Config cfg = new Config().setClusterName(cluster.name());
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.socket.bind.any", "false");
    cfg.setProperty("hazelcast.logging.type", "slf4j");
    cfg.getNetworkConfig().setPort(port).setPortAutoIncrement(false).getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = cfg.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember(node.sticky().memberAddress(node.nodeId()));
    foreign = Hazelcast.newHazelcastInstance(cfg);

    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> Http.get(node.httpPort(), "/health/ready").status() == 503);
    Response ready = Http.get(node.httpPort(), "/health/ready");
    assertThat(ready.raw().body()).contains("not Sticky nodes").contains("127.0.0.1:" + port);

    foreign.getLifecycleService().shutdown();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> Http.get(node.httpPort(), "/health/ready").status() == 200);
  }
}
