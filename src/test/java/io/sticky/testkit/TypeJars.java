package io.sticky.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Jars of entity types as a team would ship them: compiled here from source against Sticky's classes, with a
 * {@code META-INF/services/io.sticky.spi.EntityTypeProvider} file. Nothing of them is on the test class path.
 */
public final class TypeJars {
  public static final String SERVICE_FILE = "META-INF/services/io.sticky.spi.EntityTypeProvider";

  private TypeJars() {
  }

  /**
   * A provider {@code demo.GadgetProvider} of the type {@code typeName} (16 shards): {@code {"op":"add","n":k}}
   * adds k (an integer, else 400) to a total, and any message answers {@code {"id":..,"total":..}}.
   */
  public static Path gadgetJar(Path dir, String jarName, String typeName) {
    String source = """
        package demo;

        import io.sticky.api.Entity;
        import io.sticky.api.EntityException;
        import io.sticky.api.EntityType;
        import io.sticky.api.EntityTypeOptions;
        import io.sticky.spi.EntityTypeProvider;
        import io.vertx.core.Future;
        import io.vertx.core.json.JsonObject;
        import java.util.List;

        public class GadgetProvider implements EntityTypeProvider {
          @Override
          public List<EntityType> entityTypes() {
            return List.of(EntityType.of("%s", Gadget::new, new EntityTypeOptions().setNumberOfShards(16)));
          }

          public static class Gadget extends Entity<Long> {
            @Override
            protected Long initialState() {
              return 0L;
            }

            @Override
            protected Future<JsonObject> handle(JsonObject message) {
              if ("add".equals(message.getString("op"))) {
                if (!(message.getValue("n") instanceof Integer n)) {
                  throw EntityException.badRequest("n must be an integer");
                }
                state = state + n;
              }
              return Future.succeededFuture(view());
            }

            @Override
            protected JsonObject view() {
              return new JsonObject().put("id", id()).put("total", state);
            }
          }
        }
        """.formatted(typeName);
    return jar(dir, jarName, "demo.GadgetProvider", source);
  }

  /** A jar whose service file names {@code providerClass}, which the jar does not contain. */
  public static Path brokenJar(Path dir, String jarName, String providerClass) {
    Path jar = dir.resolve(jarName);
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      put(out, SERVICE_FILE, (providerClass + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return jar;
  }

  /** Compiles {@code source} (class {@code className}) against this JVM's class path into {@code dir/jarName}. */
  static Path jar(Path dir, String jarName, String className, String source) {
    try {
      Path src = Files.createTempDirectory("type-src");
      Path classes = Files.createTempDirectory("type-classes");
      Path file = src.resolve(className.replace('.', '/') + ".java");
      Files.createDirectories(file.getParent());
      Files.writeString(file, source);
      JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
      int rc = javac.run(null, null, System.err, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
          "--release", "17", file.toString());
      if (rc != 0) {
        throw new IllegalStateException("javac failed on " + className + " (output above)");
      }
      Path jar = dir.resolve(jarName);
      try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
        for (Path c : files.filter(Files::isRegularFile).sorted().toList()) {
          put(out, classes.relativize(c).toString().replace('\\', '/'), Files.readAllBytes(c));
        }
        put(out, SERVICE_FILE, (className + "\n").getBytes(StandardCharsets.UTF_8));
      }
      return jar;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void put(JarOutputStream out, String name, byte[] bytes) throws IOException {
    out.putNextEntry(new JarEntry(name));
    out.write(bytes);
    out.closeEntry();
  }
}
