package io.sticky.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The image's class-data-sharing archive, made and used as the Dockerfile does: the training run (three
 * nodes in one JVM that serve, hand shards over, leave) must succeed and write an archive, and a node
 * started with it must take its classes from it.
 */
class ClassDataSharingIT {
  private NodeProcess node;

  @AfterEach
  void stop() throws InterruptedException {
    if (node != null && node.isAlive()) {
      node.kill();
    }
  }

  @Test
  void theTrainingRunSucceedsAndANodeLoadsItsClassesFromItsArchive() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "it-cds"));
    Path archive = dir.resolve("sticky.jsa").toAbsolutePath();
    Path trainingLog = dir.resolve("training.log");
    Path classLog = dir.resolve("node-class-load.log");
    Files.deleteIfExists(archive);
    Files.deleteIfExists(classLog);

    Process training = new ProcessBuilder(NodeProcess.java(), "-Xmx512m", "-XX:ArchiveClassesAtExit=" + archive,
        "-jar", NodeProcess.jar(), "--training-run")
        .redirectErrorStream(true).redirectOutput(trainingLog.toFile()).start();
    assertThat(training.waitFor(5, TimeUnit.MINUTES)).as("training run finished (log: " + trainingLog + ")").isTrue();
    assertThat(training.exitValue()).as("training run's exit status (log: " + trainingLog + ")").isZero();
    assertThat(Files.readString(trainingLog)).contains("training run done");
    assertThat(archive).isNotEmptyFile();

    // -Xshare:on: the JVM refuses to start unless it can map the archive (the image runs with the default,
    // auto, which falls back to no archive instead).
    node = ProcessCluster.of("sticky-cds", 1).startReady(0, "node",
        List.of("-Xshare:on", "-XX:SharedArchiveFile=" + archive, "-Xlog:class+load=info:file=" + classLog));
    Response r = Http.increment(node.httpPort, "counter", "c1");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(node.terminate()).as("exit status after SIGTERM (log: " + node.log + ")").isIn(0, 143);

    // Every Sticky class the node loaded came from the archive, and so did lambda proxies (which a cold
    // JVM would otherwise spin one by one the first time each call site runs).
    List<String> loaded = Files.readAllLines(classLog);
    List<String> stickyClasses = loaded.stream().filter(l -> l.contains(" io.sticky.") && !l.contains("$$Lambda")).toList();
    assertThat(stickyClasses).hasSizeGreaterThan(50)
        .allSatisfy(l -> assertThat(l).contains("source: shared objects file"));
    assertThat(loaded.stream().filter(l -> l.contains(" io.sticky.") && l.contains("$$Lambda") && l.contains("shared objects file")))
        .hasSizeGreaterThan(20);
  }
}
