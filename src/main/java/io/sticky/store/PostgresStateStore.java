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
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * States in one PostgreSQL table, through the non-blocking {@code vertx-pg-client}: survives a whole-cluster
 * restart. The table is created if missing. A write is one statement whose WHERE clause carries the version
 * check, so two instances racing on one entity cannot both succeed.
 *
 * <p>Group commit: each commit costs the server a WAL flush (fdatasync, ~0.8 ms on the test machine), which
 * capped single-statement writes at ~850/s. Writes therefore queue here and go out in batches, one
 * transaction per batch, at most one batch per pool connection at a time: an idle store sends a write at
 * once, a busy one sends everything that queued while the previous batches committed. Every statement
 * keeps its own version check and its own outcome. The queue is bounded ({@code maxWaitQueue}); beyond it
 * writes fail at once.
 */
public final class PostgresStateStore implements StateStore {
  private static final Logger log = LoggerFactory.getLogger(PostgresStateStore.class);
  /** SQLSTATEs of a concurrent CREATE TABLE / ADD COLUMN IF NOT EXISTS by another node: it exists, all is well. */
  private static final java.util.Set<String> CREATED_CONCURRENTLY = java.util.Set.of("23505", "42P07", "42701");

  /** Writes in one transaction, at most. */
  static final int MAX_BATCH = 256;

  private final Pool pool;
  private final int maxBatches;
  private final int maxQueued;
  /** Guarded by itself: writes come from many event loops, batch completions from the pool's. */
  private final java.util.ArrayDeque<PendingWrite> queue = new java.util.ArrayDeque<>();
  private int batchesInFlight;
  private final String loadSql;
  private final String countSql;
  private final String insertSql;
  private final String updateSql;

  private record PendingWrite(String type, String id, StoredState next, io.vertx.core.Promise<Void> done) {
  }

  private PostgresStateStore(Pool pool, PostgresStoreOptions options) {
    this.pool = pool;
    this.maxBatches = options.getPoolSize();
    this.maxQueued = options.getMaxWaitQueue();
    String table = options.getTable();
    this.countSql = "SELECT count(*) FROM " + table + " WHERE entity_type = $1";
    this.loadSql = "SELECT version, epoch, schema_version, data, meta FROM " + table + " WHERE entity_type = $1 AND entity_id = $2";
    this.insertSql = "INSERT INTO " + table + " (entity_type, entity_id, version, epoch, schema_version, data, meta)"
        + " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (entity_type, entity_id) DO NOTHING";
    this.updateSql = "UPDATE " + table + " SET version = $3, epoch = $4, schema_version = $5, data = $6, meta = $7, updated_at = now()"
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
        + " meta text,"
        + " updated_at timestamptz NOT NULL DEFAULT now(),"
        + " PRIMARY KEY (entity_type, entity_id))";
    // A table made by an older version has no meta column yet.
    String addMeta = "ALTER TABLE " + options.getTable() + " ADD COLUMN IF NOT EXISTS meta text";
    return ddl(pool, ddl)
        .compose(v -> ddl(pool, addMeta))
        .map(v -> {
          log.info("PostgreSQL store ready: {}", options);
          return new PostgresStateStore(pool, options);
        })
        .recover(err -> pool.close().transform(ar -> Future.failedFuture(
            new IllegalStateException("PostgreSQL store unavailable (" + options + "): " + err.getMessage(), err))));
  }

  private static Future<Void> ddl(Pool pool, String sql) {
    return pool.query(sql).execute()
        .<Void>mapEmpty()
        .recover(err -> err instanceof PgException pg && CREATED_CONCURRENTLY.contains(pg.getSqlState())
            ? Future.succeededFuture()
            : Future.failedFuture(err));
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
      return new StoredState(row.getLong(0), row.getLong(1), row.getInteger(2), row.getString(3), row.getString(4));
    });
  }

  @Override
  public Future<Void> write(String type, String id, StoredState next) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    synchronized (queue) {
      if (queue.size() >= maxQueued) {
        return Future.failedFuture(new IllegalStateException("PostgreSQL store overloaded: " + maxQueued + " writes queued"));
      }
      queue.add(new PendingWrite(type, id, next, done));
    }
    sendBatches();
    return done.future();
  }

  /** Starts a batch per free connection while writes are queued. */
  private void sendBatches() {
    while (true) {
      List<PendingWrite> batch;
      synchronized (queue) {
        if (queue.isEmpty() || batchesInFlight >= maxBatches) {
          return;
        }
        batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
        while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
          batch.add(queue.poll());
        }
        batchesInFlight++;
      }
      commit(batch).onComplete(ar -> {
        if (ar.failed()) {
          batch.forEach(w -> w.done().tryFail(ar.cause()));
        }
        synchronized (queue) {
          batchesInFlight--;
        }
        sendBatches();
      });
    }
  }

  /** One transaction: the first writes (INSERT) then the others (UPDATE), each with its own outcome. */
  private Future<Void> commit(List<PendingWrite> batch) {
    List<PendingWrite> inserts = new ArrayList<>();
    List<PendingWrite> updates = new ArrayList<>();
    for (PendingWrite w : batch) {
      (w.next().version() == 1 ? inserts : updates).add(w);
    }
    return pool.withTransaction(conn -> run(conn, insertSql, inserts).compose(v -> run(conn, updateSql, updates)))
        .onSuccess(v -> batch.forEach(w -> w.done().tryComplete()));
  }

  /** Runs one statement for each write; a write whose row did not change is failed as a conflict at once. */
  private static Future<Void> run(io.vertx.sqlclient.SqlConnection conn, String sql, List<PendingWrite> writes) {
    if (writes.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Tuple> args = new ArrayList<>(writes.size());
    for (PendingWrite w : writes) {
      StoredState n = w.next();
      args.add(Tuple.of(w.type(), w.id(), n.version(), n.epoch(), n.schemaVersion(), n.data(), n.meta()));
    }
    return conn.preparedQuery(sql).executeBatch(args).map(result -> {
      io.vertx.sqlclient.RowSet<Row> rs = result;
      for (PendingWrite w : writes) {
        if (rs == null || rs.rowCount() != 1) {
          w.done().tryFail(new StateConflictException(w.type(), w.id(), w.next().version() - 1));
        }
        rs = rs == null ? null : rs.next();
      }
      return null;
    });
  }

  @Override
  public Future<Long> count(String type) {
    return pool.preparedQuery(countSql).execute(io.vertx.sqlclient.Tuple.of(type)).map(rows -> rows.iterator().next().getLong(0));
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
