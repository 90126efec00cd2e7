package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Http;
import io.sticky.testkit.TestCluster;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** GET /cluster asks every region once per window, however many calls arrive in it; asOf says when. */
class ClusterViewTest {
  private static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)));
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  /** A gateway-less HTTP server with ManagementRoutes of the given window, on node 0. */
  private static int serve(long maxAgeMs) throws Exception {
    StickyNode node = cluster.node(0);
    Router router = Router.router(node.vertx());
    new ManagementRoutes(node.vertx(), node.sticky(), maxAgeMs).install(router);
    return node.vertx().createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
  }

  private static int active(JsonObject view) {
    return view.getJsonArray("nodes").stream().map(JsonObject.class::cast).mapToInt(n -> n.getInteger("activeEntities")).sum();
  }

  @Test
  void callsWithinTheWindowShareOneFanOutAndLaterOnesGatherAgain() throws Exception {
    int shared = serve(3_600_000);
    int fresh = serve(0);
    JsonObject first = Http.get(shared, "/cluster").json();
    assertThat(first.getJsonArray("nodes")).hasSize(2);
    assertThat(active(first)).isZero();

    Http.increment(cluster.node(0).httpPort(), "counter", "view-1");
    JsonObject second = Http.get(shared, "/cluster").json();
    assertThat(second.getLong("asOf")).as("the same fan-out").isEqualTo(first.getLong("asOf"));
    assertThat(active(second)).as("served from the earlier fan-out").isZero();
    assertThat(active(Http.get(fresh, "/cluster").json())).as("a new fan-out sees the entity").isEqualTo(1);
  }
}
