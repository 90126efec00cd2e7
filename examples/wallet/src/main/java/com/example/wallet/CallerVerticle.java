package com.example.wallet;

import com.example.wallet.WalletMessages.Balance;
import com.example.wallet.WalletMessages.Deposit;
import com.example.wallet.WalletMessages.Withdraw;
import io.sticky.api.EntityException;
import io.sticky.api.EntityRef;
import io.sticky.api.Sticky;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * Typed calls to a wallet, wherever it lives: deposit 100, withdraw 30, then a withdrawal the balance refuses;
 * prints one line with what happened (the example's test reads it).
 */
public class CallerVerticle extends VerticleBase {
  private final Sticky sticky;

  public CallerVerticle(Sticky sticky) {
    this.sticky = sticky;
  }

  @Override
  public Future<?> start() {
    EntityRef carol = sticky.entityRef(WalletEntity.TYPE, "carol");
    carol.ask(new Deposit(100), Balance.class)
        .compose(b -> carol.ask(new Withdraw(30), Balance.class))
        .compose(after -> carol.ask(new Withdraw(1_000), Balance.class)
            .transform(ar -> {
              String refused = ar.failed() && ar.cause() instanceof EntityException e
                  ? e.error().slug() + " from " + e.node() : "not refused";
              System.out.printf("WALLET-CALLER balance=%d refused=%s via=%s%n", after.balance(), refused, sticky.nodeId());
              return Future.succeededFuture();
            }))
        .onFailure(err -> System.out.println("WALLET-CALLER failed: " + err));
    return Future.succeededFuture();
  }
}
