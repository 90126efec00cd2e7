package io.sticky.region;

import java.util.EnumSet;
import java.util.Set;

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

  private Set<EntityLifecycle> next() {
    return switch (this) {
      case ACTIVATING -> EnumSet.of(ACTIVE, STOPPED);
      case ACTIVE -> EnumSet.of(STOPPING);
      case STOPPING -> EnumSet.of(STOPPED);
      case STOPPED -> EnumSet.noneOf(EntityLifecycle.class);
    };
  }

  public boolean canMoveTo(EntityLifecycle target) {
    return next().contains(target);
  }

  /** Returns {@code target} if the move is legal, else throws {@link IllegalStateException}. */
  public EntityLifecycle moveTo(EntityLifecycle target) {
    if (!canMoveTo(target)) {
      throw new IllegalStateException("illegal entity lifecycle move " + this + " -> " + target);
    }
    return target;
  }
}
