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

  public long expectedVersion() {
    return expectedVersion;
  }
}
