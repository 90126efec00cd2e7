package io.sticky.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real certificates for TLS tests, made by the JDK's keytool: self-signed ones, and CAs that sign others. */
public final class Certificates {
  private static final String PASSWORD = "changeit";

  /** PEM files of a certificate and its private key, and the certificate itself. */
  public record Pem(Path cert, Path key, Certificate certificate) {
  }

  private Certificates() {
  }

  /** A self-signed certificate for 127.0.0.1 and localhost (also usable as a CA: it trusts itself). */
  public static Pem selfSigned(Path dir, String name) throws Exception {
    Path store = dir.resolve(name + ".p12");
    keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=" + name,
        "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "bc:c", "-storetype", "PKCS12", "-keystore", store.toString(),
        "-storepass", PASSWORD, "-keypass", PASSWORD);
    return export(dir, name, store, null);
  }

  /** A certificate for 127.0.0.1 and localhost signed by {@code ca} (made by {@link #selfSigned}). */
  public static Pem signedBy(Pem ca, Path dir, String name) throws Exception {
    Path store = dir.resolve(name + ".p12");
    Path caStore = ca.cert().resolveSibling(stripPem(ca.cert()) + ".p12");
    String caAlias = stripPem(ca.cert());
    keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=" + name,
        "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
    Path csr = dir.resolve(name + ".csr");
    keytool("-certreq", "-alias", name, "-keystore", store.toString(), "-storepass", PASSWORD, "-file", csr.toString());
    Path signed = dir.resolve(name + "-signed.pem");
    keytool("-gencert", "-alias", caAlias, "-keystore", caStore.toString(), "-storepass", PASSWORD, "-infile", csr.toString(),
        "-outfile", signed.toString(), "-rfc", "-validity", "2", "-ext", "SAN=ip:127.0.0.1,dns:localhost");
    return export(dir, name, store, signed);
  }

  /** A client SSL context that trusts only {@code cert}. */
  public static javax.net.ssl.SSLContext trusting(Pem cert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("trusted", cert.certificate());
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  private static String stripPem(Path cert) {
    String file = cert.getFileName().toString();
    return file.substring(0, file.length() - ".pem".length());
  }

  private static Pem export(Path dir, String name, Path store, Path signedCert) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(store.toFile())) {
      ks.load(in, PASSWORD.toCharArray());
    }
    Path key = Files.writeString(dir.resolve(name + "-key.pem"), pem("PRIVATE KEY", ks.getKey(name, PASSWORD.toCharArray()).getEncoded()));
    if (signedCert == null) {
      Certificate certificate = ks.getCertificate(name);
      return new Pem(Files.writeString(dir.resolve(name + ".pem"), pem("CERTIFICATE", certificate.getEncoded())), key, certificate);
    }
    Path cert = Files.move(signedCert, dir.resolve(name + ".pem"));
    Certificate certificate;
    try (InputStream in = Files.newInputStream(cert)) {
      certificate = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    return new Pem(cert, key, certificate);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(String.join(" ", args) + ": " + out).isZero();
  }
}
