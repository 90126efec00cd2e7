package io.sticky.api;

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
    // Valid ids are ASCII, whose UTF-8 bytes are its chars: hash them in place, without encoding a copy.
    int hash = isAscii(entityId) ? murmur3(entityId) : murmur3(entityId.getBytes(StandardCharsets.UTF_8), 0);
    return Math.floorMod(hash, numberOfShards);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /** MurmurHash3 x86_32. */
  static int murmur3(byte[] data, int seed) {
    int h = seed;
    int len = data.length;
    int blocks = len / 4;
    for (int i = 0; i < blocks; i++) {
      h = mixH(h, (data[4 * i] & 0xff) | (data[4 * i + 1] & 0xff) << 8 | (data[4 * i + 2] & 0xff) << 16 | (data[4 * i + 3] & 0xff) << 24);
    }
    int tail = blocks * 4;
    int k = 0;
    switch (len & 3) {
      case 3:
        k ^= (data[tail + 2] & 0xff) << 16;
        // fall through
      case 2:
        k ^= (data[tail + 1] & 0xff) << 8;
        // fall through
      case 1:
        k ^= data[tail] & 0xff;
        h ^= mixK(k);
        break;
      default:
        break;
    }
    return fmix(h, len);
  }

  /** MurmurHash3 x86_32, seed 0, of an ASCII string's bytes (its chars): equal to {@code murmur3(s.getBytes(UTF_8), 0)}. */
  static int murmur3(String ascii) {
    int h = 0;
    int len = ascii.length();
    int blocks = len / 4;
    for (int i = 0; i < blocks; i++) {
      h = mixH(h, ascii.charAt(4 * i) | ascii.charAt(4 * i + 1) << 8 | ascii.charAt(4 * i + 2) << 16 | ascii.charAt(4 * i + 3) << 24);
    }
    int tail = blocks * 4;
    int k = 0;
    switch (len & 3) {
      case 3:
        k ^= ascii.charAt(tail + 2) << 16;
        // fall through
      case 2:
        k ^= ascii.charAt(tail + 1) << 8;
        // fall through
      case 1:
        k ^= ascii.charAt(tail);
        h ^= mixK(k);
        break;
      default:
        break;
    }
    return fmix(h, len);
  }

  private static int mixK(int k) {
    k *= 0xcc9e2d51;
    k = Integer.rotateLeft(k, 15);
    return k * 0x1b873593;
  }

  private static int mixH(int h, int k) {
    h ^= mixK(k);
    h = Integer.rotateLeft(h, 13);
    return h * 5 + 0xe6546b64;
  }

  private static int fmix(int h, int len) {
    h ^= len;
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }
}
