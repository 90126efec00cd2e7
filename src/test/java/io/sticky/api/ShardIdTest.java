package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ShardIdTest {

  @Test
  void murmur3MatchesReferenceVectors() {
    // MurmurHash3_x86_32, seed 0: published reference values (also what Guava's murmur3_32 returns).
    assertThat(ShardId.murmur3(new byte[0], 0)).isEqualTo(0);
    assertThat(ShardId.murmur3("hello".getBytes(StandardCharsets.UTF_8), 0)).isEqualTo(0x248bfa47);
    assertThat(ShardId.murmur3("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8), 0))
        .isEqualTo(0x2e4ff723);
  }

  @Test
  void shardOfAnIdNeverChanges() {
    // Pinned values: if these move, nodes of different versions would disagree on where an entity lives.
    assertThat(ShardId.of("hello", 100)).isEqualTo(Math.floorMod(0x248bfa47, 100));
    assertThat(ShardId.of("", 100)).isEqualTo(0);
    for (int i = 0; i < 1000; i++) {
      String id = "user-" + i;
      assertThat(ShardId.of(id, 64)).isEqualTo(ShardId.of(new String(id.toCharArray()), 64)).isBetween(0, 63);
    }
  }

  @Test
  void theAsciiFastPathHashesExactlyLikeTheUtf8Bytes() {
    java.util.Random random = new java.util.Random(42);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-";
    for (int n = 0; n < 2_000; n++) {
      StringBuilder id = new StringBuilder();
      int len = random.nextInt(40);
      for (int i = 0; i < len; i++) {
        id.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String s = id.toString();
      assertThat(ShardId.murmur3(s)).as(s).isEqualTo(ShardId.murmur3(s.getBytes(StandardCharsets.UTF_8), 0));
    }
    // a non-ASCII id takes the byte path: same shard as its UTF-8 bytes give
    assertThat(ShardId.of("caf\u00e9-\u2603", 97)).isEqualTo(Math.floorMod(ShardId.murmur3("caf\u00e9-\u2603".getBytes(StandardCharsets.UTF_8), 0), 97));
  }

  @Test
  void shardIsNeverNegativeEvenForNegativeHashes() {
    Random random = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      String id = Long.toHexString(random.nextLong());
      assertThat(ShardId.of(id, 7)).isBetween(0, 6);
    }
  }

  @Test
  void sequentialIdsSpreadEvenlyOverShards() {
    int shards = 100;
    int ids = 100_000;
    int[] counts = new int[shards];
    for (int i = 0; i < ids; i++) {
      counts[ShardId.of("counter-" + i, shards)]++;
    }
    double expected = (double) ids / shards;
    double chiSquare = 0;
    for (int c : counts) {
      chiSquare += (c - expected) * (c - expected) / expected;
      assertThat(c).as("every shard within 15% of the mean").isBetween((int) (expected * 0.85), (int) (expected * 1.15));
    }
    // 99 degrees of freedom: the 99.9th percentile of chi-square is ~148.
    assertThat(chiSquare).isLessThan(148);
  }

  @Test
  void rejectsNonPositiveShardCounts() {
    assertThatThrownBy(() -> ShardId.of("a", 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
