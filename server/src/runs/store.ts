/** SQL for runs: the run rows, their params/tags/io/artifacts, metric summaries and point blocks. */
import type { Database, Statement } from 'better-sqlite3';
import { toMetricValue, userKeyed, type Artifact, type MetricSummary, type RunEnvironment, type RunIO, type RunSnapshot, type RunStatus } from '../contract';
import { parseNumber, type RunFilter, type RunSort } from './filters';

export interface RunRecord {
  id: string;
  projectId: string;
  projectName: string;
  number: number;
  name: string;
  status: RunStatus;
  notebookPath: string | null;
  sourceKind: 'notebook' | 'cell' | 'script' | 'mlflow' | 'api';
  sourceCell: string | null;
  startedAt: string;
  endedAt: string | null;
  environment: RunEnvironment | null;
  errorMessage: string | null;
  errorTraceback: string | null;
  frontendId: string | null;
  snapshot: RunSnapshot | null;
}

interface RunRow {
  id: string;
  project_id: string;
  project_name: string;
  number: number;
  name: string;
  status: RunStatus;
  notebook_path: string | null;
  source_kind: RunRecord['sourceKind'];
  source_cell: string | null;
  started_at: string;
  ended_at: string | null;
  environment: string | null;
  error_message: string | null;
  error_traceback: string | null;
  frontend_id: string | null;
  snapshot_commit: string | null;
  snapshot_notebook_path: string | null;
  snapshot_files: string | null;
  snapshot_reused: number | null;
}

const toRecord = (row: RunRow): RunRecord => ({
  id: row.id,
  projectId: row.project_id,
  projectName: row.project_name,
  number: row.number,
  name: row.name,
  status: row.status,
  notebookPath: row.notebook_path,
  sourceKind: row.source_kind,
  sourceCell: row.source_cell,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  environment: row.environment ? (JSON.parse(row.environment) as RunEnvironment) : null,
  errorMessage: row.error_message,
  errorTraceback: row.error_traceback,
  frontendId: row.frontend_id,
  snapshot: row.snapshot_commit
    ? {
        commit: row.snapshot_commit,
        notebookPath: row.snapshot_notebook_path as string,
        files: JSON.parse(row.snapshot_files ?? '[]') as string[],
        reused: row.snapshot_reused === 1
      }
    : null
});

/** A metric series' summary row, as ingest needs it. */
export interface SeriesState {
  id: number;
  key: string;
  latest: number;
  step: number;
  latestTimestamp: number;
  min: number;
  max: number;
  count: number;
  updatedAt: string;
  inOrder: boolean;
}

interface SummaryRow {
  id: number;
  run_id: string;
  key: string;
  latest: number;
  /** 1 when the latest value is NaN, which SQLite cannot store as a REAL (latest is then 0). */
  latest_is_nan: number;
  step: number;
  latest_timestamp: number;
  min: number;
  max: number;
  count: number;
  updated_at: string;
  in_order: number;
}

const toSeriesState = (row: SummaryRow): SeriesState => ({
  id: row.id,
  key: row.key,
  latest: row.latest_is_nan === 1 ? NaN : row.latest,
  step: row.step,
  latestTimestamp: row.latest_timestamp,
  min: row.min,
  max: row.max,
  count: row.count,
  updatedAt: row.updated_at,
  inOrder: row.in_order === 1
});

export const toSummary = (state: Pick<SeriesState, 'latest' | 'step' | 'min' | 'max' | 'count' | 'updatedAt'>): MetricSummary => ({
  latest: toMetricValue(state.latest),
  step: state.step,
  // ±Infinity until a finite value arrives: NaN and ±Infinity stay out of min/max.
  min: Number.isFinite(state.min) ? state.min : null,
  max: Number.isFinite(state.max) ? state.max : null,
  count: state.count,
  updatedAt: state.updatedAt
});

export interface StoredBlock {
  blockNo: number;
  count: number;
  points: Buffer;
}

/** One run's part of RunDetails. */
interface RunDetail {
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricSummary>;
  inputs: RunIO[];
  outputs: RunIO[];
}

/** At most this many runs' details are kept in memory (the oldest entries go first). */
const DETAILS_CACHE_RUNS = 20_000;

/** The parts of runs that lists carry, fetched for many runs at once. */
export interface RunDetails {
  params: Map<string, Record<string, string>>;
  tags: Map<string, Record<string, string>>;
  metrics: Map<string, Record<string, MetricSummary>>;
  inputs: Map<string, RunIO[]>;
  outputs: Map<string, RunIO[]>;
}

const SELECT_RUN = 'SELECT r.*, p.name AS project_name FROM runs r JOIN projects p ON p.id = r.project_id';
/** Binds a list of ids as one JSON parameter, so one prepared statement serves any count. */
const IN_IDS = 'IN (SELECT value FROM json_each(?))';

const OPERATORS = new Set(['=', '!=', '>', '>=', '<', '<=']);

export class RunStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    // Numeric comparison of params that look like numbers (`params.lr>0.01`); null otherwise.
    db.function('runlab_number', { deterministic: true }, (value: unknown) =>
      typeof value === 'string' ? parseNumber(value) : null
    );
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      insertRun: prepare(`INSERT INTO runs (id, project_id, number, name, status, notebook_path, source_kind, source_cell,
          started_at, ended_at, environment, frontend_id, pending_module_files, create_key)
        VALUES (@id, @projectId, @number, @name, @status, @notebookPath, @sourceKind, @sourceCell,
          @startedAt, NULL, @environment, @frontendId, @pendingModuleFiles, @createKey)`),
      runIdByCreateKey: prepare('SELECT id FROM runs WHERE create_key = ?'),
      pendingModuleFiles: prepare('SELECT pending_module_files AS files FROM runs WHERE id = ?'),
      nextNumber: prepare('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM runs WHERE project_id = ?'),
      findRun: prepare(`${SELECT_RUN} WHERE r.id = ?`),
      // Lists never show the environment or the pending module sources (both can be large):
      // leave them in the table instead of reading and parsing them for every listed run.
      runsByIds: prepare(`SELECT r.id, r.project_id, r.number, r.name, r.status, r.notebook_path, r.source_kind, r.source_cell,
          r.started_at, r.ended_at, r.error_message, r.error_traceback, r.frontend_id, r.snapshot_commit,
          r.snapshot_notebook_path, r.snapshot_files, r.snapshot_reused, p.name AS project_name
        FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id ${IN_IDS}`),
      updateRun: prepare(`UPDATE runs SET name = @name, status = @status, ended_at = @endedAt,
          error_message = @errorMessage, error_traceback = @errorTraceback WHERE id = @id`),
      setSnapshot: prepare(`UPDATE runs SET snapshot_commit = @commit, snapshot_notebook_path = @notebookPath,
          snapshot_files = @files, snapshot_reused = @reused, pending_module_files = NULL
        WHERE id = @id AND snapshot_commit IS NULL`),
      deleteRun: prepare('DELETE FROM runs WHERE id = ?'),
      // One JSON object per run, built by SQLite from rows in primary-key order (so keys come
      // sorted): a JS object per row costs better-sqlite3 several times more.
      params: prepare(`SELECT run_id, json_group_object(key, value) FROM run_params WHERE run_id ${IN_IDS} GROUP BY run_id`).raw(),
      tags: prepare(`SELECT run_id, json_group_object(key, value) FROM run_tags WHERE run_id ${IN_IDS} GROUP BY run_id`).raw(),
      // The (run_id, key) index yields each run's keys in order, so no sort; raw rows, no object per row.
      summaries: prepare(`SELECT run_id, key, latest, latest_is_nan, step, min, max, count, updated_at FROM metric_summaries
        INDEXED BY sqlite_autoindex_metric_summaries_1 WHERE run_id ${IN_IDS}`).raw(),
      io: prepare(`SELECT run_id, direction, kind, name, digest FROM run_io WHERE run_id ${IN_IDS} ORDER BY id`),
      artifacts: prepare('SELECT path, size, digest, created_at FROM artifacts WHERE run_id = ? ORDER BY path'),
      artifact: prepare('SELECT path, size, digest, created_at FROM artifacts WHERE run_id = ? AND path = ?'),
      artifactDigests: prepare('SELECT DISTINCT digest FROM artifacts WHERE run_id = ?'),
      upsertArtifact: prepare(`INSERT INTO artifacts (run_id, path, digest, size, created_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (run_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size, created_at = excluded.created_at`),
      recordBatch: prepare('INSERT OR IGNORE INTO run_log_batches (run_id, idempotency_key, received_at) VALUES (?, ?, ?)'),
      param: prepare('SELECT value FROM run_params WHERE run_id = ? AND key = ?'),
      insertParam: prepare('INSERT OR IGNORE INTO run_params (run_id, key, value) VALUES (?, ?, ?)'),
      upsertTag: prepare(`INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)
        ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`),
      deleteTag: prepare('DELETE FROM run_tags WHERE run_id = ? AND key = ?'),
      upsertIo: prepare(`INSERT INTO run_io (run_id, direction, kind, name, digest) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (run_id, direction, kind, name) DO UPDATE SET digest = COALESCE(excluded.digest, digest)`),
      seriesOfRun: prepare('SELECT * FROM metric_summaries WHERE run_id = ?'),
      series: prepare('SELECT * FROM metric_summaries WHERE run_id = ? AND key = ?'),
      insertSummary: prepare(`INSERT INTO metric_summaries (run_id, key, latest, latest_is_nan, step, latest_timestamp, min, max, count, updated_at, in_order)
        VALUES (@runId, @key, @latest, @latestIsNan, @step, @latestTimestamp, @min, @max, @count, @updatedAt, @inOrder) RETURNING id`),
      updateSummary: prepare(`UPDATE metric_summaries SET latest = @latest, latest_is_nan = @latestIsNan, step = @step, latest_timestamp = @latestTimestamp,
        min = @min, max = @max, count = @count, updated_at = @updatedAt, in_order = @inOrder WHERE id = @id`),
      tailBlock: prepare('SELECT block_no, count, points FROM metric_blocks WHERE series_id = ? ORDER BY block_no DESC LIMIT 1'),
      putBlock: prepare(`INSERT OR REPLACE INTO metric_blocks (series_id, block_no, count, min_step, max_step, points, envelope_count, envelope)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      blocks: prepare(`SELECT count, points FROM metric_blocks WHERE series_id = ? AND max_step >= ? AND min_step <= ?
        ORDER BY block_no`).raw(),
      blocksOfRun: prepare(`SELECT b.series_id, b.count, b.points FROM metric_blocks b
        JOIN metric_summaries s ON s.id = b.series_id WHERE s.run_id = ? ORDER BY b.series_id, b.block_no`).raw(),
      blockRanges: prepare(`SELECT block_no, count, min_step, max_step FROM metric_blocks
        WHERE series_id = ? AND max_step >= ? AND min_step <= ? ORDER BY block_no`).raw(),
      envelopes: prepare(`SELECT envelope_count, envelope FROM metric_blocks WHERE series_id = ? AND block_no BETWEEN ? AND ?
        ORDER BY block_no`).raw(),
      block: prepare('SELECT count, points FROM metric_blocks WHERE series_id = ? AND block_no = ?').raw()
    };
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  nextNumber(projectId: string): number {
    return (this.statements.nextNumber.get(projectId) as { n: number }).n;
  }

  insertRun(run: {
    id: string;
    projectId: string;
    number: number;
    name: string;
    status: RunStatus;
    notebookPath: string | null;
    sourceKind: string;
    sourceCell: string | null;
    startedAt: string;
    environment: RunEnvironment | null;
    frontendId: string | null;
    pendingModuleFiles: { path: string; content: string }[];
    createKey: string | null;
  }): void {
    this.statements.insertRun.run({
      ...run,
      environment: run.environment ? JSON.stringify(run.environment) : null,
      pendingModuleFiles: run.pendingModuleFiles.length ? JSON.stringify(run.pendingModuleFiles) : null
    });
  }

  /** The run an earlier create with this idempotency key made, if any. */
  runIdByCreateKey(key: string): string | undefined {
    return (this.statements.runIdByCreateKey.get(key) as { id: string } | undefined)?.id;
  }

  /** The modules held for the run's snapshot (empty once the snapshot is taken). */
  pendingModuleFiles(runId: string): { path: string; content: string }[] {
    const row = this.statements.pendingModuleFiles.get(runId) as { files: string | null } | undefined;
    return row?.files ? (JSON.parse(row.files) as { path: string; content: string }[]) : [];
  }

  findRun(id: string): RunRecord | undefined {
    const row = this.statements.findRun.get(id) as RunRow | undefined;
    return row && toRecord(row);
  }

  /** Runs by id, in the order of `ids`; unknown ids are skipped. */
  runsByIds(ids: readonly string[]): RunRecord[] {
    const byId = new Map(
      (this.statements.runsByIds.all(JSON.stringify(ids)) as RunRow[]).map((row) => [row.id, toRecord(row)])
    );
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  updateRun(run: RunRecord): void {
    this.statements.updateRun.run({
      id: run.id,
      name: run.name,
      status: run.status,
      endedAt: run.endedAt,
      errorMessage: run.errorMessage,
      errorTraceback: run.errorTraceback
    });
  }

  /** Sets the snapshot once; false when the run already had one (or is gone). */
  setSnapshot(runId: string, snapshot: RunSnapshot): boolean {
    return (
      this.statements.setSnapshot.run({
        id: runId,
        commit: snapshot.commit,
        notebookPath: snapshot.notebookPath,
        files: JSON.stringify(snapshot.files),
        reused: snapshot.reused ? 1 : 0
      }).changes > 0
    );
  }

  /** Deletes the run; its params, tags, io, summaries, point blocks and artifact rows cascade. */
  deleteRun(id: string): boolean {
    this.touched(id);
    return this.statements.deleteRun.run(id).changes > 0;
  }

  /**
   * Lists read the same runs' params, tags, summaries and io again and again, while only the
   * runs being written change: each run's details are kept (frozen) until a write through this
   * store touches that run, or another connection (the CLI) commits anything.
   */
  private readonly detailsCache = new Map<string, Readonly<RunDetail>>();
  private dataVersion = -1;

  /** Forgets a run's cached details; every write of a run's details calls it. */
  private touched(runId: string): void {
    this.detailsCache.delete(runId);
  }

  details(ids: readonly string[]): RunDetails {
    // Inside a transaction rows may still be rolled back: read them, but remember nothing.
    if (this.db.inTransaction) return this.readDetails(ids);
    // data_version changes when another connection commits (never for this one's own writes).
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (version !== this.dataVersion) {
      this.detailsCache.clear();
      this.dataVersion = version;
    }
    const missing = ids.filter((id) => !this.detailsCache.has(id));
    if (missing.length > 0) {
      const read = this.readDetails(missing);
      for (const id of missing) {
        const detail: RunDetail = {
          params: Object.freeze(read.params.get(id) ?? userKeyed<string>()),
          tags: Object.freeze(read.tags.get(id) ?? userKeyed<string>()),
          metrics: Object.freeze(read.metrics.get(id) ?? userKeyed<MetricSummary>()),
          inputs: Object.freeze(read.inputs.get(id) ?? []) as RunIO[],
          outputs: Object.freeze(read.outputs.get(id) ?? []) as RunIO[]
        };
        if (this.detailsCache.size >= DETAILS_CACHE_RUNS) this.detailsCache.delete(this.detailsCache.keys().next().value as string);
        this.detailsCache.set(id, Object.freeze(detail));
      }
    }
    const details: RunDetails = { params: new Map(), tags: new Map(), metrics: new Map(), inputs: new Map(), outputs: new Map() };
    for (const id of ids) {
      const detail = this.detailsCache.get(id);
      if (!detail) continue;
      details.params.set(id, detail.params);
      details.tags.set(id, detail.tags);
      details.metrics.set(id, detail.metrics);
      details.inputs.set(id, detail.inputs);
      details.outputs.set(id, detail.outputs);
    }
    return details;
  }

  private readDetails(ids: readonly string[]): RunDetails {
    const json = JSON.stringify(ids);
    const details: RunDetails = { params: new Map(), tags: new Map(), metrics: new Map(), inputs: new Map(), outputs: new Map() };
    // Objects without a prototype: user keys such as `__proto__` are just keys there.
    const entry = <T>(map: Map<string, T>, id: string, make: () => T): T => {
      let value = map.get(id);
      if (!value) map.set(id, (value = make()));
      return value;
    };
    // JSON.parse makes `__proto__` an own key; copied into a prototype-less record as before.
    for (const [runId, object] of this.statements.params.all(json) as [string, string][]) {
      details.params.set(runId, Object.assign(userKeyed<string>(), JSON.parse(object) as Record<string, string>));
    }
    for (const [runId, object] of this.statements.tags.all(json) as [string, string][]) {
      details.tags.set(runId, Object.assign(userKeyed<string>(), JSON.parse(object) as Record<string, string>));
    }
    type Row = [string, string, number, number, number, number, number, number, string];
    for (const [runId, key, latest, latestIsNan, step, min, max, count, updatedAt] of this.statements.summaries.all(json) as Row[]) {
      entry(details.metrics, runId, userKeyed<MetricSummary>)[key] = toSummary({ latest: latestIsNan === 1 ? NaN : latest, step, min, max, count, updatedAt });
    }
    for (const row of this.statements.io.all(json) as {
      run_id: string;
      direction: 'input' | 'output';
      kind: RunIO['kind'];
      name: string;
      digest: string | null;
    }[]) {
      const map = row.direction === 'input' ? details.inputs : details.outputs;
      entry(map, row.run_id, () => [] as RunIO[]).push({ kind: row.kind, name: row.name, digest: row.digest });
    }
    return details;
  }

  /**
   * One page of run ids matching the filters, in sort order, plus the total. Metric filters
   * and sorts read the summaries table only (indexed by run and key), never the points.
   */
  list(query: {
    project?: string;
    /** Any of these projects (MLflow searches several experiments at once). */
    projectIds?: readonly string[];
    name?: string;
    status?: RunStatus;
    notebookPath?: string;
    filters: RunFilter[];
    sort: RunSort;
    limit: number;
    offset: number;
  }): { ids: string[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.project !== undefined) {
      where.push('r.project_id = (SELECT id FROM projects WHERE name = ?)');
      params.push(query.project);
    }
    if (query.projectIds !== undefined) {
      where.push(`r.project_id ${IN_IDS}`);
      params.push(JSON.stringify(query.projectIds));
    }
    if (query.name !== undefined) {
      where.push('r.name = ?');
      params.push(query.name);
    }
    if (query.status !== undefined) {
      where.push('r.status = ?');
      params.push(query.status);
    }
    if (query.notebookPath !== undefined) {
      where.push('r.notebook_path = ?');
      params.push(query.notebookPath);
    }
    for (const filter of query.filters) {
      if (!OPERATORS.has(filter.operator)) throw new Error(`Unexpected operator ${filter.operator}`);
      if (filter.field === 'metrics') {
        where.push(`EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.id AND m.key = ? AND m.latest_is_nan = 0 AND m.latest ${filter.operator} ?)`);
        params.push(filter.key, filter.number);
        continue;
      }
      const table = filter.field === 'params' ? 'run_params' : 'run_tags';
      // = and != compare strings; ordering operators compare numbers when the value is one.
      const numeric = filter.number !== null && filter.operator !== '=' && filter.operator !== '!=';
      const left = numeric ? 'runlab_number(x.value)' : 'x.value';
      where.push(`EXISTS (SELECT 1 FROM ${table} x WHERE x.run_id = r.id AND x.key = ? AND ${left} ${filter.operator} ?)`);
      params.push(filter.key, numeric ? filter.number : filter.value);
    }
    const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM runs r ${whereSql}`).get(...params) as { n: number }).n;

    const direction = query.sort.direction === 'asc' ? 'ASC' : 'DESC';
    if (query.sort.by === 'metrics') {
      return { ids: this.pageByMetric(query.sort.key, direction, where, params, query.limit, query.offset), total };
    }
    let join = '';
    let order: string;
    const joinParams: unknown[] = [];
    switch (query.sort.by) {
      case 'startedAt':
        order = `r.started_at ${direction}`;
        break;
      case 'name':
        order = `r.name ${direction}`;
        break;
      case 'status':
        order = `r.status ${direction}`;
        break;
      case 'params':
        join = 'LEFT JOIN run_params s ON s.run_id = r.id AND s.key = ?';
        joinParams.push(query.sort.key);
        order = `s.value IS NULL, runlab_number(s.value) IS NULL, runlab_number(s.value) ${direction}, s.value ${direction}`;
        break;
    }
    const rows = this.db
      .prepare(`SELECT r.id FROM runs r ${join} ${whereSql} ORDER BY ${order}, r.started_at DESC, r.id LIMIT ? OFFSET ?`)
      .raw()
      .all(...joinParams, ...params, query.limit, query.offset) as [string][];
    return { ids: rows.map(([id]) => id), total };
  }

  /**
   * A page sorted by a metric's latest value: the runs having the metric walk the (key, latest)
   * index in order and stop after one page, so no sort of every run happens; runs without the
   * metric follow, newest first. Ties keep the order their series were created in.
   */
  private pageByMetric(key: string, direction: 'ASC' | 'DESC', where: string[], params: unknown[], limit: number, offset: number): string[] {
    // A NaN latest value sorts with the runs that lack the metric, after every number.
    const withWhere = ['s.key = ?', 's.latest_is_nan = 0', ...where].join(' AND ');
    const ids = (
      this.db
        .prepare(`SELECT r.id FROM metric_summaries s JOIN runs r ON r.id = s.run_id WHERE ${withWhere}
          ORDER BY s.latest ${direction}, s.id ${direction} LIMIT ? OFFSET ?`)
        .raw()
        .all(key, ...params, limit, offset) as [string][]
    ).map(([id]) => id);
    if (ids.length === limit) return ids;
    const having = (
      this.db.prepare(`SELECT COUNT(*) AS n FROM metric_summaries s JOIN runs r ON r.id = s.run_id WHERE ${withWhere}`).get(key, ...params) as {
        n: number;
      }
    ).n;
    const withoutWhere = ['NOT EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.id AND m.key = ? AND m.latest_is_nan = 0)', ...where].join(' AND ');
    const rest = this.db
      .prepare(`SELECT r.id FROM runs r WHERE ${withoutWhere} ORDER BY r.started_at DESC, r.id LIMIT ? OFFSET ?`)
      .raw()
      .all(key, ...params, limit - ids.length, Math.max(0, offset - having)) as [string][];
    return [...ids, ...rest.map(([id]) => id)];
  }

  // ------------------------------------------------------------------------------------------
  // ingest

  /** Records a batch's idempotency key; false when the run has already seen it. */
  recordBatch(runId: string, idempotencyKey: string, at: string): boolean {
    return this.statements.recordBatch.run(runId, idempotencyKey, at).changes > 0;
  }

  param(runId: string, key: string): string | undefined {
    return (this.statements.param.get(runId, key) as { value: string } | undefined)?.value;
  }

  insertParam(runId: string, key: string, value: string): void {
    this.touched(runId);
    this.statements.insertParam.run(runId, key, value);
  }

  setTag(runId: string, key: string, value: string): void {
    this.touched(runId);
    this.statements.upsertTag.run(runId, key, value);
  }

  deleteTag(runId: string, key: string): void {
    this.touched(runId);
    this.statements.deleteTag.run(runId, key);
  }

  upsertIo(runId: string, direction: 'input' | 'output', io: RunIO): void {
    this.touched(runId);
    this.statements.upsertIo.run(runId, direction, io.kind, io.name, io.digest);
  }

  seriesOfRun(runId: string): Map<string, SeriesState> {
    return new Map((this.statements.seriesOfRun.all(runId) as SummaryRow[]).map((row) => [row.key, toSeriesState(row)]));
  }

  series(runId: string, key: string): SeriesState | undefined {
    const row = this.statements.series.get(runId, key) as SummaryRow | undefined;
    return row && toSeriesState(row);
  }

  /** Inserts or updates a series' summary; returns the series id. */
  saveSummary(runId: string, state: Omit<SeriesState, 'id'> & { id?: number }): number {
    this.touched(runId);
    const isNan = Number.isNaN(state.latest);
    const values = { ...state, latest: isNan ? 0 : state.latest, latestIsNan: isNan ? 1 : 0, runId, inOrder: state.inOrder ? 1 : 0 };
    if (state.id !== undefined) {
      this.statements.updateSummary.run(values);
      return state.id;
    }
    return (this.statements.insertSummary.get(values) as { id: number }).id;
  }

  tailBlock(seriesId: number): StoredBlock | undefined {
    const row = this.statements.tailBlock.get(seriesId) as { block_no: number; count: number; points: Buffer } | undefined;
    return row && { blockNo: row.block_no, count: row.count, points: row.points };
  }

  putBlock(
    seriesId: number,
    blockNo: number,
    block: { count: number; minStep: number; maxStep: number; points: Buffer; envelopeCount: number; envelope: Buffer }
  ): void {
    this.statements.putBlock.run(seriesId, blockNo, block.count, block.minStep, block.maxStep, block.points, block.envelopeCount, block.envelope);
  }

  /** Block numbers, sizes and step ranges overlapping minStep..maxStep, without their points. */
  blockRanges(seriesId: number, minStep: number, maxStep: number): [number, number, number, number][] {
    return this.statements.blockRanges.all(seriesId, minStep, maxStep) as [number, number, number, number][];
  }

  envelopes(seriesId: number, firstBlock: number, lastBlock: number): [number, Buffer][] {
    return this.statements.envelopes.all(seriesId, firstBlock, lastBlock) as [number, Buffer][];
  }

  block(seriesId: number, blockNo: number): [number, Buffer] {
    return this.statements.block.get(seriesId, blockNo) as [number, Buffer];
  }

  /** Blocks that may hold points with minStep ≤ step ≤ maxStep, in insertion order. */
  /** Every block of every series of a run: series id → its blocks' [count, points], in order. */
  blocksOfRun(runId: string): Map<number, [number, Buffer][]> {
    const bySeries = new Map<number, [number, Buffer][]>();
    for (const [seriesId, count, points] of this.statements.blocksOfRun.all(runId) as [number, number, Buffer][]) {
      let blocks = bySeries.get(seriesId);
      if (!blocks) bySeries.set(seriesId, (blocks = []));
      blocks.push([count, points]);
    }
    return bySeries;
  }

  blocks(seriesId: number, minStep = Number.MIN_SAFE_INTEGER, maxStep = Number.MAX_SAFE_INTEGER): [number, Buffer][] {
    return this.statements.blocks.all(seriesId, minStep, maxStep) as [number, Buffer][];
  }

  // ------------------------------------------------------------------------------------------
  // artifacts

  artifacts(runId: string): Artifact[] {
    return (this.statements.artifacts.all(runId) as { path: string; size: number; digest: string; created_at: string }[]).map(
      (row) => ({ path: row.path, size: row.size, digest: row.digest, createdAt: row.created_at })
    );
  }

  artifact(runId: string, path: string): Artifact | undefined {
    const row = this.statements.artifact.get(runId, path) as
      | { path: string; size: number; digest: string; created_at: string }
      | undefined;
    return row && { path: row.path, size: row.size, digest: row.digest, createdAt: row.created_at };
  }

  artifactDigests(runId: string): string[] {
    return (this.statements.artifactDigests.all(runId) as { digest: string }[]).map((row) => row.digest);
  }

  upsertArtifact(runId: string, artifact: Artifact): void {
    this.statements.upsertArtifact.run(runId, artifact.path, artifact.digest, artifact.size, artifact.createdAt);
  }
}
