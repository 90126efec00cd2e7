package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.internal.cluster.Membership;
import io.sticky.node.StickyNode;
import io.sticky.store.replicated.ReplicatedStateStore;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The replicated store's one-writer rules between real clustered nodes (three, oldest first: a, b, c, so b is
 * a's standby): a node that takes a shard over sees every acknowledged write, and the old home can no longer
 * write once it has.
 */
class ReplicatedStoreFencingTest {
  private TestCluster cluster;
  private final List<ReplicatedStateStore> stores = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cluster = TestCluster.start(3, List.of());
    for (StickyNode node : cluster.nodes()) {
      ReplicatedStateStore store = new ReplicatedStateStore(node.vertx(), Membership.of(node.vertx()), type -> 8);
      store.start().await(10, TimeUnit.SECONDS);
      stores.add(store);
    }
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.await(10, TimeUnit.SECONDS);
  }

  private static StoredState state(long version, long epoch, int value) {
    return new StoredState(version, epoch, 1, "{\"value\":" + value + "}");
  }

  @Test
  void aNewHomeSeesEveryAcknowledgedWriteAndTheOldHomeCannotWriteAfterIt() throws Exception {
    ReplicatedStateStore a = stores.get(0);
    ReplicatedStateStore c = stores.get(2);
    await(a.write("counter", "x", state(1, 1, 10)));
    await(a.write("counter", "x", state(2, 1, 20)));

    // c hosts the shard from epoch 2: it fetches a's and b's copies, and both refuse epoch 1 from now on.
    assertThat(await(c.load("counter", "x", 2))).isEqualTo(state(2, 1, 20));
    assertThatThrownBy(() -> await(a.write("counter", "x", state(3, 1, 30)))).isInstanceOf(StateConflictException.class);
    assertThatThrownBy(() -> await(a.load("counter", "x", 1))).isInstanceOf(StateConflictException.class);

    await(c.write("counter", "x", state(3, 2, 30)));
    assertThat(await(c.load("counter", "x", 2))).isEqualTo(state(3, 2, 30));
  }

  @Test
  void anAcknowledgedWriteSurvivesTheCrashOfTheNodeThatMadeIt() throws Exception {
    ReplicatedStateStore c = stores.get(2);
    // Written on c (epoch 1); c's standby is a (the member after c, wrapping round).
    for (int i = 0; i < 50; i++) {
      await(c.write("counter", "id-" + i, state(1, 1, i)));
    }
    cluster.node(2).crash().await(20, TimeUnit.SECONDS);
    Membership seenByB = Membership.of(cluster.node(1).vertx());
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> seenByB.members().size() == 2);
    ReplicatedStateStore b = stores.get(1);
    for (int i = 0; i < 50; i++) {
      assertThat(await(b.load("counter", "id-" + i, 2))).as("id-" + i).isEqualTo(state(1, 1, i));
    }
  }
  @Test
  void onceTheNewStandbyHoldsTheShardOtherCopiesAreDropped() throws Exception {
    ReplicatedStateStore a = stores.get(0);
    ReplicatedStateStore b = stores.get(1);
    ReplicatedStateStore c = stores.get(2);
    // One shard (ids of the same shard), hosted by a at epoch 1: a's standby is b.
    List<String> ids = new ArrayList<>();
    for (int i = 0; ids.size() < 20; i++) {
      if (io.sticky.api.ShardId.of("s-" + i, 8) == 3) {
        ids.add("s-" + i);
      }
    }
    for (String id : ids) {
      await(a.write("counter", id, state(1, 1, 1)));
    }
    assertThat(b.size()).as("b holds the standby copy").isEqualTo(ids.size());
    // c takes the shard over at epoch 2; its standby is a (the member after c, wrapping round).
    for (String id : ids) {
      await(c.write("counter", id, state(2, 2, 2)));
    }
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> b.size() == 0);
    assertThat(a.size()).as("a now holds c's standby copy").isEqualTo(ids.size());
    assertThat(c.size()).isEqualTo(ids.size());
    for (String id : ids) {
      assertThat(await(c.load("counter", id, 2))).isEqualTo(state(2, 2, 2));
    }
  }
}
