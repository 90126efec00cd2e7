package io.sticky.internal.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.StickyOptions;
import io.sticky.internal.coordinator.ShardCoordinator;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.internal.NodeRuntime.Placement;
import io.sticky.api.ShardId;
import io.sticky.testkit.Http;
import io.sticky.testkit.Scrape;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.internal.VertxInternal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Planned moves under a steady stream of increments: a node joins (rebalance), a node leaves cleanly, the
 * coordinator's node leaves cleanly. No request may fail, no acknowledged increment may be lost or applied
 * twice, and no entity may ever be active on two nodes at once.
 */
class HandOffTest {
  private static final int IDS = 200;
  private static final int SHARDS = 100;
  private static final int WORKERS = 6;

  /** Activation and stop events of every tracked entity in this JVM, with the node and a monotonic time. */
  record Event(String id, String node, boolean start, long nanos) {
  }

  static final Collection<Event> EVENTS = new ConcurrentLinkedQueue<>();

  /** The counter, recording its lifecycle. */
  public static class TrackedCounter extends CounterEntity {
    @Override
    protected Future<?> onActivate() {
      EVENTS.add(new Event(id(), node(), true, System.nanoTime()));
      return Future.succeededFuture();
    }

    @Override
    protected Future<?> onStop() {
      EVENTS.add(new Event(id(), node(), false, System.nanoTime()));
      return Future.succeededFuture();
    }

    private String node() {
      return ((VertxInternal) vertx).clusterManager().getNodeId();
    }
  }

  /** The counter, plus {@code {"op":"hold"}}: holds the entity in that message until the test releases it. */
  public static class HoldingCounter extends CounterEntity {
    static volatile Promise<Void> holding;
    static volatile Promise<Void> release;
    static volatile HoldingCounter held;

    /** Releases the held message on the entity's own context, where its state lives. */
    static void releaseHeld() {
      held.context.runOnContext(v -> release.complete());
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      if ("hold".equals(message.getString("op"))) {
        held = this;
        holding.complete();
        return release.future().map(v -> view());
      }
      return super.handle(message);
    }
  }

  private TestCluster cluster;

  @BeforeEach
  void start() {
    EVENTS.clear();
    // 100 shards rather than the default 1000: with a few thousand entities each shard then holds dozens,
    // and stopping many entities of a shard at once is where hand-off bugs hide. No state store: a value
    // survives a move only if its entity's snapshot travelled with the shard.
    cluster = TestCluster.start(3, List.of(EntityType.of(CounterEntity.TYPE, TrackedCounter::new,
        new EntityTypeOptions().setNumberOfShards(SHARDS))), o -> o.setStore("none"));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aJoiningNodeGetsAnEvenShareWithoutLosingARequest() throws Exception {
    Load load = new Load(List.of(cluster.node(0), cluster.node(1), cluster.node(2)));
    load.preload(3_000);
    load.start();
    load.awaitAcks(500);
    long joinedAt = System.nanoTime();
    StickyNode fourth = cluster.startNode();
    // settled: the spread between nodes is at most one shard
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> spread() <= 1 && shardsOf(fourth) > 0);
    System.out.printf("HandOffTest: join settled in %d ms%n", (System.nanoTime() - joinedAt) / 1_000_000);
    load.awaitAcks(load.acks() + 500);
    load.stopAndCheck();
    // its fair share of the allocated shards (ids touched so far cover most of the 100)
    assertThat(shardsOf(fourth)).isGreaterThanOrEqualTo(allocations().size() / 4);
    // Finished moves are marked so in the allocation table: a coordinator that took over now would have
    // none to finish (it asks the old home of every move it finds unfinished).
    await().atMost(Duration.ofSeconds(10)).until(() -> movesInTable() == 0);
  }

  /** Entries of the allocation table that still name the home a shard is moving from. */
  private long movesInTable() throws Exception {
    return cluster.node(0).vertx().sharedData().<String, String>getAsyncMap(ShardCoordinator.TABLE)
        .compose(table -> table.entries())
        .await(5, TimeUnit.SECONDS)
        .values().stream().filter(v -> new JsonObject(v).containsKey("from")).count();
  }

  @Test
  void anOperatorDrainsANodeAndUndrainsItWithoutLosingARequest() throws Exception {
    StickyNode drained = cluster.node(2);
    Load load = new Load(List.of(cluster.node(0), cluster.node(1)));
    load.preload(3_000);
    load.start();
    load.awaitAcks(500);
    assertThat(shardsOf(drained)).isPositive();

    Response accepted = Http.post(cluster.node(0).httpPort(), "/cluster/nodes/" + drained.nodeId() + "/drain", "");
    assertThat(accepted.status()).as(accepted.raw().body()).isEqualTo(202);
    assertThat(accepted.json().getBoolean("drained")).isTrue();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> shardsOf(drained) == 0);
    Response ready = Http.get(drained.httpPort(), "/health/ready");
    assertThat(ready.status()).as("a drained node stays up, not ready").isEqualTo(503);
    assertThat(ready.raw().body()).contains("drained by an operator");
    assertThat(Http.get(drained.httpPort(), "/health/live").status()).isEqualTo(200);
    load.awaitAcks(load.acks() + 300);
    assertThat(shardsOf(drained)).as("a drained node gets no new shards").isZero();

    Response undrained = Http.method(cluster.node(1).httpPort(), "DELETE", "/cluster/nodes/" + drained.nodeId() + "/drain");
    assertThat(undrained.status()).isEqualTo(202);
    assertThat(undrained.json().getBoolean("drained")).isFalse();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> shardsOf(drained) > 0 && spread() <= 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> Http.get(drained.httpPort(), "/health/ready").status() == 200);
    load.awaitAcks(load.acks() + 300);
    load.stopAndCheck();

    assertThat(Http.post(cluster.node(0).httpPort(), "/cluster/nodes/no-such-node/drain", "").status()).isEqualTo(404);
  }

  @Test
  void anOperatorMovesOneShardAndTheRebalanceLeavesItThere() throws Exception {
    StickyNode from = cluster.node(0);
    StickyNode to = cluster.node(1);
    Load load = new Load(List.of(cluster.node(0), cluster.node(1), cluster.node(2)));
    load.preload(3_000);
    load.start();
    load.awaitAcks(500);
    int shard = allocations().stream().filter(h -> h.node().equals(from.nodeId())).findFirst().orElseThrow().shard();
    String move = "/cluster/shards/" + CounterEntity.TYPE + "/" + shard + "/move";
    int port = cluster.node(2).httpPort();

    Response accepted = Http.post(port, move, new JsonObject().put("to", to.nodeId()).encode());
    assertThat(accepted.status()).as(accepted.raw().body()).isEqualTo(202);
    assertThat(accepted.json().getString("from")).isEqualTo(from.nodeId());
    await().atMost(Duration.ofSeconds(20)).until(() -> homeOf(shard).equals(to.nodeId()));

    assertThat(Http.post(port, move, new JsonObject().put("to", to.nodeId()).encode()).status()).as("already there").isEqualTo(409);
    assertThat(Http.post(port, move, new JsonObject().put("to", "no-such-node").encode()).status()).isEqualTo(404);
    assertThat(Http.post(port, "/cluster/shards/" + CounterEntity.TYPE + "/" + SHARDS + "/move",
        new JsonObject().put("to", to.nodeId()).encode()).status()).as("no such shard").isEqualTo(404);
    assertThat(Http.post(port, move, "{\"nowhere\":1}").status()).isEqualTo(400);
    // A drained node takes no shard, not even by hand.
    assertThat(Http.post(port, "/cluster/nodes/" + from.nodeId() + "/drain", "").status()).isEqualTo(202);
    Response toDrained = Http.post(port, move, new JsonObject().put("to", from.nodeId()).encode());
    assertThat(toDrained.status()).isEqualTo(409);
    assertThat(toDrained.json().getString("detail")).contains("drained");
    assertThat(Http.method(port, "DELETE", "/cluster/nodes/" + from.nodeId() + "/drain").status()).isEqualTo(202);

    // The rebalance after the undrain evens the load out around the moved shard, which stays where it was put.
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> shardsOf(from) > 0 && spread() <= 2
        && movesInTable() == 0);
    assertThat(homeOf(shard)).isEqualTo(to.nodeId());
    load.awaitAcks(load.acks() + 300);
    load.stopAndCheck();
  }

  private String homeOf(int shard) {
    return allocations().stream().filter(h -> h.shard() == shard).findFirst().map(Placement::node).orElse("");
  }

  @Test
  void aNodeLeavingCleanlyHandsOffItsEntitiesWithoutLosingARequest() throws Exception {
    Load load = new Load(List.of(cluster.node(0), cluster.node(1)));
    load.preload(3_000);
    load.start();
    load.awaitAcks(500);
    cluster.node(2).close().await(30, TimeUnit.SECONDS);
    load.awaitAcks(load.acks() + 500);
    load.stopAndCheck();
    await().atMost(Duration.ofSeconds(10)).until(() -> spread() <= 1);
  }

  @Test
  void theCoordinatorsNodeLeavingCleanlyLosesNothing() throws Exception {
    Load load = new Load(List.of(cluster.node(1), cluster.node(2)));
    load.start();
    load.awaitAcks(500);
    cluster.node(0).close().await(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(20)).until(() -> cluster.node(1).sticky().runsCoordinator());
    load.awaitAcks(load.acks() + 500);
    load.stopAndCheck();
  }

  /**
   * The new home takes the shard but its answer (ShardStarted) is lost, so the old home's HostShard times
   * out although the new home already serves the shard. Going back to hosting it on the old home would run
   * it twice and lose what the new home did: the old home must send HostShard again, and the new home
   * acknowledge the repeat without touching its entities. Fails when a HostShard timeout abandons the
   * move (and, when the new home served messages meanwhile, with an id active on two nodes or values off).
   */
  @Test
  void aNewHomeWhoseAnswerIsLostIsAskedAgainAndTheShardRunsOnceWithItsState() throws Exception {
    // one move at a time, so the new node's interceptor (added once it has started) sees most of them
    restartWithTwoNodes(new StickyOptions().setHandOffTimeoutMs(1_000).setRebalanceAbsoluteLimit(1));
    Load load = new Load(List.of(cluster.node(0), cluster.node(1)));
    load.preload(1_000); // the shards hold ~10 entities each, with state
    load.start();
    load.awaitAcks(300);
    StickyNode third = cluster.startNode();
    AtomicInteger dropped = new AtomicInteger();
    // ctx.body(), not ctx.message().body(): a clustered message has no body object until it is decoded
    third.vertx().eventBus().addOutboundInterceptor(ctx -> {
      if (ctx.body() instanceof JsonObject body && "ShardStarted".equals(body.getString("@kind")) && dropped.incrementAndGet() <= 3) {
        return; // lost on the way back: the old home's HostShard times out
      }
      ctx.next();
    });
    await().atMost(Duration.ofSeconds(20)).until(() -> dropped.get() > 3);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> spread() <= 1 && shardsOf(third) > 0);
    load.awaitAcks(load.acks() + 300);
    load.stopAndCheck(third);
    // Every move completed the first time: a timed-out HostShard was sent again, not given up on (the
    // coordinator, on node 0, counts its hand-offs by outcome).
    Scrape coordinator = Scrape.of(cluster.node(0).httpPort());
    assertThat(coordinator.sum("sticky_handoffs_seconds_count", "outcome", "abandoned")).as("abandoned hand-offs").isZero();
    assertThat(coordinator.sum("sticky_handoffs_seconds_count", "outcome", "ok")).isGreaterThanOrEqualTo(shardsOf(third));
  }

  /**
   * The new home never gets the shard (every HostShard to it is lost) and then crashes: the old homes stop
   * sending it, the coordinator abandons those moves, and the old homes serve the shards again from the
   * snapshots they took. No store here, so a value survives only through those snapshots; fails ("value of
   * ... expected 1 but was 0") when a re-hosted shard drops them.
   */
  @Test
  void aHandOffToANodeThatCrashesIsAbandonedAndTheOldHomeKeepsServingWithItsState() throws Exception {
    restartWithTwoNodes(new StickyOptions().setHandOffTimeoutMs(1_000));
    AtomicBoolean dropHostShard = new AtomicBoolean();
    AtomicInteger dropped = new AtomicInteger();
    for (StickyNode n : cluster.nodes()) {
      n.vertx().eventBus().addOutboundInterceptor(ctx -> {
        if (dropHostShard.get() && ctx.body() instanceof JsonObject body && "HostShard".equals(body.getString("@kind"))) {
          dropped.incrementAndGet();
          return; // lost on the way: the old home's request times out, and it sends it again
        }
        ctx.next();
      });
    }
    Load load = new Load(List.of(cluster.node(0), cluster.node(1)));
    load.preload(1_000); // the shards hold ~10 entities each, with state
    load.start();
    load.awaitAcks(300);
    await().atMost(Duration.ofSeconds(20)).until(() -> spread() <= 1);
    dropHostShard.set(true);
    StickyNode third = cluster.startNode();
    await().atMost(Duration.ofSeconds(20)).until(() -> dropped.get() >= 3);
    // what the old homes forwarded behind the lost HostShards is in flight to it when it crashes
    load.expectCrash();
    third.crash().await(30, TimeUnit.SECONDS);
    dropHostShard.set(false); // the two that remain may even out between them again
    // the coordinator (node 0) counts the abandoned moves once their old homes report the failure
    await().atMost(Duration.ofSeconds(20)).until(() ->
        Scrape.of(cluster.node(0).httpPort()).sum("sticky_handoffs_seconds_count", "outcome", "abandoned") > 0);
    load.awaitAcks(load.acks() + 300);
    load.stopAndCheck(cluster.node(1));
  }

  /**
   * A node leaves cleanly and the node its shards are going to crashes mid-move: those hand-offs fail and
   * leave the shards, with their snapshots, on the leaving node. They must be moved again, to the node that
   * is left, before the leaving node exits; left there, their state would go with it. No store, so a value
   * survives only through the snapshots; fails ("value of ... expected ...") when a failed move is not
   * made again.
   */
  @Test
  void aLeavingNodesMoveThatFailsIsMadeAgainToAnotherNodeWithItsState() throws Exception {
    // A join delay far longer than the test: the third node gets no shard from a rebalance, only from the leave.
    restartWithTwoNodes(new StickyOptions().setHandOffTimeoutMs(1_000).setRebalanceJoinDelayMs(600_000));
    StickyNode leaving = cluster.node(1);
    Load load = new Load(List.of(cluster.node(0)));
    load.preload(1_000); // ~10 entities with state in each shard, and every shard allocated
    assertThat(allocations()).hasSize(SHARDS);
    StickyNode third = cluster.startNode();
    await().atMost(Duration.ofSeconds(30)).until(() -> third.sticky().isReady());
    assertThat(shardsOf(third)).isZero();
    String thirdsRegion = io.sticky.internal.protocol.Addresses.region(CounterEntity.TYPE, third.nodeId());
    AtomicInteger dropped = new AtomicInteger();
    leaving.vertx().eventBus().addOutboundInterceptor(ctx -> {
      if (thirdsRegion.equals(ctx.message().address()) && ctx.body() instanceof JsonObject body && "HostShard".equals(body.getString("@kind"))) {
        dropped.incrementAndGet();
        return; // lost on the way: the leaving node sends it again while the third node is a member
      }
      ctx.next();
    });
    load.start();
    load.awaitAcks(300);
    Future<Void> left = leaving.close(); // the least loaded node, the third, is where its shards go first
    await().atMost(Duration.ofSeconds(20)).until(() -> dropped.get() >= 3);
    load.expectCrash(); // what the leaving node forwarded behind the lost HostShards is in flight to it
    third.crash().await(30, TimeUnit.SECONDS);
    left.await(60, TimeUnit.SECONDS);
    assertThat(Scrape.of(cluster.node(0).httpPort()).sum("sticky_handoffs_seconds_count", "outcome", "abandoned"))
        .as("hand-offs to the crashed node, abandoned").isPositive();
    assertThat(shardsOf(cluster.node(0))).as("shards on the node that is left").isEqualTo(SHARDS);
    load.awaitAcks(load.acks() + 300);
    load.stopAndCheck(cluster.node(0));
  }

  /**
   * A leaving node's move that keeps failing is made again for as long as the leave may last, not a fixed
   * number of times: here the only other node refuses one shard's HostShard 4 times (fast failures, as from
   * a new home that knows the shard at a newer epoch), then takes it. No store, so the shard's values
   * survive only if its snapshots are moved in the end. With a fixed 3 tries (as before) the shard left
   * with the node: the count of HostShards below was 4, and its values would have been lost.
   */
  @Test
  void aLeavingNodesMoveThatFailsManyTimesIsMadeAgainUntilItSucceeds() throws Exception {
    restartWithTwoNodes(new StickyOptions().setHandOffTimeoutMs(1_000));
    StickyNode leaving = cluster.node(1);
    StickyNode staying = cluster.node(0);
    Load load = new Load(List.of(staying));
    load.preload(1_000); // ~10 entities with state in each shard, and every shard allocated
    int refusedShard = allocations().stream().filter(h -> h.node().equals(leaving.nodeId())).findFirst().orElseThrow().shard();
    String stayingsRegion = io.sticky.internal.protocol.Addresses.region(CounterEntity.TYPE, staying.nodeId());
    int refusals = 4;
    AtomicInteger refused = new AtomicInteger();
    staying.vertx().eventBus().addInboundInterceptor(ctx -> {
      // inbound: ctx.message().body() decodes the clustered message (ctx.body() is null here)
      if (stayingsRegion.equals(ctx.message().address()) && ctx.message().body() instanceof JsonObject body
          && "HostShard".equals(body.getString("@kind")) && body.getInteger("shard") == refusedShard
          && refused.getAndIncrement() < refusals) {
        ctx.message().fail(409, "refused by the test");
        return;
      }
      ctx.next();
    });
    load.start();
    load.awaitAcks(300);
    leaving.close().await(60, TimeUnit.SECONDS);
    assertThat(refused.get()).as("HostShards of shard %d that reached the staying node", refusedShard).isGreaterThan(refusals);
    assertThat(shardsOf(staying)).as("shards on the node that is left").isEqualTo(SHARDS);
    load.awaitAcks(load.acks() + 300);
    load.stopAndCheck(staying);
  }

  /**
   * The old home buffers a moving shard's messages, up to {@code maxBufferedPerShard}; beyond that each is
   * answered at once with 503, a problem body and Retry-After, and is not applied. Nothing is dropped
   * silently: every request gets an answer, the buffered ones are applied once on the new home, the refused
   * ones never. The shard is held in its hand-off by an entity busy in a message (the stop waits for it).
   */
  @Test
  void aFullHandOffBufferAnswers503WithRetryAfterAndLosesNothing() throws Exception {
    int perShard = 3;
    fullBuffer(perShard, perShard, new StickyOptions());
  }

  /** The same with the region's buffer full in bytes (maxBufferedBytesPerRegion) rather than in messages. */
  @Test
  void aHandOffBufferFullInBytesAnswers503AndLosesNothing() throws Exception {
    // {"op":"increment"} weighs its 18 bytes of JSON plus the fixed 256 of Envelope.bufferBytes(): 3 fit
    fullBuffer(1_000, 3, new StickyOptions().setMaxBufferedBytesPerRegion(3 * (18 + 256)));
  }

  private void fullBuffer(int perShard, int fitting, StickyOptions stickyOptions) throws Exception {
    cluster.close();
    int sent = 10;
    String type = "holding";
    // one shard, so the one hand-off of the leave moves every id of the type
    cluster = TestCluster.start(2, List.of(EntityType.of(type, HoldingCounter::new,
            new EntityTypeOptions().setNumberOfShards(1).setMaxBufferedPerShard(perShard).setAskTimeoutMs(30_000))),
        stickyOptions.setHandOffTimeoutMs(30_000), o -> o.setStore("none"));
    JsonObject increment = new JsonObject().put("op", "increment");
    cluster.node(0).sticky().entityRef(type, "held").ask(increment).await(10, TimeUnit.SECONDS);
    String home = cluster.node(0).sticky().placements(type).await(5, TimeUnit.SECONDS).shards().get(0).node();
    StickyNode oldHome = cluster.nodes().stream().filter(n -> n.nodeId().equals(home)).findFirst().orElseThrow();
    StickyNode other = cluster.nodes().stream().filter(n -> n != oldHome).findFirst().orElseThrow();

    HoldingCounter.holding = Promise.promise();
    HoldingCounter.release = Promise.promise();
    Future<JsonObject> heldReply = other.sticky().entityRef(type, "held").ask(new JsonObject().put("op", "hold"));
    HoldingCounter.holding.future().await(10, TimeUnit.SECONDS);
    Future<Void> left = oldHome.close(); // hands the shard off: its stop waits for the held message
    await().atMost(Duration.ofSeconds(10)).until(() -> oldHome.sticky().stats(type).hostedShards() == 0);

    ExecutorService clients = Executors.newFixedThreadPool(sent);
    List<java.util.concurrent.Future<Response>> answers = new ArrayList<>();
    for (int i = 0; i < sent; i++) {
      answers.add(clients.submit(() -> Http.increment(other.httpPort(), type, "waiting")));
    }
    // the refused ones are answered while the shard is still held
    await().atMost(Duration.ofSeconds(10)).until(() -> answers.stream().filter(java.util.concurrent.Future::isDone).count() == sent - fitting);
    assertThat(heldReply.isComplete()).as("still held").isFalse();
    HoldingCounter.releaseHeld();
    left.await(30, TimeUnit.SECONDS);
    clients.shutdown();

    int ok = 0;
    for (java.util.concurrent.Future<Response> f : answers) {
      Response r = f.get(30, TimeUnit.SECONDS);
      if (r.status() == 200) {
        ok++;
        continue;
      }
      assertThat(r.status()).as(r.toString()).isEqualTo(503);
      assertThat(r.header("Retry-After")).as(r.toString()).isNotBlank();
      assertThat(r.header("Content-Type")).startsWith("application/problem+json");
      assertThat(r.json().getString("outcome")).as(r.toString()).isEqualTo("not-applied");
    }
    assertThat(ok).as("buffered, then applied on the new home").isEqualTo(fitting);
    assertThat(heldReply.await(10, TimeUnit.SECONDS).getLong("value")).isEqualTo(1);
    Response waiting = Http.get(other.httpPort(), "/entities/" + type + "/waiting");
    assertThat(waiting.json().getLong("value")).as("each answered 200 applied once, each 503 never").isEqualTo(fitting);
    assertThat(Http.get(other.httpPort(), "/entities/" + type + "/held").json().getLong("value")).isEqualTo(1);
  }

  /**
   * Moves are paced: a joining node takes no shard from a rebalance before {@code rebalanceJoinDelayMs} has
   * passed since it registered, and then no more than {@code handOffRatePerSecond} start each second (after
   * a burst of {@code rebalanceAbsoluteLimit}). Every shard is allocated before the node joins and nothing
   * asks for a new one afterwards, so every shard it gets came by a hand-off. The bounds are lower bounds on
   * time: a slow machine only makes the moves later, never earlier.
   */
  @Test
  void aJoiningNodeTakesShardsOnlyAfterItsJoinDelayAndAtTheHandOffRate() throws Exception {
    long delayMs = 3_000;
    double rate = 10;
    cluster.close();
    cluster = TestCluster.start(3, List.of(EntityType.of(CounterEntity.TYPE, TrackedCounter::new,
            new EntityTypeOptions().setNumberOfShards(SHARDS))),
        new StickyOptions().setRebalanceJoinDelayMs(delayMs).setHandOffRatePerSecond(rate), o -> o.setStore("none"));
    Load load = new Load(List.of(cluster.node(0), cluster.node(1), cluster.node(2)));
    load.preload(3_000); // ~30 ids per shard: every one of the 100 shards is allocated
    assertThat(allocations()).hasSize(SHARDS);
    long beforeJoin = System.nanoTime(); // before the node registers, so before its delay starts
    StickyNode fourth = cluster.startNode();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> shardsOf(fourth) > 0);
    long firstSeen = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> spread() <= 1);
    long settled = System.nanoTime();
    int moved = shardsOf(fourth);
    assertThat((firstSeen - beforeJoin) / 1_000_000).isGreaterThanOrEqualTo(delayMs);
    // from the first start (after the delay) a burst of at most 5 moves, the rest at the rate
    long minimumMs = delayMs + (long) ((moved - 5) / rate * 1000);
    assertThat((settled - beforeJoin) / 1_000_000).isGreaterThanOrEqualTo(minimumMs);
    assertThat(moved).isGreaterThanOrEqualTo(SHARDS / 4);
    load.stopAndCheck();
  }

  /**
   * Replaces the 3-node cluster with 2 nodes using {@code options}, no state store (state survives only if
   * the snapshots do) and a 15 s ask timeout: in these tests a moving shard may wait a few seconds (HostShard
   * sent again, a crash being noticed), and its requests must not time out meanwhile.
   */
  private void restartWithTwoNodes(StickyOptions options) {
    cluster.close();
    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, TrackedCounter::new,
        new EntityTypeOptions().setNumberOfShards(SHARDS).setAskTimeoutMs(15_000))), options, o -> o.setStore("none"));
  }

  /**
   * A coordinator writes "B at epoch + 1, from A" to the table before it sends HandOff to A. If it dies
   * right then, the next coordinator must finish the move (A stops the shard and sends it to B), not just
   * believe the table: B would start the entities afresh while A still runs them.
   */
  @Test
  void aHandOffTheCoordinatorLeftInTheTableIsFinishedByTheNextOne() throws Exception {
    StickyNode a = cluster.node(1);
    StickyNode b = cluster.node(2);
    Load load = new Load(List.of(a, b));
    load.preload(600);
    // the lowest shard on A: the last a rebalance would pick (it moves the highest first)
    Placement moving = allocations().stream().filter(h -> h.node().equals(a.nodeId()))
        .min((x, y) -> Integer.compare(x.shard(), y.shard())).orElseThrow();
    a.vertx().sharedData().<String, String>getAsyncMap(ShardCoordinator.TABLE)
        .compose(table -> table.put(CounterEntity.TYPE + "/" + moving.shard(), new JsonObject()
            .put("node", b.nodeId()).put("epoch", moving.epoch() + 1)
            .put("from", a.nodeId()).put("fromEpoch", moving.epoch()).encode()))
        .await(5, TimeUnit.SECONDS);
    load.start();
    load.awaitAcks(300);
    cluster.node(0).close().await(30, TimeUnit.SECONDS); // its coordinator stops; A's (the next oldest) takes over
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> allocations().stream()
        .anyMatch(h -> h.shard() == moving.shard() && h.node().equals(b.nodeId()) && h.epoch() == moving.epoch() + 1));
    load.awaitAcks(load.acks() + 300);
    // Read through a node that never cached the shard's home, so asks the new coordinator: every value
    // intact (the entities came to B with their state) and never two instances of one id.
    StickyNode fresh = cluster.startNode();
    await().atMost(Duration.ofSeconds(30)).until(() -> fresh.sticky().isReady());
    load.stopAndCheck(fresh);
    assertThat(EVENTS).as("entities of shard %d started on B", moving.shard())
        .anyMatch(ev -> ev.start() && ev.node().equals(b.nodeId()) && ShardId.of(ev.id(), SHARDS) == moving.shard());
  }

  private int spread() {
    Map<String, Long> perNode = allocations().stream().collect(Collectors.groupingBy(Placement::node, Collectors.counting()));
    long live = cluster.nodes().stream().filter(n -> n.sticky().isReady()).count();
    if (perNode.size() < live) {
      return Integer.MAX_VALUE;
    }
    return (int) (perNode.values().stream().mapToLong(Long::longValue).max().orElse(0)
        - perNode.values().stream().mapToLong(Long::longValue).min().orElse(0));
  }

  private int shardsOf(StickyNode node) {
    return (int) allocations().stream().filter(h -> h.node().equals(node.nodeId())).count();
  }

  private List<Placement> allocations() {
    for (StickyNode n : cluster.nodes()) {
      if (n.sticky().isReady()) {
        try {
          return n.sticky().placements(CounterEntity.TYPE).await(5, TimeUnit.SECONDS).shards();
        } catch (Exception e) {
          // coordinator moving: try another node
        }
      }
    }
    return List.of();
  }

  /**
   * Workers that each own a disjoint set of ids and increment them one request at a time through the
   * entry nodes, counting acknowledgements per id; every failure is recorded.
   */
  final class Load {
    private final List<StickyNode> entries;
    private final Map<String, AtomicLong> acked = new ConcurrentHashMap<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong total = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    /** 504 "outcome unknown" answers per id, when a node is crashed on purpose (else they are failures). */
    private final Map<String, AtomicLong> unknown = new ConcurrentHashMap<>();
    private volatile boolean crashExpected;

    Load(List<StickyNode> entries) {
      this.entries = entries;
    }

    /**
     * From now on a node may crash: a request in flight to it is answered 504, outcome unknown (the
     * documented crash semantics). Such an increment may or may not be applied; the check allows for it.
     */
    void expectCrash() {
      crashExpected = true;
    }

    /**
     * Activates {@code n} more entities (one increment each) so that shards hold dozens of entities when
     * they move: stopping many entities of a shard at once is where concurrency bugs hide.
     */
    void preload(int n) {
      JsonObject increment = new JsonObject().put("op", "increment");
      for (int from = 0; from < n; from += 250) {
        List<Future<JsonObject>> batch = new ArrayList<>();
        for (int i = from; i < Math.min(n, from + 250); i++) {
          batch.add(entries.get(i % entries.size()).sticky().entityRef(CounterEntity.TYPE, "pre-" + i).ask(increment));
        }
        Future.all(batch).await();
        for (int i = from; i < Math.min(n, from + 250); i++) {
          acked.computeIfAbsent("pre-" + i, k -> new AtomicLong()).incrementAndGet();
        }
      }
    }

    void start() {
      for (int w = 0; w < WORKERS; w++) {
        int worker = w;
        Thread t = new Thread(() -> {
          int n = 0;
          while (running.get()) {
            String id = "h-" + (worker + WORKERS * (n % (IDS / WORKERS)));
            StickyNode entry = entries.get((worker + n) % entries.size());
            n++;
            try {
              Response r = Http.increment(entry.httpPort(), CounterEntity.TYPE, id);
              if (r.status() == 200) {
                acked.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
                total.incrementAndGet();
              } else if (crashExpected && r.status() == 504 && "unknown".equals(r.json().getString("outcome"))) {
                unknown.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
              } else {
                failures.add(id + " via " + entry.nodeId() + ": " + r);
              }
            } catch (RuntimeException e) {
              failures.add(id + " via " + entry.nodeId() + ": " + e);
            }
          }
        }, "load-" + w);
        threads.add(t);
        t.start();
      }
    }

    long acks() {
      return total.get();
    }

    void awaitAcks(long n) {
      await().atMost(Duration.ofSeconds(60)).until(() -> total.get() >= n || !failures.isEmpty());
      assertThat(failures).as("failed requests").isEmpty();
    }

    void stopAndCheck() throws InterruptedException {
      stopAndCheck(entries.get(0));
    }

    /** Stops the load and reads every acknowledged id back through {@code reader}. */
    void stopAndCheck(StickyNode reader) throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(30_000);
      }
      assertThat(failures).as("failed requests").isEmpty();
      // every acknowledged increment is there exactly once
      Map<String, Long> expected = new HashMap<>();
      acked.forEach((id, n) -> expected.put(id, n.get()));
      for (Map.Entry<String, Long> e : expected.entrySet()) {
        Response r = Http.get(reader.httpPort(), "/entities/counter/" + e.getKey());
        assertThat(r.status()).isEqualTo(200);
        long mayHaveApplied = unknown.containsKey(e.getKey()) ? unknown.get(e.getKey()).get() : 0;
        assertThat(r.json().getLong("value")).as("value of " + e.getKey())
            .isBetween(e.getValue(), e.getValue() + mayHaveApplied);
      }
      assertNoEntityWasActiveTwice();
      System.out.printf("HandOffTest: %d acknowledged increments over %d ids, 0 failed%n", total.get(), expected.size());
    }
  }

  /** Replays the lifecycle events in time order: never two running instances of one id. */
  static void assertNoEntityWasActiveTwice() {
    Map<String, List<Event>> byId = EVENTS.stream().collect(Collectors.groupingBy(Event::id));
    int moves = 0;
    for (Map.Entry<String, List<Event>> e : byId.entrySet()) {
      List<Event> events = new ArrayList<>(e.getValue());
      events.sort((a, b) -> Long.compare(a.nanos(), b.nanos()));
      String activeOn = null;
      for (Event ev : events) {
        if (ev.start()) {
          assertThat(activeOn).as("%s activated on %s while still active on %s", e.getKey(), ev.node(), activeOn).isNull();
          activeOn = ev.node();
        } else {
          assertThat(activeOn).as("%s stopped on %s", e.getKey(), ev.node()).isEqualTo(ev.node());
          activeOn = null;
          moves++;
        }
      }
    }
    System.out.printf("HandOffTest: %d entity stops checked against activations%n", moves);
  }
}
