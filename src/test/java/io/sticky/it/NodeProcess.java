package io.sticky.it;

import io.sticky.testkit.Http;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One Sticky node as a separate JVM started from the fat jar, as an operator would run it. */
final class NodeProcess {
  final int httpPort;
  final Path log;
  private final Process process;

  private NodeProcess(int httpPort, Path log, Process process) {
    this.httpPort = httpPort;
    this.log = log;
    this.process = process;
  }

  static NodeProcess start(String name, int httpPort, String clusterName, int clusterPort, List<String> members, String... extraArgs) {
    return start(name, httpPort, clusterName, clusterPort, members, List.of(), extraArgs);
  }

  /** As above, with extra JVM options (before {@code -jar}). */
  static NodeProcess start(String name, int httpPort, String clusterName, int clusterPort, List<String> members, List<String> jvmOptions,
                           String... extraArgs) {
    String jar = jar();
    Path logDir = Path.of("target", "it-logs");
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path log = logDir.resolve(clusterName + "-" + name + ".log");
    List<String> cmd = new ArrayList<>(List.of(
        java(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", jar,
        "--http-port", Integer.toString(httpPort),
        "--http-host", "127.0.0.1",
        "--cluster-name", clusterName,
        "--cluster-port", Integer.toString(clusterPort),
        "--members", String.join(",", members)));
    cmd.addAll(List.of(extraArgs));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      return new NodeProcess(httpPort, log, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The fat jar under test ({@code -Dsticky.jar}, set by failsafe). */
  static String jar() {
    String jar = System.getProperty("sticky.jar", "target/sticky.jar");
    if (!new File(jar).isFile()) {
      throw new IllegalStateException(jar + " is missing: multi-process tests run in `mvn verify`, after `package`");
    }
    return jar;
  }

  /** This JVM's java executable, for the forked ones. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  boolean ready() {
    try {
      return process.isAlive() && Http.get(httpPort, "/health/ready").status() == 200;
    } catch (RuntimeException e) {
      return false;
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** kill -9: no shutdown hook, no goodbye to the cluster. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** SIGTERM: the node's shutdown hook leaves the cluster cleanly. Returns the exit code. */
  int terminate() throws InterruptedException {
    process.destroy();
    return process.waitFor();
  }

  Process process() {
    return process;
  }
}
