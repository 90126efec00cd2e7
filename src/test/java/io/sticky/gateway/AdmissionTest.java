package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node with small caps under far more requests than they allow, and thousands of half-sent requests: it
 * answers 503 fast, closes what it must, and serves normal traffic again afterwards.
 */
class AdmissionTest {
  private static final int IDLE_SECONDS = 2;
  private static final int MAX_IN_FLIGHT = 10;
  private static final int READ_TIMEOUT_MS = 3_000;
  private static TestCluster cluster;
  private static int port;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setMaxInFlight(MAX_IN_FLIGHT).setRequestReadTimeoutMs(READ_TIMEOUT_MS).setIdleTimeoutSeconds(IDLE_SECONDS);
      return o;
    });
    port = cluster.node(0).httpPort();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static Socket open() throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(2);
    return s;
  }

  /** True once the server has closed the connection (end of stream or reset); false while it is open. */
  private static boolean closedByServer(Socket s) {
    try {
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      while (true) {
        int n = in.read(buf);
        if (n < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static void closeAll(List<Socket> sockets) {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  /** Headers of a POST whose 1,000-byte body never comes: the request is in flight until the server gives up. */
  private static void startSlowPost(Socket s, int i) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(("POST /entities/counter/slow-" + i + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: 1000\r\n\r\n{\"op\":").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Test
  void overTheInFlightCapRequestsGetAFast503AndNothingIsApplied() throws Exception {
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        Socket s = open();
        startSlowPost(s, i);
        slow.add(s);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> Http.increment(port, "counter", "fast").status() == 503);
      Response refused = Http.increment(port, "counter", "fast");
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.header("Retry-After")).isEqualTo("1");
      assertThat(refused.json().getString("detail")).contains("in flight");
      // The slow requests are dropped at the read deadline, which frees their slots.
      await().atMost(Duration.ofSeconds(10)).until(() -> slow.stream().allMatch(AdmissionTest::closedByServer));
      await().atMost(Duration.ofSeconds(5)).until(() -> Http.increment(port, "counter", "fast").status() == 200);
      assertThat(Http.get(port, "/entities/counter/fast").json().getLong("value")).as("the refused increments applied nothing")
          .isEqualTo(1);
      for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        assertThat(Http.get(port, "/entities/counter/slow-" + i).json().getLong("value")).isZero();
      }
    } finally {
      closeAll(slow);
    }
  }

  @Test
  void thousandsOfHalfOpenConnectionsAreClosedAndTheNodeServesAgain() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 3_000; i++) {
        Socket s = open();
        s.getOutputStream().write("POST /entities/counter/x HTTP/1.1\r\nHost: 127".getBytes(StandardCharsets.US_ASCII));
        sockets.add(s);
      }
      // Their headers never end and they say nothing more: the idle timeout closes every one.
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
          .until(() -> sockets.stream().filter(s -> !closedByServer(s)).count() == 0);
      Response ok = Http.increment(port, "counter", "after-flood");
      assertThat(ok.status()).as(ok.toString()).isEqualTo(200);
      assertThat(ok.json().getLong("value")).isEqualTo(1);
    } finally {
      closeAll(sockets);
    }
  }
}
