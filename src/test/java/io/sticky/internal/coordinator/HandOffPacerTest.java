package io.sticky.internal.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HandOffPacerTest {
  private static final long MS = 1_000_000L;

  @Test
  void theFirstMoveGoesAtOnceAndTheNextOnesAtTheRate() {
    HandOffPacer pacer = new HandOffPacer(100, 5, 0); // one token every 10 ms
    assertThat(pacer.tryTake(0)).isTrue();
    assertThat(pacer.tryTake(0)).isFalse();
    assertThat(pacer.millisUntilNext(0)).isEqualTo(10);
    assertThat(pacer.tryTake(9 * MS)).isFalse();
    assertThat(pacer.millisUntilNext(9 * MS)).isEqualTo(1);
    assertThat(pacer.tryTake(10 * MS)).isTrue();
    assertThat(pacer.tryTake(10 * MS)).isFalse();
  }

  @Test
  void anIdlePacerSavesUpToItsBurstAndNoMore() {
    HandOffPacer pacer = new HandOffPacer(100, 5, 0);
    long later = 60_000 * MS; // a minute without moves
    int started = 0;
    while (pacer.tryTake(later)) {
      started++;
    }
    assertThat(started).isEqualTo(5);
  }

  @Test
  void overAnyStretchTheMovesStartedStayWithinRateTimesTimePlusBurst() {
    HandOffPacer pacer = new HandOffPacer(80, 5, 0);
    int started = 0;
    for (long t = 0; t <= 10_000 * MS; t += MS) { // asked every millisecond for 10 s
      while (pacer.tryTake(t)) {
        started++;
      }
    }
    assertThat(started).isBetween(800, 805);
  }

  @Test
  void nonsenseRatesAreRefused() {
    assertThatThrownBy(() -> new HandOffPacer(0, 5, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HandOffPacer(10, 0, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
