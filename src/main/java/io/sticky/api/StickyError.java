package io.sticky.api;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Every way an ask can fail, with the HTTP status the gateway maps it to.
 *
 * <p>On the event bus a failure arrives as a {@link ReplyException} whose {@code failureCode()} is the
 * {@link #code()} below (the HTTP status, except where two errors share one), so a caller using the plain
 * event bus can tell them apart with {@link #of(Throwable)}. What each failure says about the outcome matters: only {@link #TIMEOUT}
 * (and {@link #ENTITY_FAILED}) leave it unknown; every other failure means the message was not applied.
 */
public enum StickyError {
  /**
   * The caller asked to be sent to the entity's node rather than forwarded there (HTTP header
   * {@code X-Sticky-Redirect: true}), and the entity lives on another node, which the failure names. Not applied.
   */
  REDIRECT(307, "redirect", "Entity lives on another node"),
  /** The entity rejected the message (unknown op, bad field). Not applied. */
  BAD_REQUEST(400, "bad-request", "Bad request"),
  /**
   * The id is not 1-256 chars of {@code [A-Za-z0-9._:@-]}. Not applied. Its event-bus code is not its status,
   * which BAD_REQUEST has.
   */
  INVALID_ID(400, 1400, "invalid-id", "Invalid entity id"),
  /** No entity type of that name is registered on this node. Not applied. */
  UNKNOWN_TYPE(404, "unknown-type", "Unknown entity type"),
  /**
   * The idempotency key was already applied to this entity with a different message (a client bug: a key
   * names one operation). Not applied.
   */
  IDEMPOTENCY_KEY_REUSED(422, "idempotency-key-reused", "Idempotency key reused"),
  /**
   * The entity has no stored state and its type is at its limit of stored entities ({@code maxStoredEntities}):
   * no new entity of the type is created. Not applied; existing entities still work.
   */
  ENTITY_LIMIT(507, "entity-limit", "Entity limit reached"),
  /** The request body is over the configured limit. Not applied. */
  PAYLOAD_TOO_LARGE(413, "payload-too-large", "Request body too large"),
  /** The request body is not JSON. Not applied. */
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
  /**
   * Internal, between regions: the receiving node does not host the shard (stale routing). The sending
   * region asks the coordinator again and retries; when retries run out the caller gets
   * {@link #UNAVAILABLE}. Not applied.
   */
  WRONG_HOME(421, "wrong-home", "Shard not hosted here"),
  /**
   * The entity's state was written by another instance since this one read it (a stale instance after a
   * crash or partition). The message was not applied and that instance is stopped: retrying is safe and
   * reaches a fresh instance with the stored state.
   */
  STATE_CONFLICT(409, "state-conflict", "State changed elsewhere"),
  /** The entity threw or failed unexpectedly while handling the message. Outcome unknown. */
  ENTITY_FAILED(500, "entity-failed", "Entity failed"),
  /**
   * The node is not ready, the shard's home is unknown and the coordinator could not be reached in time,
   * or a bounded buffer is full. Not applied: safe to retry.
   */
  UNAVAILABLE(503, "unavailable", "Service unavailable"),
  /**
   * The state store failed or did not answer the write of this message's change. Outcome unknown (the write
   * may have landed); the entity instance is stopped, so the next message starts from what the store holds.
   */
  STORE_FAILED(502, "store-failed", "State store failed"),
  /**
   * The entity's stored state is lost: every copy of it was on nodes that failed together (both copies of the
   * replicated store, or a Hazelcast partition's owner and backup). The entity is not started from its
   * initial state without a word: it answers this until an operator accepts the loss
   * ({@code POST /cluster/types/{type}/accept-state-loss}), unless its type opts in to starting fresh. Not
   * applied; retrying does not help until then. Its event-bus code is not its status, which UNAVAILABLE has.
   */
  STATE_LOST(503, 1503, "state-lost", "Entity state lost"),
  /** No reply within the ask timeout. The message may or may not have been applied: outcome unknown. */
  TIMEOUT(504, "timeout", "Entity timeout");

  private final int status;
  private final int code;
  private final String slug;
  private final String title;

  StickyError(int status, String slug, String title) {
    this(status, status, slug, title);
  }

  StickyError(int status, int code, String slug, String title) {
    this.status = status;
    this.code = code;
    this.slug = slug;
    this.title = title;
  }

  /** HTTP status. */
  public int status() {
    return status;
  }

  /** The {@link ReplyException#failureCode()} on the event bus: the HTTP status, unless another error has that status. */
  public int code() {
    return code;
  }

  /** Problem type URI used in {@code application/problem+json} bodies. */
  public String type() {
    return "urn:sticky:problem:" + slug;
  }

  /** The short name ending {@link #type()}, e.g. {@code timeout}: the {@code outcome} label of request metrics. */
  public String slug() {
    return slug;
  }

  public String title() {
    return title;
  }

  /** True if the message may have been applied (callers must not blindly retry without idempotency). */
  public boolean outcomeUnknown() {
    return this == TIMEOUT || this == ENTITY_FAILED || this == STORE_FAILED;
  }

  /** An event-bus failure carrying this error. */
  public ReplyException exception(String detail) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code, detail, true);
  }

  /**
   * Classifies any failure of an ask: event-bus timeouts and missing handlers included.
   */
  public static StickyError of(Throwable failure) {
    if (failure instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return TIMEOUT;
      }
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        // The entry address is local: no handler for it means this node does not register the type, which
        // retrying here never fixes. Any other missing handler (a node that just left) is transient.
        String m = re.getMessage();
        return m != null && m.contains(EntityAddress.PREFIX) ? UNKNOWN_TYPE : UNAVAILABLE;
      }
      StickyError byCode = byStatus(re.failureCode());
      return byCode != null ? byCode : ENTITY_FAILED;
    }
    if (failure instanceof EntityException ee) {
      return ee.error();
    }
    return ENTITY_FAILED;
  }

  private static StickyError byStatus(int code) {
    for (StickyError e : values()) {
      if (e.code == code) {
        return e;
      }
    }
    return null;
  }
}
