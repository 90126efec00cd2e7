package io.sticky.store;

import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

/** Settings of the PostgreSQL store. Every field has a documented default; JSON round-trips. */
public class PostgresStoreOptions {
  /** Connection URI (user, password, host, port, database): {@code postgresql://user:secret@host:5432/db}. */
  public static final String DEFAULT_URI = "postgresql://postgres@127.0.0.1:5432/postgres";
  /** Connections per node. Each entity write holds one for one statement. */
  public static final int DEFAULT_POOL_SIZE = 8;
  /** Requests waiting for a connection, per node, before new ones fail at once (bounded). */
  public static final int DEFAULT_MAX_WAIT_QUEUE = 1_000;
  /** Table name; created if missing (one table for every entity type). */
  public static final String DEFAULT_TABLE = "sticky_state";

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private String uri = DEFAULT_URI;
  private int poolSize = DEFAULT_POOL_SIZE;
  private int maxWaitQueue = DEFAULT_MAX_WAIT_QUEUE;
  private String table = DEFAULT_TABLE;

  public PostgresStoreOptions() {
  }

  public PostgresStoreOptions(JsonObject json) {
    setUri(json.getString("uri", DEFAULT_URI));
    setPoolSize(json.getInteger("poolSize", DEFAULT_POOL_SIZE));
    setMaxWaitQueue(json.getInteger("maxWaitQueue", DEFAULT_MAX_WAIT_QUEUE));
    setTable(json.getString("table", DEFAULT_TABLE));
  }

  public JsonObject toJson() {
    return new JsonObject().put("uri", uri).put("poolSize", poolSize).put("maxWaitQueue", maxWaitQueue).put("table", table);
  }

  public String getUri() {
    return uri;
  }

  public PostgresStoreOptions setUri(String uri) {
    if (uri == null || !(uri.startsWith("postgresql://") || uri.startsWith("postgres://"))) {
      throw new IllegalArgumentException("postgres uri must start with postgresql://, got " + uri);
    }
    this.uri = uri;
    return this;
  }

  public int getPoolSize() {
    return poolSize;
  }

  public PostgresStoreOptions setPoolSize(int poolSize) {
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be >= 1, got " + poolSize);
    }
    this.poolSize = poolSize;
    return this;
  }

  public int getMaxWaitQueue() {
    return maxWaitQueue;
  }

  public PostgresStoreOptions setMaxWaitQueue(int maxWaitQueue) {
    if (maxWaitQueue < 1) {
      throw new IllegalArgumentException("maxWaitQueue must be >= 1, got " + maxWaitQueue);
    }
    this.maxWaitQueue = maxWaitQueue;
    return this;
  }

  public String getTable() {
    return table;
  }

  /** Lower-case SQL identifier only: the name goes into statements, so nothing else is accepted. */
  public PostgresStoreOptions setTable(String table) {
    if (table == null || !IDENTIFIER.matcher(table).matches()) {
      throw new IllegalArgumentException("table must match " + IDENTIFIER + ", got " + table);
    }
    this.table = table;
    return this;
  }

  @Override
  public String toString() {
    // never the password
    return toJson().put("uri", uri.replaceAll("//([^:@/]+):[^@/]*@", "//$1:***@")).encode();
  }
}
