package io.sticky.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hash that clients compute is a public contract: docs/routing.md's test vectors are what ShardId computes. */
class RoutingVectorsTest {
  private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| (-?\\d+) \\| (\\d+) \\| (\\d+) \\| (\\d+) \\|$");

  @Test
  void theDocumentedVectorsAreWhatNodesCompute() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("docs/routing.md"), StandardCharsets.UTF_8);
    int rows = 0;
    for (String line : lines) {
      Matcher m = ROW.matcher(line);
      if (!m.matches()) {
        continue;
      }
      String id = m.group(1);
      int hash = ShardId.murmur3(id.getBytes(StandardCharsets.UTF_8), 0);
      assertThat(hash).as("signed hash of %s", id).isEqualTo(Integer.parseInt(m.group(2)));
      assertThat(Integer.toUnsignedString(hash)).as("unsigned hash of %s", id).isEqualTo(m.group(3));
      assertThat(ShardId.of(id, 1000)).as("shard of %s among 1000", id).isEqualTo(Integer.parseInt(m.group(4)));
      assertThat(ShardId.of(id, 100)).as("shard of %s among 100", id).isEqualTo(Integer.parseInt(m.group(5)));
      rows++;
    }
    assertThat(rows).as("vectors found in docs/routing.md").isGreaterThanOrEqualTo(7);
  }
}
