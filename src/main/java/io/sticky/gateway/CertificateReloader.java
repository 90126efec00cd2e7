package io.sticky.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.FileProps;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the HTTPS certificate and key when their files change (a renewal by cert-manager or certbot), without
 * a restart: open connections keep their session, new ones get the new certificate. A pair that does not load
 * (half-written, or a key that does not match) is logged and the current one stays in use.
 */
final class CertificateReloader {
  private static final Logger log = LoggerFactory.getLogger(CertificateReloader.class);

  private final Vertx vertx;
  /** Told of every reload, true if it took (for the sticky_tls_reloads counter). */
  private final Consumer<Boolean> onReload;
  private final HttpServer server;
  private final ServerSSLOptions current;
  private final String certPath;
  private final String keyPath;
  /** Last-modified times of the pair as last loaded (or seen at start); a change triggers a reload. */
  private long loadedStamp = -1;
  private long timer = -1;

  CertificateReloader(Vertx vertx, HttpServer server, ServerSSLOptions current, String certPath, String keyPath,
                      Consumer<Boolean> onReload) {
    this.vertx = vertx;
    this.onReload = onReload;
    this.server = server;
    this.current = current;
    this.certPath = certPath;
    this.keyPath = keyPath;
  }

  void start(long checkEveryMs) {
    stamp().onSuccess(s -> loadedStamp = s);
    timer = vertx.setPeriodic(checkEveryMs, t -> check());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private Future<Long> stamp() {
    return Future.all(vertx.fileSystem().props(certPath), vertx.fileSystem().props(keyPath))
        .map(all -> 31 * ((FileProps) all.resultAt(0)).lastModifiedTime() + ((FileProps) all.resultAt(1)).lastModifiedTime()
            + ((FileProps) all.resultAt(0)).size() + ((FileProps) all.resultAt(1)).size());
  }

  private void check() {
    stamp().onSuccess(s -> {
      if (s == loadedStamp) {
        return;
      }
      ServerSSLOptions next = current.copy().setKeyCertOptions(new PemKeyCertOptions().setCertPath(certPath).setKeyPath(keyPath));
      // force: the options name the same files as before, so without it Vert.x would see nothing new.
      server.updateSSLOptions(next, true).onComplete(ar -> {
        onReload.accept(ar.succeeded());
        if (ar.succeeded()) {
          loadedStamp = s;
          log.info("HTTPS certificate reloaded from {}", certPath);
        } else {
          // Not retried until the files change again: one warning and one count per bad renewal.
          loadedStamp = s;
          log.warn("HTTPS certificate in {} changed but does not load ({}); keeping the current one", certPath, ar.cause().getMessage());
        }
      });
    });
  }
}
