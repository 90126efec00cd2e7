package io.sticky.internal.region;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class EntityCellsTest {

  /** Random puts and removes, checked after each step against a plain map filtered by shard. */
  @Test
  void theShardListsAlwaysHoldExactlyTheCellsOfTheirShard() {
    Random random = new Random(42);
    EntityCells cells = new EntityCells();
    Map<String, EntityCell> model = new HashMap<>();
    for (int step = 0; step < 20_000; step++) {
      String id = "e" + random.nextInt(300);
      EntityCell current = model.get(id);
      if (current != null && random.nextInt(3) > 0) {
        assertThat(cells.remove(current)).isTrue();
        model.remove(id);
        // removing it again, or a cell that is not the registered one, changes nothing
        assertThat(cells.remove(current)).isFalse();
      } else if (current == null) {
        EntityCell cell = new EntityCell(id, random.nextInt(7), null);
        cells.put(cell);
        model.put(id, cell);
      } else {
        assertThat(cells.remove(new EntityCell(id, current.shard, null))).isFalse();
      }
      int shard = random.nextInt(7);
      assertThat(cells.inShard(shard)).containsExactlyInAnyOrderElementsOf(
          model.values().stream().filter(c -> c.shard == shard).toList());
      assertThat(cells.size()).isEqualTo(model.size());
    }
    Map<Integer, Integer> expected = model.values().stream()
        .collect(Collectors.groupingBy(c -> c.shard, Collectors.summingInt(c -> 1)));
    assertThat(cells.countByShard()).isEqualTo(expected);
  }

  @Test
  void aCellPutUnderAnIdThatIsTakenReplacesTheOldOneInItsShardToo() {
    EntityCells cells = new EntityCells();
    EntityCell old = new EntityCell("a", 1, null);
    EntityCell other = new EntityCell("b", 1, null);
    cells.put(old);
    cells.put(other);
    EntityCell replacement = new EntityCell("a", 2, null);
    cells.put(replacement);
    assertThat(cells.inShard(1)).containsExactly(other);
    assertThat(cells.inShard(2)).containsExactly(replacement);
    assertThat(cells.get("a")).isSameAs(replacement);
    assertThat(cells.remove(old)).isFalse();
    assertThat(cells.inShard(1)).isEqualTo(List.of(other));
  }
}
