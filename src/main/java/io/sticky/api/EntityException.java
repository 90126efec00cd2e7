package io.sticky.api;

/**
 * Thrown (or used to fail the returned future) by an entity to reject a message with a clear error:
 * the caller gets the error's status and this message, and the entity's state is left as it was.
 */
public class EntityException extends RuntimeException {
  private final StickyError error;

  public EntityException(StickyError error, String message) {
    super(message, null, false, false);
    this.error = error;
  }

  public static EntityException badRequest(String message) {
    return new EntityException(StickyError.BAD_REQUEST, message);
  }

  public StickyError error() {
    return error;
  }
}
