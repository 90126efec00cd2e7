package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link NodeOptionsParser#OPTIONS} is the one catalogue of the launcher's options: {@code --help} prints it, and
 * this test fails when docs/configuration.md's table or conf/sticky.reference.yaml's {@code node} section
 * drift from it (an option missing, one that no longer exists, another environment variable or default).
 */
class OptionsCatalogueTest {
  private static final Pattern FLAG = Pattern.compile("`(--[a-z-]+)`");
  private static final Pattern ENV = Pattern.compile("`(STICKY_[A-Z_]+)`");

  @Test
  void theConfigurationTableHasEveryOptionWithItsEnvironmentVariableAndDefault() throws IOException {
    List<String[]> rows = tableRows();
    Set<String> documented = new LinkedHashSet<>();
    for (String[] row : rows) {
      documented.addAll(all(FLAG, row[0]));
    }
    Set<String> flags = new LinkedHashSet<>();
    for (NodeOptionsParser.Option o : NodeOptionsParser.OPTIONS) {
      flags.add(o.flag());
      String[] row = rows.stream().filter(r -> all(FLAG, r[0]).contains(o.flag())).findFirst().orElse(null);
      assertThat(row).as("a row for %s in docs/configuration.md", o.flag()).isNotNull();
      assertThat(all(ENV, row[1])).as("environment variable of %s", o.flag()).contains(o.env());
      if (literalDefault(o)) {
        assertThat(row[2]).as("default of %s", o.flag()).contains("`" + o.defaultValue() + "`");
      }
    }
    assertThat(documented).as("documented options that do not exist").isSubsetOf(flags);
  }

  @Test
  void theReferenceConfigNamesEveryOptionItsFileAccepts() throws IOException {
    String node = section(Files.readString(Path.of("conf/sticky.reference.yaml")), "node:", "sharding:");
    Set<String> keys = new LinkedHashSet<>();
    Matcher m = Pattern.compile("(?m)^  (?:# ?)?([a-z][a-z-]*):").matcher(node);
    while (m.find()) {
      keys.add(m.group(1));
    }
    Set<String> flags = new LinkedHashSet<>();
    for (NodeOptionsParser.Option o : NodeOptionsParser.OPTIONS) {
      if (!o.flag().equals("--config")) { // the file itself
        flags.add(o.flag().substring(2));
      }
    }
    assertThat(keys).as("keys of the reference's node section").containsExactlyInAnyOrderElementsOf(flags);
  }

  /** A default written as the value itself (not "(none ...)", not a template such as "<host>:<port>"). */
  private static boolean literalDefault(NodeOptionsParser.Option o) {
    return !o.defaultValue().startsWith("(") && !o.defaultValue().contains("<");
  }

  /** The cells (flag, env, default, meaning) of the launcher table's rows. */
  private static List<String[]> tableRows() throws IOException {
    String doc = section(Files.readString(Path.of("docs/configuration.md")), "## Launcher", "\n## ");
    List<String[]> rows = new ArrayList<>();
    for (String line : doc.split("\n")) {
      if (line.startsWith("| `--")) {
        String[] cells = line.substring(1).split(" \\| ", 4);
        rows.add(new String[] {cells[0], cells[1], cells[2]});
      }
    }
    assertThat(rows).as("the launcher table in docs/configuration.md").isNotEmpty();
    return rows;
  }

  private static String section(String text, String start, String end) {
    int from = text.indexOf(start);
    assertThat(from).as("section %s", start).isNotNegative();
    int to = text.indexOf(end, from + start.length());
    return to < 0 ? text.substring(from) : text.substring(from, to);
  }

  private static Set<String> all(Pattern p, String text) {
    Set<String> found = new LinkedHashSet<>();
    Matcher m = p.matcher(text);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }
}
