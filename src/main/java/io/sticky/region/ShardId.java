package io.sticky.region;

import java.nio.charset.StandardCharsets;

/**
 * Maps an entity id to its shard: {@code murmur3_32(utf8(id)) mod numberOfShards}, never negative.
 *
 * <p>This function is part of the cluster's contract: every node, of every version, must compute the same
 * shard for the same id, so it is written out here (MurmurHash3 x86_32, seed 0) rather than borrowed from
 * a library or {@code String.hashCode} (whose spread is poor on sequential ids).
 */
public final class ShardId {
  private ShardId() {
  }

  public static int of(String entityId, int numberOfShards) {
    if (numberOfShards <= 0) {
      throw new IllegalArgumentException("numberOfShards must be positive: " + numberOfShards);
    }
    return Math.floorMod(murmur3(entityId.getBytes(StandardCharsets.UTF_8), 0), numberOfShards);
  }

  /** MurmurHash3 x86_32. */
  static int murmur3(byte[] data, int seed) {
    final int c1 = 0xcc9e2d51;
    final int c2 = 0x1b873593;
    int h = seed;
    int len = data.length;
    int blocks = len / 4;
    for (int i = 0; i < blocks; i++) {
      int k = (data[4 * i] & 0xff) | (data[4 * i + 1] & 0xff) << 8 | (data[4 * i + 2] & 0xff) << 16 | (data[4 * i + 3] & 0xff) << 24;
      k *= c1;
      k = Integer.rotateLeft(k, 15);
      k *= c2;
      h ^= k;
      h = Integer.rotateLeft(h, 13);
      h = h * 5 + 0xe6546b64;
    }
    int k = 0;
    int tail = blocks * 4;
    switch (len & 3) {
      case 3:
        k ^= (data[tail + 2] & 0xff) << 16;
        // fall through
      case 2:
        k ^= (data[tail + 1] & 0xff) << 8;
        // fall through
      case 1:
        k ^= data[tail] & 0xff;
        k *= c1;
        k = Integer.rotateLeft(k, 15);
        k *= c2;
        h ^= k;
        break;
      default:
        break;
    }
    h ^= len;
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }
}
