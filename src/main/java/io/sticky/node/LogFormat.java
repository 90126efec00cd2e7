package io.sticky.node;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.Status;
import java.net.URL;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/**
 * How a node writes its log: readable lines ({@code logback-text.xml}, the default) or one JSON object per
 * line ({@code logback-json.xml}, logback's {@code JsonEncoder}) for log shippers. Both sit in this package,
 * not at the jar's root, so that an application embedding Sticky keeps its own {@code logback.xml}.
 */
public enum LogFormat {
  TEXT("io/sticky/node/logback-text.xml"),
  JSON("io/sticky/node/logback-json.xml");

  /** Set by {@code -Dlogback.configurationFile}: an operator's own configuration wins over both formats. */
  static final String LOGBACK_CONFIG_PROPERTY = "logback.configurationFile";

  private final String resource;

  LogFormat(String resource) {
    this.resource = resource;
  }

  /** The logback configuration on the classpath. */
  String resource() {
    return resource;
  }

  /** As written on the command line: {@code text} or {@code json}. */
  String flagValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  static LogFormat parse(String source, String value) {
    for (LogFormat f : values()) {
      if (f.flagValue().equalsIgnoreCase(value.trim())) {
        return f;
      }
    }
    throw new IllegalArgumentException(source + " must be text or json, got '" + value + "'");
  }

  /**
   * Configures the running logback with this format, unless the application configures logging itself:
   * {@code -Dlogback.configurationFile}, or a {@code logback.xml} / {@code logback-test.xml} on the class path
   * (theirs wins), or SLF4J bound to another backend. Returns whether it applied this format.
   */
  public boolean apply() {
    if (System.getProperty(LOGBACK_CONFIG_PROPERTY) != null || !logbackIsTheBackend()) {
      return false;
    }
    ClassLoader cl = LogFormat.class.getClassLoader();
    if (cl.getResource("logback.xml") != null || cl.getResource("logback-test.xml") != null) {
      return false;
    }
    apply((LoggerContext) LoggerFactory.getILoggerFactory());
    return true;
  }

  /** Logback is optional for applications that embed Sticky: look at the SLF4J backend by name first. */
  private static boolean logbackIsTheBackend() {
    return LoggerFactory.getILoggerFactory().getClass().getName().equals("ch.qos.logback.classic.LoggerContext");
  }

  /** Configures {@code context} from this format's resource; fails if logback reports an error. */
  void apply(LoggerContext context) {
    URL url = LogFormat.class.getClassLoader().getResource(resource);
    if (url == null) {
      throw new IllegalStateException("logging configuration " + resource + " is missing from the classpath");
    }
    context.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(url);
    } catch (JoranException e) {
      throw new IllegalStateException("logging configuration " + resource + " failed: " + e.getMessage(), e);
    }
    String errors = context.getStatusManager().getCopyOfStatusList().stream()
        .filter(s -> s.getLevel() >= Status.ERROR).map(Status::getMessage).collect(Collectors.joining("; "));
    if (!errors.isEmpty()) {
      throw new IllegalStateException("logging configuration " + resource + " failed: " + errors);
    }
  }
}
