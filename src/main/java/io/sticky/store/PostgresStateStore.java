package io.sticky.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * States in one PostgreSQL table, through the non-blocking {@code vertx-pg-client}: survives a whole-cluster
 * restart. The table is created if missing. A write is one statement whose WHERE clause carries the version
 * check, so two instances racing on one entity cannot both succeed.
 */
public final class PostgresStateStore implements StateStore {
  private static final Logger log = LoggerFactory.getLogger(PostgresStateStore.class);
  /** SQLSTATEs of a concurrent CREATE TABLE IF NOT EXISTS by another node: the table exists, all is well. */
  private static final java.util.Set<String> CREATED_CONCURRENTLY = java.util.Set.of("23505", "42P07");

  private final Pool pool;
  private final String loadSql;
  private final String insertSql;
  private final String updateSql;

  private PostgresStateStore(Pool pool, String table) {
    this.pool = pool;
    this.loadSql = "SELECT version, epoch, schema_version, data FROM " + table + " WHERE entity_type = $1 AND entity_id = $2";
    this.insertSql = "INSERT INTO " + table + " (entity_type, entity_id, version, epoch, schema_version, data)"
        + " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (entity_type, entity_id) DO NOTHING";
    this.updateSql = "UPDATE " + table + " SET version = $3, epoch = $4, schema_version = $5, data = $6, updated_at = now()"
        + " WHERE entity_type = $1 AND entity_id = $2 AND version = $3 - 1";
  }

  /** Connects, creates the table if missing, and completes with the store. */
  public static Future<PostgresStateStore> start(Vertx vertx, PostgresStoreOptions options) {
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(options.getPoolSize()).setMaxWaitQueueSize(options.getMaxWaitQueue()))
        .connectingTo(PgConnectOptions.fromUri(options.getUri()))
        .using(vertx)
        .build();
    String ddl = "CREATE TABLE IF NOT EXISTS " + options.getTable() + " ("
        + " entity_type text NOT NULL,"
        + " entity_id text NOT NULL,"
        + " version bigint NOT NULL,"
        + " epoch bigint NOT NULL,"
        + " schema_version int NOT NULL,"
        + " data text NOT NULL,"
        + " updated_at timestamptz NOT NULL DEFAULT now(),"
        + " PRIMARY KEY (entity_type, entity_id))";
    return pool.query(ddl).execute()
        .<Void>mapEmpty()
        .recover(err -> err instanceof PgException pg && CREATED_CONCURRENTLY.contains(pg.getSqlState())
            ? Future.succeededFuture()
            : Future.failedFuture(err))
        .map(v -> {
          log.info("PostgreSQL store ready: {}", options);
          return new PostgresStateStore(pool, options.getTable());
        })
        .recover(err -> pool.close().transform(ar -> Future.failedFuture(
            new IllegalStateException("PostgreSQL store unavailable (" + options + "): " + err.getMessage(), err))));
  }

  @Override
  public String name() {
    return "postgres";
  }

  @Override
  public Future<StoredState> load(String type, String id) {
    return pool.preparedQuery(loadSql).execute(Tuple.of(type, id)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return new StoredState(row.getLong(0), row.getLong(1), row.getInteger(2), row.getString(3));
    });
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    String sql = next.version() == 1 ? insertSql : updateSql;
    Tuple args = Tuple.of(type, id, next.version(), next.epoch(), next.schemaVersion(), next.data());
    return pool.preparedQuery(sql).execute(args).compose(result -> result.rowCount() == 1
        ? Future.succeededFuture()
        : Future.failedFuture(new StateConflictException(type, id, next.version() - 1)));
  }

  @Override
  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return pool.close();
  }
}
