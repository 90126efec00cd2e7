package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.examples.CounterEntity;
import io.sticky.node.FreePorts;
import io.sticky.testkit.Certificates;
import io.sticky.testkit.Certificates.Pem;
import io.sticky.testkit.Scrape;
import io.sticky.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A renewed HTTPS certificate is served without a restart; a broken one is not, and the current one stays. */
class TlsReloadTest {
  @TempDir
  Path dir;
  private TestCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aRenewedCertificateIsServedWithoutARestart() throws Exception {
    int management = FreePorts.onLoopback(1).get(0);
    Path certFile = dir.resolve("live-cert.pem");
    Path keyFile = dir.resolve("live-key.pem");
    Pem first = Certificates.selfSigned(dir, "first");
    Files.copy(first.cert(), certFile);
    Files.copy(first.key(), keyFile);
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setTlsCertPath(certFile.toString()).setTlsKeyPath(keyFile.toString()).setTlsReloadCheckMs(200)
          .setManagementPort(management);
      return o;
    });
    int port = cluster.node(0).httpPort();
    assertThat(handshakes(Certificates.trusting(first), port)).isTrue();

    // A half-written renewal does not load: the old pair stays.
    Pem second = Certificates.selfSigned(dir, "second");
    String secondCert = Files.readString(second.cert());
    Files.writeString(certFile, secondCert.substring(0, secondCert.length() / 2));
    await().atMost(Duration.ofSeconds(10)).until(() -> Scrape.of(management).sum("sticky_tls_reloads_total", "outcome", "failed") == 1);
    assertThat(handshakes(Certificates.trusting(first), port)).as("mismatched pair not loaded").isTrue();

    Files.copy(second.key(), keyFile, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(second.cert(), certFile, StandardCopyOption.REPLACE_EXISTING);
    await().atMost(Duration.ofSeconds(10)).until(() -> handshakes(Certificates.trusting(second), port));
    assertThat(Scrape.of(management).value("sticky_tls_reloads_total", "outcome", "ok")).isEqualTo(1);
    assertThat(handshakes(Certificates.trusting(first), port)).as("the old certificate is no longer served").isFalse();
    assertThat(version(Certificates.trusting(second), port)).as("HTTP/2 through ALPN after the reload").isEqualTo(HttpClient.Version.HTTP_2);
  }

  private static boolean handshakes(SSLContext trust, int port) {
    try {
      version(trust, port);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static HttpClient.Version version(SSLContext trust, int port) throws Exception {
    // A new client per call: a new connection, so a new handshake.
    HttpClient client = HttpClient.newBuilder().sslContext(trust).connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/cluster/routing"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.version();
  }
}
