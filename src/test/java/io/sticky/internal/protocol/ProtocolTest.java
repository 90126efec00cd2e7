package io.sticky.internal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.internal.protocol.Protocol.Allocations;
import io.sticky.internal.protocol.Protocol.GetAllocations;
import io.sticky.internal.protocol.Protocol.GetShardHome;
import io.sticky.internal.protocol.Protocol.Register;
import io.sticky.internal.protocol.Protocol.RegisterAck;
import io.sticky.internal.protocol.Protocol.RegionInfo;
import io.sticky.internal.protocol.Protocol.ShardHome;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProtocolTest {

  @Test
  void everyCatalogueMessageRoundTripsThroughJson() {
    List<Record> messages = List.of(
        new Register("counter", "n1", 100, false),
        new Register("counter", "p1", 100, true),
        new RegisterAck("counter", "n0"),
        new GetShardHome("counter", 42, "n1", 100, false),
        new GetShardHome("counter", 42, "p1", 100, true),
        new ShardHome("counter", 42, "n2", 7),
        new GetAllocations(null),
        new Protocol.HandOff("counter", 3, "n2", 5),
        new Protocol.ShardStopped("counter", 3, 1, 12, 3),
        new Protocol.HostShard("counter", 3, 4, java.util.Map.of("a", "{\"value\":1}")),
        new Protocol.ShardStarted("counter", 3, "n2"),
        new Protocol.GracefulShutdownReq("n1"),
        new Protocol.GracefulShutdownAck("n1", 12),
        new Protocol.Drain("n1", true),
        new Protocol.DrainState("n1", true, 3),
        new Protocol.MoveShard("counter", 3, "n2"),
        new Protocol.MoveStarted("counter", 3, "n1", "n2"),
        new Allocations("n0", List.of(new ShardHome("cart", 1, "n1", 1)), List.of(new RegionInfo("cart", "n1"))));
    for (Record m : messages) {
      JsonObject json = Protocol.encode(m);
      assertThat(json.getString("@kind")).isEqualTo(m.getClass().getSimpleName());
      // through the wire form, as the event bus would carry it
      assertThat(Protocol.decode(new JsonObject(json.encode()))).isEqualTo(m);
    }
  }

  @Test
  void unknownKindsAndWrongTypesAreRejected() {
    assertThatThrownBy(() -> Protocol.decode(new JsonObject().put("@kind", "Nope"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Protocol.decode(new JsonObject())).isInstanceOf(IllegalArgumentException.class);
    JsonObject ack = Protocol.encode(new RegisterAck("t", "n"));
    assertThatThrownBy(() -> Protocol.decode(ack, ShardHome.class)).isInstanceOf(IllegalArgumentException.class);
    // HostShard is read by hand (not through Jackson): a broken one must still be rejected, not half-read
    JsonObject host = Protocol.encode(new Protocol.HostShard("counter", 3, 4, java.util.Map.of("a", "{}")));
    assertThatThrownBy(() -> Protocol.decode(host.copy().put("states", new JsonObject().put("a", 1)))).isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> Protocol.decode(host.copy().putNull("shard"))).isInstanceOf(RuntimeException.class);
    // so are the other messages read by hand: a missing or mistyped field is an error, not a zero or a null
    JsonObject handOff = Protocol.encode(new Protocol.HandOff("counter", 3, "n2", 5));
    assertThatThrownBy(() -> Protocol.decode(handOff.copy().put("epoch", "5"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Protocol.decode(handOff.copy().putNull("to"))).isInstanceOf(IllegalArgumentException.class);
    JsonObject home = Protocol.encode(new ShardHome("counter", 3, "n2", 5));
    assertThatThrownBy(() -> Protocol.decode(home.copy().put("shard", 1L << 40))).isInstanceOf(IllegalArgumentException.class);
  }
}
