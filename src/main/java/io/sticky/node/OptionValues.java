package io.sticky.node;

import io.sticky.store.PostgresStoreOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * Parsers of option values, each naming the option's {@code source} (flag, environment variable or config
 * key) in the {@link IllegalArgumentException} it throws for a bad value.
 */
final class OptionValues {
  private OptionValues() {
  }

  static String httpUrl(String source, String value) {
    String url = nonBlank(source, value);
    try {
      java.net.URI uri = new java.net.URI(url);
      if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
          && (uri.getPath() == null || uri.getPath().isEmpty() || uri.getPath().equals("/")) && uri.getQuery() == null) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
      }
    } catch (java.net.URISyntaxException e) {
      // reported below
    }
    throw new IllegalArgumentException(source + " must be an http(s) URL with a host and no path, e.g. http://10.0.0.5:8080; got '"
        + value + "'");
  }

  static int intValue(String source, String value, int min, int max) {
    try {
      int v = Integer.parseInt(value.trim());
      if (v < min || v > max) {
        throw new IllegalArgumentException(source + " must be between " + min + " and " + max + ", got " + value);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(source + " must be a number, got '" + value + "'");
    }
  }

  static double ratio(String source, String value) {
    try {
      double v = Double.parseDouble(nonBlank(source, value));
      if (v >= 0 && v <= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(source + " must be a number from 0 to 1, got '" + value + "'");
  }

  static boolean booleanValue(String source, String value) {
    return switch (nonBlank(source, value).toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(source + " must be true or false, got '" + value + "'");
    };
  }

  static String readableFile(String source, String value) {
    String path = nonBlank(source, value);
    if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(path))) {
      throw new IllegalArgumentException(source + ": cannot read " + path);
    }
    return path;
  }

  static int boundedMs(String source, String value, long min, long max) {
    long ms = durationMs(source, value);
    if (ms < min || ms > max) {
      throw new IllegalArgumentException(source + " must be between " + min + "ms and " + max + "ms, got " + value);
    }
    return (int) ms;
  }

  /** "90s", "2m", "1h", "500ms", a plain number of milliseconds, or "0"/"off". */
  static long durationMs(String source, String value) {
    String v = nonBlank(source, value).toLowerCase(java.util.Locale.ROOT);
    if (v.equals("off") || v.equals("never")) {
      return 0;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,12})(ms|s|m|h)?").matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException(source + " must be a duration such as 500ms, 90s, 2m, 1h, or off; got '" + value + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    return switch (unit) {
      case "h" -> n * 3_600_000L;
      case "m" -> n * 60_000L;
      case "s" -> n * 1_000L;
      default -> n;
    };
  }

  static String oneOf(String source, String value, String... allowed) {
    String v = nonBlank(source, value);
    if (!List.of(allowed).contains(v)) {
      throw new IllegalArgumentException(source + " must be one of " + String.join(", ", allowed) + ", got '" + value + "'");
    }
    return v;
  }

  static PostgresStoreOptions postgresOptions(String source, String value) {
    try {
      return new PostgresStoreOptions().setUri(nonBlank(source, value));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage());
    }
  }

  static String nonBlank(String source, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(source + " must not be empty");
    }
    return value.trim();
  }

  static List<String> typeNames(String source, String value) {
    List<String> names = new ArrayList<>();
    for (String part : value.split(",")) {
      String name = part.trim();
      if (name.isEmpty()) {
        continue;
      }
      if (!io.sticky.api.EntityAddress.TYPE_PATTERN.matcher(name).matches()) {
        throw new IllegalArgumentException(source + ": '" + name + "' is not an entity type name (" + io.sticky.api.EntityAddress.TYPE_PATTERN + ")");
      }
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(source + " must name at least one entity type");
    }
    return List.copyOf(names);
  }

  static List<String> parseMembers(String source, String value) {
    List<String> result = new ArrayList<>();
    for (String part : value.split(",")) {
      String m = part.trim();
      if (m.isEmpty()) {
        continue;
      }
      int colon = m.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(source + ": member '" + m + "' must be host:port");
      }
      intValue(source + " (port of " + m + ")", m.substring(colon + 1), 1, 65535);
      result.add(m);
    }
    if (result.isEmpty()) {
      throw new IllegalArgumentException(source + " must list at least one host:port");
    }
    return List.copyOf(result);
  }
}
