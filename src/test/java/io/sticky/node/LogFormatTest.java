package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The two logging configurations shipped in the jar, loaded in-process into their own logback context (the
 * test JVM's logging is left alone), with the console captured.
 */
class LogFormatTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void jsonFormatWritesOneParseableObjectPerLine() throws Exception {
    String out = capture(LogFormat.JSON, ctx -> {
      ctx.getLogger("io.sticky.node.StickyNode").info("node {} ready: HTTP on port {}", "n-1", 8080);
      ctx.getLogger("io.sticky.gateway.RestGateway").warn("a \"quoted\"\nmulti-line message\twith a tab");
      ctx.getLogger("io.sticky.gateway.RestGateway").error("unexpected failure", new IllegalStateException("boom"));
      ctx.getLogger("com.hazelcast.internal.cluster").info("filtered: Hazelcast logs at WARN");
    });
    String[] lines = out.split("\n");
    assertThat(lines).as(out).hasSize(3);
    List<JsonNode> events = new ArrayList<>();
    for (String line : lines) {
      JsonNode node = JSON.readTree(line);
      assertThat(node.isObject()).as(line).isTrue();
      events.add(node);
    }
    JsonNode ready = events.get(0);
    assertThat(ready.get("level").asText()).isEqualTo("INFO");
    assertThat(ready.get("loggerName").asText()).isEqualTo("io.sticky.node.StickyNode");
    assertThat(ready.get("formattedMessage").asText()).as("arguments filled in").isEqualTo("node n-1 ready: HTTP on port 8080");
    assertThat(ready.get("timestamp").asLong()).isPositive();
    assertThat(ready.has("threadName")).isTrue();
    assertThat(events.get(1).get("formattedMessage").asText()).isEqualTo("a \"quoted\"\nmulti-line message\twith a tab");
    JsonNode error = events.get(2);
    assertThat(error.get("level").asText()).isEqualTo("ERROR");
    assertThat(error.get("throwable").get("className").asText()).isEqualTo(IllegalStateException.class.getName());
    assertThat(error.get("throwable").get("message").asText()).isEqualTo("boom");
  }

  @Test
  void textFormatStaysReadable() {
    String out = capture(LogFormat.TEXT, ctx -> ctx.getLogger("io.sticky.node.StickyNode").info("node {} ready", "n-1"));
    assertThat(out.trim()).doesNotStartWith("{").matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO .* - node n-1 ready");
  }

  @Test
  void bothFormatsSetTheSameLevels() {
    assertThat(levels(LogFormat.JSON)).isEqualTo(levels(LogFormat.TEXT)).containsEntry("io.sticky", Level.INFO)
        .containsEntry("com.hazelcast", Level.WARN).containsEntry(Logger.ROOT_LOGGER_NAME, Level.WARN);
  }

  @Test
  void formatNamesParseCaseInsensitively() {
    assertThat(LogFormat.parse("x", "JSON")).isEqualTo(LogFormat.JSON);
    assertThat(LogFormat.parse("x", " text ")).isEqualTo(LogFormat.TEXT);
  }

  /** A context like the one logback's SLF4J provider makes (which also gives it its MDC adapter). */
  private static LoggerContext newContext() {
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new LogbackMDCAdapter());
    return ctx;
  }

  /** Explicitly configured levels by logger name. */
  private static Map<String, Level> levels(LogFormat format) {
    LoggerContext ctx = newContext();
    try {
      format.apply(ctx);
      Map<String, Level> result = new TreeMap<>();
      ctx.getLoggerList().stream().filter(l -> l.getLevel() != null).forEach(l -> result.put(l.getName(), l.getLevel()));
      return result;
    } finally {
      ctx.stop();
    }
  }

  /** What the configuration's console appender writes while {@code logging} runs. */
  private static synchronized String capture(LogFormat format, Consumer<LoggerContext> logging) {
    LoggerContext ctx = newContext();
    PrintStream original = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      format.apply(ctx);
      // logback's console target looks System.out up on every write.
      System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      logging.accept(ctx);
      // An appender that fails (e.g. the encoder throws) only says so in logback's status list.
      assertThat(ctx.getStatusManager().getCopyOfStatusList()).noneMatch(st -> st.getLevel() >= Status.ERROR);
    } finally {
      System.setOut(original);
      ctx.stop();
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
