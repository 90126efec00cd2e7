package com.example.wallet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wallet as a team would run it: two stock Sticky nodes ({@code java -jar sticky.jar --lib DIR}) with
 * target/wallet.jar in DIR, and a proxy node of the team's own ({@link CallerMain} --proxy-only) whose verticle
 * makes typed calls. Everything on loopback, under a random cluster name.
 */
class WalletIT {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final List<String> HAZELCAST_JVM_FLAGS = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");
  private final List<Process> processes = new ArrayList<>();
  @TempDir
  Path dir;

  @AfterEach
  void stop() {
    processes.forEach(Process::destroyForcibly);
  }

  @Test
  void stockNodesServeTheWalletAndAProxyNodeCallsItTyped() throws Exception {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Files.copy(Path.of(System.getProperty("wallet.jar")), lib.resolve("wallet.jar"));
    String stickyJar = System.getProperty("sticky.jar");
    String cluster = "wallet-it-" + UUID.randomUUID();
    int[] clusterPorts = {freePort(), freePort(), freePort()};
    int[] httpPorts = {freePort(), freePort(), freePort()};
    String members = "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1] + ",127.0.0.1:" + clusterPorts[2];
    for (int i = 0; i < 2; i++) {
      start("node" + i, List.of("-jar", stickyJar, "--lib", lib.toString()), cluster, clusterPorts[i], httpPorts[i], members);
      int port = httpPorts[i];
      awaitTrue("node" + i + " ready", () -> status(get(port, "/health/ready")) == 200);
    }

    // REST through both nodes: one home for the wallet, whichever node is asked.
    HttpResponse<String> deposit = post(httpPorts[0], "/entities/wallet/alice", "{\"op\":\"deposit\",\"amount\":100}");
    assertThat(deposit.statusCode()).as(deposit.body()).isEqualTo(200);
    assertThat(deposit.body()).contains("\"balance\":100");
    HttpResponse<String> withdraw = post(httpPorts[1], "/entities/wallet/alice", "{\"op\":\"withdraw\",\"amount\":40}");
    assertThat(withdraw.statusCode()).isEqualTo(200);
    assertThat(withdraw.body()).contains("\"balance\":60");
    String home = deposit.headers().firstValue("X-Sticky-Node").orElseThrow();
    assertThat(withdraw.headers().firstValue("X-Sticky-Node")).hasValue(home);

    // Bad input: 400 problem+json, nothing applied.
    for (String bad : List.of("{\"op\":\"withdraw\",\"amount\":1000}", "{\"op\":\"deposit\",\"amount\":0}",
        "{\"op\":\"deposit\",\"amount\":-5}", "{\"op\":\"deposit\",\"amount\":\"ten\"}")) {
      HttpResponse<String> r = post(httpPorts[0], "/entities/wallet/alice", bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/problem+json"));
    }
    assertThat(get(httpPorts[1], "/entities/wallet/alice").body()).contains("\"balance\":60");

    // A node of the team's own, proxy only: its verticle's typed calls reach the wallet on the stock nodes.
    Path callerLog = start("caller", List.of("-cp", stickyJar + java.io.File.pathSeparator + System.getProperty("wallet.jar"),
        CallerMain.class.getName(), "--proxy-only"), cluster, clusterPorts[2], httpPorts[2], members);
    awaitTrue("the caller's line (log: " + callerLog + ")", () -> read(callerLog).contains("WALLET-CALLER"));
    String line = read(callerLog).lines().filter(l -> l.contains("WALLET-CALLER")).findFirst().orElseThrow();
    assertThat(line).contains("balance=70").contains("refused=bad-request from ");
    String proxyId = line.substring(line.indexOf("via=") + 4).trim();
    assertThat(line).doesNotContain("from " + proxyId);
    String shards = get(httpPorts[0], "/cluster/shards").body();
    assertThat(shards).contains("\"wallet\"").doesNotContain(proxyId);
    assertThat(get(httpPorts[2], "/entities/wallet/carol").body()).contains("\"balance\":70");
  }

  private Path start(String name, List<String> javaArgs, String cluster, int clusterPort, int httpPort, String members) throws IOException {
    Path log = dir.resolve(name + ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m"));
    cmd.addAll(HAZELCAST_JVM_FLAGS);
    cmd.addAll(javaArgs);
    cmd.addAll(List.of("--cluster-name", cluster, "--host", "127.0.0.1", "--cluster-port", Integer.toString(clusterPort),
        "--members", members, "--http-host", "127.0.0.1", "--http-port", Integer.toString(httpPort)));
    processes.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
    return log;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  private static void awaitTrue(String what, BooleanSupplier condition) {
    Awaitility.await(what).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(condition::getAsBoolean);
  }

  private static int status(HttpResponse<String> r) {
    return r == null ? 0 : r.statusCode();
  }

  private static HttpResponse<String> get(int port, String path) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET());
  }

  private static HttpResponse<String> post(int port, String path, String body) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
