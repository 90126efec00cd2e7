package io.sticky.store.replicated;

import io.sticky.internal.cluster.Membership;
import io.sticky.internal.protocol.Addresses;
import io.sticky.store.StoredState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.HashMap;
import java.util.Map;

/** Asks a member for its copy of a shard ({@link ReplicaWire#FETCH}) and reads the answer. */
final class CopyFetch {
  private final Vertx vertx;
  private final Membership membership;

  /** A member's answer to a fetch: its copy's epoch (0: none), whether that copy was lost, and its states. */
  record Fetched(long epoch, boolean lost, Map<String, StoredState> states) {
    static final Fetched NONE = new Fetched(0, false, Map.of());
  }

  CopyFetch(Vertx vertx, Membership membership) {
    this.vertx = vertx;
    this.membership = membership;
  }

  /**
   * Asks {@code node} for its copy of the shard, and to refuse older epochs from now on. A member that serves
   * no copies (starting, or gone) holds nothing we need: {@link Fetched#NONE}. An unreachable member is asked
   * again, up to {@link ReplicatedStateStore#FETCH_ATTEMPTS} attempts in all.
   */
  Future<Fetched> fetch(String node, ShardKey key, long epoch, int attempt) {
    Buffer msg = ReplicaWire.shardMessage(ReplicaWire.FETCH, key, epoch);
    return vertx.eventBus().<Buffer>request(Addresses.replica(node), msg, new DeliveryOptions().setSendTimeout(ReplicatedStateStore.REQUEST_TIMEOUT_MS))
        .<Fetched>transform(ar -> {
          if (ar.succeeded()) {
            ReplicaWire.Reader r = new ReplicaWire.Reader(ar.result().body(), 0);
            if (r.readByte() == ReplicaWire.STALE) {
              return Future.failedFuture(ReplicatedStateStore.stale(key, epoch, r.readLong()));
            }
            long copyEpoch = r.readLong();
            boolean lost = r.readByte() != 0;
            Map<String, StoredState> states = new HashMap<>();
            r.readStates(states);
            return Future.succeededFuture(new Fetched(copyEpoch, lost, states));
          }
          if (noHandlers(ar.cause()) || !membership.isMember(node)) {
            // Not serving copies (starting, or stopping after its clean leave): it holds nothing we need.
            return Future.succeededFuture(Fetched.NONE);
          }
          if (attempt >= ReplicatedStateStore.FETCH_ATTEMPTS) {
            return Future.failedFuture("member " + node + " did not hand over its copy of shard " + key + ": " + ar.cause().getMessage());
          }
          // Unreachable but still a member: it may be leaving the membership right now (a crash), so wait a little.
          Promise<Fetched> again = Promise.promise();
          vertx.setTimer(ReplicatedStateStore.backoff(attempt + 2), t -> fetch(node, key, epoch, attempt + 1).onComplete(again));
          return again.future();
        });
  }

  private static boolean noHandlers(Throwable t) {
    return t instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS;
  }
}
