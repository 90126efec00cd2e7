package io.sticky.protocol;

/**
 * Headers of an entity message forwarded region -> region (the body is the caller's JSON, untouched).
 * The public ones (id, kind, node) are defined in {@link io.sticky.api.EntityAddress}.
 */
public final class Headers {
  /** Shard number computed by the sending region (the receiver recomputes and checks it). */
  public static final String SHARD = "sticky-shard";
  /** Allocation epoch the sender believes the shard is at. */
  public static final String EPOCH = "sticky-epoch";
  /** Marks a coordinator -> region control message (a {@link Protocol.RegionCommand}) in a region's inbox. */
  public static final String CONTROL = "sticky-control";

  private Headers() {
  }
}
