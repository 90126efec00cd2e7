package io.sticky.api;

import io.sticky.internal.Delivery;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/** A delivery for entity tests: its reply completes {@link #result}; a failure fails it and records {@link #error}. */
final class RecordingDelivery implements Delivery {
  final String kind;
  final JsonObject body;
  final Promise<JsonObject> result = Promise.promise();
  volatile StickyError error;
  final String idempotencyKey;
  volatile boolean replayed;

  RecordingDelivery(String kind, JsonObject body) {
    this(kind, body, null);
  }

  RecordingDelivery(String kind, JsonObject body, String idempotencyKey) {
    this.kind = kind;
    this.body = body;
    this.idempotencyKey = idempotencyKey;
  }

  static RecordingDelivery ask(JsonObject body, String idempotencyKey) {
    return new RecordingDelivery(EntityAddress.KIND_ASK, body, idempotencyKey);
  }

  @Override
  public String idempotencyKey() {
    return idempotencyKey;
  }

  @Override
  public void replay(JsonObject reply) {
    replayed = true;
    result.tryComplete(reply);
  }

  static RecordingDelivery ask(JsonObject body) {
    return new RecordingDelivery(EntityAddress.KIND_ASK, body);
  }

  @Override
  public String kind() {
    return kind;
  }

  @Override
  public JsonObject body() {
    return body;
  }

  @Override
  public void reply(JsonObject reply) {
    result.tryComplete(reply);
  }

  @Override
  public void fail(StickyError e, String detail) {
    error = e;
    result.tryFail(e + ": " + detail);
  }
}
