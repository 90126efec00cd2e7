package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The majority rule on its own: who may serve after a split, counted from the base or from expectedNodes. */
class QuorumRuleTest {
  private static final List<String> FIVE = List.of("a", "b", "c", "d", "e");

  @Test
  void theLargerSideOfASplitHoldsQuorumAndTheSmallerDoesNot() {
    assertThat(Quorum.isMajority(Set.of("a", "b", "c"), FIVE, 0)).isTrue();
    assertThat(Quorum.isMajority(Set.of("d", "e"), FIVE, 0)).isFalse();
    assertThat(Quorum.isMajority(Set.of("b", "c", "d", "e"), FIVE, 0)).isTrue();
    assertThat(Quorum.isMajority(Set.of("a"), FIVE, 0)).as("4|1: the single node, even the oldest").isFalse();
  }

  @Test
  void anEvenSplitIsWonOnlyByTheSideWithTheOldestMember() {
    List<String> four = List.of("a", "b", "c", "d");
    assertThat(Quorum.isMajority(Set.of("a", "d"), four, 0)).isTrue();
    assertThat(Quorum.isMajority(Set.of("b", "c"), four, 0)).isFalse();
    assertThat(Quorum.isMajority(Set.of("a"), List.of("a", "b"), 0)).isTrue();
    assertThat(Quorum.isMajority(Set.of("b"), List.of("a", "b"), 0)).isFalse();
  }

  @Test
  void aNodeAloneIsTheWholeClusterOnlyIfTheBaseIsItself() {
    assertThat(Quorum.isMajority(Set.of("a"), List.of("a"), 0)).isTrue();
    assertThat(Quorum.isMajority(Set.of("c"), List.of("a", "b", "c"), 0)).as("a zombie back from a pause").isFalse();
  }

  @Test
  void membersThatJoinedSinceTheBaseCountOnTheSideTheyJoined() {
    assertThat(Quorum.isMajority(Set.of("a", "x"), List.of("a", "b", "c"), 0)).isTrue();
  }

  @Test
  void aStaticQuorumCountsFromExpectedNodes() {
    assertThat(Quorum.isMajority(Set.of("a", "b"), List.of("a", "b"), 5)).isFalse();
    assertThat(Quorum.isMajority(Set.of("a", "b", "c"), List.of("a", "b", "c"), 5)).isTrue();
  }
}
