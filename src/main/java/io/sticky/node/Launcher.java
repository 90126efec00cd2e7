package io.sticky.node;

import io.sticky.api.EntityType;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code java -jar sticky.jar} and {@link StickyNode#run} do: read the config file, environment and flags,
 * set up logging, find the entity types, start the node, and leave the cluster cleanly on SIGTERM. Bad options
 * and types that fail to load end the JVM with status 2, a node that fails to start with status 1.
 */
final class Launcher {
  private static final Logger log = LoggerFactory.getLogger(Launcher.class);

  private Launcher() {
  }

  /** Starts the node and returns it once it is ready; null when the arguments only asked for help or a version. */
  static StickyNode launch(String[] args, List<EntityType> inCode) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        System.out.println(usage());
        return null;
      }
      if (a.equals("--training-run")) {
        TrainingRun.main(args);
        return null;
      }
      if (a.equals("--version")) {
        System.out.println("sticky " + io.sticky.internal.NodeRuntime.version());
        return null;
      }
    }
    // Readable lines from the first log line on (reading the config file starts a Vert.x); JSON, if asked
    // for, replaces them once the options are known.
    LogFormat.TEXT.apply();
    NodeOptions options;
    NodeConfig config;
    List<EntityType> types;
    try {
      String file = NodeOptions.configFileOf(args, System.getenv());
      config = file == null ? NodeConfig.defaults() : NodeConfig.load(file);
      options = NodeOptions.parse(args, System.getenv(), config);
      if (options.getLogFormat() == LogFormat.JSON && !LogFormat.JSON.apply()) {
        log.warn("log format json not applied: the application's own logback configuration is in use");
      }
      ClassLoader loader = options.getLib() == null ? Launcher.class.getClassLoader() : TypeCatalog.libraryLoader(options.getLib());
      types = withConfiguredOptions(TypeCatalog.resolve(inCode, loader, options.getTypes()), options, config);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("sticky: " + e.getMessage());
      System.exit(2);
      return null;
    }
    StickyNode node;
    try {
      node = StickyNode.start(options, config.sharding(), types).await();
    } catch (Exception e) {
      log.error("node failed to start: {}", e.getMessage(), e);
      System.exit(1);
      return null;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down node {}", node.nodeId());
      try {
        node.close().await(StickyMain.SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("clean shutdown did not finish: {}", e.toString());
      }
    }, "sticky-shutdown"));
    return node;
  }

  /** Each type's options: what its code set, under the config file's section for it (see NodeConfig). */
  static List<EntityType> withConfiguredOptions(List<EntityType> types, NodeOptions options, NodeConfig config) {
    return types.stream().map(t -> t.withOptions(config.typeOptions(t.name(), options.typeDefaults(), t.options()))).toList();
  }

  /** Starts a node of {@code types} with options from the config file, for tests of the launcher's merging. */
  static Future<StickyNode> start(NodeOptions options, NodeConfig config, List<EntityType> types) {
    return StickyNode.start(options, config.sharding(), withConfiguredOptions(types, options, config));
  }

  static String usage() {
    return "Usage: java -jar sticky.jar [options]\n\nRuns a Sticky node. Its entity types come from every "
        + "io.sticky.spi.EntityTypeProvider on the class path\nand in --lib; with none, it serves the example types "
        + "(counter, cart).\nEvery option may also be given as an environment variable; the command line wins.\n\n"
        + NodeOptions.describe()
        + "  --help, --version\n"
        + "  --training-run   run the class-data-sharing training workload (three nodes in this JVM, loopback only) and\n"
        + "                   exit: java -XX:ArchiveClassesAtExit=sticky.jsa -jar sticky.jar --training-run (see Dockerfile)";
  }
}
