package io.sticky.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package rules each package-info.java states, checked on the source: which of Sticky's packages a package
 * may use (imports and qualified names in code, comments aside), that every package says what it is, and that
 * the public API shows an application nothing of the runtime.
 */
class PackageDependenciesTest {
  private static final Path SOURCES = Path.of("src/main/java");
  private static final Pattern STICKY_NAME = Pattern.compile("\\bio\\.sticky\\.([a-z]+(?:\\.[a-z]+)*)\\.([A-Z]\\w*)");
  private static final Set<String> EVERY = Set.of("api", "spi", "internal", "internal.protocol", "internal.cluster", "internal.coordinator",
      "internal.region", "internal.runtime", "gateway", "node", "client", "store", "store.replicated", "metrics", "tracing", "examples");

  /** Package -> the packages it may use. The one table of the layering; each package-info.java says the same. */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("api", Set.of("spi", "store", "internal", "internal.runtime")),
      Map.entry("spi", Set.of("api")),
      Map.entry("internal.protocol", Set.of("api")),
      Map.entry("internal.cluster", Set.of("internal.protocol", "store")),
      Map.entry("internal.coordinator", Set.of("api", "spi", "internal.protocol", "internal.cluster", "metrics")),
      Map.entry("internal.region", Set.of("api", "internal", "internal.protocol", "internal.cluster", "internal.coordinator", "store", "metrics",
          "tracing")),
      Map.entry("internal", Set.of("api", "internal.protocol", "store")),
      Map.entry("internal.runtime", without(EVERY, "gateway", "node", "examples")),
      Map.entry("gateway", Set.of("api", "internal")),
      Map.entry("node", EVERY),
      Map.entry("client", Set.of("api")),
      Map.entry("store", Set.of("api", "internal.protocol", "internal.cluster", "metrics")),
      Map.entry("store.replicated", Set.of("api", "store", "internal.protocol", "internal.cluster", "metrics")),
      Map.entry("metrics", Set.of("api", "internal.protocol")),
      Map.entry("tracing", Set.of("internal")),
      Map.entry("examples", Set.of("api")));

  /**
   * Edges allowed only for a few named types. The gateway sees the node through one admin interface. The public
   * API reaches inward only where Java has no friend packages: {@code Sticky.create} names the implementation (as
   * {@code Vertx.vertx()} does), and the seams through which a region drives the package-private entity runtime.
   */
  private static final Map<String, Set<String>> ONLY_TYPES = Map.of(
      "gateway -> internal", Set.of("NodeRuntime"),
      "tracing -> internal", Set.of("NodeRuntime"),
      "api -> internal", Set.of("EntityHost", "EntityHosts", "Delivery", "CarriedState"),
      "api -> internal.runtime", Set.of("StickyImpl"));

  @Test
  void everyPackageUsesOnlyThePackagesItMayDependOn() throws IOException {
    Map<String, Set<String>> violations = new TreeMap<>();
    for (Path file : javaFiles()) {
      String pkg = packageOf(file);
      Set<String> allowed = ALLOWED.get(pkg);
      assertThat(allowed).as("a dependency rule for package %s (%s)", pkg, file).isNotNull();
      Matcher m = STICKY_NAME.matcher(withoutComments(Files.readString(file)));
      while (m.find()) {
        String used = m.group(1);
        String edge = pkg + " -> " + used;
        boolean narrowedAway = ONLY_TYPES.containsKey(edge) && !ONLY_TYPES.get(edge).contains(m.group(2));
        if (!used.equals(pkg) && (!allowed.contains(used) || narrowedAway)) {
          violations.computeIfAbsent(edge, k -> new TreeSet<>()).add(SOURCES.relativize(file).toString() + " (" + m.group(2) + ")");
        }
      }
    }
    assertThat(violations).as("uses of packages a package may not depend on").isEmpty();
  }

  @Test
  void everyPackageSaysWhatLivesThereAndWhatItMayDependOn() throws IOException {
    Set<String> packages = new TreeSet<>();
    for (Path file : javaFiles()) {
      packages.add(packageOf(file));
    }
    assertThat(packages).isEqualTo(new TreeSet<>(EVERY));
    for (String pkg : packages) {
      Path info = SOURCES.resolve("io/sticky/" + pkg.replace('.', '/') + "/package-info.java");
      assertThat(info).as("package-info of %s", pkg).exists();
      assertThat(Files.readString(info)).as("package-info of %s", pkg).contains("May depend on");
    }
  }

  /** An application sees api, spi and store types (and Vert.x, Jackson, the JDK) in the API's signatures, nothing else of Sticky. */
  @Test
  void thePublicApiExposesNoRuntimeType() throws IOException, ClassNotFoundException {
    List<String> leaks = new ArrayList<>();
    for (Path file : javaFiles()) {
      if (!packageOf(file).equals("api") || file.getFileName().toString().equals("package-info.java")) {
        continue;
      }
      Class<?> type = Class.forName("io.sticky.api." + file.getFileName().toString().replace(".java", ""));
      if (!Modifier.isPublic(type.getModifiers())) {
        continue;
      }
      for (Class<?> nested : withNested(type)) {
        check(nested.getName() + " extends", nested.getSuperclass(), leaks);
        for (Class<?> i : nested.getInterfaces()) {
          check(nested.getName() + " implements", i, leaks);
        }
        for (Method method : nested.getDeclaredMethods()) {
          if (visible(method.getModifiers()) && !method.isSynthetic()) {
            check(nested.getName() + "." + method.getName(), method.getReturnType(), leaks);
            for (Class<?> p : method.getParameterTypes()) {
              check(nested.getName() + "." + method.getName(), p, leaks);
            }
          }
        }
        for (Constructor<?> c : nested.getDeclaredConstructors()) {
          if (visible(c.getModifiers())) {
            for (Class<?> p : c.getParameterTypes()) {
              check(nested.getName() + ".<init>", p, leaks);
            }
          }
        }
        for (Field f : nested.getDeclaredFields()) {
          if (visible(f.getModifiers())) {
            check(nested.getName() + "." + f.getName(), f.getType(), leaks);
          }
        }
      }
    }
    assertThat(leaks).as("runtime types in the public API's signatures").isEmpty();
  }

  private static List<Class<?>> withNested(Class<?> type) {
    List<Class<?>> all = new ArrayList<>(List.of(type));
    for (Class<?> nested : type.getDeclaredClasses()) {
      if (Modifier.isPublic(nested.getModifiers())) {
        all.addAll(withNested(nested));
      }
    }
    return all;
  }

  private static boolean visible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void check(String where, Class<?> used, List<String> leaks) {
    while (used != null && used.isArray()) {
      used = used.getComponentType();
    }
    if (used == null || !used.getName().startsWith("io.sticky.")) {
      return;
    }
    String pkg = used.getPackageName().substring("io.sticky.".length());
    if (!pkg.equals("api") && !pkg.equals("spi") && !pkg.equals("store")) {
      leaks.add(where + " uses " + used.getName());
    }
  }

  private static List<Path> javaFiles() throws IOException {
    try (Stream<Path> files = Files.walk(SOURCES.resolve("io/sticky"))) {
      return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    }
  }

  private static String packageOf(Path file) {
    return SOURCES.resolve("io/sticky").relativize(file.getParent()).toString().replace('/', '.');
  }

  private static String withoutComments(String source) {
    return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
  }

  private static Set<String> without(Set<String> all, String... excluded) {
    Set<String> rest = new TreeSet<>(all);
    rest.removeAll(Set.of(excluded));
    return Set.copyOf(rest);
  }
}
