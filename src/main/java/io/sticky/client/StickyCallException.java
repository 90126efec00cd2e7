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

  StickyCallException(StickyError error, int status, String detail, String node) {
    super(error, detail, node);
    this.status = status;
  }

  /** The HTTP status of the last answer (0 when no node answered). */
  public int status() {
    return status;
  }

  /** True if the call may have been applied: retrying it blindly could apply it twice. */
  public boolean outcomeUnknown() {
    return error().outcomeUnknown();
  }
}
