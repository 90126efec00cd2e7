package io.sticky.api;

import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

/** A delivery for entity tests: its reply completes {@link #result}; a failure fails it and records {@link #error}. */
final class RecordingDelivery implements Delivery {
  final String kind;
  final JsonObject body;
  final Promise<JsonObject> result = Promise.promise();
  volatile StickyError error;

  RecordingDelivery(String kind, JsonObject body) {
    this.kind = kind;
    this.body = body;
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
