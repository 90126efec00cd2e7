package com.example.wallet;

import io.sticky.node.StickyNode;

/**
 * A node of the application's own: the launcher's behaviour (flags, config, SIGTERM) from one call, plus a
 * verticle that calls wallets. Run with {@code --proxy-only} it hosts no wallet and reaches them all.
 */
public final class CallerMain {
  private CallerMain() {
  }

  public static void main(String[] args) {
    StickyNode node = StickyNode.run(args);   // the wallet type comes from WalletTypes on the class path
    if (node != null) {
      node.vertx().deployVerticle(new CallerVerticle(node.sticky()));
    }
  }
}
