package io.sticky.node;

import io.sticky.examples.Examples;
import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar sticky.jar [options]}: runs a node serving the example entity types (counter, cart).
 * With no options, nodes on one machine find each other on loopback.
 */
public final class StickyMain {
  private static final Logger log = LoggerFactory.getLogger(StickyMain.class);
  /** How long SIGTERM waits for a clean leave; deploy/ grace periods are checked against it (DeployFilesTest). */
  static final long SHUTDOWN_TIMEOUT_SECONDS = 30;

  private StickyMain() {
  }

  public static void main(String[] args) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        System.out.println("Usage: java -jar sticky.jar [options]\n\nRuns a Sticky node with the example entity types.\n"
            + "Every option may also be given as an environment variable; the command line wins.\n\n" + NodeOptions.describe()
            + "  --help, --version\n"
            + "  --training-run   run the class-data-sharing training workload (three nodes in this JVM, loopback only) and\n"
            + "                   exit: java -XX:ArchiveClassesAtExit=sticky.jsa -jar sticky.jar --training-run (see Dockerfile)");
        return;
      }
      if (a.equals("--training-run")) {
        TrainingRun.main(args);
        return;
      }
      if (a.equals("--version")) {
        System.out.println("sticky " + Version.get());
        return;
      }
    }
    NodeOptions options;
    NodeConfig config;
    try {
      String file = NodeOptions.configFileOf(args, System.getenv());
      config = file == null ? NodeConfig.defaults() : NodeConfig.load(file);
      options = NodeOptions.parse(args, System.getenv(), config);
    } catch (IllegalArgumentException e) {
      System.err.println("sticky: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      if (!options.getLogFormat().apply()) {
        log.warn("log format {} not applied: -D{}={} is in use", options.getLogFormat(), LogFormat.LOGBACK_CONFIG_PROPERTY,
            System.getProperty(LogFormat.LOGBACK_CONFIG_PROPERTY));
      }
    } catch (IllegalStateException e) {
      System.err.println("sticky: " + e.getMessage());
      System.exit(2);
      return;
    }
    StickyNode node;
    try {
      node = startNode(options, config).await();
    } catch (Exception e) {
      log.error("node failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down node {}", node.nodeId());
      try {
        node.close().await(SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("clean shutdown did not finish: {}", e.toString());
      }
    }, "sticky-shutdown"));
  }

  /** Starts a node of the example types, each with its options from the config file over the node's defaults. */
  static Future<StickyNode> startNode(NodeOptions options, NodeConfig config) {
    return StickyNode.start(options, config.sharding(), Examples.types().stream()
        .map(t -> t.withOptions(config.typeOptions(t.name(), options.typeDefaults()))).toList());
  }
}
