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
  },
  {
    version: 6,
    name: 'datasets and provenance',
    // Chunks: an index row per chunk, pointing into an immutable pack file; only the row makes a
    // chunk present, so bytes written by an interrupted upload stay invisible. Hashes are 32-byte
    // BLOBs. A file's content (its chunk list) is stored once per content hash, whatever the
    // number of versions and paths sharing it; a version lists (path, mode, content hash).
    // Provenance edges are `kind:id` refs, so later node kinds need no schema change; triggers
    // record run → artifact edges as artifacts are stored and drop a run's edges with the run.
    sql: `
      CREATE TABLE chunks (
        hash        BLOB PRIMARY KEY,
        pack        TEXT NOT NULL,
        offset      INTEGER NOT NULL,
        stored_size INTEGER NOT NULL,
        raw_size    INTEGER NOT NULL,
        codec       INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX chunks_pack ON chunks (pack, offset);

      CREATE TABLE datasets (
        id         TEXT PRIMARY KEY,
        project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        name       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (project_id, name)
      );

      CREATE TABLE dataset_versions (
        id                 TEXT PRIMARY KEY,
        dataset_id         TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        number             INTEGER NOT NULL,
        hash               TEXT NOT NULL,
        size               INTEGER NOT NULL,
        file_count         INTEGER NOT NULL,
        message            TEXT NOT NULL,
        author             TEXT NOT NULL,
        created_at         TEXT NOT NULL,
        produced_by_run_id TEXT REFERENCES runs (id) ON DELETE SET NULL,
        summary            TEXT,
        create_key         TEXT,
        UNIQUE (dataset_id, number)
      );
      CREATE UNIQUE INDEX dataset_versions_create_key ON dataset_versions (create_key) WHERE create_key IS NOT NULL;
      CREATE INDEX dataset_versions_run ON dataset_versions (produced_by_run_id) WHERE produced_by_run_id IS NOT NULL;

      -- chunks: per chunk, its 32-byte sha256 then its uncompressed size (uint32 big-endian)
      CREATE TABLE dataset_file_contents (
        hash   BLOB PRIMARY KEY,
        size   INTEGER NOT NULL,
        chunks BLOB NOT NULL
      );

      CREATE TABLE dataset_files (
        version_id   TEXT NOT NULL REFERENCES dataset_versions (id) ON DELETE CASCADE,
        path         TEXT NOT NULL,
        mode         INTEGER NOT NULL,
        content_hash BLOB NOT NULL,
        PRIMARY KEY (version_id, path)
      ) WITHOUT ROWID;
      CREATE INDEX dataset_files_content ON dataset_files (content_hash);

      CREATE TABLE provenance_edges (
        from_ref   TEXT NOT NULL,
        to_ref     TEXT NOT NULL,
        project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (from_ref, to_ref)
      ) WITHOUT ROWID;
      CREATE INDEX provenance_edges_to ON provenance_edges (to_ref);
      CREATE INDEX provenance_edges_project ON provenance_edges (project_id);

      -- 'artifact:<run>/' up to (not including) 'artifact:<run>0' is every artifact of the run ('0' follows '/').
      CREATE TRIGGER provenance_run_deleted AFTER DELETE ON runs BEGIN
        DELETE FROM provenance_edges WHERE from_ref = 'run:' || OLD.id OR to_ref = 'run:' || OLD.id;
        DELETE FROM provenance_edges
          WHERE from_ref >= 'artifact:' || OLD.id || '/' AND from_ref < 'artifact:' || OLD.id || '0';
        DELETE FROM provenance_edges
          WHERE to_ref >= 'artifact:' || OLD.id || '/' AND to_ref < 'artifact:' || OLD.id || '0';
      END;

      CREATE TRIGGER provenance_artifact_stored AFTER INSERT ON artifacts BEGIN
        INSERT OR IGNORE INTO provenance_edges (from_ref, to_ref, project_id, created_at)
          SELECT 'run:' || NEW.run_id, 'artifact:' || NEW.run_id || '/' || NEW.path, project_id, NEW.created_at
          FROM runs WHERE id = NEW.run_id;
      END;

      INSERT OR IGNORE INTO provenance_edges (from_ref, to_ref, project_id, created_at)
        SELECT 'run:' || a.run_id, 'artifact:' || a.run_id || '/' || a.path, r.project_id, a.created_at
        FROM artifacts a JOIN runs r ON r.id = a.run_id;
    `
  },
  {
    version: 7,
    name: 'damaged and deleted dataset versions',
    // Versions that lost chunks: `runlab-server fsck --repair` drops corrupt chunks from the index and
    // lists the versions that used them here; committing the same content again heals one.
    // Versions can be deleted: a dataset keeps counting (a number never names two contents), and
    // a deleted version leaves the provenance graph with it. `runlab-server gc` reclaims its chunks.
    sql: `
      CREATE TABLE dataset_damaged_versions (
        version_id TEXT PRIMARY KEY REFERENCES dataset_versions (id) ON DELETE CASCADE,
        marked_at  TEXT NOT NULL
      ) WITHOUT ROWID;

      ALTER TABLE datasets ADD COLUMN last_number INTEGER NOT NULL DEFAULT 0;
      UPDATE datasets SET last_number = COALESCE((SELECT MAX(number) FROM dataset_versions v WHERE v.dataset_id = datasets.id), 0);

      CREATE TRIGGER provenance_dataset_version_deleted AFTER DELETE ON dataset_versions BEGIN
        DELETE FROM provenance_edges
          WHERE from_ref = 'dataset_version:' || OLD.id OR to_ref = 'dataset_version:' || OLD.id;
      END;
    `
  },
  {
    version: 8,
    name: 'NaN latest metric values',
    // SQLite turns a NaN REAL into NULL, which latest (NOT NULL) refuses: a series whose latest
    // value is NaN keeps latest = 0 and this flag (as MLflow's is_nan). ±Infinity store as REALs.
    sql: `
      ALTER TABLE metric_summaries ADD COLUMN latest_is_nan INTEGER NOT NULL DEFAULT 0;
    `
  },
  {
    version: 9,
    name: 'admin token scope and token owners',
    // SQLite cannot change a CHECK constraint in place, so the table is rebuilt (nothing
    // references it). created_by is the token that created a row through the API: a user token
    // manages itself and the tokens it created. Rows from before have no known creator, so only
    // admins manage them. The local admin token becomes `admin` when the server starts
    // (AuthService.ensureLocalAdminToken), which knows it by the secret in <data dir>/admin-token:
    // a name alone proves nothing, since any token could create one called local-admin before.
    sql: `
      CREATE TABLE tokens_v9 (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        scope        TEXT NOT NULL CHECK (scope IN ('admin', 'user', 'runner')),
        secret_hash  TEXT NOT NULL UNIQUE,
        prefix       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at   TEXT,
        created_by   TEXT
      );
      INSERT INTO tokens_v9 (id, name, scope, secret_hash, prefix, created_at, last_used_at, revoked_at)
        SELECT id, name, scope, secret_hash, prefix, created_at, last_used_at, revoked_at FROM tokens;
      DROP TABLE tokens;
      ALTER TABLE tokens_v9 RENAME TO tokens;
      CREATE INDEX tokens_created_by ON tokens (created_by);
    `
  },
  {
    version: 10,
    name: 'run to artifact edges recorded by the runs feature',
    // Every provenance edge now comes from ProvenanceService.link: the runs feature links a run
    // to each artifact it stores, in the artifact row's transaction. Migration 6's insert trigger
    // was a second source of edges, so it goes; the edges it recorded stay, and so do the
    // triggers that drop a deleted run's (and dataset version's) edges.
    sql: `
      DROP TRIGGER IF EXISTS provenance_artifact_stored;
    `
  },
  {
    version: 11,
    name: 'server identity',
    // Who this server is, whatever address it answers on: clients key what they cache about it
    // (known chunks, materialized versions) by this id, so a new port does not empty their cache,
    // and two servers on one address over time are never confused. It lives with the data.
    sql: `
      CREATE TABLE server_identity (
        id TEXT NOT NULL,
        only_row INTEGER PRIMARY KEY CHECK (only_row = 1) DEFAULT 1
      );
      INSERT INTO server_identity (id) VALUES (lower(hex(randomblob(16))));
    `
  },
  {
    version: 12,
    name: 'runners and jobs',
    // The persisted job queue (server/src/runners): everything the scheduler knows lives here, so a
    // restarted server sees every queued and running job. Labels, capacity, parameters and
    // dataset pins are JSON. A job is one run (run_id UNIQUE) however often it is retried; each
    // try is an attempt, and only the job's current attempt may report results (fencing). The
    // partial unique index makes a second running attempt of one job impossible, whatever the
    // code above it does. seq breaks ties between jobs queued in the same millisecond.
    // jobs.current_attempt_id has no REFERENCES either: jobs and attempts would reference each
    // other; the scheduler keeps it in step with the attempt rows in one transaction.
    sql: `
      CREATE TABLE runners (
        id                TEXT PRIMARY KEY,
        name              TEXT NOT NULL,
        labels            TEXT NOT NULL DEFAULT '[]',
        capacity          TEXT NOT NULL DEFAULT '{}',
        max_jobs          INTEGER NOT NULL DEFAULT 1 CHECK (max_jobs >= 1),
        -- no REFERENCES: tokens are revoked, never deleted, and a table nothing references can
        -- be rebuilt by a later migration (as migration 9 did) without touching runners
        token_id          TEXT,
        status            TEXT NOT NULL CHECK (status IN ('online', 'offline', 'draining')),
        last_heartbeat_at TEXT,
        connected_at      TEXT,
        created_at        TEXT NOT NULL
      );

      CREATE TABLE jobs (
        id                  TEXT PRIMARY KEY,
        seq                 INTEGER NOT NULL UNIQUE,
        project_id          TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        run_id              TEXT NOT NULL UNIQUE REFERENCES runs (id) ON DELETE CASCADE,
        snapshot_commit     TEXT NOT NULL,
        notebook_path       TEXT NOT NULL,
        parameters          TEXT NOT NULL DEFAULT '{}',
        dataset_pins        TEXT NOT NULL DEFAULT '[]',
        env_mode            TEXT NOT NULL CHECK (env_mode IN ('runner', 'recreate')),
        required_labels     TEXT NOT NULL DEFAULT '[]',
        priority            INTEGER NOT NULL DEFAULT 0,
        status              TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled', 'timed_out')),
        attempt_count       INTEGER NOT NULL DEFAULT 0,
        max_retries         INTEGER NOT NULL DEFAULT 2 CHECK (max_retries >= 0),
        timeout_s           INTEGER CHECK (timeout_s IS NULL OR timeout_s > 0),
        created_at          TEXT NOT NULL,
        started_at          TEXT,
        cancel_requested_at TEXT,
        -- what a requested cancel ends the job as: 'cancelled' (asked by a user) or 'timed_out'
        cancel_outcome      TEXT CHECK (cancel_outcome IN ('cancelled', 'timed_out')),
        error               TEXT,
        finished_at         TEXT,
        runner_id           TEXT REFERENCES runners (id) ON DELETE SET NULL,
        current_attempt_id  TEXT
      );
      CREATE INDEX jobs_queue ON jobs (priority DESC, created_at, seq) WHERE status = 'queued';
      CREATE INDEX jobs_project ON jobs (project_id, created_at);

      CREATE TABLE job_attempts (
        id               TEXT PRIMARY KEY,
        job_id           TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        number           INTEGER NOT NULL,
        runner_id        TEXT REFERENCES runners (id) ON DELETE SET NULL,
        status           TEXT NOT NULL
                         CHECK (status IN ('running', 'finished', 'failed', 'cancelled', 'timed_out', 'lost', 'abandoned')),
        started_at       TEXT NOT NULL,
        lease_expires_at TEXT NOT NULL,
        ended_at         TEXT,
        error            TEXT,
        progress         TEXT,
        UNIQUE (job_id, number)
      );
      CREATE UNIQUE INDEX job_attempts_one_running ON job_attempts (job_id) WHERE status = 'running';
      CREATE INDEX job_attempts_running_runner ON job_attempts (runner_id) WHERE status = 'running';
      CREATE INDEX job_attempts_running_lease ON job_attempts (lease_expires_at) WHERE status = 'running';
    `
  },
  {
    version: 13,
    name: 'runners keep the job limit they were added with',
    // An agent may ask for fewer jobs at once than its runner was added with (max_jobs, what the
    // scheduler reads); added_max_jobs keeps the limit given when it was added, so an agent
    // restarted with a higher --max-jobs gets it back. NULL for runners registered before.
    sql: `
      ALTER TABLE runners ADD COLUMN added_max_jobs INTEGER CHECK (added_max_jobs IS NULL OR added_max_jobs >= 1);
    `
  },
  {
    version: 14,
    name: 'model registry',
    // Models are global names (as in MLflow's registry). A version is immutable: its files are
    // copied from the run's artifacts into model_version_files (blob digests, kept alive by
    // blobs/references.ts), so deleting or overwriting the run's artifacts later changes nothing.
    // run_id is SET NULL on delete: a version outlives its run (the lineage then says so).
    // Signature, input example, requirements and profile are JSON. An alias is one row per
    // (model, alias); alias_moves is its append-only history. The UNIQUE (model_id, version) and
    // the transaction that reads the next number make concurrent versions get distinct numbers.
    sql: `
      CREATE TABLE models (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        tags        TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );

      CREATE TABLE model_versions (
        id              TEXT PRIMARY KEY,
        model_id        TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        version         INTEGER NOT NULL CHECK (version >= 1),
        flavor          TEXT NOT NULL,
        source          TEXT NOT NULL CHECK (source IN ('runlab', 'mlflow')),
        description     TEXT NOT NULL DEFAULT '',
        tags            TEXT NOT NULL DEFAULT '{}',
        run_id          TEXT REFERENCES runs (id) ON DELETE SET NULL,
        project_name    TEXT,
        snapshot_commit TEXT,
        artifact_path   TEXT NOT NULL,
        signature       TEXT,
        input_example   TEXT,
        requirements    TEXT NOT NULL DEFAULT '[]',
        profile         TEXT,
        size_bytes      INTEGER NOT NULL DEFAULT 0,
        created_at      TEXT NOT NULL,
        created_by      TEXT NOT NULL,
        UNIQUE (model_id, version)
      );
      CREATE INDEX model_versions_run ON model_versions (run_id);

      CREATE TABLE model_version_files (
        version_id TEXT NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
        path       TEXT NOT NULL,
        digest     TEXT NOT NULL,
        size       INTEGER NOT NULL,
        PRIMARY KEY (version_id, path)
      );
      CREATE INDEX model_version_files_digest ON model_version_files (digest);

      CREATE TABLE model_aliases (
        model_id   TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        alias      TEXT NOT NULL,
        version_id TEXT NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
        PRIMARY KEY (model_id, alias)
      );

      CREATE TABLE alias_moves (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id     TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        alias        TEXT NOT NULL,
        from_version INTEGER,
        to_version   INTEGER,
        action       TEXT NOT NULL CHECK (action IN ('set', 'removed', 'rollback')),
        reason       TEXT NOT NULL DEFAULT '',
        moved_by     TEXT NOT NULL,
        moved_at     TEXT NOT NULL
      );
      CREATE INDEX alias_moves_model ON alias_moves (model_id, alias, id);
    `
  },
  {
    version: 15,
    name: 'deployments and deployment tokens',
    // A deployment serves model versions on a target; slots (stable / canary / shadow with their
    // share) are JSON, and every change bumps revision and appends to deployment_events. Each
    // deployment has its own token of scope `deployment` (what its serving runtime presents), so
    // the tokens table is rebuilt to allow that scope, as migration 9 did. Sampled predictions
    // land in prediction_logs (JSON rows; monitoring reads them).
    sql: `
      CREATE TABLE tokens_v15 (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        scope        TEXT NOT NULL CHECK (scope IN ('admin', 'user', 'runner', 'deployment')),
        secret_hash  TEXT NOT NULL UNIQUE,
        prefix       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at   TEXT,
        created_by   TEXT
      );
      INSERT INTO tokens_v15 (id, name, scope, secret_hash, prefix, created_at, last_used_at, revoked_at, created_by)
        SELECT id, name, scope, secret_hash, prefix, created_at, last_used_at, revoked_at, created_by FROM tokens;
      DROP TABLE tokens;
      ALTER TABLE tokens_v15 RENAME TO tokens;
      CREATE INDEX tokens_created_by ON tokens (created_by);

      CREATE TABLE deployments (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        target         TEXT NOT NULL CHECK (target IN ('local', 'kubernetes')),
        status         TEXT NOT NULL CHECK (status IN ('deploying', 'ready', 'degraded', 'failed', 'stopped')),
        status_message TEXT NOT NULL DEFAULT '',
        endpoint       TEXT,
        port           INTEGER,
        requested_ref  TEXT NOT NULL,
        replicas       INTEGER NOT NULL CHECK (replicas >= 1),
        revision       INTEGER NOT NULL DEFAULT 1,
        slots          TEXT NOT NULL DEFAULT '[]',
        -- target-specific settings (kubernetes: context, namespace, resources)
        target_config  TEXT NOT NULL DEFAULT '{}',
        token_id       TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        created_by     TEXT NOT NULL
      );
      -- one live deployment per name; a stopped one frees its name
      CREATE UNIQUE INDEX deployments_live_name ON deployments (name) WHERE status <> 'stopped';

      CREATE TABLE deployment_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        kind          TEXT NOT NULL,
        revision      INTEGER NOT NULL,
        message       TEXT NOT NULL DEFAULT '',
        slots         TEXT NOT NULL DEFAULT '[]',
        actor         TEXT NOT NULL,
        at            TEXT NOT NULL
      );
      CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id, id);

      -- which model versions a deployment has served (lineage, and deleting a model is refused
      -- while a live deployment serves one of its versions)
      CREATE TABLE deployment_versions (
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        version_id    TEXT NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
        PRIMARY KEY (deployment_id, version_id)
      );

      CREATE TABLE prediction_logs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id   TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        request_id      TEXT NOT NULL,
        role            TEXT NOT NULL,
        version_id      TEXT NOT NULL,
        at              INTEGER NOT NULL,
        latency_ms      REAL NOT NULL,
        status          INTEGER NOT NULL,
        record          TEXT NOT NULL
      );
      CREATE INDEX prediction_logs_deployment ON prediction_logs (deployment_id, id);
    `
  },
  {
    version: 16,
    name: 'mlflow logged models',
    // MLflow 3 logs a model as a "logged model" (its own id, files and status) before it is
    // registered; mlflow.sklearn.log_model uploads the files through the artifact proxy. The
    // files are blobs (kept alive by blobs/references.ts). A logged model outlives its run
    // (run_id SET NULL), as in MLflow. mlflow_model_versions remembers, for the versions the
    // MLflow API created, the source the client gave and the logged model they came from.
    sql: `
      CREATE TABLE mlflow_logged_models (
        id             TEXT PRIMARY KEY,
        experiment_id  TEXT NOT NULL,
        name           TEXT NOT NULL,
        run_id         TEXT REFERENCES runs (id) ON DELETE SET NULL,
        model_type     TEXT NOT NULL DEFAULT '',
        status         TEXT NOT NULL CHECK (status IN ('PENDING', 'READY', 'FAILED')),
        status_message TEXT NOT NULL DEFAULT '',
        params         TEXT NOT NULL DEFAULT '{}',
        tags           TEXT NOT NULL DEFAULT '{}',
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        created_by     TEXT NOT NULL
      );
      CREATE INDEX mlflow_logged_models_run ON mlflow_logged_models (run_id);
      CREATE INDEX mlflow_logged_models_experiment ON mlflow_logged_models (experiment_id, created_at);

      CREATE TABLE mlflow_logged_model_files (
        model_id TEXT NOT NULL REFERENCES mlflow_logged_models (id) ON DELETE CASCADE,
        path     TEXT NOT NULL,
        digest   TEXT NOT NULL,
        size     INTEGER NOT NULL,
        PRIMARY KEY (model_id, path)
      );
      CREATE INDEX mlflow_logged_model_files_digest ON mlflow_logged_model_files (digest);

      CREATE TABLE mlflow_model_versions (
        version_id      TEXT PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
        source          TEXT NOT NULL,
        logged_model_id TEXT
      );
      CREATE INDEX mlflow_model_versions_logged_model ON mlflow_model_versions (logged_model_id);
    `
  },
  {
    version: 17,
    name: 'runner pools',
    // Runners the scheduler starts itself (server/src/runners/pools): a pool of kind kubernetes
    // is a context, a namespace, an image and a cap on parallel pods. Each runner a pool starts
    // is an ordinary runners row with pool_id set, made for one queued job (reserved_job_id):
    // the scheduler offers that job to that runner only, and that runner nothing else. Both
    // survive a restart, so a pod started before it still gets its job. Labels, resources and
    // the node selector are JSON; image NULL means the server's RUNLAB_RUNNER_IMAGE.
    sql: `
      CREATE TABLE runner_pools (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('kubernetes')),
        context       TEXT NOT NULL,
        namespace     TEXT NOT NULL,
        image         TEXT,
        labels        TEXT NOT NULL DEFAULT '[]',
        resources     TEXT NOT NULL DEFAULT '{}',
        node_selector TEXT NOT NULL DEFAULT '{}',
        max_parallel  INTEGER NOT NULL CHECK (max_parallel >= 1),
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL
      );
      ALTER TABLE runners ADD COLUMN pool_id TEXT REFERENCES runner_pools (id) ON DELETE SET NULL;
      ALTER TABLE runners ADD COLUMN reserved_job_id TEXT REFERENCES jobs (id) ON DELETE SET NULL;
      CREATE INDEX runners_pool ON runners (pool_id) WHERE pool_id IS NOT NULL;
    `
  },
  {
    version: 18,
    name: 'monitoring',
    // Prediction logs as compressed columnar blocks (server/src/monitoring/predictions.ts): one
    // row per telemetry report and (deployment, model version, role), instead of one JSON row per
    // request. prediction_requests indexes each logged request into its block, for feedback
    // labels that arrive later. Drift windows keep where they ended (end_block, end_row) so the
    // window filling now is found again after a restart: every row logged after that position.
    // Labels keep what they scored (correct rows, squared error) so accuracy over time is a sum.
    // deployment_traffic holds per-minute counters and latency histograms from telemetry.
    // prediction_logs (migration 14) is no longer written; its old rows expire with retention.
    sql: `
      CREATE TABLE prediction_blocks (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id    TEXT NOT NULL,
        model_version_id TEXT NOT NULL,
        role             TEXT NOT NULL,
        first_at         INTEGER NOT NULL,
        last_at          INTEGER NOT NULL,
        received_at      INTEGER NOT NULL,
        rows             INTEGER NOT NULL,
        requests         INTEGER NOT NULL,
        data             BLOB NOT NULL
      );
      CREATE INDEX prediction_blocks_version ON prediction_blocks (deployment_id, model_version_id, id);
      CREATE INDEX prediction_blocks_received ON prediction_blocks (received_at);
      CREATE TABLE prediction_requests (
        deployment_id TEXT NOT NULL,
        request_id    TEXT NOT NULL,
        block_id      INTEGER NOT NULL,
        row_offset    INTEGER NOT NULL,
        row_count     INTEGER NOT NULL,
        at            INTEGER NOT NULL,
        PRIMARY KEY (deployment_id, request_id)
      ) WITHOUT ROWID;
      CREATE TABLE prediction_labels (
        deployment_id TEXT NOT NULL,
        request_id    TEXT NOT NULL,
        labels        TEXT NOT NULL,
        at            INTEGER NOT NULL,
        received_at   INTEGER NOT NULL,
        metric        TEXT NOT NULL CHECK (metric IN ('accuracy', 'rmse')),
        rows          INTEGER NOT NULL,
        correct       INTEGER NOT NULL,
        squared_error REAL NOT NULL,
        PRIMARY KEY (deployment_id, request_id)
      ) WITHOUT ROWID;
      CREATE INDEX prediction_labels_at ON prediction_labels (deployment_id, at);
      CREATE TABLE drift_windows (
        id               TEXT PRIMARY KEY,
        deployment_id    TEXT NOT NULL,
        model_version_id TEXT NOT NULL,
        idx              INTEGER NOT NULL,
        start_at         TEXT NOT NULL,
        end_at           TEXT NOT NULL,
        rows             INTEGER NOT NULL,
        status           TEXT NOT NULL,
        end_block        INTEGER NOT NULL,
        end_row          INTEGER NOT NULL,
        result           TEXT NOT NULL,
        UNIQUE (deployment_id, model_version_id, idx)
      );
      CREATE INDEX drift_windows_deployment ON drift_windows (deployment_id, end_at);
      CREATE TABLE monitoring_settings (
        deployment_id TEXT PRIMARY KEY,
        settings      TEXT NOT NULL
      );
      CREATE TABLE deployment_traffic (
        deployment_id TEXT NOT NULL,
        minute        INTEGER NOT NULL,
        requests      INTEGER NOT NULL,
        server_errors INTEGER NOT NULL,
        client_errors INTEGER NOT NULL,
        latency       TEXT NOT NULL,
        PRIMARY KEY (deployment_id, minute)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 19,
    name: 'alerts and retrains',
    // Alerts (server/src/monitoring/alerts): rules per deployment, the alerts they fired (kept
    // after their rule is removed, so rule name and kind are copied), silences, webhooks (the
    // secret is kept to sign payloads: HMAC needs it in clear) and webhook deliveries. A delivery
    // holds the exact body it signs, so a retry after a restart sends the same bytes; pending
    // ones are resumed at start-up. Retrains (server/src/monitoring/retrain): a deployment's
    // model re-produced by a runner job, and the version it proposed as a canary.
    sql: `
      CREATE TABLE alert_rules (
        id            TEXT PRIMARY KEY,
        deployment_id TEXT NOT NULL,
        name          TEXT NOT NULL,
        kind          TEXT NOT NULL,
        feature       TEXT,
        comparison    TEXT NOT NULL CHECK (comparison IN ('above', 'below')),
        threshold     REAL NOT NULL,
        for_seconds   INTEGER NOT NULL DEFAULT 0,
        action        TEXT NOT NULL DEFAULT 'notify',
        enabled       INTEGER NOT NULL DEFAULT 1,
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL
      );
      CREATE INDEX alert_rules_deployment ON alert_rules (deployment_id);
      CREATE TABLE alerts (
        id               TEXT PRIMARY KEY,
        rule_id          TEXT NOT NULL,
        rule_name        TEXT NOT NULL,
        kind             TEXT NOT NULL,
        deployment_id    TEXT NOT NULL,
        deployment_name  TEXT NOT NULL,
        model_version_id TEXT,
        state            TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        silenced         INTEGER NOT NULL DEFAULT 0,
        acknowledged_by  TEXT,
        acknowledged_at  TEXT,
        value            REAL NOT NULL,
        threshold        REAL NOT NULL,
        feature          TEXT,
        drifted_features TEXT NOT NULL DEFAULT '[]',
        message          TEXT NOT NULL,
        window_id        TEXT,
        fired_at         TEXT NOT NULL,
        resolved_at      TEXT,
        retrain_id       TEXT
      );
      CREATE INDEX alerts_deployment ON alerts (deployment_id, fired_at);
      CREATE UNIQUE INDEX alerts_one_firing_per_rule ON alerts (rule_id) WHERE state = 'firing';
      CREATE TABLE alert_silences (
        id            TEXT PRIMARY KEY,
        deployment_id TEXT,
        rule_id       TEXT,
        reason        TEXT NOT NULL DEFAULT '',
        ends_at       TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL
      );
      CREATE TABLE webhooks (
        id            TEXT PRIMARY KEY,
        url           TEXT NOT NULL,
        deployment_id TEXT,
        secret        TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        created_by    TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id               TEXT PRIMARY KEY,
        alert_id         TEXT NOT NULL,
        webhook_id       TEXT NOT NULL,
        url              TEXT NOT NULL,
        event            TEXT NOT NULL CHECK (event IN ('alert.fired', 'alert.resolved')),
        body             TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_status_code INTEGER,
        last_error       TEXT,
        next_attempt_at  TEXT,
        created_at       TEXT NOT NULL,
        delivered_at     TEXT
      );
      CREATE INDEX webhook_deliveries_alert ON webhook_deliveries (alert_id);
      CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE TABLE retrains (
        id                    TEXT PRIMARY KEY,
        deployment_id         TEXT NOT NULL,
        alert_id              TEXT,
        source_run_id         TEXT NOT NULL,
        model_name            TEXT NOT NULL,
        from_model_version_id TEXT NOT NULL,
        job_id                TEXT NOT NULL,
        run_id                TEXT NOT NULL,
        datasets              TEXT NOT NULL DEFAULT '{}',
        status                TEXT NOT NULL,
        new_model_version_id  TEXT,
        new_version           INTEGER,
        canary_percent        REAL NOT NULL,
        promote               INTEGER NOT NULL DEFAULT 0,
        error                 TEXT,
        created_at            TEXT NOT NULL,
        created_by            TEXT NOT NULL,
        finished_at           TEXT
      );
      CREATE INDEX retrains_deployment ON retrains (deployment_id, created_at);
      CREATE INDEX retrains_job ON retrains (job_id);
      CREATE INDEX retrains_run ON retrains (run_id);
    `
  },
  {
    version: 20,
    name: 'sweeps',
    sql: `
      CREATE TABLE sweeps (
        id              TEXT PRIMARY KEY,
        project_id      TEXT NOT NULL REFERENCES projects(id),
        name            TEXT NOT NULL,
        run_id          TEXT NOT NULL,
        notebook_path   TEXT NOT NULL,
        snapshot_commit TEXT NOT NULL,
        spec            TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('running', 'paused', 'finished', 'failed', 'cancelled')),
        error           TEXT,
        importance      TEXT NOT NULL DEFAULT '{}',
        created_at      TEXT NOT NULL,
        created_by      TEXT NOT NULL,
        finished_at     TEXT
      );
      CREATE INDEX sweeps_project ON sweeps (project_id, created_at);
      CREATE INDEX sweeps_status ON sweeps (status);
      CREATE TABLE sweep_trials (
        id             TEXT PRIMARY KEY,
        sweep_id       TEXT NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
        number         INTEGER NOT NULL,
        params         TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'stopped', 'cancelled')),
        value          REAL,
        step           INTEGER,
        job_id         TEXT,
        run_id         TEXT,
        stop_requested INTEGER NOT NULL DEFAULT 0,
        error          TEXT,
        created_at     TEXT NOT NULL,
        ended_at       TEXT,
        UNIQUE (sweep_id, number)
      );
      CREATE INDEX sweep_trials_job ON sweep_trials (job_id);
      CREATE INDEX sweep_trials_run ON sweep_trials (run_id);
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
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version));
  const newest = Math.max(0, ...migrations.map((migration) => migration.version));
  const unknown = [...applied].filter((version) => version > newest);
  if (unknown.length > 0) {
    throw new Error(`The database has schema version ${Math.max(...unknown)}, newer than this Runlab (${newest}); upgrade Runlab`);
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
