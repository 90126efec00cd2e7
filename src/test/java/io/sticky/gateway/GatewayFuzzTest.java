package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.Http;
import io.sticky.testkit.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Random hostile requests against a two-node cluster for {@code sticky.fuzz.seconds} (default 20): malformed
 * and deeply nested JSON, huge numbers, bad ids and types, odd content types and methods, oversized, lying
 * and truncated bodies, garbage on the socket. Every answer comes in time, no 5xx but 503/504, every error
 * is problem+json, and a control counter incremented in between ends exactly at its acknowledged count.
 * The seed is printed; rerun one with {@code -Dsticky.fuzz.seed=N}.
 */
class GatewayFuzzTest {
  private static final String TYPE = CounterEntity.TYPE;
  private static final String CONTROL_ID = "fuzz-control";
  private static final Duration ANSWER_WITHIN = Duration.ofSeconds(15);
  private static final int WORKERS = 6;
  private static final int IDLE_SECONDS = 8;
  private static TestCluster cluster;
  private static int port;

  private final Queue<String> findings = new ConcurrentLinkedQueue<>();
  private final AtomicLong controlAcked = new AtomicLong();
  private final AtomicLong controlUnknown = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    // Short timeouts, so a connection that never completes a request is closed well within ANSWER_WITHIN.
    cluster = TestCluster.start(2, List.of(EntityType.of(TYPE, CounterEntity::new)), o -> {
      o.getGateway().setIdleTimeoutSeconds(IDLE_SECONDS).setRequestReadTimeoutMs(3_000);
      return o;
    });
    port = cluster.node(0).httpPort();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void hostileRequestsGetClearAnswersAndChangeNothing() throws Exception {
    long seed = Long.getLong("sticky.fuzz.seed", System.nanoTime());
    long seconds = Long.getLong("sticky.fuzz.seconds", 20);
    System.out.println("GatewayFuzzTest seed " + seed + ", " + seconds + " s");
    // One increment first: from 1 on, a delta of Long.MAX_VALUE overflows and is refused (from 0 it would apply).
    controlIncrement();
    assertThat(controlAcked.get()).isEqualTo(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      Random random = new Random(seed + w);
      running.add(workers.submit(() -> {
        while (System.nanoTime() < deadline && findings.size() < 20) {
          step(random);
        }
        return null;
      }));
    }
    for (Future<?> f : running) {
      f.get(seconds + 120, TimeUnit.SECONDS);
    }
    workers.shutdown();

    assertThat(findings).as("seed %d: findings after %d requests", seed, requests.get()).isEmpty();
    Http.Response control = Http.get(port, "/entities/" + TYPE + "/" + CONTROL_ID);
    assertThat(control.status()).isEqualTo(200);
    long value = control.json().getLong("value");
    assertThat(value).as("seed %d: control counter against %d acknowledged, %d unknown increments", seed, controlAcked.get(),
        controlUnknown.get()).isBetween(controlAcked.get(), controlAcked.get() + controlUnknown.get());
    assertThat(controlAcked.get()).as("the control counter was incremented").isPositive();
  }

  private void step(Random r) throws Exception {
    requests.incrementAndGet();
    int dice = r.nextInt(100);
    if (dice < 15) {
      controlIncrement();
    } else if (dice < 25) {
      raw(r);
    } else if (dice < 45) {
      hostileToControl(r);
    } else {
      http(r, randomMethod(r), randomPath(r), randomBody(r), randomContentType(r), r);
    }
  }

  private void controlIncrement() {
    try {
      HttpResponse<String> res = send(HttpRequest.newBuilder(uri("/entities/" + TYPE + "/" + CONTROL_ID))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"op\":\"increment\"}")));
      if (res.statusCode() == 200) {
        controlAcked.incrementAndGet();
      } else {
        // 503 before anything is applied would be exact too, but 504 is an unknown outcome: count both as unknown.
        controlUnknown.incrementAndGet();
        check("POST control", res);
      }
    } catch (Exception e) {
      controlUnknown.incrementAndGet();
      findings.add("control increment: " + e);
    }
  }

  /** Bodies that must not change the control counter: every one is refused. */
  private void hostileToControl(Random r) {
    String[] bodies = {
        "{\"op\":\"increment\"", "{\"op\":\"nope\"}", "{\"op\":\"increment\",\"delta\":\"x\"}",
        "{\"op\":\"increment\",\"delta\":9223372036854775807}", "{\"op\":\"increment\",\"delta\":1e400}",
        "{\"op\":\"increment\",\"delta\":123456789012345678901234567890}", nested(r.nextInt(20_000) + 1),
        "[{\"op\":\"increment\"}]", "\"increment\"", "null", "", "{\"op\":[\"increment\"]}", "x".repeat(70_000),
    };
    String body = bodies[r.nextInt(bodies.length)];
    // delta 9223372036854775807 overflows because the value is above 0 (the test increments it first).
    http(r, "POST", "/entities/" + TYPE + "/" + CONTROL_ID, body, r.nextBoolean() ? "application/json" : randomContentType(r), r);
  }

  private void http(Random r, String method, String path, String body, String contentType, Random random) {
    HttpRequest.Builder b;
    try {
      b = HttpRequest.newBuilder(uri(path));
    } catch (IllegalArgumentException notAUri) {
      return; // the client cannot send it; raw() sends junk paths
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (random.nextInt(10) == 0) {
      b.header("Idempotency-Key", random.nextBoolean() ? "k" + random.nextInt(50) : "x".repeat(random.nextInt(400)));
    }
    if (random.nextInt(10) == 0) {
      b.header("X-Sticky-Redirect", random.nextBoolean() ? "true" : "maybe");
    }
    if (random.nextInt(20) == 0) {
      b.header("Authorization", "Bearer " + "z".repeat(random.nextInt(40)));
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    try {
      check(method + " " + path, send(b));
    } catch (java.net.http.HttpTimeoutException e) {
      findings.add(method + " " + path + ": no answer within " + ANSWER_WITHIN);
    } catch (IOException e) {
      // The server may close a connection it refuses (a body over the limit): that is an answer. A hang is not.
      if (!(body != null && body.length() > 60_000) && !String.valueOf(e.getMessage()).contains("closed")) {
        findings.add(method + " " + path + ": " + e);
      }
    } catch (Exception e) {
      findings.add(method + " " + path + ": " + e);
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return client.send(b.timeout(ANSWER_WITHIN).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void check(String what, HttpResponse<String> res) {
    int status = res.statusCode();
    if (status >= 500 && status != 503 && status != 504) {
      findings.add(what + " -> " + status + " " + abbreviate(res.body()));
    }
    if (status >= 400 && !what.startsWith("HEAD ")
        && !res.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
      findings.add(what + " -> " + status + " without a problem+json body: " + abbreviate(res.body()));
    }
  }

  /** Bytes on a socket: lying lengths, truncated bodies, garbage, oversized headers. */
  private void raw(Random r) {
    String[] requests = {
        "POST /entities/" + TYPE + "/raw-1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"op\":",
        "POST /entities/" + TYPE + "/raw-2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{",
        "GARBAGE\r\n\r\n",
        "GET /entities/" + TYPE + "/" + "%".repeat(3) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /health/ready HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n",
        "POST /entities/" + TYPE + "/raw-3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "POST /entities/" + TYPE + "/raw-4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}",
        "GET /entities/" + TYPE + "/raw-5 HTTP/9.9\r\nHost: x\r\n\r\n",
        "\u0000\u0001\u0002\r\n\r\n",
    };
    int pick = r.nextInt(requests.length);
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) ANSWER_WITHIN.toMillis());
      OutputStream out = s.getOutputStream();
      out.write(requests[pick].getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String statusLine = readLine(s.getInputStream());
      if (statusLine == null) {
        // Closed without an answer: a truncated body (the read timeout) or bytes before any request line, which
        // the decoder skips until the idle timeout. Either way the connection did not stay open.
        return;
      }
      String[] parts = statusLine.split(" ");
      int status = parts.length > 1 && parts[1].matches("\\d{3}") ? Integer.parseInt(parts[1]) : -1;
      // An unknown HTTP version is answered by Vert.x itself, before any Sticky code: 501 there is protocol, not a fault.
      boolean unknownVersion = pick == 8 && status == 501;
      if (status < 0 || (status >= 500 && status != 503 && status != 504 && !unknownVersion)) {
        findings.add("raw #" + pick + " -> " + statusLine);
      }
    } catch (java.net.SocketTimeoutException e) {
      findings.add("raw #" + pick + ": no answer within " + ANSWER_WITHIN);
    } catch (IOException e) {
      // reset by the server: an answer to garbage
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        return sb.toString().trim();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString().trim();
  }

  private static String randomMethod(Random r) {
    String[] methods = {"GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "FOO"};
    return methods[r.nextInt(methods.length)];
  }

  private static String randomPath(Random r) {
    String[] types = {TYPE, TYPE, TYPE, "", "Counter", "nope", "a%2Fb", "%2e%2e", "x".repeat(300), "%C3%BC", "counter%00"};
    String[] ids = {"f-" + r.nextInt(200), "f-" + r.nextInt(200), "", "%20", "a%20b", "x".repeat(r.nextInt(2_000)), "%00", "%ff%fe",
        "..", "%2e%2e", "a%2Fb", "%E6%97%A5%E6%9C%AC", "id?x=1", "id;x", "-", "_"};
    String type = types[r.nextInt(types.length)];
    String id = ids[r.nextInt(ids.length)];
    return switch (r.nextInt(12)) {
      case 0 -> "/entities/" + type;
      case 1 -> "/entities";
      case 2 -> "/cluster";
      case 3 -> "/cluster/shards";
      case 4 -> "/cluster/routing";
      case 5 -> "/" + "z".repeat(r.nextInt(50));
      case 6 -> "/entities/" + type + "/" + id + "/extra";
      default -> "/entities/" + type + "/" + id;
    };
  }

  private static String randomBody(Random r) {
    return switch (r.nextInt(14)) {
      case 0 -> null;
      case 1 -> "";
      case 2 -> "{\"op\":\"increment\"}";
      case 3 -> "{\"op\":\"get\"}";
      case 4 -> "{\"op\":\"increment\",\"delta\":" + (r.nextBoolean() ? "1e308" : "-99999999999999999999") + "}";
      case 5 -> nested(r.nextInt(50_000) + 1);
      case 6 -> "{\"a\":".repeat(r.nextInt(5_000) + 1);
      case 7 -> "{\"op\":\"increment\",\"delta\":" + Long.MAX_VALUE + "}";
      case 8 -> "\"" + "s".repeat(r.nextInt(100_000)) + "\"";
      case 9 -> new String(randomBytes(r, r.nextInt(2_000)), StandardCharsets.ISO_8859_1);
      case 10 -> "{\"op\":\"increment\",\"delta\":1.5}";
      case 11 -> "{\"op\":null,\"\":{},\"\\u0000\":[]}";
      case 12 -> "[" + "1,".repeat(r.nextInt(30_000)) + "1]";
      default -> "{\"op\":\"increment\"} trailing";
    };
  }

  private static String randomContentType(Random r) {
    String[] types = {"application/json", "application/json", "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", "application/json; charset=latin1", "garbage", "application/problem+json", null};
    return types[r.nextInt(types.length)];
  }

  private static String nested(int depth) {
    return "[".repeat(depth) + "]".repeat(depth);
  }

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static String abbreviate(String s) {
    return s == null || s.length() < 200 ? s : s.substring(0, 200) + "...";
  }
}
