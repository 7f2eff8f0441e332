/**
 * The model registry: models (a name), their immutable versions (files, flavor, signature,
 * requirements, a reference profile, the run that logged them), and movable aliases with their
 * full history.
 *
 * A version's files are an MLflow model directory (`MLmodel`, the model file, requirements):
 * the Python client writes one for `runlab.model(...)`, `mlflow.sklearn.log_model` uploads one,
 * and `runlab.load_model` / `mlflow.pyfunc.load_model` / the serving runtime read either. The
 * files are copied from the run's artifacts when the version is created, so a version never
 * changes, whatever happens to the run later.
 *
 * Model names are global (as in MLflow's registry); each version records its run's project.
 */
import { z } from 'zod';
import { QueryWholeNumber, RelativePath, userRecord } from './refs';
import { route } from './route';

export const ModelName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a model name: start with a letter or digit; use letters, digits, . _ -');

/** Aliases are names, never a version (`v3`) or `latest`, so `churn@<x>` always reads one way. */
export const AliasName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'an alias: start with a letter; use letters, digits, _ -')
  .refine((name) => name !== 'latest' && !/^v[0-9]+$/.test(name), 'an alias cannot be `latest` or look like a version (v3)');

/** What picks a version in URLs and refs: `3`, `v3`, `latest` or an alias (`production`). */
export const VersionSelector = z
  .string()
  .min(1)
  .max(64)
  .regex(/^(latest|v?[1-9][0-9]{0,8}|[A-Za-z][A-Za-z0-9_-]*)$/, 'a version (3, v3), latest, or an alias (production)');

/** `churn`, `churn@v3`, `churn@latest`, `churn@production`: what `runlab.load_model` takes. */
export const ModelRefPattern = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:@(latest|v?[1-9][0-9]{0,8}|[A-Za-z][A-Za-z0-9_-]{0,63}))?$/;

const Description = z.string().max(10_000);
const TagKey = z
  .string()
  .min(1)
  .max(250)
  .regex(/^[A-Za-z0-9_.\-/ ]+$/, 'a tag key: letters, digits, spaces and _ . - /');
const Tags = userRecord(TagKey, z.string().max(5000));

/**
 * Open Inference Protocol datatypes: what a signature field holds and what `/v2/.../infer`
 * takes. `BYTES` is strings (UTF-8) and raw bytes.
 */
export const OipDatatype = z.enum([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES'
]);
export type OipDatatype = z.infer<typeof OipDatatype>;

/**
 * One input or output of a model: a named column of a table (`kind: column`, shape `[-1]`), or a
 * tensor (`kind: tensor`, e.g. shape `[-1, 4]`; -1 is any length). Unnamed tensors (a plain
 * array example) have `name: null`.
 */
export const SignatureField = z.strictObject({
  name: z.string().max(250).nullable(),
  kind: z.enum(['column', 'tensor']),
  datatype: OipDatatype,
  shape: z.array(z.number().int().min(-1)).max(32),
  required: z.boolean().default(true)
});
export type SignatureField = z.infer<typeof SignatureField>;

export const ModelSignature = z.strictObject({
  inputs: z.array(SignatureField).min(1).max(10_000),
  /** null when the example's predictions could not be described. */
  outputs: z.array(SignatureField).max(10_000).nullable()
});
export type ModelSignature = z.infer<typeof ModelSignature>;

/** scikit-learn estimators and pipelines, ONNX files, a Python function or object with `predict`. */
export const ModelFlavor = z.enum(['sklearn', 'onnx', 'python']);
export type ModelFlavor = z.infer<typeof ModelFlavor>;

const FiniteOrNull = z.number().nullable();

/**
 * A compact summary of one feature (or of the predictions) over the training inputs, enough to
 * check drift against later: counts, moments, quantiles, a histogram and a small uniform sample
 * for numeric values; the most frequent categories for the others.
 */
export const FeatureProfile = z.strictObject({
  name: z.string().max(250),
  kind: z.enum(['numeric', 'categorical']),
  count: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  numeric: z
    .strictObject({
      min: FiniteOrNull,
      max: FiniteOrNull,
      mean: FiniteOrNull,
      std: FiniteOrNull,
      /** Quantiles at 0, 0.01, …, 1 (101 values). */
      quantiles: z.array(z.number()).max(101),
      histogram: z.strictObject({ edges: z.array(z.number()).max(65), counts: z.array(z.number().int().nonnegative()).max(64) }),
      /** At most 1000 values drawn uniformly (seeded), for two-sample tests. */
      sample: z.array(z.number()).max(1000)
    })
    .nullable(),
  categorical: z
    .strictObject({
      /** The 100 most frequent categories and their counts. */
      counts: z.record(z.string().max(500), z.number().int().nonnegative()),
      /** Rows whose category is not in `counts`. */
      other: z.number().int().nonnegative(),
      distinct: z.number().int().nonnegative()
    })
    .nullable()
});
export type FeatureProfile = z.infer<typeof FeatureProfile>;

export const ReferenceProfile = z.strictObject({
  rows: z.number().int().nonnegative(),
  features: z.array(FeatureProfile).max(10_000),
  /** The model's predictions on the same rows (one per output column). */
  predictions: z.array(FeatureProfile).max(100)
});
export type ReferenceProfile = z.infer<typeof ReferenceProfile>;

/** A file of a version, content-addressed (the blob store's sha256 digest). */
export const ModelFile = z.strictObject({ path: z.string(), size: z.number().int().nonnegative(), digest: z.string() });
export type ModelFile = z.infer<typeof ModelFile>;

export const ModelVersionSource = z.enum(['runlab', 'mlflow']);

export const ModelVersion = z.strictObject({
  id: z.string(),
  modelName: z.string(),
  version: z.number().int().positive(),
  flavor: z.string(),
  description: z.string(),
  tags: z.record(z.string(), z.string()),
  /** How it was logged: `runlab.model(...)` or an MLflow client. */
  source: ModelVersionSource,
  /** Lineage: the run that logged it, its project, its snapshot commit, the dataset versions the run read. */
  runId: z.string().nullable(),
  runName: z.string().nullable(),
  projectName: z.string().nullable(),
  notebookPath: z.string().nullable(),
  snapshotCommit: z.string().nullable(),
  datasetVersions: z.array(z.strictObject({ id: z.string(), ref: z.string() })),
  /** The run's latest value of each metric, for comparing versions. */
  runMetrics: z.record(z.string(), z.number().nullable()),
  signature: ModelSignature.nullable(),
  /** A few rows in the shape of the signature (JSON), for the try-it box and request examples. */
  inputExample: z.unknown().nullable(),
  /** The Python packages the model needs, pinned (`scikit-learn==1.9.1`). */
  requirements: z.array(z.string()),
  hasProfile: z.boolean(),
  /** Where the model lives inside `files` (`""` when the files are the model directory itself). */
  files: z.array(ModelFile),
  sizeBytes: z.number().int().nonnegative(),
  /** The aliases on it now. */
  aliases: z.array(z.string()),
  createdAt: z.string(),
  createdBy: z.string()
});
export type ModelVersion = z.infer<typeof ModelVersion>;

export const Model = z.strictObject({
  name: z.string(),
  description: z.string(),
  tags: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  versionCount: z.number().int().nonnegative(),
  latestVersion: z.number().int().positive().nullable(),
  /** Alias → version number. */
  aliases: z.record(z.string(), z.number().int().positive()),
  /** Projects of its versions' runs. */
  projects: z.array(z.string())
});
export type Model = z.infer<typeof Model>;

/** One move of an alias: who moved it, when, from which version to which, and why. */
export const AliasMove = z.strictObject({
  id: z.number().int().positive(),
  modelName: z.string(),
  alias: z.string(),
  /** null: the alias was new. */
  fromVersion: z.number().int().positive().nullable(),
  /** null: the alias was removed. */
  toVersion: z.number().int().positive().nullable(),
  reason: z.string(),
  /** `set`, `removed`, or `rollback` (moved back to the holder before the last move). */
  action: z.enum(['set', 'removed', 'rollback']),
  movedBy: z.string(),
  movedAt: z.string()
});
export type AliasMove = z.infer<typeof AliasMove>;

export const ModelParams = z.strictObject({ name: ModelName });
export const ModelVersionParams = z.strictObject({ name: ModelName, version: VersionSelector });
export const AliasParams = z.strictObject({ name: ModelName, alias: AliasName });

export const ListModelsQuery = z.strictObject({
  /** Only models with a version logged in this project. */
  project: z.string().min(1).max(64).optional(),
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(1000)).default(200)
});
export const ModelListResponse = z.strictObject({ models: z.array(Model) });

export const CreateModelRequest = z.strictObject({
  name: ModelName,
  description: Description.default(''),
  tags: Tags.default({})
});
export type CreateModelRequest = z.input<typeof CreateModelRequest>;

export const UpdateModelRequest = z.strictObject({ description: Description.optional(), tags: Tags.optional() });
export type UpdateModelRequest = z.input<typeof UpdateModelRequest>;

/**
 * A new version from files the run stored as artifacts below `artifactPath` (a folder, e.g.
 * `models/churn`): they are copied into the version, which never changes afterwards. The model is
 * created when it does not exist yet.
 */
export const CreateModelVersionRequest = z.strictObject({
  runId: z.string().min(1).max(100),
  artifactPath: RelativePath,
  flavor: z.string().min(1).max(100),
  signature: ModelSignature.nullable().default(null),
  inputExample: z.unknown().default(null),
  requirements: z.array(z.string().min(1).max(300)).max(500).default([]),
  profile: ReferenceProfile.nullable().default(null),
  description: Description.default(''),
  tags: Tags.default({}),
  source: ModelVersionSource.default('runlab')
});
export type CreateModelVersionRequest = z.input<typeof CreateModelVersionRequest>;

export const UpdateModelVersionRequest = z.strictObject({ description: Description.optional(), tags: Tags.optional() });

export const ModelVersionListResponse = z.strictObject({ versions: z.array(ModelVersion) });

export const ModelFileQuery = z.strictObject({ path: RelativePath });

/**
 * Moves (or creates) an alias. `expectedVersion` makes the move conditional: when the alias no
 * longer points there (someone moved it meanwhile), the move is refused with 409 and nothing
 * changes — no lost update. null expects the alias not to exist yet.
 */
export const SetAliasRequest = z.strictObject({
  version: z.number().int().positive(),
  reason: z.string().max(2000).default(''),
  expectedVersion: z.number().int().positive().nullable().optional()
});
export type SetAliasRequest = z.input<typeof SetAliasRequest>;

export const AliasReasonRequest = z.strictObject({ reason: z.string().max(2000).default('') });
export const AliasReasonQuery = z.strictObject({ reason: z.string().max(2000).default('') });

export const AliasHistoryQuery = z.strictObject({
  alias: AliasName.optional(),
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(1000)).default(200)
});
export const AliasHistoryResponse = z.strictObject({ moves: z.array(AliasMove) });

const TAG = 'models';

export const modelsApi = {
  listModels: route({
    method: 'get',
    path: '/api/models',
    summary: 'Registered models, most recently updated first',
    tag: TAG,
    scope: 'user',
    query: ListModelsQuery,
    status: 200,
    response: ModelListResponse
  }),
  createModel: route({
    method: 'post',
    path: '/api/models',
    summary: 'Register a model name (versions are added by runs)',
    tag: TAG,
    scope: 'user',
    body: CreateModelRequest,
    status: 201,
    response: Model,
    errors: ['conflict']
  }),
  getModel: route({
    method: 'get',
    path: '/api/models/:name',
    summary: 'A model with its aliases',
    tag: TAG,
    scope: 'user',
    params: ModelParams,
    status: 200,
    response: Model,
    errors: ['not_found']
  }),
  updateModel: route({
    method: 'patch',
    path: '/api/models/:name',
    summary: "Change a model's description or tags",
    tag: TAG,
    scope: 'user',
    params: ModelParams,
    body: UpdateModelRequest,
    status: 200,
    response: Model,
    errors: ['not_found']
  }),
  deleteModel: route({
    method: 'delete',
    path: '/api/models/:name',
    summary: 'Delete a model and its versions (refused while a deployment serves one)',
    tag: TAG,
    scope: 'user',
    params: ModelParams,
    status: 204,
    errors: ['not_found', 'conflict']
  }),
  listModelVersions: route({
    method: 'get',
    path: '/api/models/:name/versions',
    summary: "A model's versions, newest first",
    tag: TAG,
    scope: 'user',
    params: ModelParams,
    status: 200,
    response: ModelVersionListResponse,
    errors: ['not_found']
  }),
  createModelVersion: route({
    method: 'post',
    path: '/api/models/:name/versions',
    summary: "Log a new version from a run's artifacts (creates the model if needed)",
    tag: TAG,
    scope: 'user',
    params: ModelParams,
    body: CreateModelVersionRequest,
    largeBody: true,
    status: 201,
    response: ModelVersion,
    errors: ['not_found']
  }),
  getModelVersion: route({
    method: 'get',
    path: '/api/models/:name/versions/:version',
    summary: 'A version by number (3, v3), latest, or alias (production)',
    tag: TAG,
    scope: 'user',
    params: ModelVersionParams,
    status: 200,
    response: ModelVersion,
    errors: ['not_found']
  }),
  updateModelVersion: route({
    method: 'patch',
    path: '/api/models/:name/versions/:version',
    summary: "Change a version's description or tags (everything else is immutable)",
    tag: TAG,
    scope: 'user',
    params: ModelVersionParams,
    body: UpdateModelVersionRequest,
    status: 200,
    response: ModelVersion,
    errors: ['not_found']
  }),
  getModelVersionProfile: route({
    method: 'get',
    path: '/api/models/:name/versions/:version/profile',
    summary: "The version's reference profile of its training inputs and predictions",
    tag: TAG,
    scope: 'user',
    params: ModelVersionParams,
    status: 200,
    response: ReferenceProfile,
    errors: ['not_found']
  }),
  downloadModelFile: route({
    method: 'get',
    path: '/api/models/:name/versions/:version/files',
    summary: 'The bytes of one of the version’s files (?path=)',
    tag: TAG,
    scope: 'user',
    params: ModelVersionParams,
    query: ModelFileQuery,
    rawResponse: { description: 'The file content' },
    status: 200,
    errors: ['not_found']
  }),
  setModelAlias: route({
    method: 'put',
    path: '/api/models/:name/aliases/:alias',
    summary: 'Point an alias at a version (recorded in its history)',
    tag: TAG,
    scope: 'user',
    params: AliasParams,
    body: SetAliasRequest,
    status: 200,
    response: AliasMove,
    errors: ['not_found', 'conflict']
  }),
  deleteModelAlias: route({
    method: 'delete',
    path: '/api/models/:name/aliases/:alias',
    summary: 'Remove an alias (recorded in its history)',
    tag: TAG,
    scope: 'user',
    params: AliasParams,
    query: AliasReasonQuery,
    status: 200,
    response: AliasMove,
    errors: ['not_found']
  }),
  rollbackModelAlias: route({
    method: 'post',
    path: '/api/models/:name/aliases/:alias/rollback',
    summary: 'Move an alias back to the version it pointed at before its last move',
    tag: TAG,
    scope: 'user',
    params: AliasParams,
    body: AliasReasonRequest,
    status: 200,
    response: AliasMove,
    errors: ['not_found', 'conflict']
  }),
  getAliasHistory: route({
    method: 'get',
    path: '/api/models/:name/alias-history',
    summary: "Every move of the model's aliases (or of one, ?alias=), newest first",
    tag: TAG,
    scope: 'user',
    params: ModelParams,
    query: AliasHistoryQuery,
    status: 200,
    response: AliasHistoryResponse,
    errors: ['not_found']
  })
};

/** Live events of the registry, to every signed-in browser. */
export interface ModelEvents {
  'model:updated': (model: Model) => void;
  'model:version-created': (version: ModelVersion) => void;
  'model:alias-moved': (move: AliasMove) => void;
  'model:deleted': (payload: { name: string }) => void;
}
