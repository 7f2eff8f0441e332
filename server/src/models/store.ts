/** SQL for the model registry: models, their immutable versions and files, aliases and their moves. */
import type { Database, Statement } from 'better-sqlite3';
import type { AliasMove, ModelFile } from '../contract';

export interface ModelRecord {
  id: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

/** A version row as stored; lineage that can change (the run's name, metrics) is read at answer time. */
export interface VersionRecord {
  id: string;
  modelId: string;
  modelName: string;
  version: number;
  flavor: string;
  source: 'runlab' | 'mlflow';
  description: string;
  tags: Record<string, string>;
  runId: string | null;
  projectName: string | null;
  snapshotCommit: string | null;
  artifactPath: string;
  signature: string | null;
  inputExample: string | null;
  requirements: string;
  hasProfile: boolean;
  sizeBytes: number;
  createdAt: string;
  createdBy: string;
}

export type NewVersion = Omit<VersionRecord, 'modelName' | 'hasProfile'> & { profile: string | null };

export interface AliasRecord {
  alias: string;
  versionId: string;
  version: number;
}

export type NewAliasMove = Omit<AliasMove, 'id' | 'modelName'> & { modelId: string };

interface ModelRow {
  id: string;
  name: string;
  description: string;
  tags: string;
  created_at: string;
  updated_at: string;
}

interface VersionRow {
  id: string;
  model_id: string;
  model_name: string;
  version: number;
  flavor: string;
  source: 'runlab' | 'mlflow';
  description: string;
  tags: string;
  run_id: string | null;
  project_name: string | null;
  snapshot_commit: string | null;
  artifact_path: string;
  signature: string | null;
  input_example: string | null;
  requirements: string;
  has_profile: number;
  size_bytes: number;
  created_at: string;
  created_by: string;
}

interface MoveRow {
  id: number;
  model_name: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  action: AliasMove['action'];
  reason: string;
  moved_by: string;
  moved_at: string;
}

const toModel = (row: ModelRow): ModelRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  tags: JSON.parse(row.tags) as Record<string, string>,
  createdAt: row.created_at,
  updatedAt: row.updated_at
});

const toVersion = (row: VersionRow): VersionRecord => ({
  id: row.id,
  modelId: row.model_id,
  modelName: row.model_name,
  version: row.version,
  flavor: row.flavor,
  source: row.source,
  description: row.description,
  tags: JSON.parse(row.tags) as Record<string, string>,
  runId: row.run_id,
  projectName: row.project_name,
  snapshotCommit: row.snapshot_commit,
  artifactPath: row.artifact_path,
  signature: row.signature,
  inputExample: row.input_example,
  requirements: row.requirements,
  hasProfile: row.has_profile === 1,
  sizeBytes: row.size_bytes,
  createdAt: row.created_at,
  createdBy: row.created_by
});

const toMove = (row: MoveRow): AliasMove => ({
  id: row.id,
  modelName: row.model_name,
  alias: row.alias,
  fromVersion: row.from_version,
  toVersion: row.to_version,
  action: row.action,
  reason: row.reason,
  movedBy: row.moved_by,
  movedAt: row.moved_at
});

// The profile can be large: rows carry only whether there is one.
const SELECT_VERSION = `SELECT v.id, v.model_id, m.name AS model_name, v.version, v.flavor, v.source, v.description, v.tags,
    v.run_id, v.project_name, v.snapshot_commit, v.artifact_path, v.signature, v.input_example, v.requirements,
    v.profile IS NOT NULL AS has_profile, v.size_bytes, v.created_at, v.created_by
  FROM model_versions v JOIN models m ON m.id = v.model_id`;

const SELECT_MOVE = `SELECT a.id, m.name AS model_name, a.alias, a.from_version, a.to_version, a.action, a.reason, a.moved_by, a.moved_at
  FROM alias_moves a JOIN models m ON m.id = a.model_id`;

export class ModelStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      modelByName: prepare('SELECT * FROM models WHERE name = ?'),
      modelById: prepare('SELECT * FROM models WHERE id = ?'),
      models: prepare('SELECT * FROM models ORDER BY updated_at DESC, name LIMIT ?'),
      modelsOfProject: prepare(`SELECT * FROM models m
        WHERE EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id AND v.project_name = ?)
        ORDER BY updated_at DESC, name LIMIT ?`),
      insertModel: prepare('INSERT INTO models (id, name, description, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      updateModel: prepare('UPDATE models SET description = ?, tags = ?, updated_at = ? WHERE id = ?'),
      touchModel: prepare('UPDATE models SET updated_at = ? WHERE id = ?'),
      deleteModel: prepare('DELETE FROM models WHERE id = ?'),
      versionSummary: prepare('SELECT COUNT(*) AS count, MAX(version) AS latest FROM model_versions WHERE model_id = ?'),
      projects: prepare(`SELECT DISTINCT project_name FROM model_versions
        WHERE model_id = ? AND project_name IS NOT NULL ORDER BY project_name`).pluck(),
      versionById: prepare(`${SELECT_VERSION} WHERE v.id = ?`),
      versionsByIds: prepare(`${SELECT_VERSION} WHERE v.id IN (SELECT value FROM json_each(?))`),
      versionByNumber: prepare(`${SELECT_VERSION} WHERE v.model_id = ? AND v.version = ?`),
      latestVersion: prepare(`${SELECT_VERSION} WHERE v.model_id = ? ORDER BY v.version DESC LIMIT 1`),
      versions: prepare(`${SELECT_VERSION} WHERE v.model_id = ? ORDER BY v.version DESC`),
      nextNumber: prepare('SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = ?').pluck(),
      insertVersion: prepare(`INSERT INTO model_versions (id, model_id, version, flavor, source, description, tags, run_id,
          project_name, snapshot_commit, artifact_path, signature, input_example, requirements, profile, size_bytes, created_at, created_by)
        VALUES (@id, @modelId, @version, @flavor, @source, @description, @tags, @runId, @projectName, @snapshotCommit,
          @artifactPath, @signature, @inputExample, @requirements, @profile, @sizeBytes, @createdAt, @createdBy)`),
      updateVersion: prepare('UPDATE model_versions SET description = ?, tags = ? WHERE id = ?'),
      profile: prepare('SELECT profile FROM model_versions WHERE id = ?').pluck(),
      insertFile: prepare('INSERT INTO model_version_files (version_id, path, digest, size) VALUES (?, ?, ?, ?)'),
      files: prepare('SELECT path, size, digest FROM model_version_files WHERE version_id = ? ORDER BY path'),
      file: prepare('SELECT path, size, digest FROM model_version_files WHERE version_id = ? AND path = ?'),
      digestsOfModel: prepare(`SELECT DISTINCT f.digest FROM model_version_files f JOIN model_versions v ON v.id = f.version_id
        WHERE v.model_id = ?`).pluck(),
      aliases: prepare(`SELECT a.alias, a.version_id, v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id
        WHERE a.model_id = ? ORDER BY a.alias`),
      aliasesOfVersion: prepare('SELECT alias FROM model_aliases WHERE version_id = ? ORDER BY alias').pluck(),
      upsertAlias: prepare(`INSERT INTO model_aliases (model_id, alias, version_id) VALUES (?, ?, ?)
        ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id`),
      deleteAlias: prepare('DELETE FROM model_aliases WHERE model_id = ? AND alias = ?'),
      insertMove: prepare(`INSERT INTO alias_moves (model_id, alias, from_version, to_version, action, reason, moved_by, moved_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      moveById: prepare(`${SELECT_MOVE} WHERE a.id = ?`),
      lastMove: prepare(`${SELECT_MOVE} WHERE a.model_id = ? AND a.alias = ? ORDER BY a.id DESC LIMIT 1`),
      moves: prepare(`${SELECT_MOVE} WHERE a.model_id = ? ORDER BY a.id DESC LIMIT ?`),
      movesOfAlias: prepare(`${SELECT_MOVE} WHERE a.model_id = ? AND a.alias = ? ORDER BY a.id DESC LIMIT ?`),
      // The dataset versions a run read: the provenance edges datasets recorded from its inputs.
      datasetInputs: prepare(`SELECT dv.id, d.name AS dataset_name, dv.number FROM provenance_edges e
          JOIN dataset_versions dv ON e.from_ref = 'dataset_version:' || dv.id
          JOIN datasets d ON d.id = dv.dataset_id
        WHERE e.to_ref = 'run:' || ? ORDER BY d.name, dv.number`)
    };
  }

  /**
   * Runs `work` in one write transaction, taken at the start (BEGIN IMMEDIATE), so what it read
   * (the next version number, where an alias points) cannot change before it writes, whichever
   * process writes the database too.
   */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  modelByName(name: string): ModelRecord | undefined {
    const row = this.statements.modelByName.get(name) as ModelRow | undefined;
    return row && toModel(row);
  }

  modelById(id: string): ModelRecord | undefined {
    const row = this.statements.modelById.get(id) as ModelRow | undefined;
    return row && toModel(row);
  }

  /** Most recently updated first; with a project, only models with a version logged there. */
  models(project: string | undefined, limit: number): ModelRecord[] {
    const rows = project === undefined ? this.statements.models.all(limit) : this.statements.modelsOfProject.all(project, limit);
    return (rows as ModelRow[]).map(toModel);
  }

  insertModel(model: ModelRecord): void {
    this.statements.insertModel.run(model.id, model.name, model.description, JSON.stringify(model.tags), model.createdAt, model.updatedAt);
  }

  updateModel(id: string, description: string, tags: Record<string, string>, updatedAt: string): void {
    this.statements.updateModel.run(description, JSON.stringify(tags), updatedAt, id);
  }

  touchModel(id: string, updatedAt: string): void {
    this.statements.touchModel.run(updatedAt, id);
  }

  /** Deletes the model; its versions, files, aliases and moves cascade. */
  deleteModel(id: string): void {
    this.statements.deleteModel.run(id);
  }

  versionSummary(modelId: string): { count: number; latest: number | null } {
    return this.statements.versionSummary.get(modelId) as { count: number; latest: number | null };
  }

  /** The projects of the model's versions' runs. */
  projects(modelId: string): string[] {
    return this.statements.projects.all(modelId) as string[];
  }

  versionById(id: string): VersionRecord | undefined {
    const row = this.statements.versionById.get(id) as VersionRow | undefined;
    return row && toVersion(row);
  }

  versionsByIds(ids: readonly string[]): VersionRecord[] {
    return (this.statements.versionsByIds.all(JSON.stringify(ids)) as VersionRow[]).map(toVersion);
  }

  versionByNumber(modelId: string, version: number): VersionRecord | undefined {
    const row = this.statements.versionByNumber.get(modelId, version) as VersionRow | undefined;
    return row && toVersion(row);
  }

  latestVersion(modelId: string): VersionRecord | undefined {
    const row = this.statements.latestVersion.get(modelId) as VersionRow | undefined;
    return row && toVersion(row);
  }

  /** Newest first. */
  versions(modelId: string): VersionRecord[] {
    return (this.statements.versions.all(modelId) as VersionRow[]).map(toVersion);
  }

  /** Call inside the transaction that inserts the version. */
  nextNumber(modelId: string): number {
    return this.statements.nextNumber.get(modelId) as number;
  }

  insertVersion(version: NewVersion): void {
    this.statements.insertVersion.run({ ...version, tags: JSON.stringify(version.tags) });
  }

  updateVersion(id: string, description: string, tags: Record<string, string>): void {
    this.statements.updateVersion.run(description, JSON.stringify(tags), id);
  }

  /** The profile JSON, or null. */
  profile(versionId: string): string | null {
    return (this.statements.profile.get(versionId) as string | null | undefined) ?? null;
  }

  insertFile(versionId: string, file: ModelFile): void {
    this.statements.insertFile.run(versionId, file.path, file.digest, file.size);
  }

  files(versionId: string): ModelFile[] {
    return this.statements.files.all(versionId) as ModelFile[];
  }

  file(versionId: string, path: string): ModelFile | undefined {
    return this.statements.file.get(versionId, path) as ModelFile | undefined;
  }

  /** The blobs the model's versions use (read before the model is deleted). */
  digestsOfModel(modelId: string): string[] {
    return this.statements.digestsOfModel.all(modelId) as string[];
  }

  aliases(modelId: string): AliasRecord[] {
    return (this.statements.aliases.all(modelId) as { alias: string; version_id: string; version: number }[]).map((row) => ({
      alias: row.alias,
      versionId: row.version_id,
      version: row.version
    }));
  }

  aliasesOfVersion(versionId: string): string[] {
    return this.statements.aliasesOfVersion.all(versionId) as string[];
  }

  setAlias(modelId: string, alias: string, versionId: string): void {
    this.statements.upsertAlias.run(modelId, alias, versionId);
  }

  deleteAlias(modelId: string, alias: string): void {
    this.statements.deleteAlias.run(modelId, alias);
  }

  /** Appends a move to the alias history and returns it. */
  insertMove(move: NewAliasMove): AliasMove {
    const { lastInsertRowid } = this.statements.insertMove.run(
      move.modelId,
      move.alias,
      move.fromVersion,
      move.toVersion,
      move.action,
      move.reason,
      move.movedBy,
      move.movedAt
    );
    return toMove(this.statements.moveById.get(lastInsertRowid) as MoveRow);
  }

  lastMove(modelId: string, alias: string): AliasMove | undefined {
    const row = this.statements.lastMove.get(modelId, alias) as MoveRow | undefined;
    return row && toMove(row);
  }

  /** Newest first. */
  moves(modelId: string, alias: string | undefined, limit: number): AliasMove[] {
    const rows = alias === undefined ? this.statements.moves.all(modelId, limit) : this.statements.movesOfAlias.all(modelId, alias, limit);
    return (rows as MoveRow[]).map(toMove);
  }

  /** The dataset versions a run read, as `{id, ref: name@vN}`. */
  datasetInputs(runId: string): { id: string; ref: string }[] {
    return (this.statements.datasetInputs.all(runId) as { id: string; dataset_name: string; number: number }[]).map((row) => ({
      id: row.id,
      ref: `${row.dataset_name}@v${row.number}`
    }));
  }
}
