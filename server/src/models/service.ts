/**
 * The model registry: models, immutable versions (files copied from a run's artifacts, or given
 * as blobs by the MLflow API), aliases with their append-only history, and the `model_version`
 * provenance nodes. Every write that reads what it changes (the next version number, where an
 * alias points) reads and writes in one SQLite write transaction, so concurrent requests never
 * get the same number or lose a move; events go out after the transaction committed.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import {
  formatBytes,
  ModelName,
  type AliasHistoryQuery,
  type AliasMove,
  type CreateModelRequest,
  type CreateModelVersionRequest,
  type ListModelsQuery,
  type Model,
  type ModelFile,
  type ModelSignature,
  type ModelVersion,
  type ProvenanceNode,
  type ReferenceProfile,
  type Run,
  type SetAliasRequest,
  type UpdateModelRequest,
  type UpdateModelVersionRequest
} from '../contract';
import { isBlobReferenced } from '../blobs/references';
import type { BlobStore } from '../blobs/store';
import type { Database } from '../db/database';
import { AppError, notFound } from '../http/errors';
import type { ProvenanceService } from '../provenance/service';
import type { DomainEvents } from '../realtime/events';
import { runNodeRef } from '../runs/provenance';
import type { RunService } from '../runs/service';
import type { ModelRecord, ModelStore, VersionRecord } from './store';

export const modelVersionNodeRef = (versionId: string): string => `model_version:${versionId}`;

export type ListModelsInput = z.output<typeof ListModelsQuery>;
export type CreateModelInput = z.output<typeof CreateModelRequest>;
export type UpdateModelInput = z.output<typeof UpdateModelRequest>;
export type CreateModelVersionInput = z.output<typeof CreateModelVersionRequest>;
export type UpdateModelVersionInput = z.output<typeof UpdateModelVersionRequest>;
export type SetAliasInput = z.output<typeof SetAliasRequest>;
export type AliasHistoryInput = z.output<typeof AliasHistoryQuery>;

/** A version made from files already in the blob store (the MLflow API uploads them). */
export interface VersionFromFilesInput {
  runId: string | null;
  /** Where the files came from (the run's artifact folder), for the record. */
  artifactPath: string;
  files: ModelFile[];
  flavor: string;
  signature: ModelSignature | null;
  inputExample: unknown;
  requirements: string[];
  profile: ReferenceProfile | null;
  description: string;
  tags: Record<string, string>;
  source: 'runlab' | 'mlflow';
}

/**
 * Says whether a deployment serves a version of the model (by its id, `models.id`): false, or
 * true or the deployment's name (then the refusal names it). Deployments register it; deleteModel asks.
 */
export type DeployedCheck = (modelId: string) => boolean | string;

export type VersionCreatedListener = (version: ModelVersion) => void;

export interface ModelServiceDeps {
  db: Database;
  store: ModelStore;
  runs: RunService;
  blobs: BlobStore;
  provenance: ProvenanceService;
  events: DomainEvents;
  now?: () => Date;
}

/** `3`, `v3`, `latest`, or an alias. */
type Selector = { kind: 'number'; version: number } | { kind: 'latest' } | { kind: 'alias'; alias: string };

function parseSelector(selector: string): Selector {
  // `v0` passes the contract's selector pattern (as an alias-like name), but aliases never look like versions.
  const number = /^v?([0-9]+)$/.exec(selector);
  if (number) return { kind: 'number', version: Number(number[1]) };
  if (selector === 'latest') return { kind: 'latest' };
  return { kind: 'alias', alias: selector };
}

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

export class ModelService {
  private readonly db: Database;
  private readonly store: ModelStore;
  private readonly runs: RunService;
  private readonly blobs: BlobStore;
  private readonly provenance: ProvenanceService;
  private readonly events: DomainEvents;
  private readonly now: () => Date;
  private readonly versionListeners: VersionCreatedListener[] = [];
  private deployedCheck: DeployedCheck = () => false;

  constructor(deps: ModelServiceDeps) {
    this.db = deps.db;
    this.store = deps.store;
    this.runs = deps.runs;
    this.blobs = deps.blobs;
    this.provenance = deps.provenance;
    this.events = deps.events;
    this.now = deps.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------------------------------
  // hooks for other features

  /** Called after a version was created (committed), whichever API created it. */
  onVersionCreated(listener: VersionCreatedListener): void {
    this.versionListeners.push(listener);
  }

  /** Deployments register what deleteModel asks before deleting (see DeployedCheck). */
  setDeployedCheck(check: DeployedCheck): void {
    this.deployedCheck = check;
  }

  // ------------------------------------------------------------------------------------------
  // models

  /** Most recently updated first. */
  listModels(query: ListModelsInput): Model[] {
    return this.store.models(query.project, query.limit).map((record) => this.toModel(record));
  }

  getModel(name: string): Model {
    return this.toModel(this.model(name));
  }

  /** Registers a name; 409 when it exists. */
  createModel(input: CreateModelInput): Model {
    const at = this.now().toISOString();
    const record: ModelRecord = {
      id: randomUUID(),
      name: input.name,
      description: input.description,
      tags: input.tags,
      createdAt: at,
      updatedAt: at
    };
    this.store.transaction(() => {
      if (this.store.modelByName(input.name)) {
        throw new AppError('conflict', `Model ${input.name} already exists: add versions to it, or pick another name`);
      }
      this.store.insertModel(record);
    });
    return this.publishModel(record.id);
  }

  /** Changes the description or tags (tags are replaced as a whole). */
  updateModel(name: string, changes: UpdateModelInput): Model {
    const record = this.model(name);
    this.store.updateModel(record.id, changes.description ?? record.description, changes.tags ?? record.tags, this.now().toISOString());
    return this.publishModel(record.id);
  }

  /**
   * Deletes the model with its versions, aliases and history; 409 while a deployment serves one
   * of its versions. Blobs nothing references any more go in the same transaction (as a run's do).
   */
  deleteModel(name: string): void {
    const record = this.model(name);
    const deployed = this.deployedCheck(record.id);
    if (deployed !== false) {
      const which = typeof deployed === 'string' ? `deployment ${deployed} serves` : 'a deployment serves';
      throw new AppError('conflict', `Model ${name} cannot be deleted: ${which} one of its versions; undeploy it first`);
    }
    this.store.transaction(() => {
      const digests = this.store.digestsOfModel(record.id);
      this.store.deleteModel(record.id);
      for (const digest of digests) if (!isBlobReferenced(this.db, digest)) this.blobs.removeSync(digest);
    });
    this.events.publish('model:deleted', { name: record.name });
  }

  // ------------------------------------------------------------------------------------------
  // versions

  /** Newest first. */
  listVersions(name: string): ModelVersion[] {
    return this.toVersions(this.store.versions(this.model(name).id));
  }

  /** A version by `3`, `v3`, `latest` or an alias; 404 saying what exists. */
  getVersion(name: string, selector: string): ModelVersion {
    return this.toVersions([this.versionRecord(this.model(name), selector)])[0];
  }

  versionById(id: string): ModelVersion {
    const record = this.store.versionById(id);
    if (!record) throw notFound(`Model version ${id}`);
    return this.toVersions([record])[0];
  }

  /**
   * A new version from the run's artifacts below `artifactPath/` (REST and `runlab.model`). The
   * artifacts are read and their digests copied into the version in the same transaction that
   * numbers it, so an artifact overwritten meanwhile is either wholly in or wholly out.
   */
  createVersion(name: string, input: CreateModelVersionInput, actor: string): ModelVersion {
    const run = this.runs.record(input.runId);
    const folder = input.artifactPath.replace(/\/+$/, '');
    const prefix = `${folder}/`;
    return this.insertVersion(name, { ...input, artifactPath: folder, runId: run.id }, actor, () => {
      // Read inside the transaction: an artifact overwritten meanwhile is either wholly in or out.
      const files = this.runs
        .get(run.id)
        .artifacts.filter((artifact) => artifact.path.startsWith(prefix))
        .map((artifact) => ({ path: artifact.path.slice(prefix.length), size: artifact.size, digest: artifact.digest }));
      if (files.length === 0) {
        throw new AppError(
          'not_found',
          `Run ${run.id} has no artifacts under ${prefix}: upload the model directory there first (runlab.model does), then create the version`
        );
      }
      return files;
    });
  }

  /** A new version from files already in the blob store (the MLflow API); creates the model when needed. */
  createVersionFromFiles(name: string, input: VersionFromFilesInput, actor: string): ModelVersion {
    if (input.runId !== null) this.runs.record(input.runId);
    return this.insertVersion(name, input, actor, () => {
      if (input.files.length === 0) throw new AppError('invalid_request', `A version of model ${name} needs at least one file`);
      const missing = input.files.find((file) => !this.blobs.exists(file.digest));
      if (missing) {
        throw new AppError('not_found', `File ${missing.path} (blob ${missing.digest}) is not in the blob store: upload it first`);
      }
      return input.files;
    });
  }

  /** Changes a version's description or tags; everything else about it is immutable. */
  updateVersion(name: string, selector: string, changes: UpdateModelVersionInput): ModelVersion {
    const record = this.versionRecord(this.model(name), selector);
    this.store.transaction(() => {
      this.store.updateVersion(record.id, changes.description ?? record.description, changes.tags ?? record.tags);
      this.store.touchModel(record.modelId, this.now().toISOString());
    });
    this.publishModel(record.modelId);
    return this.versionById(record.id);
  }

  /** The reference profile; 404 when the version was logged without one. */
  profile(name: string, selector: string): ReferenceProfile {
    const record = this.versionRecord(this.model(name), selector);
    const profile = parseJson<ReferenceProfile>(this.store.profile(record.id));
    if (!profile) throw new AppError('not_found', `Model ${name} v${record.version} has no reference profile: it was logged without one`);
    return profile;
  }

  /** A version's file by version id (what deployments and the MLflow artifact proxy serve). */
  openFile(versionId: string, path: string): { stream: Readable; size: number } {
    const record = this.store.versionById(versionId);
    if (!record) throw notFound(`Model version ${versionId}`);
    return this.open(record, path);
  }

  /** A version's file by model name and selector. */
  openVersionFile(name: string, selector: string, path: string): { stream: Readable; size: number } {
    return this.open(this.versionRecord(this.model(name), selector), path);
  }

  // ------------------------------------------------------------------------------------------
  // aliases

  /**
   * Points an alias at a version and records the move. With `expectedVersion` (null: the alias
   * must not exist yet) the move happens only when the alias still points there: checked and
   * written in one transaction, so of two concurrent moves from the same version one wins and
   * the other gets 409. Setting an alias where it already points records nothing.
   */
  setAlias(name: string, alias: string, input: SetAliasInput, actor: string): AliasMove {
    const model = this.model(name);
    const move = this.store.transaction(() => {
      const target = this.numberedVersion(model, input.version);
      const current = this.store.aliases(model.id).find((held) => held.alias === alias);
      if (input.expectedVersion !== undefined && (current?.version ?? null) !== input.expectedVersion) {
        const now = current ? `points at v${current.version}` : 'does not exist';
        const expected = input.expectedVersion === null ? 'not to exist' : `to point at v${input.expectedVersion}`;
        throw new AppError(
          'conflict',
          `Alias ${alias} of model ${name} ${now}, but the move expected it ${expected}: someone moved it meanwhile; reload and try again`
        );
      }
      if (current?.versionId === target.id) {
        const last = this.store.lastMove(model.id, alias);
        if (last && last.toVersion === target.version) return { move: last, changed: false };
      }
      this.store.setAlias(model.id, alias, target.id);
      return { move: this.recordMove(model, alias, current?.version ?? null, target.version, 'set', input.reason, actor), changed: true };
    });
    if (move.changed) this.publishMove(move.move);
    return move.move;
  }

  /** Removes an alias and records the move. */
  deleteAlias(name: string, alias: string, reason: string, actor: string): AliasMove {
    const model = this.model(name);
    const move = this.store.transaction(() => {
      const current = this.aliasRecord(model, alias);
      this.store.deleteAlias(model.id, alias);
      return this.recordMove(model, alias, current.version, null, 'removed', reason, actor);
    });
    this.publishMove(move);
    return move;
  }

  /**
   * Moves an alias back to where it pointed before its last move (after a removal: where it
   * pointed when removed). 409 when the last move created it, so there is nothing to go back to.
   */
  rollbackAlias(name: string, alias: string, reason: string, actor: string): AliasMove {
    const model = this.model(name);
    const move = this.store.transaction(() => {
      const last = this.store.lastMove(model.id, alias);
      if (!last) this.aliasRecord(model, alias);
      if (!last || last.fromVersion === null) {
        const created = last?.toVersion ? ` it was created pointing at v${last.toVersion}` : ' it has no earlier move';
        throw new AppError(
          'conflict',
          `Alias ${alias} of model ${name} has no earlier version to roll back to:${created}; point it at a version instead`
        );
      }
      const target = this.store.versionByNumber(model.id, last.fromVersion);
      if (!target) {
        throw new AppError('conflict', `Alias ${alias} of model ${name} pointed at v${last.fromVersion} before, which no longer exists`);
      }
      const current = this.store.aliases(model.id).find((held) => held.alias === alias);
      this.store.setAlias(model.id, alias, target.id);
      return this.recordMove(model, alias, current?.version ?? null, target.version, 'rollback', reason, actor);
    });
    this.publishMove(move);
    return move;
  }

  /** Every move of the model's aliases (or of one), newest first. */
  aliasHistory(name: string, query: AliasHistoryInput): AliasMove[] {
    return this.store.moves(this.model(name).id, query.alias, query.limit);
  }

  // ------------------------------------------------------------------------------------------
  // provenance

  /** The provenance resolver of `model_version` nodes. */
  provenanceNodes(ids: readonly string[]): ProvenanceNode[] {
    return this.store.versionsByIds(ids).map((version) => ({
      ref: modelVersionNodeRef(version.id),
      kind: 'model_version',
      label: `${version.modelName} v${version.version}`,
      detail: `${version.flavor}, ${formatBytes(version.sizeBytes)}`,
      projectName: version.projectName ?? '',
      createdAt: version.createdAt,
      runId: version.runId,
      datasetName: null,
      versionNumber: version.version,
      artifactPath: null,
      modelName: version.modelName
    }));
  }

  // ------------------------------------------------------------------------------------------

  private model(name: string): ModelRecord {
    const record = this.store.modelByName(name);
    if (!record) throw new AppError('not_found', `Model ${name} not found: log a version with runlab.model(..., name="${name}") first`);
    return record;
  }

  private versionRecord(model: ModelRecord, selector: string): VersionRecord {
    const parsed = parseSelector(selector);
    switch (parsed.kind) {
      case 'number':
        return this.numberedVersion(model, parsed.version);
      case 'latest': {
        const latest = this.store.latestVersion(model.id);
        if (!latest) throw new AppError('not_found', `Model ${model.name} has no versions yet, so it has no latest version`);
        return latest;
      }
      case 'alias': {
        const held = this.aliasRecord(model, parsed.alias);
        return this.store.versionById(held.versionId) as VersionRecord;
      }
    }
  }

  private numberedVersion(model: ModelRecord, version: number): VersionRecord {
    const record = this.store.versionByNumber(model.id, version);
    if (record) return record;
    const { latest } = this.store.versionSummary(model.id);
    const has = latest === null ? 'it has no versions yet' : `its versions are v1 to v${latest}`;
    throw new AppError('not_found', `Model ${model.name} has no version ${version}; ${has}`);
  }

  private aliasRecord(model: ModelRecord, alias: string): { alias: string; versionId: string; version: number } {
    const aliases = this.store.aliases(model.id);
    const held = aliases.find((record) => record.alias === alias);
    if (held) return held;
    const has = aliases.length === 0 ? 'it has no aliases' : `its aliases are: ${aliases.map((record) => record.alias).join(', ')}`;
    throw new AppError('not_found', `Model ${model.name} has no alias ${alias}; ${has}`);
  }

  private recordMove(
    model: ModelRecord,
    alias: string,
    fromVersion: number | null,
    toVersion: number | null,
    action: AliasMove['action'],
    reason: string,
    actor: string
  ): AliasMove {
    const movedAt = this.now().toISOString();
    this.store.touchModel(model.id, movedAt);
    return this.store.insertMove({ modelId: model.id, alias, fromVersion, toVersion, action, reason, movedBy: actor, movedAt });
  }

  /**
   * Creates the model when needed, numbers the version and stores it with its files, all in one
   * write transaction (`files` runs inside it), then links `run → model_version` and announces it.
   */
  private insertVersion(name: string, input: Omit<VersionFromFilesInput, 'files'>, actor: string, files: () => ModelFile[]): ModelVersion {
    if (!ModelName.safeParse(name).success) throw new AppError('invalid_request', `Not a model name: ${JSON.stringify(name)}`);
    const run = input.runId === null ? null : this.runs.record(input.runId);
    const at = this.now().toISOString();
    const id = randomUUID();
    const modelId = this.store.transaction(() => {
      let model = this.store.modelByName(name);
      if (!model) {
        model = { id: randomUUID(), name, description: '', tags: {}, createdAt: at, updatedAt: at };
        this.store.insertModel(model);
      }
      const stored = files();
      const seen = new Set<string>();
      for (const file of stored) {
        if (seen.has(file.path)) throw new AppError('invalid_request', `File ${file.path} is listed twice`);
        seen.add(file.path);
      }
      this.store.insertVersion({
        id,
        modelId: model.id,
        version: this.store.nextNumber(model.id),
        flavor: input.flavor,
        source: input.source,
        description: input.description,
        tags: input.tags,
        runId: run?.id ?? null,
        projectName: run?.projectName ?? null,
        snapshotCommit: run?.snapshot?.commit ?? null,
        artifactPath: input.artifactPath,
        signature: input.signature === null ? null : JSON.stringify(input.signature),
        inputExample: input.inputExample === null || input.inputExample === undefined ? null : JSON.stringify(input.inputExample),
        requirements: JSON.stringify(input.requirements),
        profile: input.profile === null ? null : JSON.stringify(input.profile),
        sizeBytes: stored.reduce((total, file) => total + file.size, 0),
        createdAt: at,
        createdBy: actor
      });
      for (const file of stored) this.store.insertFile(id, file);
      this.store.touchModel(model.id, at);
      if (run) this.provenance.link(run.projectId, runNodeRef(run.id), modelVersionNodeRef(id));
      return model.id;
    });
    const version = this.versionById(id);
    this.events.publish('model:version-created', version);
    this.publishModel(modelId);
    for (const listener of this.versionListeners) listener(version);
    return version;
  }

  private open(record: VersionRecord, path: string): { stream: Readable; size: number } {
    const file = this.store.file(record.id, path);
    if (!file) {
      const files = this.store.files(record.id).map((candidate) => candidate.path);
      throw new AppError(
        'not_found',
        `Model ${record.modelName} v${record.version} has no file ${path}; its files are: ${files.join(', ')}`
      );
    }
    return { stream: this.blobs.open(file.digest), size: file.size };
  }

  private publishModel(modelId: string): Model {
    const model = this.toModel(this.store.modelById(modelId) as ModelRecord);
    this.events.publish('model:updated', model);
    return model;
  }

  private publishMove(move: AliasMove): void {
    this.events.publish('model:alias-moved', move);
    const model = this.store.modelByName(move.modelName);
    if (model) this.publishModel(model.id);
  }

  private toModel(record: ModelRecord): Model {
    const { count, latest } = this.store.versionSummary(record.id);
    return {
      name: record.name,
      description: record.description,
      tags: record.tags,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      versionCount: count,
      latestVersion: latest,
      aliases: Object.fromEntries(this.store.aliases(record.id).map((held) => [held.alias, held.version])),
      projects: this.store.projects(record.id)
    };
  }

  /** Versions with their lineage read now: the run's name, snapshot, dataset inputs and latest metrics. */
  private toVersions(records: readonly VersionRecord[]): ModelVersion[] {
    const runIds = [...new Set(records.flatMap((record) => (record.runId === null ? [] : [record.runId])))];
    const runs = new Map<string, Run>(this.runs.getMany(runIds).map((run) => [run.id, run]));
    return records.map((record) => {
      const run = record.runId === null ? undefined : runs.get(record.runId);
      return {
        id: record.id,
        modelName: record.modelName,
        version: record.version,
        flavor: record.flavor,
        description: record.description,
        tags: record.tags,
        source: record.source,
        runId: record.runId,
        runName: run?.name ?? null,
        projectName: record.projectName,
        notebookPath: run?.notebookPath ?? null,
        // A notebook's snapshot may commit after the model was logged from it.
        snapshotCommit: record.snapshotCommit ?? run?.snapshot?.commit ?? null,
        datasetVersions: record.runId === null ? [] : this.store.datasetInputs(record.runId),
        runMetrics: Object.fromEntries(
          Object.entries(run?.metrics ?? {}).map(([key, summary]) => [key, typeof summary.latest === 'number' ? summary.latest : null])
        ),
        signature: parseJson<ModelSignature>(record.signature),
        inputExample: parseJson<unknown>(record.inputExample),
        requirements: JSON.parse(record.requirements) as string[],
        hasProfile: record.hasProfile,
        files: this.store.files(record.id),
        sizeBytes: record.sizeBytes,
        aliases: this.store.aliasesOfVersion(record.id),
        createdAt: record.createdAt,
        createdBy: record.createdBy
      };
    });
  }
}
