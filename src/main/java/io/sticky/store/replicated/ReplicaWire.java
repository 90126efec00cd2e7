package io.sticky.store.replicated;

import io.sticky.store.StoredState;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The replica protocol's messages, as compact binary buffers on the clustered address
 * {@code sticky.replica.<node>} (one per node). Every message starts with its kind; replies are event-bus
 * replies. A shard is named by type and number; {@code epoch} is the allocation epoch of the sender's copy.
 *
 * <table>
 *   <caption>Messages</caption>
 *   <tr><th>kind</th><th>sender -> receiver</th><th>body</th><th>reply</th></tr>
 *   <tr><td>{@link #REPLICATE}</td><td>primary -> its standby</td><td>entries, each (type, shard, epoch, id, state):
 *   a batch of writes to that standby</td><td>one status per entry: {@link #OK},
 *   {@link #STALE} (a newer epoch of the shard exists) or {@link #NEED_SNAPSHOT} (no copy at that epoch yet)</td></tr>
 *   <tr><td>{@link #SNAPSHOT}</td><td>primary -> its (new) standby</td><td>type, shard, epoch, term (which standby
 *   assignment of the epoch), lost (1: the shard's earlier copies are lost), every state of the shard</td><td>status</td></tr>
 *   <tr><td>{@link #FETCH}</td><td>new primary -> every other member</td><td>type, shard, epoch: "I host the shard
 *   from this epoch; give me your copy and refuse writes of older epochs"</td><td>status, the copy's epoch (0: no
 *   copy), lost, and its states</td></tr>
 *   <tr><td>{@link #RELEASE}</td><td>primary -> every member but its standby</td><td>type, shard, epoch, term: "drop
 *   copies older than this epoch and term"; sent once its standby holds the shard</td><td>none</td></tr>
 *   <tr><td>{@link #COUNT}</td><td>any node -> every member</td><td>type: "how many of its entities do your primary
 *   copies hold?"</td><td>the count (a long)</td></tr>
 * </table>
 */
final class ReplicaWire {
  static final byte REPLICATE = 1;
  static final byte SNAPSHOT = 2;
  static final byte FETCH = 3;
  static final byte RELEASE = 4;
  static final byte COUNT = 5;

  static final byte OK = 0;
  static final byte STALE = 1;
  static final byte NEED_SNAPSHOT = 2;

  private ReplicaWire() {
  }

  static Buffer shardMessage(byte kind, ShardKey key, long epoch) {
    Buffer b = Buffer.buffer(64).appendByte(kind);
    putString(b, key.type());
    return b.appendInt(key.shard()).appendLong(epoch);
  }

  static void putStates(Buffer b, Map<String, StoredState> states) {
    b.appendInt(states.size());
    states.forEach((id, state) -> {
      putString(b, id);
      putState(b, state);
    });
  }

  static void putString(Buffer b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.appendInt(bytes.length).appendBytes(bytes);
  }

  static void putState(Buffer b, StoredState s) {
    b.appendLong(s.version()).appendLong(s.epoch()).appendInt(s.schemaVersion());
    putString(b, s.data());
    if (s.meta() == null) {
      b.appendInt(-1);
    } else {
      putString(b, s.meta());
    }
  }

  /** Reads a buffer front to back. */
  static final class Reader {
    private final Buffer buffer;
    private int pos;

    Reader(Buffer buffer, int pos) {
      this.buffer = buffer;
      this.pos = pos;
    }

    byte readByte() {
      return buffer.getByte(pos++);
    }

    int readInt() {
      int v = buffer.getInt(pos);
      pos += 4;
      return v;
    }

    long readLong() {
      long v = buffer.getLong(pos);
      pos += 8;
      return v;
    }

    String readString() {
      int length = readInt();
      String s = buffer.getString(pos, pos + length, "UTF-8");
      pos += length;
      return s;
    }

    StoredState readState() {
      return new StoredState(readLong(), readLong(), readInt(), readString(), readNullableString());
    }

    private String readNullableString() {
      if (buffer.getInt(pos) < 0) {
        pos += 4;
        return null;
      }
      return readString();
    }

    ShardKey readShard() {
      return new ShardKey(readString(), readInt());
    }

    /** Reads {@code count, (id, state)*} into {@code into}. */
    void readStates(Map<String, StoredState> into) {
      int n = readInt();
      for (int i = 0; i < n; i++) {
        into.put(readString(), readState());
      }
    }
  }
}
