package io.sticky.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.sticky.node.FreePorts;
import io.sticky.node.HazelcastConfigs;
import io.sticky.node.NodeOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node's Hazelcast refuses to Java-deserialize classes outside Sticky's, Vert.x's and plain JDK value
 * packages: a {@code java.net.URL} (the first link of the well-known URLDNS gadget chain) written into a map
 * by anyone cannot be read back into an object.
 */
class DeserializationFilterTest {
  private HazelcastInstance hazelcast;

  @AfterEach
  void stop() {
    if (hazelcast != null) {
      hazelcast.getLifecycleService().terminate();
    }
  }

  @Test
  void onlyAllowedClassesAreDeserialized() throws Exception {
    int port = FreePorts.onLoopback(1).get(0);
    NodeOptions options = new NodeOptions().setClusterName("sticky-test-" + UUID.randomUUID()).setHost("127.0.0.1")
        .setClusterPort(port).setClusterPortAutoIncrement(false).setMembers(List.of("127.0.0.1:" + port));
    hazelcast = Hazelcast.newHazelcastInstance(HazelcastConfigs.create(options));
    IMap<String, Object> map = hazelcast.getMap("sticky.test.values");

    map.put("gadget", URI.create("http://attacker.invalid/").toURL());
    assertThatThrownBy(() -> map.get("gadget")).hasStackTraceContaining("java.net.URL");

    ArrayList<String> plain = new ArrayList<>(List.of("a", "b"));
    map.put("plain", plain);
    assertThat(map.get("plain")).isEqualTo(plain);
  }
}
