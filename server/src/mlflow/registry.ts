/**
 * MLflow's model registry API on top of Runlab's (ModelService): a registered model is a Runlab
 * model, a model version a Runlab version. A version MLflow creates becomes a Runlab version of
 * source `mlflow` from the files the client uploaded (a logged model's, or a run's artifacts),
 * with its flavor, signature, requirements and input example read from the model directory.
 *
 * Where Runlab's registry is stricter, the call is refused in MLflow's shape with the reason:
 * versions are immutable (only description and tags change) and never deleted one by one,
 * stages do not exist (aliases replace them), models are not renamed.
 */
import fs from 'node:fs';
import { AliasName, ModelName, type Model, type ModelFile, type ModelVersion } from '../contract';
import type { BlobStore } from '../blobs/store';
import { AppError, notFound } from '../http/errors';
import type { ModelService } from '../models/service';
import type { RunService } from '../runs/service';
import { parseArtifactPath, versionArtifactUri } from './artifacts';
import type { LoggedModelStore } from './loggedModelStore';
import type { LoggedModels } from './loggedModels';
import { readModelDirectory } from './mlmodel';
import { decodePageToken, encodePageToken } from './service';

const invalid = (message: string): AppError => new AppError('invalid_request', message);
const ms = (iso: string): number => Date.parse(iso);
const keyValues = (record: Record<string, string>) => Object.entries(record).map(([key, value]) => ({ key, value }));

const STAGES_UNSUPPORTED =
  'Runlab has no model stages (MLflow deprecated them): use aliases instead, e.g. set_registered_model_alias(name, "production", version)';

function checkModelName(name: string): void {
  if (!ModelName.safeParse(name).success) {
    throw invalid(
      `Invalid registered model name '${name}': Runlab model names start with a letter or digit and use letters, digits, . _ - (at most 64)`
    );
  }
}

function checkAlias(alias: string): void {
  const result = AliasName.safeParse(alias);
  if (!result.success) throw invalid(`Invalid alias '${alias}': ${result.error.issues[0]?.message ?? 'not an alias'}`);
}

function checkTag(key: string, value: string): void {
  if (!/^[A-Za-z0-9_.\-/ ]{1,250}$/.test(key)) {
    throw invalid(`Invalid tag key '${key}': use letters, digits, spaces and _ . - / (at most 250)`);
  }
  if (value.length > 5000) throw invalid(`The value of tag '${key}' is longer than 5000 characters`);
}

function versionNumber(version: string | number): string {
  const text = String(version);
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw invalid(`Invalid model version '${text}': a version is a positive whole number`);
  return text;
}

/** Runlab answers `conflict` (409); MLflow's clients expect INVALID_PARAMETER_VALUE for a refused change. */
function conflictAsInvalid<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict') throw invalid(error.message);
    throw error;
  }
}

/** `name = 'x'`, `name LIKE 'x%'`, `run_id IN ('a', 'b')`, `tags.team = 'x'`, `version_number = 3`, AND-ed. */
interface Clause {
  key: string;
  tag: boolean;
  operator: string;
  values: string[];
}

function parseFilter(filter: string | undefined, keys: readonly string[]): Clause[] {
  if (!filter?.trim()) return [];
  return filter.split(/\s+AND\s+/i).map((text) => {
    const match = /^\s*(tags?\.)?(`[^`]+`|"[^"]+"|[\w.]+)\s*(=|!=|\bI?LIKE\b|\bIN\b)\s*(.+?)\s*$/i.exec(text);
    if (!match) throw invalid(`Unsupported filter clause '${text.trim()}'`);
    const [, tag, rawKey, rawOperator, rawValue] = match;
    const key = rawKey.replace(/^[`"]|[`"]$/g, '');
    if (!tag && !keys.includes(key)) throw invalid(`Unsupported filter key '${key}': use ${keys.join(', ')} or tags.<key>`);
    const operator = rawOperator.toUpperCase();
    const unquote = (value: string) => value.trim().replace(/^(['"])(.*)\1$/s, '$2');
    const values =
      operator === 'IN'
        ? rawValue
            .replace(/^\(|\)$/g, '')
            .split(',')
            .map(unquote)
        : [unquote(rawValue)];
    return { key, tag: Boolean(tag), operator, values };
  });
}

function matches(clause: Clause, value: string | undefined): boolean {
  // A missing tag differs from every value (the client itself searches `tag.mlflow.prompt.is_prompt != 'true'`).
  if (value === undefined) return clause.operator === '!=';
  const [first] = clause.values;
  switch (clause.operator) {
    case '=':
      return value === first;
    case '!=':
      return value !== first;
    case 'IN':
      return clause.values.includes(value);
    default: {
      const pattern = first
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*')
        .replace(/_/g, '.');
      return new RegExp(`^${pattern}$`, clause.operator === 'ILIKE' ? 'is' : 's').test(value);
    }
  }
}

/** `name ASC`, `last_updated_timestamp DESC`, `version_number DESC`…; ties keep the given order. */
function sortBy<T>(items: T[], orderBy: readonly string[], fields: Record<string, (item: T) => string | number>): T[] {
  const keys = orderBy.map((text) => {
    const match = /^\s*(?:attributes?\.)?`?([\w]+)`?(?:\s+(ASC|DESC))?\s*$/i.exec(text);
    const field = match && fields[match[1]];
    if (!field) throw invalid(`Unsupported order_by '${text}': use ${Object.keys(fields).join(', ')} with ASC or DESC`);
    return { field, sign: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  return [...items].sort((a, b) => {
    for (const { field, sign } of keys) {
      const [left, right] = [field(a), field(b)];
      if (left !== right) return (left < right ? -1 : 1) * sign;
    }
    return 0;
  });
}

function page<T>(items: readonly T[], maxResults: number, pageToken: string | undefined): { items: T[]; next?: string } {
  const offset = decodePageToken(pageToken);
  const slice = items.slice(offset, offset + maxResults);
  return { items: slice, ...(offset + slice.length < items.length ? { next: encodePageToken(offset + slice.length) } : {}) };
}

/** The folder of a version's files that holds MLmodel ('' when they are the model directory). */
function modelFolder(files: readonly ModelFile[]): string {
  const mlmodels = files.filter((file) => file.path === 'MLmodel' || file.path.endsWith('/MLmodel')).map((file) => file.path);
  const [shortest] = mlmodels.sort((a, b) => a.length - b.length);
  return shortest ? shortest.slice(0, -'MLmodel'.length).replace(/\/$/, '') : '';
}

export interface MlflowRegistryDeps {
  models: ModelService;
  runs: RunService;
  blobs: BlobStore;
  loggedModels: LoggedModels;
  loggedModelStore: LoggedModelStore;
}

export class MlflowRegistry {
  constructor(private readonly deps: MlflowRegistryDeps) {}

  // ------------------------------------------------------------------------------------------
  // shapes

  toRegisteredModel(model: Model): Record<string, unknown> {
    const latest =
      model.latestVersion === null ? [] : [this.toModelVersion(this.deps.models.getVersion(model.name, String(model.latestVersion)))];
    return {
      name: model.name,
      creation_timestamp: ms(model.createdAt),
      last_updated_timestamp: ms(model.updatedAt),
      description: model.description,
      latest_versions: latest,
      tags: keyValues(model.tags),
      aliases: Object.entries(model.aliases).map(([alias, version]) => ({ alias, version: String(version) }))
    };
  }

  toModelVersion(version: ModelVersion): Record<string, unknown> {
    const recorded = this.deps.loggedModelStore.versionSource(version.id);
    return {
      name: version.modelName,
      version: String(version.version),
      creation_timestamp: ms(version.createdAt),
      last_updated_timestamp: ms(version.createdAt),
      user_id: version.createdBy,
      current_stage: 'None',
      description: version.description,
      source: recorded?.source ?? this.downloadUri(version),
      ...(version.runId ? { run_id: version.runId } : {}),
      status: 'READY',
      tags: keyValues(version.tags),
      aliases: version.aliases,
      ...(recorded?.loggedModelId ? { model_id: recorded.loggedModelId } : {})
    };
  }

  /** Where the client downloads the version from: its own (immutable) files, through the artifact proxy. */
  downloadUri(version: ModelVersion): string {
    return versionArtifactUri(version.id, modelFolder(version.files));
  }

  // ------------------------------------------------------------------------------------------
  // registered models

  createRegisteredModel(input: { name: string; description?: string; tags: { key: string; value: string }[] }) {
    checkModelName(input.name);
    for (const { key, value } of input.tags) checkTag(key, value);
    try {
      const model = this.deps.models.createModel({
        name: input.name,
        description: input.description ?? '',
        tags: Object.fromEntries(input.tags.map(({ key, value }) => [key, value]))
      });
      return { registered_model: this.toRegisteredModel(model) };
    } catch (error) {
      if (error instanceof AppError && error.code === 'conflict') {
        throw new AppError('conflict', `Registered Model (name=${input.name}) already exists.`);
      }
      throw error;
    }
  }

  getRegisteredModel(name: string) {
    return { registered_model: this.toRegisteredModel(this.model(name)) };
  }

  renameRegisteredModel(name: string, newName: string): never {
    this.model(name);
    throw invalid(
      `Runlab does not rename models (aliases, deployments and lineage refer to '${name}' by name): create '${newName}' and register versions to it instead`
    );
  }

  updateRegisteredModel(name: string, description: string | undefined) {
    this.model(name);
    return { registered_model: this.toRegisteredModel(this.deps.models.updateModel(name, { description })) };
  }

  deleteRegisteredModel(name: string): Record<string, never> {
    this.model(name);
    conflictAsInvalid(() => this.deps.models.deleteModel(name));
    return {};
  }

  searchRegisteredModels(input: { filter?: string; maxResults: number; orderBy: string[]; pageToken?: string }) {
    const clauses = parseFilter(input.filter, ['name']);
    const models = this.deps.models
      .listModels({ limit: 1000 })
      .filter((model) => clauses.every((clause) => matches(clause, clause.tag ? model.tags[clause.key] : model.name)));
    const sorted = sortBy(models, input.orderBy.length ? input.orderBy : ['name ASC'], {
      name: (model) => model.name,
      timestamp: (model) => ms(model.updatedAt),
      last_updated_timestamp: (model) => ms(model.updatedAt),
      creation_timestamp: (model) => ms(model.createdAt)
    });
    const { items, next } = page(sorted, input.maxResults, input.pageToken);
    return { registered_models: items.map((model) => this.toRegisteredModel(model)), ...(next ? { next_page_token: next } : {}) };
  }

  /**
   * Every Runlab version is in MLflow's stage "None": no stages (or "None") → the latest version.
   * Another stage name reads the alias of that name in lower case (`Production` → `production`),
   * so old `models:/churn/Production` URIs keep working once the alias is set.
   */
  getLatestVersions(name: string, stages: string[]) {
    const model = this.model(name);
    const versions = new Set<number>();
    for (const stage of stages.length === 0 ? ['None'] : stages) {
      const lower = stage.toLowerCase();
      if (!['none', 'staging', 'production', 'archived'].includes(lower)) {
        throw invalid(`Invalid model version stage '${stage}': use None, Staging, Production or Archived. ${STAGES_UNSUPPORTED}`);
      }
      const version = lower === 'none' ? model.latestVersion : model.aliases[lower];
      if (version) versions.add(version);
    }
    return { model_versions: [...versions].map((version) => this.toModelVersion(this.deps.models.getVersion(name, String(version)))) };
  }

  setRegisteredModelTag(name: string, key: string, value: string): Record<string, never> {
    checkTag(key, value);
    const model = this.model(name);
    this.deps.models.updateModel(name, { tags: { ...model.tags, [key]: value } });
    return {};
  }

  deleteRegisteredModelTag(name: string, key: string): Record<string, never> {
    const model = this.model(name);
    if (!(key in model.tags)) throw notFound(`Tag '${key}' of registered model '${name}'`);
    const tags = { ...model.tags };
    delete tags[key];
    this.deps.models.updateModel(name, { tags });
    return {};
  }

  // ------------------------------------------------------------------------------------------
  // aliases

  setAlias(name: string, alias: string, version: string | number, actor: string): Record<string, never> {
    this.model(name);
    checkAlias(alias);
    const number = Number(versionNumber(version));
    conflictAsInvalid(() => this.deps.models.setAlias(name, alias, { version: number, reason: 'set with the MLflow API' }, actor));
    return {};
  }

  deleteAlias(name: string, alias: string, actor: string): Record<string, never> {
    this.model(name);
    checkAlias(alias);
    this.deps.models.deleteAlias(name, alias, 'removed with the MLflow API', actor);
    return {};
  }

  getVersionByAlias(name: string, alias: string) {
    this.model(name);
    checkAlias(alias);
    return { model_version: this.toModelVersion(this.deps.models.getVersion(name, alias)) };
  }

  // ------------------------------------------------------------------------------------------
  // model versions

  /**
   * A new version from files this server stores: `models:/<logged model id>` (what log_model
   * registers), `runs:/<run id>/<path>` or `mlflow-artifacts:/runs/<run id>/<path>` (a run's
   * artifacts), `mlflow-artifacts:/logged-models/…`, or another version (`models:/<name>/<n>`,
   * copy_model_version). The registered model must exist, as in MLflow.
   */
  createModelVersion(
    input: { name: string; source: string; runId?: string; modelId?: string; description?: string; tags: { key: string; value: string }[] },
    actor: string
  ) {
    this.model(input.name);
    for (const { key, value } of input.tags) checkTag(key, value);
    const resolved = this.resolveSource(input.source, input.modelId);
    const runId = input.runId || resolved.runId;
    if (runId) this.deps.runs.record(runId);
    const info = readModelDirectory((path) => {
      const file = resolved.files.find((candidate) => candidate.path === path);
      return file ? fs.readFileSync(this.deps.blobs.pathOf(file.digest)) : undefined;
    });
    const version = this.deps.models.createVersionFromFiles(
      input.name,
      {
        runId: runId ?? null,
        artifactPath: resolved.artifactPath,
        files: resolved.files,
        flavor: info.flavor,
        signature: info.signature,
        inputExample: info.inputExample,
        requirements: info.requirements,
        profile: null,
        description: input.description ?? '',
        tags: Object.fromEntries(input.tags.map(({ key, value }) => [key, value])),
        source: 'mlflow'
      },
      actor
    );
    this.deps.loggedModelStore.recordVersionSource(version.id, input.source, resolved.loggedModelId);
    return { model_version: this.toModelVersion(version) };
  }

  getModelVersion(name: string, version: string | number) {
    return { model_version: this.toModelVersion(this.version(name, version)) };
  }

  updateModelVersion(name: string, version: string | number, description: string | undefined) {
    const number = this.version(name, version).version;
    return { model_version: this.toModelVersion(this.deps.models.updateVersion(name, String(number), { description })) };
  }

  deleteModelVersion(name: string, version: string | number): never {
    const found = this.version(name, version);
    throw invalid(
      `Runlab keeps every version of a model (versions are immutable; deployments and lineage refer to them): v${found.version} of '${name}' cannot be deleted alone. Move its aliases elsewhere, or delete the whole registered model`
    );
  }

  transitionStage(name: string, version: string | number): never {
    this.version(name, version);
    throw invalid(STAGES_UNSUPPORTED);
  }

  searchModelVersions(input: { filter?: string; maxResults: number; orderBy: string[]; pageToken?: string }) {
    const clauses = parseFilter(input.filter, ['name', 'run_id', 'version_number', 'source_path']);
    const byName = clauses.find((clause) => !clause.tag && clause.key === 'name' && clause.operator === '=');
    const models = byName
      ? this.deps.models.listModels({ limit: 1000 }).filter((model) => model.name === byName.values[0])
      : this.deps.models.listModels({ limit: 1000 });
    const versions = models
      .flatMap((model) => this.deps.models.listVersions(model.name))
      .filter((version) =>
        clauses.every((clause) => {
          if (clause.tag) return matches(clause, version.tags[clause.key]);
          if (clause.key === 'name') return matches(clause, version.modelName);
          if (clause.key === 'run_id') return matches(clause, version.runId ?? undefined);
          if (clause.key === 'version_number') return matches(clause, String(version.version));
          return matches(clause, this.toModelVersion(version).source as string);
        })
      );
    const sorted = sortBy(versions, input.orderBy.length ? input.orderBy : ['name ASC', 'version_number DESC'], {
      name: (version) => version.modelName,
      version_number: (version) => version.version,
      timestamp: (version) => ms(version.createdAt),
      creation_timestamp: (version) => ms(version.createdAt),
      last_updated_timestamp: (version) => ms(version.createdAt)
    });
    const { items, next } = page(sorted, input.maxResults, input.pageToken);
    return { model_versions: items.map((version) => this.toModelVersion(version)), ...(next ? { next_page_token: next } : {}) };
  }

  getDownloadUri(name: string, version: string | number) {
    return { artifact_uri: this.downloadUri(this.version(name, version)) };
  }

  setModelVersionTag(name: string, version: string | number, key: string, value: string): Record<string, never> {
    checkTag(key, value);
    const found = this.version(name, version);
    this.deps.models.updateVersion(name, String(found.version), { tags: { ...found.tags, [key]: value } });
    return {};
  }

  deleteModelVersionTag(name: string, version: string | number, key: string): Record<string, never> {
    const found = this.version(name, version);
    if (!(key in found.tags)) throw notFound(`Tag '${key}' of version ${found.version} of registered model '${name}'`);
    const tags = { ...found.tags };
    delete tags[key];
    this.deps.models.updateVersion(name, String(found.version), { tags });
    return {};
  }

  // ------------------------------------------------------------------------------------------

  private model(name: string): Model {
    try {
      return this.deps.models.getModel(name);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw notFound(`Registered Model with name=${name}`);
      throw error;
    }
  }

  private version(name: string, version: string | number): ModelVersion {
    this.model(name);
    const number = versionNumber(version);
    try {
      return this.deps.models.getVersion(name, number);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw notFound(`Model Version (name=${name}, version=${number})`);
      throw error;
    }
  }

  private resolveSource(
    source: string,
    modelId: string | undefined
  ): { files: ModelFile[]; runId: string | null; artifactPath: string; loggedModelId: string | null } {
    const fromLoggedModel = (id: string) => {
      const logged = this.deps.loggedModels.record(id);
      const files = this.deps.loggedModels.files(id);
      if (files.length === 0) throw invalid(`Logged model '${id}' has no files: upload the model directory before registering it`);
      return { files, runId: logged.runId, artifactPath: logged.name, loggedModelId: id };
    };
    const underFolder = (files: readonly ModelFile[], folder: string): ModelFile[] => {
      const prefix = folder ? `${folder.replace(/\/+$/, '')}/` : '';
      return files
        .filter((file) => file.path.startsWith(prefix))
        .map((file) => ({ path: file.path.slice(prefix.length), size: file.size, digest: file.digest }));
    };
    const loggedId = /^models:\/(m-[0-9a-f]{32})\/?$/.exec(source)?.[1];
    if (modelId || loggedId) return fromLoggedModel((modelId || loggedId) as string);

    const registered = /^models:\/([^/@]+)\/([1-9][0-9]*)\/?$/.exec(source);
    if (registered) {
      const version = this.version(registered[1], registered[2]);
      const folder = modelFolder(version.files);
      return {
        files: underFolder(version.files, folder),
        runId: version.runId,
        artifactPath: folder,
        loggedModelId: null
      };
    }

    const runsUri = /^runs:\/([^/]+)\/(.+)$/.exec(source);
    const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+)$/.exec(source);
    let place: { kind: string; id: string; path: string } | undefined;
    if (runsUri) place = { kind: 'runs', id: runsUri[1], path: runsUri[2].replace(/\/+$/, '') };
    else if (proxied) place = parseArtifactPath(proxied[1], false);
    if (!place) {
      throw invalid(
        `Runlab registers models whose files it stores, and '${source}' is outside it: log the model with mlflow.<flavor>.log_model against this server, then register models:/<model id> or runs:/<run id>/<path>`
      );
    }
    if (place.kind === 'logged-models') {
      const logged = fromLoggedModel(place.id);
      return { ...logged, files: underFolder(logged.files, place.path) };
    }
    if (place.kind === 'model-versions') {
      const version = this.deps.models.versionById(place.id);
      return { files: underFolder(version.files, place.path), runId: version.runId, artifactPath: place.path, loggedModelId: null };
    }
    const run = this.deps.runs.get(place.id);
    const files = underFolder(run.artifacts, place.path);
    if (files.length === 0) throw notFound(`Artifacts under '${place.path}' of run '${place.id}'`);
    return { files, runId: run.id, artifactPath: place.path, loggedModelId: null };
  }
}
