package io.sticky.internal.protocol;

/**
 * Every event-bus address Sticky uses. Clustered registrations are few: one per node and type (the
 * region inbox) plus one coordinator; never one per entity (each clustered registration is a Hazelcast
 * write and slows failure handling, see docs/design.md).
 */
public final class Addresses {
  /** Clustered, registered only by the node that runs the coordinator. */
  public static final String COORDINATOR = "sticky.coordinator";

  private Addresses() {
  }

  /** Clustered: the region of {@code type} on {@code node}; receives entity messages routed by other regions. */
  public static String region(String type, String node) {
    return "sticky.region." + type + "." + node;
  }

  /** Clustered: the quorum pings of {@code node} (see {@code Quorum}). */
  public static String quorum(String node) {
    return "sticky.quorum." + node;
  }

  /** Clustered: the replicated state store's endpoint on {@code node} (copies of shards' states). */
  public static String replica(String node) {
    return "sticky.replica." + node;
  }
}
