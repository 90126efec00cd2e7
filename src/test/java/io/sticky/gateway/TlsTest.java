package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.api.EntityType;
import io.sticky.client.StickyClient;
import io.sticky.client.StickyClientOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.TestCluster;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS on the public port with a certificate made here by the JDK's keytool: HTTPS and HTTP/2 work, plain HTTP does not. */
class TlsTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  @TempDir
  static Path dir;
  private static TestCluster cluster;
  private static int port;
  private static Path cert;
  private static SSLContext trusting;

  @BeforeAll
  static void start() throws Exception {
    Path keystore = dir.resolve("node.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=localhost",
        "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12", "-keystore", keystore.toString(),
        "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD)).redirectErrorStream(true).start();
    String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(out).isZero();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(keystore.toFile())) {
      ks.load(in, PASSWORD);
    }
    Key key = ks.getKey("node", PASSWORD);
    Certificate certificate = ks.getCertificate("node");
    cert = Files.writeString(dir.resolve("cert.pem"), pem("CERTIFICATE", certificate.getEncoded()));
    Path keyFile = Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", key.getEncoded()));

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("node", certificate);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    trusting = SSLContext.getInstance("TLS");
    trusting.init(null, tmf.getTrustManagers(), null);

    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new)), o -> {
      o.getGateway().setTlsCertPath(cert.toString()).setTlsKeyPath(keyFile.toString());
      return o;
    });
    port = cluster.node(0).httpPort();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
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
