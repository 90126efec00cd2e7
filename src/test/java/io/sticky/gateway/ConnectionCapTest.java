package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * --http-max-connections: connections beyond the cap get a 503 for their request and are closed; the ones under
 * it keep working, and once some close, new connections are served again.
 */
class ConnectionCapTest {
  private static final int CAP = 5;
  private TestCluster cluster;
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void stop() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void connectionsOverTheCapAreRefusedAndClosed() throws Exception {
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setMaxConnections(CAP);
      return o;
    });
    int port = cluster.node(0).httpPort();
    List<Socket> kept = new ArrayList<>();
    for (int i = 0; i < CAP; i++) {
      Socket s = open(port);
      assertThat(statusOf(s)).as("connection %d, under the cap", i).isEqualTo(200);
      kept.add(s);
    }
    for (int i = 0; i < 3; i++) {
      Socket s = open(port);
      assertThat(statusOf(s)).as("a connection over the cap").isEqualTo(503);
      assertThat(closedByServer(s)).as("and it is closed").isTrue();
    }
    assertThat(statusOf(kept.get(0))).as("a connection under the cap keeps working").isEqualTo(200);

    kept.get(0).close();
    kept.get(1).close();
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      Socket s = open(port);
      return statusOf(s) == 200;
    });
  }

  private Socket open(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    sockets.add(s);
    return s;
  }

  /** Sends one keep-alive GET on the connection and reads the status and the whole response. */
  private static int statusOf(Socket s) throws IOException {
    s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    String head = readUntil(in, "\r\n\r\n");
    int status = Integer.parseInt(head.split(" ")[1]);
    int length = 0;
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    in.readNBytes(length);
    return status;
  }

  private static String readUntil(InputStream in, String end) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      sb.append((char) c);
      if (sb.length() >= end.length() && sb.substring(sb.length() - end.length()).equals(end)) {
        return sb.toString();
      }
    }
    throw new IOException("connection closed before the response head: " + sb);
  }

  private static boolean closedByServer(Socket s) {
    try {
      return s.getInputStream().read() < 0;
    } catch (IOException e) {
      return true;
    }
  }
}
