package io.sticky.testkit;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A headless Chromium (Debian's package) driven through the DevTools protocol over a WebSocket: navigate,
 * evaluate JavaScript in the page, take screenshots. No WebDriver needed.
 */
public final class Chromium implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
  private static final List<String> BINARIES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");

  private final Process process;
  private final WebSocketClient client;
  private final WebSocket page;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, Promise<JsonObject>> pending = new ConcurrentHashMap<>();

  private Chromium(Process process, WebSocketClient client, WebSocket page) {
    this.process = process;
    this.client = client;
    this.page = page;
    page.textMessageHandler(text -> {
      JsonObject message = new JsonObject(text);
      Integer id = message.getInteger("id");
      Promise<JsonObject> waiting = id == null ? null : pending.remove(id);
      if (waiting != null) {
        waiting.complete(message);
      }
    });
  }

  /** The Chromium binary, if one is installed. */
  public static Optional<String> binary() {
    return BINARIES.stream().filter(b -> Files.isExecutable(Path.of(b))).findFirst();
  }

  /** Starts a headless browser with a fresh profile in {@code profile}, showing about:blank. */
  public static Chromium start(Vertx vertx, Path profile) throws Exception {
    Process process = new ProcessBuilder(binary().orElseThrow(), "--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        "--user-data-dir=" + profile, "--window-size=1400,1100", "about:blank").redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String browserUrl = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    StringBuilder seen = new StringBuilder();
    while (browserUrl == null && System.nanoTime() < deadline) {
      String line = out.readLine();
      if (line == null) {
        throw new IllegalStateException("chromium exited: " + seen);
      }
      seen.append(line).append('\n');
      Matcher m = LISTENING.matcher(line);
      if (m.find()) {
        browserUrl = m.group(1);
      }
    }
    if (browserUrl == null) {
      process.destroyForcibly();
      throw new IllegalStateException("chromium did not open its DevTools port: " + seen);
    }
    Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "chromium-output");
    drain.setDaemon(true);
    drain.start();
    URI browser = URI.create(browserUrl);
    HttpResponse<String> list = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://" + browser.getHost() + ":" + browser.getPort() + "/json/list")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    String pageUrl = new JsonArray(list.body()).stream().map(JsonObject.class::cast).filter(t -> "page".equals(t.getString("type")))
        .findFirst().orElseThrow().getString("webSocketDebuggerUrl");
    URI pageUri = URI.create(pageUrl);
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(64 * 1024 * 1024)
        .setMaxMessageSize(64 * 1024 * 1024));
    WebSocket page = client.connect(new WebSocketConnectOptions().setHost(pageUri.getHost()).setPort(pageUri.getPort())
        .setURI(pageUri.getPath())).await(10, TimeUnit.SECONDS);
    return new Chromium(process, client, page);
  }

  /** Sends one DevTools command and returns its result; fails on a protocol error. */
  public JsonObject send(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    Promise<JsonObject> reply = Promise.promise();
    pending.put(id, reply);
    page.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
    JsonObject message = reply.future().await(30, TimeUnit.SECONDS);
    if (message.containsKey("error")) {
      throw new IllegalStateException(method + ": " + message.getJsonObject("error"));
    }
    return message.getJsonObject("result");
  }

  public void navigate(String url) throws Exception {
    send("Page.navigate", new JsonObject().put("url", url));
  }

  /** Evaluates an expression in the page (awaiting a promise) and returns its value as JSON data. */
  public Object evaluate(String expression) throws Exception {
    JsonObject result = send("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true)
        .put("awaitPromise", true));
    if (result.containsKey("exceptionDetails")) {
      throw new IllegalStateException("page script failed: " + result.getJsonObject("exceptionDetails"));
    }
    return result.getJsonObject("result").getValue("value");
  }

  /** Saves a PNG of the page as it is drawn now. */
  public void screenshot(Path file) throws Exception {
    JsonObject shot = send("Page.captureScreenshot", new JsonObject().put("format", "png").put("captureBeyondViewport", true));
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(shot.getString("data")));
  }

  @Override
  public void close() {
    try {
      page.close();
      client.close();
    } finally {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
