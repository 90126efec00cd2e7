package io.sticky.testkit;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A blocking HTTP client for tests: real requests over loopback. */
public final class Http {
  // HTTP/1.1: the JDK client upgrades to h2c on its first request, and against Vert.x that sometimes never
  // finishes reading a larger body (seen with /openapi.json); the request timeout does not cover the body.
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  /** One response: status, a header lookup, and the body (parsed if it is a JSON object). */
  public record Response(int status, HttpResponse<String> raw) {
    public String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    public JsonObject json() {
      return new JsonObject(raw.body());
    }

    public String node() {
      return header("X-Sticky-Node");
    }

    @Override
    public String toString() {
      return status + " " + raw.body();
    }
  }

  private Http() {
  }

  public static Response post(int port, String path, String body) {
    return post(port, path, body, "application/json");
  }

  public static Response post(int port, String path, String body, String contentType) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b.build());
  }

  /** A POST with extra request headers, to any URL (e.g. a redirect's Location). */
  public static Response post(String url, String body, java.util.Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    headers.forEach(b::header);
    return send(b.build());
  }

  public static Response get(int port, String path) {
    return send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(20)).GET().build());
  }

  /** A GET with extra request headers (e.g. Authorization). */
  public static Response get(int port, String path, java.util.Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(20)).GET();
    headers.forEach(b::header);
    return send(b.build());
  }

  public static Response method(int port, String method, String path) {
    return send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(20))
        .method(method, HttpRequest.BodyPublishers.noBody()).build());
  }

  public static Response increment(int port, String type, String id) {
    return post(port, "/entities/" + type + "/" + id, "{\"op\":\"increment\"}");
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static Response send(HttpRequest request) {
    try {
      HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
