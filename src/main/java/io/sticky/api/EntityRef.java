package io.sticky.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A handle on one entity, usable from any verticle on any node: the entity may live anywhere in the
 * cluster, and may not even be active yet. Cheap to create; holds no resources.
 */
public final class EntityRef {
  private final Sticky sticky;
  private final String typeName;
  private final String id;
  /** Null: each ask is sent once. */
  private final RetryPolicy retries;

  /** Prefer {@link Sticky#entityRef}. */
  public static EntityRef of(Sticky sticky, String typeName, String id) {
    return new EntityRef(sticky, typeName, id, null);
  }

  private EntityRef(Sticky sticky, String typeName, String id, RetryPolicy retries) {
    this.sticky = sticky;
    this.typeName = typeName;
    this.id = id;
    this.retries = retries;
  }

  /**
   * The same entity, with asks that are safe to retry: each ask carries an idempotency key (generated, unless
   * given), and a failure that left the outcome unknown ({@link StickyError#TIMEOUT}, {@link StickyError#STORE_FAILED})
   * or applied nothing but may pass later ({@link StickyError#UNAVAILABLE}, {@link StickyError#STATE_CONFLICT})
   * is retried with that key, with backoff, up to the policy's attempts. The entity applies the message at most
   * once within its type's idempotency window. An {@link StickyError#ENTITY_FAILED} (the handler threw) is not
   * retried.
   */
  public EntityRef withRetries(RetryPolicy policy) {
    return new EntityRef(sticky, typeName, id, java.util.Objects.requireNonNull(policy, "policy"));
  }

  public String typeName() {
    return typeName;
  }

  public String id() {
    return id;
  }

  /**
   * Sends a message and completes with the entity's reply (at most once; a timeout means outcome unknown). Fails
   * with an {@link EntityException}: its {@link StickyError} kind, detail and the node that answered.
   */
  public Future<JsonObject> ask(JsonObject message) {
    return ask(message, retries == null ? null : java.util.UUID.randomUUID().toString());
  }

  /**
   * As {@link #ask(JsonObject)}, naming the operation with an idempotency key (1-255 visible ASCII characters;
   * null: none): a second ask with the same key and message gets the first one's reply and is not applied
   * again (see {@link Sticky#request(String, String, String, JsonObject, String)}).
   */
  public Future<JsonObject> ask(JsonObject message, String idempotencyKey) {
    if (retries == null) {
      return typed(sticky.request(typeName, id, EntityAddress.KIND_ASK, message, idempotencyKey)).map(EntityReply::body);
    }
    String key = idempotencyKey != null ? idempotencyKey : java.util.UUID.randomUUID().toString();
    return retries.run(sticky.vertx(), () -> typed(sticky.request(typeName, id, EntityAddress.KIND_ASK, message, key)))
        .map(EntityReply::body);
  }

  /**
   * A typed ask: {@code message} (a record or bean) is sent as JSON (Jackson), with {@code "op"} set to its class's
   * simple name with a lower-case first letter ({@code new Deposit(50)} -> {@code {"op":"deposit","amount":50}})
   * unless it has an {@code op} property of its own; the reply is read as {@code replyType}. Fails as
   * {@link #ask(JsonObject)} does; a message Jackson cannot write fails with {@link StickyError#BAD_REQUEST}
   * (nothing sent), a reply it cannot read with {@link StickyError#ENTITY_FAILED} (the message was applied).
   */
  public <R> Future<R> ask(Object message, Class<R> replyType) {
    JsonObject json;
    try {
      json = toJson(message);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new EntityException(StickyError.BAD_REQUEST, "message " + message.getClass().getName()
          + " cannot be written as JSON: " + e.getMessage()));
    }
    return ask(json).compose(reply -> read(reply, replyType));
  }

  /** The entity's read-only view, read as {@code viewType} (see {@link #ask(Object, Class)}). */
  public <R> Future<R> view(Class<R> viewType) {
    return view().compose(reply -> read(reply, viewType));
  }

  /** The JSON form of a typed message (see {@link #ask(Object, Class)}). */
  public static JsonObject toJson(Object message) {
    if (message instanceof JsonObject json) {
      return json;
    }
    JsonObject json = JsonObject.mapFrom(java.util.Objects.requireNonNull(message, "message"));
    if (!json.containsKey("op")) {
      String name = message.getClass().getSimpleName();
      json.put("op", Character.toLowerCase(name.charAt(0)) + name.substring(1));
    }
    return json;
  }

  private static <R> Future<R> read(JsonObject reply, Class<R> type) {
    try {
      return Future.succeededFuture(reply.mapTo(type));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(new EntityException(StickyError.ENTITY_FAILED, "the reply " + reply.encode()
          + " cannot be read as " + type.getName() + " (the message was applied): " + e.getMessage()));
    }
  }

  /** Fire-and-forget: at most once, no reply, no error reported. */
  public void tell(JsonObject message) {
    sticky.tell(typeName, id, message);
  }

  /** The entity's read-only view (activates it if needed). */
  public Future<JsonObject> view() {
    return typed(sticky.request(typeName, id, EntityAddress.KIND_VIEW, null)).map(EntityReply::body);
  }

  private static <T> Future<T> typed(Future<T> call) {
    return call.recover(err -> Future.failedFuture(EntityException.from(err)));
  }

  @Override
  public String toString() {
    return "EntityRef[" + typeName + "/" + id + "]";
  }
}
