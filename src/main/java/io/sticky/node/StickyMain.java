package io.sticky.node;

import java.util.List;

/**
 * {@code java -jar sticky.jar [options]}: runs a node serving the entity types found on the class path and in
 * {@code --lib} (the example types counter and cart when there are none). With no options, nodes on one
 * machine find each other on loopback.
 */
public final class StickyMain {
  /** How long SIGTERM waits for a clean leave; deploy/ grace periods are checked against it (DeployFilesTest). */
  static final long SHUTDOWN_TIMEOUT_SECONDS = 30;

  private StickyMain() {
  }

  public static void main(String[] args) {
    Launcher.launch(args, List.of());
  }
}
