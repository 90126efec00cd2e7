package io.sticky.node;

import io.sticky.api.EntityType;
import io.sticky.examples.Examples;
import io.sticky.spi.EntityTypeProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * Which entity types a node serves: those given in code, those of every {@link EntityTypeProvider} found on
 * the class path and in the {@code --lib} jars, and the examples when nothing else is found or when
 * {@code --types} names them. {@code --types} then narrows the set. Every failure is an
 * {@link IllegalArgumentException} that names the jar and class at fault.
 */
final class TypeCatalog {
  static final String SERVICE_FILE = "META-INF/services/" + EntityTypeProvider.class.getName();

  private TypeCatalog() {
  }

  /** A class loader over every jar in {@code dir} (sorted by name), child of this class's loader. */
  static ClassLoader libraryLoader(String dir) {
    Path path = Path.of(dir);
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException("--lib " + dir + " is not a directory");
    }
    List<URL> jars = new ArrayList<>();
    try (Stream<Path> files = Files.list(path)) {
      for (Path jar : files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
        jars.add(jar.toUri().toURL());
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("--lib " + dir + ": cannot list it: " + e.getMessage());
    }
    return new URLClassLoader("sticky-lib", jars.toArray(URL[]::new), TypeCatalog.class.getClassLoader());
  }

  /**
   * The node's types, by name.
   *
   * @param inCode types the embedding application passed (first; a provider may not reuse their names)
   * @param loader where providers are looked up
   * @param select {@code --types}: names to keep (null = all); naming an example type turns the examples on
   */
  static List<EntityType> resolve(List<EntityType> inCode, ClassLoader loader, List<String> select) {
    Map<String, EntityType> types = new LinkedHashMap<>();
    Map<String, String> origin = new LinkedHashMap<>();
    for (EntityType t : inCode) {
      add(types, origin, t, "the application");
    }
    for (Map.Entry<String, EntityTypeProvider> p : providers(loader).entrySet()) {
      List<EntityType> contributed;
      try {
        contributed = p.getValue().entityTypes();
      } catch (RuntimeException | LinkageError e) {
        throw new IllegalArgumentException(p.getKey() + ": entityTypes() failed: " + e, e);
      }
      if (contributed == null) {
        throw new IllegalArgumentException(p.getKey() + ": entityTypes() returned null");
      }
      for (EntityType t : contributed) {
        add(types, origin, t, p.getKey());
      }
    }
    boolean examplesAsked = select != null && Examples.types().stream().anyMatch(t -> select.contains(t.name()));
    if (types.isEmpty() || examplesAsked) {
      for (EntityType t : Examples.types()) {
        if (!types.containsKey(t.name())) {
          add(types, origin, t, "the examples");
        }
      }
    }
    if (select == null) {
      return List.copyOf(types.values());
    }
    List<EntityType> chosen = new ArrayList<>();
    for (String name : select) {
      EntityType t = types.get(name);
      if (t == null) {
        throw new IllegalArgumentException("--types names " + name + ", which no provider contributes (found: "
            + String.join(", ", types.keySet()) + ")");
      }
      chosen.add(t);
    }
    return List.copyOf(chosen);
  }

  private static void add(Map<String, EntityType> types, Map<String, String> origin, EntityType t, String from) {
    if (t == null) {
      throw new IllegalArgumentException(from + " contributed a null entity type");
    }
    String before = origin.putIfAbsent(t.name(), from);
    if (before != null) {
      throw new IllegalArgumentException("entity type " + t.name() + " is contributed twice: by " + before + " and by " + from);
    }
    types.put(t.name(), t);
  }

  /**
   * Every provider, keyed by "class X in jar Y". The service files are read here rather than through
   * ServiceLoader's iterator so that a class that fails to load is reported with the jar that named it.
   */
  static Map<String, EntityTypeProvider> providers(ClassLoader loader) {
    Map<String, EntityTypeProvider> found = new LinkedHashMap<>();
    java.util.Set<String> loaded = new java.util.HashSet<>();
    for (URL file : serviceFiles(loader)) {
      String jar = jarOf(file);
      for (String className : classNames(file)) {
        String where = "provider " + className + " in " + jar;
        if (!loaded.add(className)) {
          continue;  // the same jar reached twice (class path and --lib)
        }
        try {
          Class<?> cls = Class.forName(className, true, loader);
          if (!EntityTypeProvider.class.isAssignableFrom(cls)) {
            throw new IllegalArgumentException(where + " does not implement " + EntityTypeProvider.class.getName());
          }
          found.put(where, (EntityTypeProvider) cls.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError | ServiceConfigurationError e) {
          Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : e;
          throw new IllegalArgumentException(where + " could not be loaded: " + cause, cause);
        }
      }
    }
    return found;
  }

  private static List<URL> serviceFiles(ClassLoader loader) {
    try {
      return Collections.list(loader.getResources(SERVICE_FILE));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list " + SERVICE_FILE + ": " + e.getMessage());
    }
  }

  /** The jar (or directory) a service file sits in, for messages. */
  private static String jarOf(URL serviceFile) {
    String s = serviceFile.toString();
    int bang = s.indexOf("!/");
    if (s.startsWith("jar:") && bang > 0) {
      try {
        return Path.of(new URL(s.substring(4, bang)).toURI()).toString();
      } catch (MalformedURLException | java.net.URISyntaxException | IllegalArgumentException e) {
        return s.substring(4, bang);
      }
    }
    return s.substring(0, s.length() - SERVICE_FILE.length());
  }

  /** Class names in a service file: one per line, '#' starts a comment. */
  private static List<String> classNames(URL file) {
    List<String> names = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(file.openStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        int hash = line.indexOf('#');
        String name = (hash >= 0 ? line.substring(0, hash) : line).trim();
        if (!name.isEmpty()) {
          names.add(name);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
    }
    return names;
  }
}
