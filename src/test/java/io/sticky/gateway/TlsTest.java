package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.api.EntityType;
import io.sticky.client.StickyClient;
import io.sticky.client.StickyClientOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.Certificates;
import io.sticky.testkit.Certificates.Pem;
import io.sticky.testkit.TestCluster;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS on the public port with a certificate made here by the JDK's keytool: HTTPS and HTTP/2 work, plain HTTP does not. */
class TlsTest {
  @TempDir
  static Path dir;
  private static TestCluster cluster;
  private static int port;
  private static Path cert;
  private static SSLContext trusting;

  @BeforeAll
  static void start() throws Exception {
    Pem pem = Certificates.selfSigned(dir, "node");
    cert = pem.cert();
    trusting = Certificates.trusting(pem);
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setTlsCertPath(cert.toString()).setTlsKeyPath(pem.key().toString());
      return o;
    });
    port = cluster.node(0).httpPort();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void httpsAndHttp2ServeAndPlainHttpIsRefused() throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(trusting).connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/entities/counter/tls-1"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"op\":\"increment\"}"))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(new JsonObject(r.body()).getLong("value")).isEqualTo(1);
    assertThat(r.version()).as("HTTP/2 through ALPN").isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(r.headers().firstValue(RestGateway.OWNER_HEADER)).hasValue("https://127.0.0.1:" + port);

    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/entities/counter/tls-1"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"op\":\"increment\"}"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
        .as("plain HTTP on the TLS port").isInstanceOf(IOException.class);
    HttpResponse<String> after = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/entities/counter/tls-1"))
        .GET().timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(new JsonObject(after.body()).getLong("value")).as("the plain request applied nothing").isEqualTo(1);
  }

  @Test
  void stickyClientCallsOverTls() throws Exception {
    StickyClient client = StickyClient.connect(cluster.node(0).vertx(), new StickyClientOptions()
        .setSeeds(List.of("https://127.0.0.1:" + port))
        .setHttpClientOptions(new HttpClientOptions().setSsl(true).setTrustOptions(new PemTrustOptions().addCertPath(cert.toString()))))
        .await(20, TimeUnit.SECONDS);
    try {
      JsonObject reply = client.ask("counter", "tls-client", new JsonObject().put("op", "increment")).await(20, TimeUnit.SECONDS);
      assertThat(reply.getLong("value")).isEqualTo(1);
    } finally {
      client.close();
    }
  }
}
