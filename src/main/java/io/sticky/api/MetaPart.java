package io.sticky.api;

/**
 * A part of what the runtime stores with an entity's state ({@code StoredState.meta}: idempotency keys,
 * reminders). It counts its changes: a write carries it when it changed, even if the state did not, and a
 * change made while a write was in flight stays due after that write.
 */
abstract class MetaPart {
  private long changes;
  private long writtenChanges;

  final void changed() {
    changes++;
  }

  /** Changed since the last write. */
  final boolean dirty() {
    return changes != writtenChanges;
  }

  /** The change count to hand to {@link #written} once the encoding taken now is stored. */
  final long changes() {
    return changes;
  }

  final void written(long changesCarried) {
    writtenChanges = Math.max(writtenChanges, changesCarried);
  }

  /** Just read from the store: nothing is due. */
  final void restored() {
    writtenChanges = changes;
  }
}
