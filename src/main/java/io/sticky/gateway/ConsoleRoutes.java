package io.sticky.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The operator's console: {@code GET /ui} (a page) and {@code GET /ui/{asset}} (its script and style), from
 * the jar, on the management port when there is one. The page needs no credentials; it calls the management
 * API with the bearer token the operator types in, so it shows what that token may see.
 */
final class ConsoleRoutes {
  static final String RESOURCE_DIR = "sticky-ui/";
  /** Only our own files, and no inline script: a value that slipped into the page could not run. */
  static final String CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  private static final Map<String, String> ASSETS = Map.of("console.js", "text/javascript; charset=utf-8",
      "console.css", "text/css; charset=utf-8");

  private final Buffer page;
  private final Map<String, Buffer> assets;

  private ConsoleRoutes(Buffer page, Map<String, Buffer> assets) {
    this.page = page;
    this.assets = assets;
  }

  /** Reads the console's files from the classpath (once, at gateway start). */
  static ConsoleRoutes load() throws IOException {
    Map<String, Buffer> assets = new java.util.HashMap<>();
    for (String name : ASSETS.keySet()) {
      assets.put(name, read(name));
    }
    return new ConsoleRoutes(read("index.html"), Map.copyOf(assets));
  }

  private static Buffer read(String name) throws IOException {
    try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + name)) {
      if (in == null) {
        throw new java.io.FileNotFoundException("resource " + RESOURCE_DIR + name + " is missing from the classpath");
      }
      return Buffer.buffer(in.readAllBytes());
    }
  }

  void install(Router router) {
    router.get("/ui").handler(ctx -> send(ctx, "text/html; charset=utf-8", page));
    router.get("/ui/:asset").handler(ctx -> {
      String asset = ctx.pathParam("asset");
      Buffer body = assets.get(asset);
      if (body == null) {
        Problem.send(ctx.response(), 404, "Not found", "the console has no file " + asset, ctx.request().path());
      } else {
        send(ctx, ASSETS.get(asset), body);
      }
    });
  }

  private static void send(RoutingContext ctx, String contentType, Buffer body) {
    ctx.response().putHeader("Content-Type", contentType).putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .putHeader("X-Content-Type-Options", "nosniff").putHeader("Cache-Control", "no-cache").end(body);
  }
}
