package io.sticky.api;

/** When an entity's state goes to its type's state store. Config names in brackets. */
public enum WritePolicy {
  /**
   * [before-reply] Every message that changes the state is written before its reply is sent: an
   * acknowledged message is durable. One store round trip per changing message. The default.
   */
  BEFORE_REPLY("before-reply"),
  /**
   * [write-behind] Replies at once; changes are written at most {@code writeBehindDelayMs} later, all changes
   * made in that window in one write. Loss window: a crash loses the changes of the last window.
   */
  WRITE_BEHIND("write-behind"),
  /**
   * [on-stop] Written only when the entity stops (hand-off, passivation, shutdown). A crash loses every change
   * since the entity's activation.
   */
  ON_STOP("on-stop");

  private final String configName;

  WritePolicy(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  /** Parses a config name ("before-reply") or an enum name ("BEFORE_REPLY"). */
  public static WritePolicy parse(String value) {
    for (WritePolicy p : values()) {
      if (p.configName.equals(value) || p.name().equals(value)) {
        return p;
      }
    }
    throw new IllegalArgumentException("writePolicy must be one of before-reply, write-behind, on-stop; got " + value);
  }
}
