package io.sticky.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The {@link StateStore} contract, run against every built-in store by its subclass. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StateStoreContract {
  protected Vertx vertx;
  protected StateStore store;

  /** The store under test, on a store of its own (fresh table, map or cluster). */
  protected abstract StateStore createStore(Vertx vertx) throws Exception;

  protected void cleanUp() throws Exception {
  }

  /** False for node-local stores, which accept any higher version (see {@link InMemoryStateStore}). */
  protected boolean exactVersions() {
    return true;
  }

  @BeforeAll
  void startStore() throws Exception {
    vertx = Vertx.vertx();
    store = createStore(vertx);
  }

  @AfterAll
  void stopStore() throws Exception {
    if (store != null) {
      store.close().await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
    cleanUp();
  }

  protected static String newId() {
    return "e-" + UUID.randomUUID();
  }

  protected static <T> T await(Future<T> f) throws Exception {
    return f.await(10, TimeUnit.SECONDS);
  }

  private static StoredState state(long version, String data) {
    return new StoredState(version, 7, 1, data);
  }

  @Test
  void anEntityNeverWrittenLoadsAsNull() throws Exception {
    assertThat(await(store.load("counter", newId()))).isNull();
  }

  @Test
  void aWriteIsReadBackExactly() throws Exception {
    String id = newId();
    StoredState written = new StoredState(1, 7, 2, "{\"value\":42,\"text\":\"é \\\" \\n ok\"}");
    await(store.write("counter", id, written));
    assertThat(await(store.load("counter", id))).isEqualTo(written);
  }

  @Test
  void theAppliedIdempotencyKeysAreStoredWithTheStateAndReplacedByTheNextWrite() throws Exception {
    String id = newId();
    StoredState withKeys = new StoredState(1, 7, 1, "{\"value\":1}", "{\"appliedKeys\":[{\"key\":\"k\",\"fingerprint\":\"f\",\"reply\":{},\"at\":1}]}");
    await(store.write("counter", id, withKeys));
    assertThat(await(store.load("counter", id))).isEqualTo(withKeys);
    StoredState without = new StoredState(2, 7, 1, "{\"value\":2}");
    await(store.write("counter", id, without));
    assertThat(await(store.load("counter", id))).isEqualTo(without);
  }

  @Test
  void versionsAdvanceOneByOne() throws Exception {
    String id = newId();
    await(store.write("counter", id, state(1, "{\"value\":1}")));
    await(store.write("counter", id, state(2, "{\"value\":2}")));
    await(store.write("counter", id, state(3, "{\"value\":3}")));
    assertThat(await(store.load("counter", id))).isEqualTo(state(3, "{\"value\":3}"));
  }

  @Test
  void aWriteThatDoesNotFollowTheStoredVersionIsRejectedAndChangesNothing() throws Exception {
    String id = newId();
    await(store.write("counter", id, state(1, "{\"value\":1}")));
    // a second "first write" (an instance that read nothing), and (for shared stores) a writer from the future
    List<StoredState> bad = exactVersions() ? List.of(state(1, "{\"value\":100}"), state(3, "{\"value\":300}")) : List.of(state(1, "{\"value\":100}"));
    for (StoredState b : bad) {
      assertThatThrownBy(() -> await(store.write("counter", id, b))).isInstanceOf(StateConflictException.class);
    }
    await(store.write("counter", id, state(2, "{\"value\":2}")));
    assertThatThrownBy(() -> await(store.write("counter", id, state(2, "{\"value\":200}")))).isInstanceOf(StateConflictException.class);
    assertThat(await(store.load("counter", id))).isEqualTo(state(2, "{\"value\":2}"));
  }

  @Test
  void aFirstWriteMustBeVersionOne() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(exactVersions(), "node-local stores accept a carried-over version");
    String id = newId();
    assertThatThrownBy(() -> await(store.write("counter", id, state(2, "{}")))).isInstanceOf(StateConflictException.class);
    assertThat(await(store.load("counter", id))).isNull();
  }

  @Test
  void ofManyRacingWritersOfOneVersionExactlyOneWins() throws Exception {
    String id = newId();
    await(store.write("counter", id, state(1, "{\"value\":0}")));
    List<Future<Void>> racers = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      racers.add(store.write("counter", id, state(2, "{\"writer\":" + i + "}")));
    }
    Future.join(racers).otherwiseEmpty().await(10, TimeUnit.SECONDS); // every racer done, failed or not
    long winners = racers.stream().filter(Future::succeeded).count();
    assertThat(winners).isEqualTo(1);
    racers.stream().filter(Future::failed).forEach(f -> assertThat(f.cause()).isInstanceOf(StateConflictException.class));
    int winner = racers.indexOf(racers.stream().filter(Future::succeeded).findFirst().orElseThrow());
    assertThat(await(store.load("counter", id)).data()).isEqualTo("{\"writer\":" + winner + "}");
  }

  @Test
  void typesAreSeparateNamespaces() throws Exception {
    String id = newId();
    await(store.write("counter", id, state(1, "{\"counter\":true}")));
    assertThat(await(store.load("cart", id))).isNull();
    await(store.write("cart", id, state(1, "{\"cart\":true}")));
    assertThat(await(store.load("counter", id)).data()).isEqualTo("{\"counter\":true}");
  }

  @Test
  void countNamesTheStoredEntitiesOfOneType() throws Exception {
    String type = "counted" + Math.abs(newId().hashCode());
    assertThat(await(store.count(type))).isZero();
    for (int i = 0; i < 3; i++) {
      String id = newId();
      await(store.write(type, id, state(1, "{}")));
      await(store.write(type, id, state(2, "{}")));
    }
    await(store.write(type + "x", newId(), state(1, "{}")));
    assertThat(await(store.count(type))).as("three entities, each written twice; another type apart").isEqualTo(3);
  }

  @Test
  void pingAnswersWhileTheStoreIsUp() throws Exception {
    await(store.ping());
  }
}
