package io.sticky.api;

import io.vertx.core.json.JsonObject;

/** An entity's reply together with the id of the node that hosts the entity. */
public record EntityReply(JsonObject body, String node) {
}
