package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.spi.merge.MergingValue;
import io.sticky.store.StoredState;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** After a split heals, the newer entry of each key survives, whichever side it comes from. */
class MergePoliciesTest {
  /** A side's entry as Hazelcast hands it to a merge policy: the raw (serialised) form stands for the entry itself. */
  private record Side(String value) implements MergingValue<Object> {
    @Override
    public Object getValue() {
      return value;
    }

    @Override
    public Object getRawValue() {
      return this;
    }
  }

  private static Side state(long version) {
    return new Side(new StoredState(version, 3, 1, "{\"value\":" + version + "}").encode());
  }

  private static Side allocation(String node, long epoch) {
    return new Side(new JsonObject().put("node", node).put("epoch", epoch).encode());
  }

  @Test
  void theHigherStateVersionWinsOnEitherSide() {
    MergePolicies.HigherStateVersion policy = new MergePolicies.HigherStateVersion();
    Side older = state(4);
    Side newer = state(7);
    assertThat(policy.merge(newer, older)).as("the merging side is newer").isSameAs(newer);
    assertThat(policy.merge(older, newer)).as("the existing side is newer").isSameAs(newer);
    assertThat(policy.merge(older, state(4))).as("a tie keeps the existing entry").isNotSameAs(older);
    assertThat(policy.merge(older, null)).as("a key only one side has is kept").isSameAs(older);
    assertThat(policy.merge(new Side("not a state"), older)).as("an unreadable entry never wins").isSameAs(older);
  }

  @Test
  void theHigherAllocationEpochWinsOnEitherSide() {
    MergePolicies.HigherEpoch policy = new MergePolicies.HigherEpoch();
    Side majority = allocation("a", 9);
    Side minority = allocation("b", 5);
    assertThat(policy.merge(minority, majority)).isSameAs(majority);
    assertThat(policy.merge(majority, minority)).isSameAs(majority);
  }
}
