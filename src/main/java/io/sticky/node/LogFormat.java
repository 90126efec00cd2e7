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
 * How a node writes its log: readable lines ({@code logback.xml}, the default) or one JSON object per line
 * ({@code logback-json.xml}, logback's {@code JsonEncoder}) for log shippers.
 */
public enum LogFormat {
  TEXT("logback.xml"),
  JSON("logback-json.xml");

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
   * Switches the running logback to this format. Logback configured itself from {@code logback.xml} when the
   * first logger was created, before the options could be read, so JSON means resetting it and loading
   * {@code logback-json.xml}; text leaves it as it is. Returns false, changing nothing, for JSON when
   * {@code -Dlogback.configurationFile} names the operator's own configuration (theirs wins).
   */
  public boolean apply() {
    if (this == TEXT) {
      return true;
    }
    if (System.getProperty(LOGBACK_CONFIG_PROPERTY) != null) {
      return false;
    }
    apply((LoggerContext) LoggerFactory.getILoggerFactory());
    return true;
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
