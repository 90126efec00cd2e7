package io.sticky.store;

/**
 * A conditional write found another version than the one it expected: some other instance wrote the entity
 * since this one read it (a stale instance after a crash or a partition). Nothing was written.
 */
public final class StateConflictException extends RuntimeException {
  private final long expectedVersion;

  public StateConflictException(String type, String id, long expectedVersion) {
    super("state of " + type + "/" + id + " is no longer at version " + expectedVersion + ": written elsewhere");
    this.expectedVersion = expectedVersion;
  }

  /** A conflict over a whole shard: another node hosts it at a newer allocation epoch. */
  public StateConflictException(String message) {
    super(message);
    this.expectedVersion = -1;
  }

  /** The version the write expected to replace; -1 for a shard-wide conflict. */
  public long expectedVersion() {
    return expectedVersion;
  }
}
