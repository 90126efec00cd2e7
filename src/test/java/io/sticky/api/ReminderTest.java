package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Durable reminders on one node: delivered while the entity is active, and also when it was passivated (the
 * region's index activates it); periodic ones repeat; a failed delivery comes again, marked as a retry.
 */
public class ReminderTest {
  private Vertx vertx;
  private Sticky sticky;

  /**
   * {@code remind} registers a reminder ({@code name}, {@code in} ms, {@code period} ms) whose message is a
   * {@code ring}; {@code ring} counts; {@code get} shows the count and the reminders. Every delivery is recorded
   * in {@link #DELIVERIES} (by id), whatever instance or node it reached.
   */
  public static class RemindingEntity extends Entity<Integer> {
    public static final Map<String, List<Reminder>> DELIVERIES = new ConcurrentHashMap<>();
    /** Id -> when its latest reminder was delivered (epoch ms). */
    public static final Map<String, Long> DELIVERED_AT = new ConcurrentHashMap<>();
    /** Ids whose first delivery fails. */
    public static final Set<String> FAIL_FIRST = ConcurrentHashMap.newKeySet();

    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      switch (message.getString("op", "")) {
        case "remind" -> registerReminder(message.getString("name"), message.getLong("in"), message.getLong("period", 0L),
            new JsonObject().put("op", "ring"));
        case "cancel" -> cancelReminder(message.getString("name"));
        case "ring" -> state = state + 1;
        case "get" -> { }
        default -> throw EntityException.badRequest("unknown op");
      }
      return Future.succeededFuture(new JsonObject().put("rings", state).put("reminders", new JsonArray(List.copyOf(reminderNames()))));
    }

    @Override
    protected Future<JsonObject> onReminder(Reminder reminder) {
      DELIVERIES.computeIfAbsent(id(), k -> new CopyOnWriteArrayList<>()).add(reminder);
      DELIVERED_AT.put(id(), System.currentTimeMillis());
      if (reminder.attempt() == 1 && FAIL_FIRST.contains(id())) {
        return Future.failedFuture(new IllegalStateException("first delivery fails"));
      }
      return super.onReminder(reminder);
    }
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    sticky = Sticky.create(vertx);
    sticky.register(EntityType.of("reminding", RemindingEntity::new, new EntityTypeOptions().setStore("memory")));
    sticky.register(EntityType.of("sleepy", RemindingEntity::new, new EntityTypeOptions().setStore("memory").setPassivateAfterMs(200)));
    sticky.register(EntityType.of("herd", RemindingEntity::new, new EntityTypeOptions().setStore("memory").setPassivateAfterMs(200)
        .setReminderActivationsPerSecond(HERD_RATE)));
    sticky.register(EntityType.of("forgetful", RemindingEntity::new, new EntityTypeOptions().setStore("none")));
    sticky.start().await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private JsonObject ask(String type, String id, JsonObject message) {
    return sticky.entityRef(type, id).ask(message).await();
  }

  private static JsonObject remind(String name, long in, long period) {
    return new JsonObject().put("op", "remind").put("name", name).put("in", in).put("period", period);
  }

  private static List<Reminder> deliveries(String id) {
    return RemindingEntity.DELIVERIES.getOrDefault(id, List.of());
  }

  @Test
  void aOneShotReminderIsDeliveredOnceAndThenGone() {
    String id = "once-" + System.nanoTime();
    assertThat(ask("reminding", id, remind("r", 100, 0)).getJsonArray("reminders")).containsExactly("r");
    await().atMost(Duration.ofSeconds(5)).until(() -> ask("reminding", id, new JsonObject().put("op", "get")).getInteger("rings") == 1);
    assertThat(ask("reminding", id, new JsonObject().put("op", "get")).getJsonArray("reminders")).isEmpty();
    assertThat(deliveries(id)).singleElement().satisfies(r -> {
      assertThat(r.name()).isEqualTo("r");
      assertThat(r.isRetry()).isFalse();
      assertThat(r.dueAtMillis()).isLessThanOrEqualTo(System.currentTimeMillis());
    });
  }

  @Test
  void aPeriodicReminderRepeatsUntilCancelled() {
    String id = "periodic-" + System.nanoTime();
    ask("reminding", id, remind("tick", 10, Entity.MIN_REMINDER_PERIOD_MS));
    await().atMost(Duration.ofSeconds(10)).until(() -> deliveries(id).size() >= 2);
    ask("reminding", id, new JsonObject().put("op", "cancel").put("name", "tick"));
    assertThat(ask("reminding", id, new JsonObject().put("op", "get")).getJsonArray("reminders")).isEmpty();
    List<Reminder> two = deliveries(id);
    assertThat(two.get(1).dueAtMillis() - two.get(0).dueAtMillis()).isEqualTo(Entity.MIN_REMINDER_PERIOD_MS);
  }

  @Test
  void aReminderWakesAPassivatedEntity() {
    String id = "sleepy-" + System.nanoTime();
    ask("sleepy", id, remind("wake", 1_500, 0));
    long activations = sticky.stats("sleepy").activations();
    await().atMost(Duration.ofSeconds(5)).until(() -> sticky.stats("sleepy").activeEntities() == 0);
    // nothing is sent to it: the region's index activates it when the reminder is due
    await().atMost(Duration.ofSeconds(10)).until(() -> deliveries(id).size() == 1);
    assertThat(sticky.stats("sleepy").activations()).isGreaterThan(activations);
    assertThat(ask("sleepy", id, new JsonObject().put("op", "get")).getInteger("rings")).as("its ring was stored").isEqualTo(1);
  }

  @Test
  void aFailedDeliveryComesAgainAsARetry() {
    String id = "flaky-" + System.nanoTime();
    RemindingEntity.FAIL_FIRST.add(id);
    ask("reminding", id, remind("r", 10, 0));
    await().atMost(Duration.ofSeconds(10)).until(() -> deliveries(id).size() == 2);
    assertThat(deliveries(id)).extracting(Reminder::attempt).containsExactly(1, 2);
    assertThat(deliveries(id).get(1).isRetry()).isTrue();
    assertThat(deliveries(id).get(1).dueAtMillis()).as("the same due time").isEqualTo(deliveries(id).get(0).dueAtMillis());
    await().atMost(Duration.ofSeconds(5)).until(() -> ask("reminding", id, new JsonObject().put("op", "get")).getInteger("rings") == 1);
  }

  private static final int HERD_RATE = 400;

  /** A thousand passivated entities' reminders due at the same moment are delivered at the configured rate, not at once. */
  @Test
  void remindersDueTogetherArePacedAtTheConfiguredRate() {
    int herd = 1_000;
    String run = "herd-" + System.nanoTime() + "-";
    long dueAt = System.currentTimeMillis() + 8_000;
    for (int i = 0; i < herd; i++) {
      ask("herd", run + i, remind("r", Math.max(0, dueAt - System.currentTimeMillis()), 0));
    }
    assertThat(System.currentTimeMillis()).as("registered before they are due").isLessThan(dueAt);
    await().atMost(Duration.ofSeconds(10)).until(() -> sticky.stats("herd").activeEntities() == 0);
    await().atMost(Duration.ofSeconds(30)).until(() -> java.util.stream.IntStream.range(0, herd)
        .allMatch(i -> RemindingEntity.DELIVERED_AT.containsKey(run + i)));
    List<Long> times = java.util.stream.IntStream.range(0, herd).mapToObj(i -> RemindingEntity.DELIVERED_AT.get(run + i)).sorted().toList();
    assertThat(times.get(0)).as("never early").isGreaterThanOrEqualTo(dueAt);
    // At HERD_RATE a second, in ticks of a tenth of that: no one-second window holds much more than the rate.
    int busiest = 0;
    for (int a = 0, b = 0; b < times.size(); b++) {
      while (times.get(b) - times.get(a) >= 1_000) {
        a++;
      }
      busiest = Math.max(busiest, b - a + 1);
    }
    assertThat(busiest).as("deliveries in the busiest second").isLessThanOrEqualTo(HERD_RATE + HERD_RATE / 5);
    assertThat(times.get(herd - 1) - times.get(0)).as("spread over at least herd/rate - 1 seconds")
        .isGreaterThanOrEqualTo((herd / HERD_RATE - 1) * 1_000L);
  }

  @Test
  void aTypeWithoutAStoreRefusesReminders() {
    Future<JsonObject> refused = sticky.entityRef("forgetful", "f1").ask(remind("r", 10, 0));
    assertThatThrownBy(refused::await).isInstanceOfSatisfying(EntityException.class,
        e -> assertThat(e.getMessage()).contains("store none"));
  }

  @Test
  void remindersAreBoundedPerEntity() {
    String id = "many-" + System.nanoTime();
    for (int i = 0; i < Entity.MAX_REMINDERS; i++) {
      ask("reminding", id, remind("r" + i, 3_600_000, 0));
    }
    Future<JsonObject> oneMore = sticky.entityRef("reminding", id).ask(remind("one-more", 3_600_000, 0));
    assertThatThrownBy(oneMore::await).isInstanceOfSatisfying(EntityException.class,
        e -> assertThat(e.error()).isEqualTo(StickyError.ENTITY_FAILED));
    assertThat(ask("reminding", id, new JsonObject().put("op", "get")).getJsonArray("reminders")).hasSize(Entity.MAX_REMINDERS);
  }
}
