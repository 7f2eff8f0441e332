/**
 * MLflow 3's logged models: `mlflow.<flavor>.log_model` first creates one (PENDING), uploads the
 * model directory to its artifact location through the artifact proxy, then finalizes it (READY)
 * and registers it (`models:/<model id>`), which makes a Runlab model version from its files.
 * A logged model is MLflow's bookkeeping; the registry version is what Runlab shows and serves.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isBlobReferenced } from '../blobs/references';
import type { BlobStore } from '../blobs/store';
import type { Database } from '../db/database';
import { AppError, notFound } from '../http/errors';
import type { RunService } from '../runs/service';
import type { LoggedModelFile, LoggedModelRecord, LoggedModelStatus, LoggedModelStore } from './loggedModelStore';

const STATUS_TO_MLFLOW: Record<LoggedModelStatus, string> = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED'
};
const STATUS_FROM_MLFLOW: Record<string, LoggedModelStatus> = {
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED'
};

/** Where a logged model's files are, as the artifact proxy serves them. */
export const loggedModelArtifactUri = (id: string): string => `mlflow-artifacts:/logged-models/${id}`;

const invalid = (message: string): AppError => new AppError('invalid_request', message);

export interface LoggedModelsDeps {
  db: Database;
  store: LoggedModelStore;
  blobs: BlobStore;
  runs: RunService;
  maxArtifactBytes: number;
  /** Throws not_found for an unknown MLflow experiment id. */
  checkExperiment: (experimentId: string) => Promise<unknown>;
  now?: () => number;
}

export class LoggedModels {
  private readonly now: () => number;

  constructor(private readonly deps: LoggedModelsDeps) {
    this.now = deps.now ?? Date.now;
  }

  toMlflow(record: LoggedModelRecord): Record<string, unknown> {
    return {
      info: {
        model_id: record.id,
        experiment_id: record.experimentId,
        name: record.name,
        creation_timestamp_ms: record.createdAt,
        last_updated_timestamp_ms: record.updatedAt,
        artifact_uri: loggedModelArtifactUri(record.id),
        status: STATUS_TO_MLFLOW[record.status],
        model_type: record.modelType,
        ...(record.runId ? { source_run_id: record.runId } : {}),
        status_message: record.statusMessage,
        tags: Object.entries(record.tags).map(([key, value]) => ({ key, value })),
        registrations: this.deps.store.registrations(record.id).map(({ name, version }) => ({ name, version: String(version) }))
      },
      data: { params: Object.entries(record.params).map(([key, value]) => ({ key, value })), metrics: [] }
    };
  }

  async create(input: {
    experimentId: string;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params: { key: string; value: string }[];
    tags: { key: string; value: string }[];
    actor: string;
  }): Promise<{ model: Record<string, unknown> }> {
    await this.deps.checkExperiment(input.experimentId);
    if (input.sourceRunId) this.deps.runs.record(input.sourceRunId);
    const id = `m-${randomBytes(16).toString('hex')}`;
    const at = this.now();
    const record: LoggedModelRecord = {
      id,
      experimentId: input.experimentId,
      name: input.name || `model-${id.slice(2, 10)}`,
      runId: input.sourceRunId || null,
      modelType: input.modelType ?? '',
      status: 'PENDING',
      statusMessage: '',
      params: Object.fromEntries(input.params.map(({ key, value }) => [key, value])),
      tags: Object.fromEntries(input.tags.map(({ key, value }) => [key, value])),
      createdAt: at,
      updatedAt: at,
      createdBy: input.actor
    };
    this.deps.store.insert(record);
    return { model: this.toMlflow(record) };
  }

  record(id: string): LoggedModelRecord {
    const record = this.deps.store.byId(id);
    if (!record) throw notFound(`Logged model with ID '${id}'`);
    return record;
  }

  get(id: string): { model: Record<string, unknown> } {
    return { model: this.toMlflow(this.record(id)) };
  }

  finalize(id: string, status: string): { model: Record<string, unknown> } {
    const next = STATUS_FROM_MLFLOW[status];
    if (!next || next === 'PENDING') {
      throw invalid(`Invalid logged model status '${status}': use LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED`);
    }
    return { model: this.toMlflow(this.change(id, (record) => ({ ...record, status: next }))) };
  }

  setTags(id: string, tags: { key: string; value: string }[]): Record<string, never> {
    this.change(id, (record) => ({
      ...record,
      tags: { ...record.tags, ...Object.fromEntries(tags.map(({ key, value }) => [key, value])) }
    }));
    return {};
  }

  deleteTag(id: string, key: string): Record<string, never> {
    this.change(id, (record) => {
      if (!(key in record.tags)) throw notFound(`Tag '${key}' of logged model '${id}'`);
      const tags = { ...record.tags };
      delete tags[key];
      return { ...record, tags };
    });
    return {};
  }

  logParams(id: string, params: { key: string; value: string }[]): Record<string, never> {
    this.change(id, (record) => {
      for (const { key, value } of params) {
        if (record.params[key] !== undefined && record.params[key] !== value) {
          throw invalid(`Param '${key}' of logged model '${id}' was already logged with another value`);
        }
      }
      return { ...record, params: { ...record.params, ...Object.fromEntries(params.map(({ key, value }) => [key, value])) } };
    });
    return {};
  }

  /** Deletes the logged model and its files; registry versions made from it keep their own copies. */
  delete(id: string): Record<string, never> {
    this.record(id);
    this.deps.store.transaction(() => {
      const digests = this.deps.store.digests(id);
      this.deps.store.delete(id);
      for (const digest of digests) if (!isBlobReferenced(this.deps.db, digest)) this.deps.blobs.removeSync(digest);
    });
    return {};
  }

  /**
   * Newest first. Filters: AND-ed `name = '…'`, `source_run_id = '…'`, `status = '…'` (what the
   * client itself sends when it resolves `runs:/<run id>/<name>`).
   */
  search(input: { experimentIds: string[]; filter?: string; maxResults: number; offset: number }) {
    let models = this.deps.store.byExperiments(input.experimentIds);
    for (const clause of (input.filter ?? '').trim() ? (input.filter as string).split(/\s+AND\s+/i) : []) {
      const match = /^\s*(?:attributes?\.)?`?(name|source_run_id|status|model_type)`?\s*=\s*(['"])(.*)\2\s*$/i.exec(clause);
      if (!match) throw invalid(`Unsupported logged model filter '${clause.trim()}': use name, source_run_id, status or model_type = '…'`);
      const [, field, , value] = match;
      const key = field.toLowerCase();
      models = models.filter((model) =>
        key === 'name'
          ? model.name === value
          : key === 'source_run_id'
            ? model.runId === value
            : key === 'model_type'
              ? model.modelType === value
              : STATUS_TO_MLFLOW[model.status] === value
      );
    }
    const page = models.slice(input.offset, input.offset + input.maxResults);
    return { models: page.map((model) => this.toMlflow(model)), more: input.offset + page.length < models.length };
  }

  /** The models a run logged, as `RunOutputs.model_outputs` list them. */
  outputsOfRun(runId: string): { model_id: string; step: number }[] {
    return this.deps.store.byRun(runId).map((model) => ({ model_id: model.id, step: 0 }));
  }

  // ------------------------------------------------------------------------------------------
  // files (the artifact proxy)

  files(id: string): LoggedModelFile[] {
    this.record(id);
    return this.deps.store.files(id);
  }

  /** Streams an upload into the blob store; the row and the blob's rename commit together. */
  async putFile(id: string, path: string, source: Readable): Promise<void> {
    this.record(id);
    const staged = await this.deps.blobs.stage(source, this.deps.maxArtifactBytes);
    try {
      this.deps.store.transaction(() => {
        if (!this.deps.store.byId(id)) throw notFound(`Logged model with ID '${id}'`);
        const replaced = this.deps.store.file(id, path);
        this.deps.store.upsertFile(id, { path, digest: staged.digest, size: staged.size });
        this.deps.blobs.commitSync(staged);
        if (replaced && replaced.digest !== staged.digest && !isBlobReferenced(this.deps.db, replaced.digest)) {
          this.deps.blobs.removeSync(replaced.digest);
        }
      });
    } catch (error) {
      await this.deps.blobs.discard(staged);
      throw error;
    }
  }

  openFile(id: string, path: string): { stream: Readable; size: number } {
    this.record(id);
    const file = this.deps.store.file(id, path);
    if (!file) throw notFound(`File '${path}' of logged model '${id}'`);
    return { stream: this.deps.blobs.open(file.digest), size: file.size };
  }

  private change(id: string, update: (record: LoggedModelRecord) => LoggedModelRecord): LoggedModelRecord {
    return this.deps.store.transaction(() => {
      const changed = { ...update(this.record(id)), updatedAt: this.now() };
      this.deps.store.update(changed);
      return changed;
    });
  }
}
