package io.sticky.internal.region;

/**
 * The life of one entity instance in its region. Moves that are not listed are bugs and throw.
 *
 * <pre>
 * ACTIVATING --started--> ACTIVE --stop--> STOPPING --stopped--> STOPPED
 *      \--failed to deploy------------------------------------------^
 * </pre>
 */
public enum EntityLifecycle {
  /** Being started (state loading); messages queue in the cell (bounded by the mailbox capacity). */
  ACTIVATING,
  /** Started: messages go straight to the entity's mailbox. */
  ACTIVE,
  /** Finishing its current message and writing its state (passivation, hand-off, shutdown). */
  STOPPING,
  /** Gone; a new message activates a fresh instance. */
  STOPPED;

  public boolean canMoveTo(EntityLifecycle target) {
    return switch (this) {
      case ACTIVATING -> target == ACTIVE || target == STOPPED;
      case ACTIVE -> target == STOPPING;
      case STOPPING -> target == STOPPED;
      case STOPPED -> false;
    };
  }

  /** Returns {@code target} if the move is legal, else throws {@link IllegalStateException}. */
  public EntityLifecycle moveTo(EntityLifecycle target) {
    if (!canMoveTo(target)) {
      throw new IllegalStateException("illegal entity lifecycle move " + this + " -> " + target);
    }
    return target;
  }
}
