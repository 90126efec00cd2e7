package io.sticky.api;

/** Which active entity a region passivates first when it reaches its active-entity limit. Config names in brackets. */
public enum PassivationPolicy {
  /** [lru] The least recently used. */
  LRU("lru"),
  /**
   * [w-tinylfu] Window TinyLFU (Caffeine's): recency and frequency, so a burst of one-off ids does not push
   * out the entities that get traffic all the time. The default: see bench/README.md for the hit rates.
   */
  W_TINY_LFU("w-tinylfu");

  private final String configName;

  PassivationPolicy(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  public static PassivationPolicy parse(String value) {
    for (PassivationPolicy p : values()) {
      if (p.configName.equals(value) || p.name().equals(value)) {
        return p;
      }
    }
    throw new IllegalArgumentException("passivationPolicy must be lru or w-tinylfu, got " + value);
  }
}
