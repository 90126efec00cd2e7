package io.sticky.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.examples.CounterEntity;
import io.sticky.testkit.TypeJars;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a node finds its entity types: providers in --lib jars, the examples, --types, and options set in code. */
class TypeCatalogTest {
  @TempDir
  Path lib;

  private static List<String> names(List<EntityType> types) {
    return types.stream().map(EntityType::name).toList();
  }

  @Test
  void aProviderInALibJarContributesItsTypesAndTurnsTheExamplesOff() throws Exception {
    TypeJars.gadgetJar(lib, "gadgets.jar", "gadget");
    ClassLoader loader = TypeCatalog.libraryLoader(lib.toString());
    List<EntityType> types = TypeCatalog.resolve(List.of(), loader, null);
    assertThat(names(types)).containsExactly("gadget");
    EntityType gadget = types.get(0);
    assertThat(gadget.numberOfShards()).as("the provider's own options").isEqualTo(16);
    assertThat(gadget.newEntity().getClass().getClassLoader()).as("loaded from the jar, not the class path").isSameAs(loader);
  }

  @Test
  void withNoProviderTheNodeServesTheExamples() {
    assertThat(names(TypeCatalog.resolve(List.of(), getClass().getClassLoader(), null))).containsExactly("counter", "cart");
  }

  @Test
  void typesSelectsAmongTheFoundTypesAndNamingAnExampleTurnsItOn() throws Exception {
    TypeJars.gadgetJar(lib, "gadgets.jar", "gadget");
    ClassLoader loader = TypeCatalog.libraryLoader(lib.toString());
    assertThat(names(TypeCatalog.resolve(List.of(), loader, List.of("gadget")))).containsExactly("gadget");
    assertThat(names(TypeCatalog.resolve(List.of(), loader, List.of("counter", "gadget")))).containsExactly("counter", "gadget");
    assertThatThrownBy(() -> TypeCatalog.resolve(List.of(), loader, List.of("gizmo")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gizmo").hasMessageContaining("found: gadget");
  }

  @Test
  void aProviderClassThatFailsToLoadIsNamedWithItsJar() {
    Path jar = TypeJars.brokenJar(lib, "broken.jar", "com.example.MissingProvider");
    assertThatThrownBy(() -> TypeCatalog.resolve(List.of(), TypeCatalog.libraryLoader(lib.toString()), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("com.example.MissingProvider").hasMessageContaining(jar.toString())
        .hasMessageContaining("ClassNotFoundException");
  }

  @Test
  void twoProvidersOfOneTypeNameAreRefused() throws Exception {
    TypeJars.gadgetJar(lib, "a.jar", "counter");
    assertThatThrownBy(() -> TypeCatalog.resolve(List.of(EntityType.of("counter", CounterEntity::new)),
        TypeCatalog.libraryLoader(lib.toString()), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("entity type counter is contributed twice")
        .hasMessageContaining("the application").hasMessageContaining("a.jar");
  }

  @Test
  void libMustBeADirectory() {
    assertThatThrownBy(() -> TypeCatalog.libraryLoader(lib.resolve("nope").toString()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a directory");
  }

  @Test
  void optionsSetInCodeSurviveTheConfigFileUnlessItsSectionForTheTypeSetsThem() {
    NodeConfig file = NodeConfig.of(new JsonObject().put("entity-types", new JsonObject()
        .put("defaults", new JsonObject().put("numberOfShards", 1000).put("askTimeoutMs", 7000))
        .put("cart", new JsonObject().put("numberOfShards", 50))), "test");
    NodeOptions flags = NodeOptions.parse(new String[] {"--passivate-after", "90s"}, Map.of());
    EntityType counter = EntityType.of("counter", CounterEntity::new, new EntityTypeOptions().setNumberOfShards(100));
    EntityType cart = EntityType.of("cart", CounterEntity::new, new EntityTypeOptions().setNumberOfShards(100));
    List<EntityType> configured = Launcher.withConfiguredOptions(List.of(counter, cart), flags, file);
    EntityTypeOptions counterOptions = configured.get(0).options();
    assertThat(counterOptions.getNumberOfShards()).as("set in code, over the file's defaults").isEqualTo(100);
    assertThat(counterOptions.getAskTimeoutMs()).as("not set in code: the file's default").isEqualTo(7000);
    assertThat(counterOptions.getPassivateAfterMs()).as("not set in code: the flag").isEqualTo(90_000);
    assertThat(configured.get(1).numberOfShards()).as("the file's section for the type wins over the code").isEqualTo(50);
  }
}
