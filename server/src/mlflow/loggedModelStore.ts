/** SQL for MLflow 3's logged models (migration 16): one row per model, its files as blob digests. */
import type { Database, Statement } from 'better-sqlite3';

export type LoggedModelStatus = 'PENDING' | 'READY' | 'FAILED';

export interface LoggedModelRecord {
  id: string;
  experimentId: string;
  name: string;
  runId: string | null;
  modelType: string;
  status: LoggedModelStatus;
  statusMessage: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Milliseconds since the epoch, as MLflow keeps them. */
  createdAt: number;
  updatedAt: number;
  createdBy: string;
}

export interface LoggedModelFile {
  path: string;
  digest: string;
  size: number;
}

interface LoggedModelRow {
  id: string;
  experiment_id: string;
  name: string;
  run_id: string | null;
  model_type: string;
  status: LoggedModelStatus;
  status_message: string;
  params: string;
  tags: string;
  created_at: number;
  updated_at: number;
  created_by: string;
}

const toRecord = (row: LoggedModelRow): LoggedModelRecord => ({
  id: row.id,
  experimentId: row.experiment_id,
  name: row.name,
  runId: row.run_id,
  modelType: row.model_type,
  status: row.status,
  statusMessage: row.status_message,
  params: JSON.parse(row.params) as Record<string, string>,
  tags: JSON.parse(row.tags) as Record<string, string>,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  createdBy: row.created_by
});

export class LoggedModelStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      insert: prepare(`INSERT INTO mlflow_logged_models
        (id, experiment_id, name, run_id, model_type, status, status_message, params, tags, created_at, updated_at, created_by)
        VALUES (@id, @experimentId, @name, @runId, @modelType, @status, @statusMessage, @params, @tags, @createdAt, @updatedAt, @createdBy)`),
      byId: prepare('SELECT * FROM mlflow_logged_models WHERE id = ?'),
      byExperiments: prepare(
        'SELECT * FROM mlflow_logged_models WHERE experiment_id IN (SELECT value FROM json_each(?)) ORDER BY created_at DESC, id'
      ),
      byRun: prepare('SELECT * FROM mlflow_logged_models WHERE run_id = ? ORDER BY created_at, id'),
      update: prepare(`UPDATE mlflow_logged_models SET status = @status, status_message = @statusMessage, params = @params,
        tags = @tags, updated_at = @updatedAt WHERE id = @id`),
      delete: prepare('DELETE FROM mlflow_logged_models WHERE id = ?'),
      files: prepare('SELECT path, digest, size FROM mlflow_logged_model_files WHERE model_id = ? ORDER BY path'),
      file: prepare('SELECT path, digest, size FROM mlflow_logged_model_files WHERE model_id = ? AND path = ?'),
      upsertFile: prepare(`INSERT INTO mlflow_logged_model_files (model_id, path, digest, size) VALUES (?, ?, ?, ?)
        ON CONFLICT (model_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size`),
      digests: prepare('SELECT DISTINCT digest FROM mlflow_logged_model_files WHERE model_id = ?'),
      insertVersionSource: prepare('INSERT INTO mlflow_model_versions (version_id, source, logged_model_id) VALUES (?, ?, ?)'),
      versionSource: prepare('SELECT source, logged_model_id FROM mlflow_model_versions WHERE version_id = ?'),
      registrations: prepare(`SELECT m.name AS name, v.version AS version FROM mlflow_model_versions s
        JOIN model_versions v ON v.id = s.version_id JOIN models m ON m.id = v.model_id
        WHERE s.logged_model_id = ? ORDER BY m.name, v.version`)
    };
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  insert(record: LoggedModelRecord): void {
    this.statements.insert.run({ ...record, params: JSON.stringify(record.params), tags: JSON.stringify(record.tags) });
  }

  byId(id: string): LoggedModelRecord | undefined {
    const row = this.statements.byId.get(id) as LoggedModelRow | undefined;
    return row && toRecord(row);
  }

  /** Newest first. */
  byExperiments(experimentIds: readonly string[]): LoggedModelRecord[] {
    return (this.statements.byExperiments.all(JSON.stringify(experimentIds)) as LoggedModelRow[]).map(toRecord);
  }

  byRun(runId: string): LoggedModelRecord[] {
    return (this.statements.byRun.all(runId) as LoggedModelRow[]).map(toRecord);
  }

  update(record: LoggedModelRecord): void {
    this.statements.update.run({
      id: record.id,
      status: record.status,
      statusMessage: record.statusMessage,
      params: JSON.stringify(record.params),
      tags: JSON.stringify(record.tags),
      updatedAt: record.updatedAt
    });
  }

  delete(id: string): void {
    this.statements.delete.run(id);
  }

  files(modelId: string): LoggedModelFile[] {
    return this.statements.files.all(modelId) as LoggedModelFile[];
  }

  file(modelId: string, path: string): LoggedModelFile | undefined {
    return this.statements.file.get(modelId, path) as LoggedModelFile | undefined;
  }

  upsertFile(modelId: string, file: LoggedModelFile): void {
    this.statements.upsertFile.run(modelId, file.path, file.digest, file.size);
  }

  digests(modelId: string): string[] {
    return (this.statements.digests.all(modelId) as { digest: string }[]).map((row) => row.digest);
  }

  /** Remembers the source an MLflow client gave a version, and the logged model it came from. */
  recordVersionSource(versionId: string, source: string, loggedModelId: string | null): void {
    this.statements.insertVersionSource.run(versionId, source, loggedModelId);
  }

  versionSource(versionId: string): { source: string; loggedModelId: string | null } | undefined {
    const row = this.statements.versionSource.get(versionId) as { source: string; logged_model_id: string | null } | undefined;
    return row && { source: row.source, loggedModelId: row.logged_model_id };
  }

  /** The registry versions made from a logged model. */
  registrations(modelId: string): { name: string; version: number }[] {
    return this.statements.registrations.all(modelId) as { name: string; version: number }[];
  }
}
