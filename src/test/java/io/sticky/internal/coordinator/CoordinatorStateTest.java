package io.sticky.internal.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.internal.coordinator.CoordinatorState.Allocation;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CoordinatorStateTest {
  private final CoordinatorState twoRegions = CoordinatorState.EMPTY.withRegion("counter", "a").withRegion("counter", "b");

  @Test
  void allocationIsRecordedWithItsEpochAndIsImmutable() {
    CoordinatorState s = twoRegions.allocated("counter", 3, "a", 1);
    assertThat(s.home("counter", 3)).isEqualTo("a");
    assertThat(s.allocation("counter", 3)).isEqualTo(new Allocation("a", 1));
    assertThat(twoRegions.home("counter", 3)).as("the old value is unchanged").isNull();
    assertThat(s.shardsByRegion("counter")).isEqualTo(Map.of("a", Set.of(3), "b", Set.of()));
  }

  @Test
  void aShardCannotBeAllocatedTwice() {
    CoordinatorState s = twoRegions.allocated("counter", 3, "a", 1);
    assertThatThrownBy(() -> s.allocated("counter", 3, "b", 2)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already allocated");
  }

  @Test
  void onlyRegisteredRegionsGetShards() {
    assertThatThrownBy(() -> twoRegions.allocated("counter", 1, "zzz", 1)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> twoRegions.allocated("cart", 1, "a", 1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aNodeLeavingUnallocatesItsShardsButKeepsTheirEpochs() {
    CoordinatorState s = twoRegions.allocated("counter", 1, "a", 1).allocated("counter", 2, "b", 1).withoutNode("a");
    assertThat(s.home("counter", 1)).isNull();
    assertThat(s.home("counter", 2)).isEqualTo("b");
    assertThat(s.regions("counter")).containsExactly("b");
    assertThat(s.nextEpoch("counter", 1)).isEqualTo(2);
    assertThat(s.nextEpoch("counter", 7)).as("never allocated").isEqualTo(1);
  }

  @Test
  void epochsOnlyGrow() {
    CoordinatorState s = twoRegions.allocated("counter", 1, "a", 5).withoutNode("a").withRegion("counter", "c");
    assertThatThrownBy(() -> s.allocated("counter", 1, "c", 5)).isInstanceOf(IllegalStateException.class).hasMessageContaining("must grow");
    assertThat(s.allocated("counter", 1, "c", 6).allocation("counter", 1)).isEqualTo(new Allocation("c", 6));
  }

  @Test
  void aHandOffMovesAnAllocatedShardToAHigherEpoch() {
    CoordinatorState s = twoRegions.allocated("counter", 1, "a", 3).moved("counter", 1, "b", 4);
    assertThat(s.allocation("counter", 1)).isEqualTo(new Allocation("b", 4));
    assertThatThrownBy(() -> s.moved("counter", 1, "a", 4)).hasMessageContaining("must grow");
    assertThatThrownBy(() -> s.moved("counter", 9, "a", 1)).hasMessageContaining("never allocated");
    assertThatThrownBy(() -> s.moved("counter", 1, "zzz", 9)).hasMessageContaining("no region");
  }

  @Test
  void recoveryKeepsTheHighestEpoch() {
    CoordinatorState s = CoordinatorState.EMPTY.recovered("counter", 1, "a", 4).recovered("counter", 1, "b", 3);
    assertThat(s.allocation("counter", 1)).isEqualTo(new Allocation("a", 4));
    assertThat(s.recovered("counter", 1, null, 9).allocation("counter", 1)).isEqualTo(new Allocation(null, 9));
  }

  /** The bulk recovery a new coordinator uses gives the state that restoring entry by entry gives. */
  @Test
  void aWholeTableRecoveredAtOnceEqualsOneEntryAtATime() {
    java.util.Random random = new java.util.Random(7);
    CoordinatorState oneByOne = CoordinatorState.EMPTY;
    CoordinatorState.Recovery recovery = new CoordinatorState.Recovery();
    for (int i = 0; i < 3_000; i++) {
      String type = random.nextBoolean() ? "counter" : "cart";
      int shard = random.nextInt(500); // repeats: the higher epoch must win either way
      String node = random.nextInt(5) == 0 ? null : "n" + random.nextInt(4);
      long epoch = 1 + random.nextInt(20);
      oneByOne = oneByOne.recovered(type, shard, node, epoch);
      recovery.allocation(type, shard, node, epoch);
      if (node != null) {
        oneByOne = oneByOne.withRegion(type, node);
        recovery.region(type, node);
      }
    }
    CoordinatorState atOnce = recovery.build();
    for (String type : oneByOne.types()) {
      assertThat(atOnce.allocations(type)).as(type).isEqualTo(oneByOne.allocations(type));
      assertThat(atOnce.regions(type)).as(type).isEqualTo(oneByOne.regions(type));
      assertThat(atOnce.shardsByRegion(type)).as(type).isEqualTo(oneByOne.shardsByRegion(type));
    }
    assertThat(atOnce.types()).isEqualTo(oneByOne.types());
  }
}
