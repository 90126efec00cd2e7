package io.sticky.internal.protocol;

/**
 * Headers of an entity message forwarded region -> region (the body is the caller's JSON, untouched).
 * The public ones (id, kind, node) are defined in {@link io.sticky.api.EntityAddress}.
 */
public final class Headers {
  /** Shard number computed by the sending region (the receiver recomputes and checks it). */
  public static final String SHARD = "sticky-shard";
  /** Allocation epoch the sender believes the shard is at. */
  public static final String EPOCH = "sticky-epoch";
  /**
   * On every control message (a {@link Protocol} record, to a region's inbox or to the coordinator): the sending
   * node's id. Receivers act only on messages from a current member, and a node speaks only for itself
   * (Register, GetShardHome, GracefulShutdownReq name the sender). Mutual TLS on the event bus is what makes
   * the header trustworthy: only holders of the cluster certificate can send at all.
   */
  public static final String CONTROL = "sticky-control";

  private Headers() {
  }

  /** Delivery options of a control message sent by {@code sender} (a node id). */
  public static io.vertx.core.eventbus.DeliveryOptions control(String sender, long timeoutMs) {
    return new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMs).addHeader(CONTROL, sender);
  }
}
