package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.gateway.GatewayOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class OptionsTest {

  @Test
  void defaultsAreTheDocumentedConstants() {
    EntityTypeOptions t = new EntityTypeOptions();
    assertThat(t.getNumberOfShards()).isEqualTo(EntityTypeOptions.DEFAULT_NUMBER_OF_SHARDS);
    assertThat(t.getAskTimeoutMs()).isEqualTo(EntityTypeOptions.DEFAULT_ASK_TIMEOUT_MS);
    assertThat(new EntityTypeOptions(new JsonObject())).isEqualTo(t);
    assertThat(new StickyOptions(new JsonObject())).isEqualTo(new StickyOptions());
    assertThat(new GatewayOptions(new JsonObject()).toJson()).isEqualTo(new GatewayOptions().toJson());
  }

  @Test
  void nonDefaultValuesRoundTripThroughJson() {
    EntityTypeOptions t = new EntityTypeOptions().setNumberOfShards(7).setAskTimeoutMs(123).setMailboxCapacity(9).setMaxBufferedPerShard(11);
    assertThat(new EntityTypeOptions(new JsonObject(t.toJson().encode()))).isEqualTo(t).isNotEqualTo(new EntityTypeOptions());
    StickyOptions s = new StickyOptions().setMaxBufferedPerRegion(5).setCoordinatorTimeoutMs(6).setRetryBackoffMs(7).setMaxRouteAttempts(8)
        .setHandOffRatePerSecond(12.5).setRebalanceJoinDelayMs(0);
    assertThat(new StickyOptions(new JsonObject(s.toJson().encode()))).isEqualTo(s).isNotEqualTo(new StickyOptions());
    GatewayOptions g = new GatewayOptions().setPort(9).setHost("127.0.0.2").setMaxBodyBytes(10).setInstances(3);
    assertThat(new GatewayOptions(g.toJson()).toJson()).isEqualTo(g.toJson());
  }

  @Test
  void invalidValuesAreRejectedWithTheKeyInTheMessage() {
    assertThatThrownBy(() -> new EntityTypeOptions().setNumberOfShards(0)).hasMessageContaining("numberOfShards");
    assertThatThrownBy(() -> new EntityTypeOptions(new JsonObject().put("askTimeoutMs", -1))).hasMessageContaining("askTimeoutMs");
    assertThatThrownBy(() -> new StickyOptions().setMaxRouteAttempts(0)).hasMessageContaining("maxRouteAttempts");
    assertThatThrownBy(() -> new StickyOptions().setHandOffRatePerSecond(0)).hasMessageContaining("handOffRatePerSecond");
    assertThatThrownBy(() -> new StickyOptions().setHandOffRatePerSecond(Double.NaN)).hasMessageContaining("handOffRatePerSecond");
    assertThatThrownBy(() -> new StickyOptions(new JsonObject().put("rebalanceJoinDelayMs", -1))).hasMessageContaining("rebalanceJoinDelayMs");
  }

  @Test
  void entityTypeNamesAreValidated() {
    assertThatThrownBy(() -> EntityType.of("Bad Name", () -> null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EntityType.of("x", () -> null).newEntity()).isInstanceOf(IllegalStateException.class);
    assertThat(EntityType.of("ok-name_1", () -> null).name()).isEqualTo("ok-name_1");
  }

  @Test
  void entityIdsFollowTheDocumentedAlphabet() {
    assertThat(EntityAddress.isValidId("a")).isTrue();
    assertThat(EntityAddress.isValidId("user@example.com:42_x-1")).isTrue();
    assertThat(EntityAddress.isValidId("x".repeat(256))).isTrue();
    assertThat(EntityAddress.isValidId("x".repeat(257))).isFalse();
    assertThat(EntityAddress.isValidId("")).isFalse();
    assertThat(EntityAddress.isValidId(null)).isFalse();
    assertThat(EntityAddress.isValidId("a b")).isFalse();
    assertThat(EntityAddress.isValidId("a/b")).isFalse();
    assertThat(EntityAddress.isValidId("é")).isFalse();
  }

  @Test
  void theFastIdCheckAgreesWithThePublishedPattern() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(11);
    String alphabet = "aZ09._:@-/ é\n%+";
    for (int n = 0; n < 20_000; n++) {
      StringBuilder id = new StringBuilder();
      int length = random.nextInt(0, 260);
      for (int k = 0; k < length; k++) {
        id.append(random.nextInt(10) < 9 ? alphabet.charAt(random.nextInt(9)) : alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String s = id.toString();
      assertThat(EntityAddress.isValidId(s)).as("'%s'", s).isEqualTo(EntityAddress.ID_PATTERN.matcher(s).matches());
    }
  }
}
