package io.sticky.client;

import io.sticky.api.EntityException;
import io.sticky.api.StickyError;

/**
 * A failed {@link StickyClient} call: the {@link StickyError} kind the node answered (from the problem's
 * {@code type}), its detail, and the node that produced it when one did. {@link StickyError#of(Throwable)}
 * classifies it like any other failure.
 */
public final class StickyCallException extends EntityException {
  private final int status;
  private final String node;

  StickyCallException(StickyError error, int status, String detail, String node) {
    super(error, detail);
    this.status = status;
    this.node = node;
  }

  /** The HTTP status of the last answer (0 when no node answered). */
  public int status() {
    return status;
  }

  /** The node that produced the failure ({@code X-Sticky-Node}), or null. */
  public String node() {
    return node;
  }

  /** True if the call may have been applied: retrying it blindly could apply it twice. */
  public boolean outcomeUnknown() {
    return error().outcomeUnknown();
  }
}
