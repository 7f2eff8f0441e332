/**
 * Versioned schema migrations, applied in order, each in its own transaction. Applied versions
 * are recorded in `schema_migrations`, so running them again (every start) is a no-op.
 * Never edit a released migration; append a new one.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tokens',
    sql: `
      CREATE TABLE tokens (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        scope        TEXT NOT NULL CHECK (scope IN ('user', 'runner')),
        secret_hash  TEXT NOT NULL UNIQUE,
        prefix       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at   TEXT
      );
    `
  },
  {
    version: 2,
    name: 'projects',
    sql: `
      CREATE TABLE projects (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
    `
  },
  {
    version: 3,
    name: 'runs',
    // Metric points live in blocks (up to 1,024 points per BLOB, in insertion order) rather than
    // one row each: reading a 1M-point series is then ~1,000 rows instead of 1M, which is what
    // keeps history reads inside their budget. metric_summaries doubles as the series table.
    sql: `
      CREATE TABLE runs (
        id                     TEXT PRIMARY KEY,
        project_id             TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        number                 INTEGER NOT NULL,
        name                   TEXT NOT NULL,
        status                 TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
        notebook_path          TEXT,
        source_kind            TEXT NOT NULL,
        source_cell            TEXT,
        started_at             TEXT NOT NULL,
        ended_at               TEXT,
        environment            TEXT,
        error_message          TEXT,
        error_traceback        TEXT,
        frontend_id            TEXT,
        snapshot_commit        TEXT,
        snapshot_notebook_path TEXT,
        snapshot_files         TEXT,
        snapshot_reused        INTEGER,
        UNIQUE (project_id, number)
      );
      CREATE INDEX runs_started ON runs (started_at);
      CREATE INDEX runs_project_started ON runs (project_id, started_at);

      CREATE TABLE run_params (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE run_tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        value  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE run_io (
        id        INTEGER PRIMARY KEY,
        run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
        kind      TEXT NOT NULL,
        name      TEXT NOT NULL,
        digest    TEXT,
        UNIQUE (run_id, direction, kind, name)
      );

      CREATE TABLE metric_summaries (
        id               INTEGER PRIMARY KEY,
        run_id           TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key              TEXT NOT NULL,
        latest           REAL NOT NULL,
        step             INTEGER NOT NULL,
        latest_timestamp INTEGER NOT NULL,
        min              REAL NOT NULL,
        max              REAL NOT NULL,
        count            INTEGER NOT NULL,
        updated_at       TEXT NOT NULL,
        -- 1 while points arrived in (step, timestamp) order, so blocks concatenate sorted.
        in_order         INTEGER NOT NULL DEFAULT 1,
        UNIQUE (run_id, key)
      );
      CREATE INDEX metric_summaries_key_latest ON metric_summaries (key, latest);

      CREATE TABLE metric_blocks (
        series_id INTEGER NOT NULL REFERENCES metric_summaries (id) ON DELETE CASCADE,
        block_no  INTEGER NOT NULL,
        count     INTEGER NOT NULL,
        min_step  INTEGER NOT NULL,
        max_step  INTEGER NOT NULL,
        -- float64 little-endian: count steps, then count values, then count timestamps (ms)
        points    BLOB NOT NULL,
        -- the block's first and last points and each 64-point stretch's min and max, same
        -- layout: what a downsampled view of a long series reads instead of every point
        envelope_count INTEGER NOT NULL,
        envelope       BLOB NOT NULL,
        PRIMARY KEY (series_id, block_no)
      ) WITHOUT ROWID;

      CREATE TABLE run_log_batches (
        run_id          TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idempotency_key TEXT NOT NULL,
        received_at     TEXT NOT NULL,
        PRIMARY KEY (run_id, idempotency_key)
      ) WITHOUT ROWID;

      CREATE TABLE artifacts (
        run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        path       TEXT NOT NULL,
        digest     TEXT NOT NULL,
        size       INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;
      CREATE INDEX artifacts_digest ON artifacts (digest);
    `
  },
  {
    version: 4,
    name: 'pending snapshot modules',
    // The modules a notebook run's kernel imported, held (as JSON) until the notebook snapshot
    // arrives from the browser and both are committed together; cleared then.
    sql: `ALTER TABLE runs ADD COLUMN pending_module_files TEXT;`
  },
  {
    version: 5,
    name: 'idempotent run creation',
    // The client's key for a create request, so a retry after a lost answer finds its run.
    sql: `
      ALTER TABLE runs ADD COLUMN create_key TEXT;
      CREATE UNIQUE INDEX runs_create_key ON runs (create_key) WHERE create_key IS NOT NULL;
    `
  }
];

/** Applies pending migrations; returns the versions applied now (empty when up to date). */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )
  `);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version)
  );
  const newest = Math.max(0, ...migrations.map((migration) => migration.version));
  const unknown = [...applied].filter((version) => version > newest);
  if (unknown.length > 0) {
    throw new Error(
      `The database has schema version ${Math.max(...unknown)}, newer than this Runlab (${newest}); upgrade Runlab`
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const appliedNow: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
    })();
    appliedNow.push(migration.version);
  }
  return appliedNow;
}
