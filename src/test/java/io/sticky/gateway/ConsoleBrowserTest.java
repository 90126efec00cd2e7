package io.sticky.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.node.StickyNode;
import io.sticky.testkit.Chromium;
import io.sticky.testkit.Http;
import io.sticky.testkit.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in a real headless Chromium against a 3-node cluster: nodes and shards appear, an entity is
 * found, a drain from the page empties a node and the page shows it. Screenshots go to target/console/.
 */
class ConsoleBrowserTest {
  private static final Path SCREENSHOTS = Path.of("target", "console");
  @TempDir
  Path profile;
  private TestCluster cluster;
  private Chromium browser;

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void theConsoleShowsTheClusterFindsAnEntityAndDrainsANode() throws Exception {
    Assumptions.assumeTrue(Chromium.binary().isPresent(), "chromium is not installed (.ci/run installs it)");
    cluster = TestCluster.start(3, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new,
        new EntityTypeOptions().setNumberOfShards(60))));
    StickyNode first = cluster.node(0);
    for (int i = 0; i < 120; i++) {
      assertThat(Http.increment(cluster.node(i % 3).httpPort(), CounterEntity.TYPE, "ui-" + i).status()).isEqualTo(200);
    }
    browser = Chromium.start(first.vertx(), profile);
    browser.navigate("http://127.0.0.1:" + first.httpPort() + "/ui");

    await().atMost(Duration.ofSeconds(30)).until(() -> number("document.querySelectorAll('#nodes tr[data-node]').length") == 3);
    await().atMost(Duration.ofSeconds(30)).until(() -> number("document.querySelectorAll('.shard[data-node]').length") >= 50);
    // Traffic: a second poll turns the counters into rates.
    for (int i = 0; i < 60; i++) {
      Http.increment(first.httpPort(), CounterEntity.TYPE, "ui-" + i);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> !"–".equals(browser.evaluate(
        "document.querySelector('#types tr[data-type=\"counter\"] td:nth-child(7)').textContent")));
    // The state store's write latency on some node (the default store writes every increment).
    await().atMost(Duration.ofSeconds(30)).until(() -> number("[...document.querySelectorAll('#nodes td[data-store-p99]')]"
        + ".filter(td => td.textContent.endsWith(' ms')).length") > 0);

    String home = Http.get(first.httpPort(), "/cluster/entities/counter/ui-7").json().getString("node");
    browser.evaluate("document.getElementById('lookup-id').value = 'ui-7'; "
        + "document.getElementById('lookup').dispatchEvent(new Event('submit', {cancelable: true})); true");
    await().atMost(Duration.ofSeconds(10)).until(() -> home.equals(browser.evaluate("document.getElementById('lookup-result').dataset.node")));
    assertThat((String) browser.evaluate("document.getElementById('lookup-result').textContent")).contains("\"value\"");
    browser.screenshot(SCREENSHOTS.resolve("console.png"));

    StickyNode drained = cluster.node(2);
    browser.evaluate("document.querySelector('button[data-drain=\"" + drained.nodeId() + "\"]').click(); true");
    await().atMost(Duration.ofSeconds(40)).until(() -> "0".equals(browser.evaluate(
        "document.querySelector('#nodes tr[data-node=\"" + drained.nodeId() + "\"]').dataset.shards")));
    assertThat(number("document.querySelectorAll('.shard[data-node=\"" + drained.nodeId() + "\"]').length")).isZero();
    assertThat((String) browser.evaluate("document.querySelector('#nodes tr[data-node=\"" + drained.nodeId() + "\"]').textContent"))
        .contains("drained").contains("Undrain");
    assertThat((String) browser.evaluate("document.querySelector('#handoffs tbody').textContent")).contains("drain");
    browser.screenshot(SCREENSHOTS.resolve("console-drained.png"));
    assertThat(Http.get(drained.httpPort(), "/health/ready").status()).isEqualTo(503);
  }

  @Test
  void withTokensOnTheConsoleAsksForOneAndShowsWhatItMaySee() throws Exception {
    Assumptions.assumeTrue(Chromium.binary().isPresent(), "chromium is not installed (.ci/run installs it)");
    String admin = "console-admin-token-0123456789";
    Path tokens = java.nio.file.Files.writeString(profile.resolve("tokens"), admin + " admin,read\n");
    int management = io.sticky.node.FreePorts.onLoopback(1).get(0);
    cluster = TestCluster.start(1, List.of(EntityType.of(CounterEntity.TYPE, CounterEntity::new,
        new EntityTypeOptions().setNumberOfShards(10))), o -> {
          o.getGateway().setTokensFile(tokens.toString()).setManagementPort(management);
          return o;
        });
    browser = Chromium.start(cluster.node(0).vertx(), profile.resolve("browser"));
    browser.navigate("http://127.0.0.1:" + management + "/ui");
    await().atMost(Duration.ofSeconds(20)).until(() -> Boolean.FALSE.equals(browser.evaluate("document.getElementById('token-form').hidden")));
    assertThat(number("document.querySelectorAll('#nodes tr[data-node]').length")).as("nothing shown without a token").isZero();
    browser.evaluate("document.getElementById('token').value = 'wrong-token-wrong-token'; "
        + "document.getElementById('token-form').dispatchEvent(new Event('submit', {cancelable: true})); true");
    await().atMost(Duration.ofSeconds(20)).until(() -> Boolean.FALSE.equals(browser.evaluate("document.getElementById('token-form').hidden")));
    assertThat(number("document.querySelectorAll('#nodes tr[data-node]').length")).as("nothing shown with a wrong token").isZero();
    browser.evaluate("document.getElementById('token').value = '" + admin + "'; "
        + "document.getElementById('token-form').dispatchEvent(new Event('submit', {cancelable: true})); true");
    await().atMost(Duration.ofSeconds(20)).until(() -> number("document.querySelectorAll('#nodes tr[data-node]').length") == 1);
    assertThat(Http.get(cluster.node(0).httpPort(), "/ui").status()).as("the console lives on the management port").isEqualTo(404);
  }

  private long number(String expression) throws Exception {
    return ((Number) browser.evaluate(expression)).longValue();
  }
}
