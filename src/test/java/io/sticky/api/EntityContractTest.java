package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The class applications extend shows them their own contract and nothing of the runtime: what they may
 * override or call. The runtime (mailbox, persistence, fencing, hand-off) is reached only through
 * {@code io.sticky.internal.EntityHost}.
 */
class EntityContractTest {
  @Test
  void anEntitySubclassSeesOnlyTheApplicationContract() {
    assertThat(names(Modifier.PUBLIC)).containsExactlyInAnyOrder("id", "typeName", "start", "stop");
    assertThat(names(Modifier.PROTECTED)).containsExactlyInAnyOrder(
        "initialState", "handle", "view", "onActivate", "onStop", "snapshotState", "restoreState",
        "stateSchemaVersion", "migrateState", "onReminder", "registerReminder", "cancelReminder", "reminderNames",
        "startSingleTimer", "startPeriodicTimer", "cancelTimer", "isTimerActive", "processedMessages");
  }

  @Test
  void theVerticleLifecycleIsTheRuntimes() throws Exception {
    assertThat(Modifier.isFinal(Entity.class.getMethod("start").getModifiers())).isTrue();
    assertThat(Modifier.isFinal(Entity.class.getMethod("stop").getModifiers())).isTrue();
  }

  private static Set<String> names(int visibility) {
    return Arrays.stream(Entity.class.getDeclaredMethods())
        .filter(m -> (m.getModifiers() & visibility) != 0 && !m.isSynthetic())
        .map(Method::getName)
        .collect(Collectors.toSet());
  }
}
