package com.example.wallet;

/** The wallet's messages and reply, as records: typed callers send these; REST callers send the same JSON. */
public final class WalletMessages {
  private WalletMessages() {
  }

  /** {@code {"op":"deposit","amount":n}}, n a positive integer. */
  public record Deposit(long amount) {
  }

  /** {@code {"op":"withdraw","amount":n}}, n a positive integer no larger than the balance. */
  public record Withdraw(long amount) {
  }

  /** {@code {"op":"get"}}. */
  public record Get() {
  }

  /** Every reply: {@code {"id":..,"balance":..}}. */
  public record Balance(String id, long balance) {
  }
}
