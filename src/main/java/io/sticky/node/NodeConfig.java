package io.sticky.node;

import io.sticky.api.EntityTypeOptions;
import io.sticky.api.StickyOptions;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A node's configuration file (YAML or JSON, read with vertx-config), laid out like
 * {@code conf/sticky.reference.yaml}: {@code node} (the launcher options, by flag name without dashes),
 * {@code sharding} ({@link StickyOptions}), {@code entity-types} ({@code defaults} and per type name,
 * {@link EntityTypeOptions}) and {@code hazelcast} (documentation only: fixed in code). Precedence:
 * command line > environment ({@code STICKY_*}) > this file > defaults. Every key is checked; an unknown
 * key or a bad value fails with a message naming it.
 */
public final class NodeConfig {
  private static final Set<String> SECTIONS = Set.of("node", "sharding", "entity-types", "hazelcast");

  private final JsonObject node;
  private final StickyOptions sharding;
  private final EntityTypeOptions typeDefaults;
  private final JsonObject perType;

  private NodeConfig(JsonObject node, StickyOptions sharding, EntityTypeOptions typeDefaults, JsonObject perType) {
    this.node = node;
    this.sharding = sharding;
    this.typeDefaults = typeDefaults;
    this.perType = perType;
  }

  /** No file: every setting at its default. */
  public static NodeConfig defaults() {
    return of(new JsonObject(), "(defaults)");
  }

  /** Reads and validates a YAML ({@code .yaml}/{@code .yml}) or JSON file. */
  public static NodeConfig load(String path) {
    File f = new File(path);
    if (!f.isFile()) {
      throw new IllegalArgumentException("config file " + path + " does not exist");
    }
    String format = path.endsWith(".yaml") || path.endsWith(".yml") ? "yaml" : "json";
    Vertx vertx = Vertx.vertx();
    try {
      ConfigStoreOptions store = new ConfigStoreOptions().setType("file").setFormat(format)
          .setConfig(new JsonObject().put("path", f.getAbsolutePath()));
      JsonObject json = ConfigRetriever.create(vertx, new ConfigRetrieverOptions().setIncludeDefaultStores(false).addStore(store))
          .getConfig().await(30, TimeUnit.SECONDS);
      return of(json, path);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("config file " + path + " cannot be read: " + e.getMessage(), e);
    } finally {
      vertx.close();
    }
  }

  static NodeConfig of(JsonObject json, String source) {
    for (String key : json.fieldNames()) {
      if (!SECTIONS.contains(key)) {
        throw new IllegalArgumentException(source + ": unknown section '" + key + "' (expected one of " + SECTIONS + ")");
      }
    }
    JsonObject node = section(json, "node", source);
    for (String key : node.fieldNames()) {
      if (NodeOptionsParser.OPTIONS.stream().noneMatch(o -> o.flag().equals("--" + key))) {
        throw new IllegalArgumentException(source + ": unknown key node." + key);
      }
    }
    JsonObject shardingJson = section(json, "sharding", source);
    if (shardingJson.containsKey("defaultStore")) {
      throw new IllegalArgumentException(source + ": sharding.defaultStore is set by node.store (--store)");
    }
    if (shardingJson.containsKey("proxyOnly")) {
      throw new IllegalArgumentException(source + ": sharding.proxyOnly is set by node.proxy-only (--proxy-only)");
    }
    StickyOptions sharding = checked(source, "sharding", shardingJson, new StickyOptions().toJson().fieldNames(), StickyOptions::new);
    JsonObject types = section(json, "entity-types", source);
    EntityTypeOptions defaults = new EntityTypeOptions();
    JsonObject perType = new JsonObject();
    for (String name : types.fieldNames()) {
      JsonObject t = section(types, name, source + ": entity-types");
      if (name.equals("defaults")) {
        defaults = checked(source, "entity-types.defaults", t, new EntityTypeOptions().toJson().fieldNames(), EntityTypeOptions::new);
      } else {
        checked(source, "entity-types." + name, t, new EntityTypeOptions().toJson().fieldNames(), EntityTypeOptions::new);
        perType.put(name, t);
      }
    }
    return new NodeConfig(node, sharding, defaults, perType);
  }

  private static JsonObject section(JsonObject parent, String key, String source) {
    Object v = parent.getValue(key);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw new IllegalArgumentException(source + ": " + key + " must be a map of settings");
    }
    return o;
  }

  private static <T> T checked(String source, String prefix, JsonObject json, Set<String> known,
                               java.util.function.Function<JsonObject, T> build) {
    for (String key : json.fieldNames()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(source + ": unknown key " + prefix + "." + key + " (known: " + known + ")");
      }
    }
    try {
      return build.apply(json);
    } catch (ClassCastException e) {
      throw new IllegalArgumentException(source + ": a value in " + prefix + " has the wrong type: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + prefix + ": " + e.getMessage());
    }
  }

  /** The {@code node} section as launcher settings: flag (with dashes) -> value text. */
  Map<String, String> nodeSettings() {
    java.util.Map<String, String> result = new java.util.LinkedHashMap<>();
    for (String key : node.fieldNames()) {
      Object v = node.getValue(key);
      result.put("--" + key, v instanceof io.vertx.core.json.JsonArray a ? String.join(",", a.getList().stream().map(String::valueOf).toList())
          : String.valueOf(v));
    }
    return result;
  }

  public StickyOptions sharding() {
    return new StickyOptions(sharding);
  }

  /** The options of a type: its own section over the file's defaults over the built-in defaults. */
  public EntityTypeOptions typeOptions(String typeName) {
    return typeOptions(typeName, new JsonObject());
  }

  /**
   * As {@link #typeOptions(String)}, with settings from flags/environment ({@link NodeOptions#typeDefaults()})
   * replacing the file's {@code entity-types.defaults}; a type's own section still wins, being more specific.
   */
  public EntityTypeOptions typeOptions(String typeName, JsonObject flagDefaults) {
    return typeOptions(typeName, flagDefaults, new EntityTypeOptions());
  }

  /**
   * As {@link #typeOptions(String, JsonObject)}, for a type whose code set some options: each option the code
   * changed from its built-in default wins over the file's and the flags' node-wide defaults (the code knows
   * its type), and the file's section for this type wins over the code (the operator's most specific word).
   */
  public EntityTypeOptions typeOptions(String typeName, JsonObject flagDefaults, EntityTypeOptions inCode) {
    JsonObject merged = typeDefaults.toJson().mergeIn(flagDefaults).mergeIn(changedFromDefaults(inCode));
    JsonObject own = perType.getJsonObject(typeName);
    if (own != null) {
      merged.mergeIn(own);
    }
    return new EntityTypeOptions(merged);
  }

  private static JsonObject changedFromDefaults(EntityTypeOptions options) {
    JsonObject builtIn = new EntityTypeOptions().toJson();
    JsonObject changed = new JsonObject();
    options.toJson().forEach(e -> {
      if (!java.util.Objects.equals(e.getValue(), builtIn.getValue(e.getKey()))) {
        changed.put(e.getKey(), e.getValue());
      }
    });
    return changed;
  }
}
