package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.sticky.node.FreePorts;
import io.sticky.node.HazelcastConfigs;
import io.sticky.node.NodeOptions;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The contract against a two-member Hazelcast cluster configured as nodes configure it, plus the property the
 * store exists for: an acknowledged write survives the abrupt loss of any one member.
 */
class HazelcastStateStoreTest extends StateStoreContract {
  private HazelcastInstance first;
  private HazelcastInstance second;

  @Override
  protected StateStore createStore(Vertx vertx) {
    String cluster = "sticky-store-test-" + UUID.randomUUID();
    List<Integer> ports = FreePorts.onLoopback(2);
    List<String> members = ports.stream().map(p -> "127.0.0.1:" + p).toList();
    first = Hazelcast.newHazelcastInstance(HazelcastConfigs.create(member(cluster, ports.get(0), members)));
    second = Hazelcast.newHazelcastInstance(HazelcastConfigs.create(member(cluster, ports.get(1), members)));
    return new HazelcastStateStore(first);
  }

  private static NodeOptions member(String cluster, int port, List<String> members) {
    return new NodeOptions().setClusterName(cluster).setHost("127.0.0.1").setClusterPort(port)
        .setClusterPortAutoIncrement(false).setMembers(members);
  }

  @Override
  protected void cleanUp() {
    first.getLifecycleService().terminate();
    second.getLifecycleService().terminate();
  }

  @Test
  void acknowledgedWritesSurviveTheCrashOfEitherMember() throws Exception {
    // A third member, so the cluster keeps a backup after one dies; writes go through it.
    String cluster = first.getConfig().getClusterName();
    List<Integer> ports = FreePorts.onLoopback(1);
    List<String> members = List.of(first.getCluster().getLocalMember().getSocketAddress().getPort(),
            second.getCluster().getLocalMember().getSocketAddress().getPort(), ports.get(0))
        .stream().map(p -> "127.0.0.1:" + p).toList();
    HazelcastInstance third = Hazelcast.newHazelcastInstance(HazelcastConfigs.create(member(cluster, ports.get(0), members)));
    try {
      HazelcastStateStore viaThird = new HazelcastStateStore(third);
      List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String id = newId();
        ids.add(id);
        await(viaThird.write("counter", id, new StoredState(1, 1, 1, "{\"value\":" + i + "}")));
      }
      // kill -9 equivalent: no goodbye, partitions it owned are recovered from their backups
      second.getLifecycleService().terminate();
      for (int i = 0; i < ids.size(); i++) {
        assertThat(await(viaThird.load("counter", ids.get(i)))).as(ids.get(i)).isNotNull()
            .extracting(StoredState::data).isEqualTo("{\"value\":" + i + "}");
      }
    } finally {
      third.getLifecycleService().terminate();
    }
  }
}
