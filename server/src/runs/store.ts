/**
 * SQL for runs: the run rows, their params, tags, inputs/outputs and log-batch keys. Writes of a
 * run's details forget its cached details (runs/detailsStore.ts); search, metric series and
 * artifacts have their own stores.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { RunEnvironment, RunIO, RunSnapshot, RunStatus } from '../contract';
import type { RunDetails, RunDetailsStore } from './detailsStore';

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

const SELECT_RUN = 'SELECT r.*, p.name AS project_name FROM runs r JOIN projects p ON p.id = r.project_id';
/** Binds a list of ids as one JSON parameter, so one prepared statement serves any count. */
const IN_IDS = 'IN (SELECT value FROM json_each(?))';

export class RunStore {
  private readonly statements: Record<string, Statement>;

  constructor(
    private readonly db: Database,
    private readonly detailsStore: RunDetailsStore
  ) {
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
      // What provenance nodes show of a run (no environment, traceback or module sources).
      nodes: prepare(`SELECT r.id, r.name, r.status, r.started_at, p.name AS project_name
        FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id ${IN_IDS}`),
      recordBatch: prepare('INSERT OR IGNORE INTO run_log_batches (run_id, idempotency_key, received_at) VALUES (?, ?, ?)'),
      param: prepare('SELECT value FROM run_params WHERE run_id = ? AND key = ?'),
      insertParam: prepare('INSERT OR IGNORE INTO run_params (run_id, key, value) VALUES (?, ?, ?)'),
      upsertTag: prepare(`INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)
        ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`),
      deleteTag: prepare('DELETE FROM run_tags WHERE run_id = ? AND key = ?'),
      upsertIo: prepare(`INSERT INTO run_io (run_id, direction, kind, name, digest) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (run_id, direction, kind, name) DO UPDATE SET digest = COALESCE(excluded.digest, digest)`)
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
    const byId = new Map((this.statements.runsByIds.all(JSON.stringify(ids)) as RunRow[]).map((row) => [row.id, toRecord(row)]));
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

  /** Forgets a run's cached details; every write of a run's details calls it. */
  private touched(runId: string): void {
    this.detailsStore.forget(runId);
  }

  /** The params, tags, metric summaries and io of these runs (cached; see RunDetailsStore). */
  details(ids: readonly string[]): RunDetails {
    return this.detailsStore.details(ids);
  }

  /** What provenance nodes show of these runs; unknown ids are left out. */
  nodes(ids: readonly string[]): { id: string; name: string; status: RunStatus; startedAt: string; projectName: string }[] {
    const rows = this.statements.nodes.all(JSON.stringify(ids)) as {
      id: string;
      name: string;
      status: RunStatus;
      started_at: string;
      project_name: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      status: row.status,
      startedAt: row.started_at,
      projectName: row.project_name
    }));
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
}
