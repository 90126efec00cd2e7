package io.sticky.internal.region;

import static io.sticky.internal.region.EntityLifecycle.ACTIVATING;
import static io.sticky.internal.region.EntityLifecycle.ACTIVE;
import static io.sticky.internal.region.EntityLifecycle.STOPPED;
import static io.sticky.internal.region.EntityLifecycle.STOPPING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EntityLifecycleTest {

  @Test
  void legalMovesFollowTheDocumentedDiagram() {
    assertThat(ACTIVATING.moveTo(ACTIVE)).isEqualTo(ACTIVE);
    assertThat(ACTIVATING.moveTo(STOPPED)).isEqualTo(STOPPED);
    assertThat(ACTIVE.moveTo(STOPPING)).isEqualTo(STOPPING);
    assertThat(STOPPING.moveTo(STOPPED)).isEqualTo(STOPPED);
  }

  @Test
  void everyOtherMoveIsRejected() {
    Set<String> legal = Set.of("ACTIVATING->ACTIVE", "ACTIVATING->STOPPED", "ACTIVE->STOPPING", "STOPPING->STOPPED");
    for (EntityLifecycle from : EntityLifecycle.values()) {
      for (EntityLifecycle to : EnumSet.allOf(EntityLifecycle.class)) {
        String move = from + "->" + to;
        assertThat(from.canMoveTo(to)).as(move).isEqualTo(legal.contains(move));
        if (!legal.contains(move)) {
          assertThatThrownBy(() -> from.moveTo(to)).as(move).isInstanceOf(IllegalStateException.class).hasMessageContaining(move.replace("->", " -> "));
        }
      }
    }
  }
}
