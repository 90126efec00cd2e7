package io.sticky.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One read of a node's {@code GET /metrics} (Prometheus text format 0.0.4), with lookups by name and labels. */
public final class Scrape {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+\\S+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private final String text;
  private final List<Sample> samples = new ArrayList<>();

  public Scrape(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line.trim());
      if (!m.matches()) {
        throw new AssertionError("not a Prometheus sample line: " + line);
      }
      Map<String, String> labels = new HashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      samples.add(new Sample(m.group(1), labels, number(m.group(3))));
    }
  }

  private static double number(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(v);
    };
  }

  /** GET /metrics on a node: 200, Prometheus text. */
  public static Scrape of(int port) {
    Http.Response r = Http.get(port, "/metrics");
    assertThat(r.status()).as("GET /metrics").isEqualTo(200);
    assertThat(r.header("Content-Type")).startsWith("text/plain; version=0.0.4");
    return new Scrape(r.raw().body());
  }

  public String text() {
    return text;
  }

  /** Every sample of the page. */
  public List<Sample> samples() {
    return samples;
  }

  /** Samples of that name carrying at least these labels ({@code "type", "counter", ...}). */
  public List<Sample> samples(String name, String... labels) {
    Map<String, String> wanted = new HashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(wanted.entrySet())).toList();
  }

  /** Sum of the matching samples' values (0 when none: a counter not yet incremented is absent). */
  public double sum(String name, String... labels) {
    return samples(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  /** The value of the one matching sample; fails if there is none or several. */
  public double value(String name, String... labels) {
    List<Sample> found = samples(name, labels);
    assertThat(found).as("samples of %s %s", name, List.of(labels)).hasSize(1);
    return found.get(0).value();
  }

  public boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name().equals(name));
  }
}
