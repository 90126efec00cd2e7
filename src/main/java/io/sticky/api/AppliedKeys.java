package io.sticky.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The idempotency keys an entity has applied, with their replies: a window bounded by count and age, kept
 * with the state (written in the same conditional write, carried in a hand-off), so that a retry after a
 * failover or a move finds the key. Oldest first; touched only on the entity's context.
 */
final class AppliedKeys extends MetaPart {
  /** One applied key: a fingerprint of the message it came with, the reply, and when it was applied. */
  record Applied(String fingerprint, JsonObject reply, long appliedAtMillis) {
  }

  private final int limit;
  private final long retentionMs;
  private final LinkedHashMap<String, Applied> keys = new LinkedHashMap<>();

  /** Keys whose handler has not completed (one that outlived its ask timeout, typically): a retry must wait. */
  private Set<String> inFlight;

  AppliedKeys(int limit, long retentionMs) {
    this.limit = limit;
    this.retentionMs = retentionMs;
  }

  /** A retry of an applied key: the stored reply again, and nothing applied; a different message is refused. */
  Future<JsonObject> replay(String key, String fingerprint, Applied prior, String entity) {
    if (!prior.fingerprint().equals(fingerprint)) {
      return Future.failedFuture(new EntityException(StickyError.IDEMPOTENCY_KEY_REUSED, "idempotency key '" + key
          + "' was applied to " + entity + " with a different message; not applied"));
    }
    return Future.succeededFuture(prior.reply().copy());
  }

  /** The first message with this key is still being handled. */
  boolean inFlight(String key) {
    return inFlight != null && inFlight.contains(key);
  }

  /** {@code handled}, with the key in flight until it completes and recorded (with its reply) if it succeeds. */
  Future<JsonObject> recording(String key, String fingerprint, Future<JsonObject> handled) {
    if (inFlight == null) {
      inFlight = new HashSet<>();
    }
    inFlight.add(key);
    return handled.transform(ar -> {
      inFlight.remove(key);
      if (ar.failed()) {
        return Future.failedFuture(ar.cause());
      }
      JsonObject sent = ar.result() == null ? new JsonObject() : ar.result();
      record(key, fingerprint, sent, System.currentTimeMillis());
      return Future.succeededFuture(sent);
    });
  }

  /** The key's record if it was applied within the window, else null. */
  Applied find(String key, long nowMillis) {
    expire(nowMillis);
    return keys.get(key);
  }

  void record(String key, String fingerprint, JsonObject reply, long nowMillis) {
    keys.remove(key);
    keys.put(key, new Applied(fingerprint, reply.copy(), nowMillis));
    trim();
    changed();
  }

  boolean isEmpty() {
    return keys.isEmpty();
  }

  int size() {
    return keys.size();
  }

  private void trim() {
    Iterator<String> oldest = keys.keySet().iterator();
    while (keys.size() > limit) {
      oldest.next();
      oldest.remove();
    }
  }

  private void expire(long nowMillis) {
    Iterator<Applied> it = keys.values().iterator();
    while (it.hasNext() && nowMillis - it.next().appliedAtMillis() >= retentionMs) {
      it.remove(); // no write for this: expired keys are dropped again on load
    }
  }

  /** The window as stored: a JSON array, oldest first; null if empty. */
  JsonArray toJson() {
    if (keys.isEmpty()) {
      return null;
    }
    JsonArray out = new JsonArray();
    for (Map.Entry<String, Applied> e : keys.entrySet()) {
      Applied a = e.getValue();
      out.add(new JsonObject().put("key", e.getKey()).put("fingerprint", a.fingerprint()).put("reply", a.reply())
          .put("at", a.appliedAtMillis()));
    }
    return out;
  }

  /** Replaces the window with a stored one (null: empty), dropping what is past the bounds. */
  void restore(JsonArray stored, long nowMillis) {
    keys.clear();
    restored();
    if (stored == null) {
      return;
    }
    for (Object o : stored) {
      JsonObject a = (JsonObject) o;
      keys.put(a.getString("key"), new Applied(a.getString("fingerprint"), a.getJsonObject("reply"), a.getLong("at")));
    }
    expire(nowMillis);
    trim();
  }

  /** What tells a retry from a different message under the same key: SHA-256 of the message's JSON. */
  static String fingerprint(JsonObject message) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(message.encode().getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
