package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.sticky.node.FreePorts;
import io.sticky.node.HazelcastConfigs;
import io.sticky.node.NodeOptions;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.impl.proxy.MapProxyImpl;
import com.hazelcast.spi.impl.NodeEngine;
import com.hazelcast.spi.impl.operationservice.impl.OperationServiceImpl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract against a two-member Hazelcast cluster configured as nodes configure it, plus the properties the
 * store exists for: an acknowledged write survives the abrupt loss of any one member, and a write whose backup
 * did not acknowledge it is not acknowledged.
 */
class HazelcastStateStoreTest extends StateStoreContract {
  private HazelcastInstance first;
  private HazelcastInstance second;

  @Override
  protected StateStore createStore(Vertx vertx) {
    List<HazelcastInstance> pair = new java.util.ArrayList<>();
    startPair(pair);
    first = pair.get(0);
    second = pair.get(1);
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

  /**
   * A backup that does not acknowledge in time (its member stalled) makes the write fail as outcome unknown,
   * where Hazelcast on its own would acknowledge it on the primary alone.
   */
  @Test
  void aWriteWhoseBackupNeverAcknowledgesIsNotAcknowledged() throws Exception {
    HazelcastInstance[] pair = pair();
    String id = ownedBy(pair[0]);
    StalledBackup.stall(pair[1], id, release());
    Future<Void> write = writeOnContext(new HazelcastStateStore(pair[0]), id);
    assertThatThrownBy(() -> await(write)).isNotInstanceOf(StateConflictException.class)
        .hasMessageContaining("not acknowledged");
  }

  /** A backup that acknowledges late is sent again, and the write is acknowledged once both members hold it. */
  @Test
  void aWriteWhoseBackupIsLateIsSentAgainAndThenSurvivesThePrimarysCrash() throws Exception {
    HazelcastInstance[] pair = pair();
    String id = ownedBy(pair[0]);
    CountDownLatch release = release();
    StalledBackup.stall(pair[1], id, release);
    HazelcastStateStore viaFirst = new HazelcastStateStore(pair[0]);
    Future<Void> write = writeOnContext(viaFirst, id);
    // the first attempt times out waiting for the backup; the member then recovers, and the re-send is backed up
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> viaFirst.resends() == 1);
    release.countDown();
    await(write);
    assertThat(viaFirst.resends()).isEqualTo(1);
    pair[0].getLifecycleService().terminate();
    assertThat(await(new HazelcastStateStore(pair[1]).load("counter", id))).isNotNull()
        .extracting(StoredState::data).isEqualTo("{\"value\":1}");
  }

  /** Members of {@link #pair()} and latches of {@link #release()}: ended after each test, whatever happened. */
  private final List<HazelcastInstance> pairMembers = new java.util.ArrayList<>();
  private final List<CountDownLatch> releases = new java.util.ArrayList<>();

  @AfterEach
  void endPairs() {
    releases.forEach(CountDownLatch::countDown);
    releases.clear();
    pairMembers.forEach(m -> m.getLifecycleService().terminate());
    pairMembers.clear();
  }

  private CountDownLatch release() {
    CountDownLatch release = new CountDownLatch(1);
    releases.add(release);
    return release;
  }

  /** As entities write: on a Vert.x context, where the store's callbacks (and its re-send) run. */
  private Future<Void> writeOnContext(HazelcastStateStore store, String id) {
    Promise<Void> written = Promise.promise();
    vertx.runOnContext(v -> store.write("counter", id, new StoredState(1, 1, 1, "{\"value\":1}")).onComplete(written));
    return written.future();
  }

  /** Two members of a new cluster, added to {@code started} as each starts. */
  private static void startPair(List<HazelcastInstance> started) {
    String cluster = "sticky-store-test-" + UUID.randomUUID();
    List<Integer> ports = FreePorts.onLoopback(2);
    List<String> members = ports.stream().map(p -> "127.0.0.1:" + p).toList();
    for (int port : ports) {
      started.add(Hazelcast.newHazelcastInstance(HazelcastConfigs.create(member(cluster, port, members))));
    }
  }

  /** A pair ended after the test, once its partitions are assigned and backed up. */
  private HazelcastInstance[] pair() {
    int from = pairMembers.size();
    startPair(pairMembers);
    HazelcastInstance a = pairMembers.get(from);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> a.getCluster().getMembers().size() == 2
        && a.getPartitionService().getPartitions().stream().allMatch(p -> p.getOwner() != null)
        && a.getPartitionService().isClusterSafe());
    return new HazelcastInstance[] {a, pairMembers.get(from + 1)};
  }

  /** An id whose partition the member owns (with two members, the other one holds its backup). */
  private static String ownedBy(HazelcastInstance member) {
    for (int i = 0; ; i++) {
      String id = "e-" + i;
      if (member.getPartitionService().getPartition(id).getOwner().localMember()) {
        return id;
      }
    }
  }

  /**
   * Stalls the partition thread of a member that runs the backups of {@code id}'s partition, until released:
   * an entry processor that waits, on a key of the member's own whose partition that same thread serves.
   */
  static final class StalledBackup implements EntryProcessor<String, String, Boolean> {
    private static final java.util.Map<String, CountDownLatch> RELEASES = new java.util.concurrent.ConcurrentHashMap<>();
    private final String release;

    private StalledBackup(String release) {
      this.release = release;
    }

    static void stall(HazelcastInstance member, String id, CountDownLatch release) throws Exception {
      NodeEngine engine = ((MapProxyImpl<?, ?>) member.getMap("stall")).getNodeEngine();
      int threads = ((OperationServiceImpl) engine.getOperationService()).getOperationExecutor().getPartitionThreadCount();
      int thread = member.getPartitionService().getPartition(id).getPartitionId() % threads;
      String stalled = null;
      for (int i = 0; stalled == null; i++) {
        com.hazelcast.partition.Partition partition = member.getPartitionService().getPartition("stall-" + i);
        if (partition.getOwner().localMember() && partition.getPartitionId() % threads == thread) {
          stalled = "stall-" + i;
        }
      }
      String key = UUID.randomUUID().toString();
      RELEASES.put(key, release);
      CountDownLatch running = new CountDownLatch(1);
      RELEASES.put(key + "-running", running);
      member.<String, String>getMap("stall").submitToKey(stalled, new StalledBackup(key));
      assertThat(running.await(10, TimeUnit.SECONDS)).as("the stalling processor runs").isTrue();
    }

    @Override
    public Boolean process(java.util.Map.Entry<String, String> entry) {
      RELEASES.get(release + "-running").countDown();
      try {
        return RELEASES.get(release).await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }

    @Override
    public EntryProcessor<String, String, Boolean> getBackupProcessor() {
      return null; // it changes nothing: no backup, which would stall the other member too
    }
  }
}
