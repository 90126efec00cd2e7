package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.Entity;
import io.sticky.api.EntityAddress;
import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.api.Sticky;
import io.sticky.api.StickyError;
import io.sticky.examples.Examples;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The REST gateway and the entity contract on a single (non-clustered) node, over real HTTP. */
class GatewayTest {
  static final AtomicInteger inFlight = new AtomicInteger();
  static final AtomicInteger maxInFlight = new AtomicInteger();

  /** Never completes: for timeouts. */
  public static class StuckEntity extends Entity<Integer> {
    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      return Promise.<JsonObject>promise().future();
    }
  }

  /** Throws a bug. */
  public static class BuggyEntity extends Entity<Integer> {
    @Override
    protected Integer initialState() {
      return 0;
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      throw new IllegalStateException("secret internals");
    }
  }

  /** Completes each message later, on a timer, and records how many it ever handled at once. */
  public static class SlowEntity extends Entity<List<Integer>> {
    @Override
    protected List<Integer> initialState() {
      return new ArrayList<>();
    }

    @Override
    protected Future<JsonObject> handle(JsonObject message) {
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      Promise<JsonObject> p = Promise.promise();
      vertx.setTimer(5, t -> {
        state.add(message.getInteger("n"));
        inFlight.decrementAndGet();
        p.complete(new JsonObject().put("seen", state.size()));
      });
      return p.future();
    }

    @Override
    protected JsonObject view() {
      return new JsonObject().put("order", state);
    }
  }

  private Vertx vertx;
  private Sticky sticky;
  private int port;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    sticky = Sticky.create(vertx);
    Examples.types().forEach(sticky::register);
    sticky.register(EntityType.of("stuck", StuckEntity::new, new EntityTypeOptions().setAskTimeoutMs(300)));
    sticky.register(EntityType.of("buggy", BuggyEntity::new));
    sticky.register(EntityType.of("slow", SlowEntity::new));
    sticky.start().await();
    port = deployGateway(sticky, new GatewayOptions().setPort(0).setHost("127.0.0.1").setMaxBodyBytes(1024));
  }

  private int deployGateway(Sticky s, GatewayOptions options) {
    AtomicInteger actual = new AtomicInteger();
    vertx.deployVerticle(new RestGateway(s, options, actual::set)).await();
    return actual.get();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void counterIncrementsAndReadsBackWithTheHostingNode() {
    Response r1 = Http.post(port, "/entities/counter/c1", "{\"op\":\"increment\",\"delta\":5}");
    assertThat(r1.status()).isEqualTo(200);
    assertThat(r1.json()).isEqualTo(new JsonObject().put("id", "c1").put("value", 5));
    assertThat(r1.node()).isEqualTo(sticky.nodeId()).isNotBlank();
    assertThat(r1.header("Content-Type")).isEqualTo("application/json");
    assertThat(Http.increment(port, "counter", "c1").json().getLong("value")).isEqualTo(6);
    assertThat(Http.post(port, "/entities/counter/c1", "{\"op\":\"get\"}").json().getLong("value")).isEqualTo(6);
    Response view = Http.get(port, "/entities/counter/c1");
    assertThat(view.status()).isEqualTo(200);
    assertThat(view.json()).isEqualTo(new JsonObject().put("id", "c1").put("value", 6));
    assertThat(Http.get(port, "/entities/counter/other").json().getLong("value")).as("separate entity").isZero();
  }

  @Test
  void anIdempotencyKeyMakesARetryReplayTheFirstReply() {
    String url = "http://127.0.0.1:" + port + "/entities/counter/idem";
    java.util.Map<String, String> key = java.util.Map.of("Idempotency-Key", "order-17");
    Response first = Http.post(url, "{\"op\":\"increment\",\"delta\":5}", key);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.header(RestGateway.REPLAYED_HEADER)).isNull();
    Http.increment(port, "counter", "idem");

    Response retry = Http.post(url, "{\"op\":\"increment\",\"delta\":5}", key);
    assertThat(retry.status()).isEqualTo(200);
    assertThat(retry.header(RestGateway.REPLAYED_HEADER)).isEqualTo("true");
    assertThat(retry.json()).isEqualTo(first.json());
    assertThat(retry.node()).isEqualTo(sticky.nodeId());

    assertProblem(Http.post(url, "{\"op\":\"increment\",\"delta\":6}", key), 422, StickyError.IDEMPOTENCY_KEY_REUSED);
    assertProblem(Http.post(url, "{\"op\":\"increment\"}", java.util.Map.of("Idempotency-Key", "has space")), 400, StickyError.BAD_REQUEST);
    assertProblem(Http.post(url, "{\"op\":\"increment\"}", java.util.Map.of("Idempotency-Key", "k".repeat(256))), 400, StickyError.BAD_REQUEST);
    assertThat(Http.get(port, "/entities/counter/idem").json().getLong("value")).as("applied once, plus the one without a key").isEqualTo(6);
  }

  @Test
  void cartKeepsTypedState() {
    Http.post(port, "/entities/cart/u1", "{\"op\":\"add\",\"item\":\"apple\",\"quantity\":3}");
    Http.post(port, "/entities/cart/u1", "{\"op\":\"add\",\"item\":\"pear\"}");
    Response r = Http.post(port, "/entities/cart/u1", "{\"op\":\"remove\",\"item\":\"apple\",\"quantity\":1}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("items").encode()).isEqualTo("[{\"item\":\"apple\",\"quantity\":2},{\"item\":\"pear\",\"quantity\":1}]");
    assertThat(r.json().getInteger("totalQuantity")).isEqualTo(3);
    Response bad = Http.post(port, "/entities/cart/u1", "{\"op\":\"add\",\"item\":\"apple\",\"quantity\":-4}");
    assertProblem(bad, 400, StickyError.BAD_REQUEST);
    assertThat(Http.get(port, "/entities/cart/u1").json().getInteger("totalQuantity")).as("rejected op changed nothing").isEqualTo(3);
  }

  @Test
  void entityRejectionsAre400WithTheNodeHeader() {
    Response r = Http.post(port, "/entities/counter/c1", "{\"op\":\"explode\"}");
    assertProblem(r, 400, StickyError.BAD_REQUEST);
    assertThat(r.json().getString("detail")).contains("explode");
    assertThat(r.node()).isEqualTo(sticky.nodeId());
    assertProblem(Http.post(port, "/entities/counter/c1", "{\"op\":\"increment\",\"delta\":\"two\"}"), 400, StickyError.BAD_REQUEST);
    assertProblem(Http.post(port, "/entities/counter/c1", "{\"op\":\"increment\",\"delta\":1.5}"), 400, StickyError.BAD_REQUEST);
    assertThat(Http.get(port, "/entities/counter/c1").json().getLong("value")).isZero();
  }

  @Test
  void malformedInputGetsProblemJsonAndChangesNothing() {
    assertProblem(Http.post(port, "/entities/counter/c1", "{not json"), 400, StickyError.BAD_REQUEST);
    assertProblem(Http.post(port, "/entities/counter/c1", "[1,2]"), 400, StickyError.BAD_REQUEST);
    assertProblem(Http.post(port, "/entities/counter/c1", ""), 400, StickyError.BAD_REQUEST);
    assertProblem(Http.post(port, "/entities/counter/a%20b", "{}"), 400, StickyError.INVALID_ID);
    assertProblem(Http.post(port, "/entities/counter/" + "x".repeat(257), "{}"), 400, StickyError.INVALID_ID);
    assertProblem(Http.post(port, "/entities/nope/c1", "{}"), 404, StickyError.UNKNOWN_TYPE);
    assertProblem(Http.get(port, "/entities/nope/c1"), 404, StickyError.UNKNOWN_TYPE);
    assertProblem(Http.post(port, "/entities/counter/c1", "op=increment", "application/x-www-form-urlencoded"), 415, StickyError.UNSUPPORTED_MEDIA_TYPE);
    assertProblem(Http.post(port, "/entities/counter/c1", "{\"op\":\"increment\",\"pad\":\"" + "x".repeat(2000) + "\"}"), 413, StickyError.PAYLOAD_TOO_LARGE);
    Response wrongMethod = Http.method(port, "DELETE", "/entities/counter/c1");
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.header("Allow")).isEqualTo("GET, POST");
    assertThat(Http.get(port, "/nowhere").status()).isEqualTo(404);
    assertThat(Http.get(port, "/nowhere").header("Content-Type")).isEqualTo(Problem.CONTENT_TYPE);
    // JSON with a charset and a missing content type are both accepted
    assertThat(Http.post(port, "/entities/counter/c1", "{\"op\":\"get\"}", "application/json; charset=utf-8").status()).isEqualTo(200);
    assertThat(Http.post(port, "/entities/counter/c1", "{\"op\":\"get\"}", null).status()).isEqualTo(200);
    assertThat(Http.get(port, "/entities/counter/c1").json().getLong("value")).as("nothing was applied").isZero();
  }

  @Test
  void aStuckEntityTimesOutWith504OutcomeUnknownAndKeepsServing() {
    Response r = Http.post(port, "/entities/stuck/s1", "{}");
    assertProblem(r, 504, StickyError.TIMEOUT);
    assertThat(r.json().getString("outcome")).isEqualTo("unknown");
    assertThat(r.json().getString("detail")).contains("outcome unknown");
    // the mailbox moved on: the next message is handled (and times out again) rather than queueing forever
    assertProblem(Http.post(port, "/entities/stuck/s1", "{}"), 504, StickyError.TIMEOUT);
  }

  @Test
  void anEntityBugIsA500WithoutInternals() {
    Response r = Http.post(port, "/entities/buggy/b1", "{}");
    assertProblem(r, 500, StickyError.ENTITY_FAILED);
    assertThat(r.raw().body()).doesNotContain("secret internals").doesNotContain("at io.sticky");
    assertThat(r.json().getString("outcome")).isEqualTo("unknown");
  }

  @Test
  void anEntityHandlesOneMessageAtATimeInArrivalOrder() {
    List<Future<?>> asks = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      asks.add(sticky.entityRef("slow", "one").ask(new JsonObject().put("n", i)));
    }
    Future.all(asks).await();
    assertThat(maxInFlight.get()).isEqualTo(1);
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      expected.add(i);
    }
    assertThat(sticky.entityRef("slow", "one").view().await().getJsonArray("order").getList()).isEqualTo(expected);
  }

  @Test
  void plainEventBusRequestsFollowTheDocumentedConvention() {
    DeliveryOptions opts = new DeliveryOptions().addHeader(EntityAddress.ID_HEADER, "eb-1");
    Message<JsonObject> reply = vertx.eventBus().<JsonObject>request(EntityAddress.of("counter"),
        new JsonObject().put("op", "increment").put("delta", 3), opts).await();
    assertThat(reply.body().getLong("value")).isEqualTo(3);
    assertThat(reply.headers().get(EntityAddress.NODE_HEADER)).isEqualTo(sticky.nodeId());

    Message<JsonObject> view = vertx.eventBus().<JsonObject>request(EntityAddress.of("counter"), null,
        new DeliveryOptions().addHeader(EntityAddress.ID_HEADER, "eb-1").addHeader(EntityAddress.KIND_HEADER, "view")).await();
    assertThat(view.body().getLong("value")).isEqualTo(3);

    Throwable noId = catchFailure(vertx.eventBus().request(EntityAddress.of("counter"), new JsonObject()));
    assertThat(StickyError.of(noId)).isEqualTo(StickyError.INVALID_ID);
    assertThat(((ReplyException) noId).failureCode()).as("its own code: BAD_REQUEST has 400").isEqualTo(StickyError.INVALID_ID.code());

    Throwable rejected = catchFailure(vertx.eventBus().request(EntityAddress.of("counter"), new JsonObject().put("op", "x"), opts));
    assertThat(StickyError.of(rejected)).isEqualTo(StickyError.BAD_REQUEST);
  }

  @Test
  void tellIsFireAndForgetButApplied() {
    sticky.entityRef("counter", "t1").tell(new JsonObject().put("op", "increment"));
    sticky.entityRef("counter", "t1").tell(new JsonObject().put("op", "increment"));
    // asks to the same entity are handled after the tells sent before them
    assertThat(sticky.entityRef("counter", "t1").ask(new JsonObject().put("op", "get")).await().getLong("value")).isEqualTo(2);
  }

  @Test
  void aNodeThatIsNotStartedAnswers503WithRetryAfter() {
    Sticky notStarted = Sticky.create(vertx);
    Examples.types().forEach(notStarted::register);
    int otherPort = deployGateway(notStarted, new GatewayOptions().setPort(0).setHost("127.0.0.1"));
    Response r = Http.increment(otherPort, "counter", "c1");
    assertProblem(r, 503, StickyError.UNAVAILABLE);
    assertThat(r.header("Retry-After")).isEqualTo("1");
    assertThat(Http.get(otherPort, "/health/ready").status()).isEqualTo(503);
    assertThat(Http.get(otherPort, "/health/live").status()).isEqualTo(200);
    assertThat(Http.get(port, "/health/ready").status()).isEqualTo(200);
  }

  @Test
  void statsCountActivations() {
    for (int i = 0; i < 10; i++) {
      Http.increment(port, "counter", "s" + i);
      Http.increment(port, "counter", "s" + i);
    }
    Sticky.RegionStats stats = sticky.stats("counter");
    assertThat(stats.activeEntities()).isEqualTo(10);
    assertThat(stats.activations()).isEqualTo(10);
    assertThat(stats.bufferedMessages()).isZero();
  }

  private static Throwable catchFailure(Future<?> f) {
    try {
      f.await();
    } catch (Throwable t) {
      return t;
    }
    throw new AssertionError("expected a failure");
  }

  static void assertProblem(Response r, int status, StickyError error) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).isEqualTo(Problem.CONTENT_TYPE);
    JsonObject body = r.json();
    assertThat(body.getString("type")).isEqualTo(error.type());
    assertThat(body.getInteger("status")).isEqualTo(status);
    assertThat(body.getString("title")).isNotBlank();
    assertThat(body.getString("detail")).isNotBlank();
    assertThat(r.raw().body()).doesNotContain("Exception").doesNotContain("\tat ");
  }
}
