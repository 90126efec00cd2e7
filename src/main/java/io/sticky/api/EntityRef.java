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

  /** Prefer {@link Sticky#entityRef}. */
  public static EntityRef of(Sticky sticky, String typeName, String id) {
    return new EntityRef(sticky, typeName, id);
  }

  private EntityRef(Sticky sticky, String typeName, String id) {
    this.sticky = sticky;
    this.typeName = typeName;
    this.id = id;
  }

  public String typeName() {
    return typeName;
  }

  public String id() {
    return id;
  }

  /** Sends a message and completes with the entity's reply (at most once; a timeout means outcome unknown). */
  public Future<JsonObject> ask(JsonObject message) {
    return sticky.request(typeName, id, EntityAddress.KIND_ASK, message).map(EntityReply::body);
  }

  /** Fire-and-forget: at most once, no reply, no error reported. */
  public void tell(JsonObject message) {
    sticky.tell(typeName, id, message);
  }

  /** The entity's read-only view (activates it if needed). */
  public Future<JsonObject> view() {
    return sticky.request(typeName, id, EntityAddress.KIND_VIEW, null).map(EntityReply::body);
  }

  @Override
  public String toString() {
    return "EntityRef[" + typeName + "/" + id + "]";
  }
}
