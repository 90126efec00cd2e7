package io.sticky.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.sticky.api.EntityAddress;
import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.node.FreePorts;
import io.sticky.node.HazelcastConfigs;
import io.sticky.node.NodeOptions;
import io.sticky.node.StickyNode;
import io.sticky.internal.protocol.Addresses;
import io.sticky.internal.protocol.Headers;
import io.sticky.internal.NodeRuntime.Placement;
import io.sticky.api.ShardId;
import io.sticky.testkit.Certificates;
import io.sticky.testkit.Certificates.Pem;
import io.sticky.testkit.Http;
import io.sticky.testkit.Http.Response;
import io.sticky.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS on the event bus: a Vert.x that joins the Hazelcast cluster (it knows the cluster's name) but
 * holds no certificate signed by the cluster's CA cannot get a message to an entity; one that holds such a
 * certificate can.
 */
class EventBusTlsTest {
  private static final String ID = "bus-tls-1";
  @TempDir
  static Path dir;
  private static Pem clusterCa;
  private static Pem nodeCert;
  private static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    clusterCa = Certificates.selfSigned(dir, "cluster-ca");
    nodeCert = Certificates.signedBy(clusterCa, dir, "node");
    cluster = TestCluster.start(2, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)),
        o -> o.setBusTls(nodeCert.cert().toString(), nodeCert.key().toString(), clusterCa.cert().toString()));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void onlyAHolderOfACertificateSignedByTheClusterCaReachesAnEntity() throws Exception {
    StickyNode node = cluster.node(0);
    Response first = Http.increment(node.httpPort(), CounterEntity.TYPE, ID);
    assertThat(first.status()).as("the nodes talk to each other over TLS: %s", first.raw().body()).isEqualTo(200);
    String home = first.node();
    int shard = ShardId.of(ID, node.sticky().numberOfShards(CounterEntity.TYPE));
    Placement allocation = node.sticky().placements(CounterEntity.TYPE).await(10, TimeUnit.SECONDS).shards().stream()
        .filter(s -> s.shard() == shard).findFirst().orElseThrow();

    // No TLS at all: the node's event-bus server does not speak plaintext.
    assertThat(incrementFrom(new EventBusOptions(), home, allocation).failed()).as("plaintext peer").isTrue();

    // TLS with a certificate from another CA (and trusting the cluster's): the node asks for a client
    // certificate and refuses this one.
    Pem rogueCa = Certificates.selfSigned(dir, "rogue-ca");
    Pem rogue = Certificates.signedBy(rogueCa, dir, "rogue");
    assertThat(incrementFrom(tls(rogue, clusterCa), home, allocation).failed()).as("peer with a foreign certificate").isTrue();

    assertThat(Http.get(node.httpPort(), "/entities/" + CounterEntity.TYPE + "/" + ID).json().getLong("value"))
        .as("nothing was applied by the refused peers").isEqualTo(1);

    Future<Message<JsonObject>> trusted = incrementFrom(tls(nodeCert, clusterCa), home, allocation);
    assertThat(trusted.succeeded()).as("peer with the cluster's certificate: %s", trusted.cause()).isTrue();
    assertThat(trusted.result().body().getLong("value")).isEqualTo(2);
  }

  private static EventBusOptions tls(Pem cert, Pem ca) {
    return new EventBusOptions().setSsl(true).setClientAuth(ClientAuth.REQUIRED)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.cert().toString()).setKeyPath(cert.key().toString()))
        .setTrustOptions(new PemTrustOptions().addCertPath(ca.cert().toString()));
  }

  /**
   * Joins the cluster as a bare clustered Vert.x with these event-bus options, sends one increment straight to
   * the region inbox of the entity's home (as a region would forward it), and leaves. Returns the outcome.
   */
  private static Future<Message<JsonObject>> incrementFrom(EventBusOptions bus, String home, Placement allocation) throws Exception {
    StickyNode node = cluster.node(0);
    NodeOptions options = new NodeOptions().setClusterName(cluster.name()).setHost("127.0.0.1")
        .setClusterPort(FreePorts.onLoopback(1).get(0)).setClusterPortAutoIncrement(false)
        .setMembers(List.of(node.sticky().memberAddress(node.nodeId())));
    HazelcastClusterManager cm = new HazelcastClusterManager(HazelcastConfigs.create(options));
    VertxOptions vertxOptions = new VertxOptions().setEventBusOptions(bus.setHost("127.0.0.1").setPort(0));
    Vertx peer = Vertx.builder().with(vertxOptions).withClusterManager(cm).buildClustered().await(60, TimeUnit.SECONDS);
    try {
      DeliveryOptions headers = new DeliveryOptions().setSendTimeout(3_000)
          .addHeader(EntityAddress.ID_HEADER, ID)
          .addHeader(EntityAddress.KIND_HEADER, EntityAddress.KIND_ASK)
          .addHeader(EntityAddress.TIMEOUT_HEADER, "2500")
          .addHeader(Headers.SHARD, Integer.toString(allocation.shard()))
          .addHeader(Headers.EPOCH, Long.toString(allocation.epoch()));
      Future<Message<JsonObject>> sent = peer.eventBus().request(Addresses.region(CounterEntity.TYPE, home),
          new JsonObject().put("op", "increment"), headers);
      try {
        sent.await(10, TimeUnit.SECONDS);
      } catch (Exception failed) {
        // the outcome is in the future
      }
      return sent;
    } finally {
      peer.close().await(30, TimeUnit.SECONDS);
    }
  }
}
