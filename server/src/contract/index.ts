/**
 * The one contract between Runlab's parts: every request body, response and socket event.
 *
 * The server validates with these schemas, the OpenAPI document at /api/openapi.json is
 * generated from them, and the extension imports their inferred types (type-only, so no zod
 * code reaches the browser bundle). Keep this module free of server-only imports.
 */
import { z } from 'zod';

/** Error body of every failed request: `{ "error": { "code", "message", "details" } }`. */
export const ErrorCode = z.enum([
  'invalid_json',
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  /** Stored bytes no longer match their hash (HTTP 500); `runlab fsck` lists what is affected. */
  'data_corrupt',
  'internal',
  /** The server's disk (or quota) is full (HTTP 507); the request was not completed. */
  'insufficient_storage'
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const FieldProblem = z.strictObject({
  /** Dotted path of the offending field, e.g. `body.name` or `query.limit`. */
  path: z.string(),
  message: z.string()
});
export type FieldProblem = z.infer<typeof FieldProblem>;

export const ErrorResponse = z.strictObject({
  error: z.strictObject({
    code: ErrorCode,
    message: z.string(),
    details: z.array(FieldProblem).optional()
  })
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

// ---------------------------------------------------------------------------------------------
// health

export const HealthResponse = z.strictObject({
  status: z.literal('ok'),
  /** The companion server's version; the extension warns when it differs from its own. */
  version: z.string()
});
export type HealthResponse = z.infer<typeof HealthResponse>;

// ---------------------------------------------------------------------------------------------
// auth: tokens

export const TokenScope = z.enum(['user', 'runner']);
export type TokenScope = z.infer<typeof TokenScope>;

export const TokenInfo = z.strictObject({
  id: z.string(),
  name: z.string(),
  scope: TokenScope,
  /** First characters of the secret, so a user can tell tokens apart; never the secret. */
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable()
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const TokenName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w .@-]+$/, 'use letters, digits, spaces and . _ - @');

export const CreateTokenRequest = z.strictObject({
  name: TokenName,
  scope: TokenScope.default('user')
});
export type CreateTokenRequest = z.input<typeof CreateTokenRequest>;

export const CreateTokenResponse = z.strictObject({
  token: TokenInfo,
  /** The secret, shown once; only its hash is stored. */
  secret: z.string()
});
export type CreateTokenResponse = z.infer<typeof CreateTokenResponse>;

export const TokenListResponse = z.strictObject({ tokens: z.array(TokenInfo) });
export type TokenListResponse = z.infer<typeof TokenListResponse>;

/** Who the presented token belongs to: GET /api/auth/whoami. */
export const WhoAmIResponse = z.strictObject({
  tokenId: z.string(),
  name: z.string(),
  scope: TokenScope
});
export type WhoAmIResponse = z.infer<typeof WhoAmIResponse>;

// ---------------------------------------------------------------------------------------------
// projects

export const ProjectName = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'start with a letter or digit; use letters, digits, . _ -'
  );

export const Project = z.strictObject({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The head commit of the project's git repository. */
  headCommit: z.string().nullable()
});
export type Project = z.infer<typeof Project>;

export const CreateProjectRequest = z.strictObject({
  name: ProjectName,
  description: z.string().max(2000).default('')
});
export type CreateProjectRequest = z.input<typeof CreateProjectRequest>;

export const UpdateProjectRequest = z.strictObject({
  name: ProjectName.optional(),
  description: z.string().max(2000).optional()
});
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const ProjectListQuery = z.strictObject({
  /** Exact project name, to find one project by name. */
  name: z.string().optional()
});

export const ProjectListResponse = z.strictObject({ projects: z.array(Project) });
export type ProjectListResponse = z.infer<typeof ProjectListResponse>;

export const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

/**
 * A relative path coming from a client (artifact names, snapshot files): `/`-separated, never
 * absolute, no `..` or `.` segments, no empty segments, no backslashes or NUL. Checked here so
 * a traversal attempt is a 400 naming the field before any file is touched.
 */
export const RelativePath = z
  .string()
  .min(1)
  .max(1000)
  .superRefine((value, ctx) => {
    const problem = relativePathProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Why a client-supplied relative path is unsafe, or null when it is fine. */
export function relativePathProblem(value: string): string | null {
  if (value.includes('\\')) return 'use / as the separator; backslashes are not allowed';
  if (value.includes('\0')) return 'NUL characters are not allowed';
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value)) return 'must be relative, not absolute';
  for (const segment of value.split('/')) {
    if (segment === '') return 'empty path segments (leading, trailing or doubled /) are not allowed';
    if (segment === '..' || segment === '.') return '"." and ".." segments are not allowed';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// runs: params, metric series, tags, inputs/outputs, artifacts, snapshot, environment

export const RunStatus = z.enum(['running', 'finished', 'failed', 'killed']);
export type RunStatus = z.infer<typeof RunStatus>;

/** Keys of params, metrics and tags: what MLflow accepts, so both clients interoperate. */
export const LogKey = z
  .string()
  .min(1)
  .max(250)
  .regex(/^[\w\-. /:]+$/, 'use letters, digits, spaces and _ - . / :');

/** Params are kept as strings (MLflow semantics); the client stringifies numbers and bools. */
export const ParamValue = z.string().max(6000);
export const TagValue = z.string().max(8000);

export const MetricSummary = z.strictObject({
  latest: z.number(),
  /** Step of the latest point (the point with the greatest step, then the latest time). */
  step: z.number().int(),
  min: z.number(),
  max: z.number(),
  count: z.number().int(),
  updatedAt: z.string()
});
export type MetricSummary = z.infer<typeof MetricSummary>;

export const RunIO = z.strictObject({
  /** `path`: a file or folder; `dataset`: `name@version`; `artifact`: a file stored with the run. */
  kind: z.enum(['path', 'dataset', 'artifact']),
  name: z.string().min(1).max(1000),
  /** Content hash when known (sha256 hex). */
  digest: z.string().nullable().default(null)
});
export type RunIO = z.infer<typeof RunIO>;

export const Artifact = z.strictObject({
  /** Path relative to the run's artifact root; never absolute, never `..`. */
  path: z.string(),
  size: z.number().int(),
  /** sha256 hex of the content; the blob store is addressed by it. */
  digest: z.string(),
  createdAt: z.string()
});
export type Artifact = z.infer<typeof Artifact>;

export const RunEnvironment = z.strictObject({
  python: z.string().max(200),
  platform: z.string().max(200),
  hostname: z.string().max(255),
  /** Installed distributions: name → version. */
  packages: z.record(z.string().max(200), z.string().max(200))
});
export type RunEnvironment = z.infer<typeof RunEnvironment>;

export const RunSnapshot = z.strictObject({
  /** The commit in the project's git repository holding the notebook and local modules. */
  commit: z.string(),
  notebookPath: z.string(),
  /**
   * The files this snapshot wrote (the notebook and the local modules the kernel imported),
   * sorted. The commit's tree also keeps the project's other files from earlier commits.
   */
  files: z.array(z.string()),
  /** True when an identical earlier snapshot's commit was reused. */
  reused: z.boolean()
});
export type RunSnapshot = z.infer<typeof RunSnapshot>;

export const RunError = z.strictObject({
  message: z.string().max(10000),
  traceback: z.string().max(200000).nullable().default(null)
});

export const RunSource = z.strictObject({
  kind: z.enum(['notebook', 'cell', 'script', 'mlflow', 'api']),
  /** For `cell` runs (`%%track`): the cell's source. */
  cell: z.string().max(200000).nullable().default(null)
});

export const Run = z.strictObject({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  name: z.string(),
  status: RunStatus,
  notebookPath: z.string().nullable(),
  source: RunSource,
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  params: z.record(z.string(), z.string()),
  tags: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), MetricSummary),
  inputs: z.array(RunIO),
  outputs: z.array(RunIO),
  /** Empty (`[]`) in run lists and compare answers, for speed; present when getting one run. */
  artifacts: z.array(Artifact),
  snapshot: RunSnapshot.nullable(),
  /** Left out (null) in run lists and compare answers; present when getting one run. */
  environment: RunEnvironment.nullable(),
  error: RunError.nullable(),
  /** The browser tab whose kernel started the run; that tab sends the notebook snapshot. */
  frontendId: z.string().nullable()
});
export type Run = z.infer<typeof Run>;

export const SnapshotFile = z.strictObject({
  /** Project-relative path; never absolute, never `..`. */
  path: RelativePath,
  content: z.string()
});

export const CreateRunRequest = z.strictObject({
  /** Project name; created on first use. */
  project: ProjectName,
  name: z.string().max(250).optional(),
  params: z.record(LogKey, ParamValue).default({}),
  tags: z.record(LogKey, TagValue).default({}),
  notebookPath: z.string().max(1000).nullable().default(null),
  source: RunSource.default({ kind: 'api', cell: null }),
  environment: RunEnvironment.nullable().default(null),
  frontendId: z.string().max(100).nullable().default(null),
  /**
   * The project-local modules the kernel had imported when the run started. Kept with the run
   * and committed together with the notebook when the browser's snapshot arrives — the kernel
   * is busy running the user's code by then and cannot be asked.
   */
  moduleFiles: z.array(SnapshotFile).max(1000).default([]),
  /**
   * Makes a retried create safe: a create whose key the server has seen answers with the run
   * it created then, instead of starting a second one.
   */
  idempotencyKey: z.string().min(8).max(100).optional(),
  /** Client-side start time (ISO 8601), so queued creates keep the real time. */
  startedAt: z.iso.datetime({ offset: true }).optional()
});
export type CreateRunRequest = z.input<typeof CreateRunRequest>;

export const UpdateRunRequest = z.strictObject({
  name: z.string().max(250).optional(),
  status: RunStatus.optional(),
  endedAt: z.iso.datetime({ offset: true }).optional(),
  error: RunError.nullable().optional()
});
export type UpdateRunRequest = z.input<typeof UpdateRunRequest>;

export const MetricPointInput = z.strictObject({
  key: LogKey,
  value: z.number(),
  /** Omitted: one more than the key's latest step (0 for the first point). */
  step: z.number().int().min(0).optional(),
  /** Milliseconds since the epoch; omitted: the server's time. */
  timestamp: z.number().int().min(0).optional()
});
export type MetricPointInput = z.infer<typeof MetricPointInput>;

const MAX_BATCH_POINTS = 100000;

/**
 * An array of at most MAX_BATCH_POINTS finite numbers (or nulls, when allowed), checked in one
 * loop: zod's per-element parsing costs more than the rest of ingest for a large batch.
 */
const numberColumn = <Nullable extends boolean>(nullable: Nullable, description: string) =>
  z
    .custom<Nullable extends true ? (number | null)[] : number[]>(
      (value) => {
        if (!Array.isArray(value) || value.length > MAX_BATCH_POINTS) return false;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (typeof item !== 'number' || !Number.isFinite(item)) {
            if (!(nullable && item === null)) return false;
          }
        }
        return true;
      },
      { message: `expected an array of at most ${MAX_BATCH_POINTS} ${nullable ? 'numbers or nulls' : 'numbers'}` }
    )
    .meta({
      type: 'array',
      maxItems: MAX_BATCH_POINTS,
      items: nullable ? { type: ['number', 'null'] } : { type: 'number' },
      description
    });

/**
 * Metric points as columns, the compact form for high-volume clients: point i is
 * (keys[keyIndex[i]], values[i], steps[i], timestamps[i]). The arrays are checked in plain loops
 * (lengths, whole numbers, ranges), not point by point through zod.
 */
export const MetricColumns = z
  .strictObject({
    /** The batch's distinct metric keys. */
    keys: z.array(LogKey).min(1).max(10000),
    keyIndex: numberColumn(false, 'Per point, its key as an index into keys.'),
    values: numberColumn(false, 'Per point, its value.'),
    steps: numberColumn(true, "Per point, its step (a whole number >= 0); null: one more than the key's latest step."),
    timestamps: numberColumn(false, 'Per point, milliseconds since the epoch.')
  })
  .superRefine((columns, context) => {
    const { keys, keyIndex, steps, timestamps } = columns;
    const count = keyIndex.length;
    for (const name of ['values', 'steps', 'timestamps'] as const) {
      if (columns[name].length !== count) {
        context.addIssue({ code: 'custom', path: [name], message: `must have as many entries as keyIndex (${count})` });
        return;
      }
    }
    const keyCount = keys.length;
    for (let i = 0; i < count; i++) {
      const index = keyIndex[i];
      if (!(Number.isInteger(index) && index >= 0 && index < keyCount)) {
        context.addIssue({ code: 'custom', path: ['keyIndex', i], message: `must be a whole number from 0 to ${keyCount - 1}` });
        return;
      }
      const step = steps[i];
      if (step !== null && !(Number.isInteger(step) && step >= 0)) {
        context.addIssue({ code: 'custom', path: ['steps', i], message: 'must be a whole number >= 0, or null' });
        return;
      }
      const timestamp = timestamps[i];
      if (!(Number.isInteger(timestamp) && timestamp >= 0)) {
        context.addIssue({ code: 'custom', path: ['timestamps', i], message: 'must be a whole number >= 0' });
        return;
      }
    }
  });
export type MetricColumns = z.infer<typeof MetricColumns>;

/**
 * One batch from a client. The idempotency key makes retries safe: a batch whose key the run
 * has already seen is acknowledged and not applied again. Points come as `metrics` (objects),
 * `metricColumns` (columns, for high-volume clients), or both (`metrics` are stored first).
 */
export const LogBatchRequest = z.strictObject({
  idempotencyKey: z.string().min(8).max(100),
  params: z.record(LogKey, ParamValue).default({}),
  tags: z.record(LogKey, TagValue).default({}),
  metrics: z.array(MetricPointInput).max(MAX_BATCH_POINTS).default([]),
  metricColumns: MetricColumns.optional(),
  inputs: z.array(RunIO).max(1000).default([]),
  outputs: z.array(RunIO).max(1000).default([])
});
export type LogBatchRequest = z.input<typeof LogBatchRequest>;

export const LogBatchResponse = z.strictObject({
  /** Points stored by this call (0 for a duplicate). */
  stored: z.number().int(),
  duplicate: z.boolean()
});
export type LogBatchResponse = z.infer<typeof LogBatchResponse>;

/**
 * Run list filters, each `params.<key><op><value>`, `metrics.<key><op><number>` or
 * `tags.<key><op><value>`, with op one of = != > >= < <=; repeat `filter` to AND them.
 * Sort: `startedAt`, `name`, `status`, `metrics.<key>` or `params.<key>`, then `:asc` / `:desc`.
 */
export const RunListQuery = z.strictObject({
  project: z.string().optional(),
  status: RunStatus.optional(),
  notebookPath: z.string().optional(),
  filter: z.union([z.string(), z.array(z.string())]).optional(),
  sort: z.string().default('startedAt:desc'),
  limit: z.coerce.number().int().min(1).max(10000).default(100),
  offset: z.coerce.number().int().min(0).default(0)
});
export type RunListQuery = z.input<typeof RunListQuery>;

export const RunListResponse = z.strictObject({
  runs: z.array(Run),
  /** All runs matching the filters, ignoring limit/offset. */
  total: z.number().int()
});
export type RunListResponse = z.infer<typeof RunListResponse>;

export const MetricPoint = z.strictObject({
  step: z.number().int(),
  value: z.number(),
  timestamp: z.number().int()
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** Path of `GET /api/runs/:id/metrics/:key`; send the key URL-encoded (`train%2Floss`). */
export const RunMetricParams = z.strictObject({ id: z.string().min(1).max(100), key: LogKey });

export const MetricHistoryQuery = z.strictObject({
  /** At most this many points come back (downsampled keeping the shape); full resolution on zoom. */
  maxPoints: z.coerce.number().int().min(2).max(100000).default(2000),
  minStep: z.coerce.number().int().optional(),
  maxStep: z.coerce.number().int().optional()
});

export const MetricHistoryResponse = z.strictObject({
  runId: z.string(),
  key: z.string(),
  points: z.array(MetricPoint),
  /** Points in the requested step range before downsampling. */
  total: z.number().int(),
  downsampled: z.boolean()
});
export type MetricHistoryResponse = z.infer<typeof MetricHistoryResponse>;

export const CompareQuery = z.strictObject({
  /** Comma-separated run ids, 2 to 100 (duplicates are ignored). */
  ids: z
    .string()
    .min(1)
    .refine(
      (value) => {
        const count = new Set(value.split(',').filter(Boolean)).size;
        return count >= 2 && count <= 100;
      },
      { message: 'give 2 to 100 comma-separated run ids' }
    ),
  maxPoints: z.coerce.number().int().min(2).max(100000).default(2000)
});

/** A downsampled series as two equal-length columns: point i is (steps[i], values[i]). */
export const CompareSeries = z.strictObject({
  steps: z.array(z.number().int()),
  values: z.array(z.number())
});
export type CompareSeries = z.infer<typeof CompareSeries>;

export const CompareResponse = z.strictObject({
  runs: z.array(Run),
  /** metric key → run id → downsampled series, as columns (no timestamps: charts need none). */
  series: z.record(z.string(), z.record(z.string(), CompareSeries))
});
export type CompareResponse = z.infer<typeof CompareResponse>;



/**
 * The notebook exactly as the user sees it (unsaved edits included) plus the project-local
 * modules its kernel imported. Sent by the browser tab that started the run, or by the Python
 * client for scripts.
 */
export const CreateSnapshotRequest = z.strictObject({
  notebookPath: RelativePath,
  /** nbformat JSON of a notebook, or null when the run came from a script (in `files`). */
  notebook: z.record(z.string(), z.unknown()).nullable().default(null),
  files: z.array(SnapshotFile).max(1000).default([])
});
export type CreateSnapshotRequest = z.input<typeof CreateSnapshotRequest>;

export const SnapshotNotebookResponse = z.strictObject({
  commit: z.string(),
  notebookPath: z.string(),
  notebook: z.record(z.string(), z.unknown())
});
export type SnapshotNotebookResponse = z.infer<typeof SnapshotNotebookResponse>;

export const ArtifactPathQuery = z.strictObject({ path: RelativePath });

/**
 * Live metric points for one run, coalesced to at most 10 messages a second. `metrics` holds
 * the latest summaries of the keys logged since the previous message; `points` the points
 * logged since then, oldest first, capped at the newest 5,000 (a client that needs every point
 * of a burst reads the history).
 */
export const RunMetricsEvent = z.strictObject({
  runId: z.string(),
  projectId: z.string(),
  metrics: z.record(z.string(), MetricSummary),
  points: z.array(MetricPoint.extend({ key: z.string() }))
});
export type RunMetricsEvent = z.infer<typeof RunMetricsEvent>;

// ---------------------------------------------------------------------------------------------
// datasets: content-defined chunks, immutable versions (manifests), diffs

/** A chunk or file content address: lowercase sha256 hex. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase sha256 hex digest');

/** Dataset names follow project names: letters, digits, . _ - (no `@` or `/`, which refs use). */
export const DatasetName = ProjectName;

/** `v3`, `3` or `latest` in URLs and refs (`name@v3`). */
export const VersionRef = z
  .string()
  .regex(/^(latest|v?[1-9][0-9]{0,8})$/, 'a version: v1, v2, … (or 1, 2, …) or latest');

/**
 * Largest uncompressed chunk the server accepts. The client's FastCDC parameters are 16 KiB
 * minimum, 64 KiB average, 256 KiB maximum; a file below the minimum is one chunk.
 */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * `POST /api/chunks` body (application/octet-stream): chunks back to back, each framed as
 *   32 bytes  sha256 of the uncompressed bytes (binary digest)
 *    1 byte   codec: 0 = stored as is, 1 = zstd frame
 *    4 bytes  uncompressed length, big-endian uint32 (≤ MAX_CHUNK_BYTES)
 *    4 bytes  payload length, big-endian uint32
 *    payload
 * The server decompresses and hashes every chunk before storing it; any mismatch rejects the
 * whole request (400, naming the chunk) and stores nothing from it. `POST /api/chunks/fetch`
 * answers in the same framing.
 */
export const CHUNK_FRAME_HEADER_BYTES = 41;
/** Largest `POST /api/chunks` body the server accepts (413 past it): send chunks in batches below it. */
export const MAX_CHUNK_UPLOAD_BYTES = 64 * 1024 * 1024;
export const ChunkCodec = { raw: 0, zstd: 1 } as const;

export const MissingChunksRequest = z.strictObject({ hashes: z.array(Sha256Hex).max(200_000) });
export type MissingChunksRequest = z.infer<typeof MissingChunksRequest>;
export const MissingChunksResponse = z.strictObject({
  /** The requested hashes the server does not have, in request order (duplicates once). */
  missing: z.array(Sha256Hex)
});
export type MissingChunksResponse = z.infer<typeof MissingChunksResponse>;

export const UploadChunksResponse = z.strictObject({
  /** Chunks in the request that were new and are now durable. */
  stored: z.number().int(),
  /** Chunks the server already had (not stored twice). */
  alreadyPresent: z.number().int(),
  /** Bytes written to the store for the new chunks (after compression). */
  storedBytes: z.number().int()
});
export type UploadChunksResponse = z.infer<typeof UploadChunksResponse>;

export const FetchChunksRequest = z.strictObject({ hashes: z.array(Sha256Hex).min(1).max(4096) });
export type FetchChunksRequest = z.infer<typeof FetchChunksRequest>;

/** One chunk of a file: [sha256 hex, uncompressed size], in file order. */
export const ChunkRef = z.tuple([Sha256Hex, z.number().int().min(0).max(MAX_CHUNK_BYTES)]);
export type ChunkRef = z.infer<typeof ChunkRef>;

export const ManifestFileInput = z.strictObject({
  /** Dataset-relative path with `/` separators; absolute paths and `..` are rejected. */
  path: RelativePath,
  size: z.number().int().min(0),
  /** Permission bits (e.g. 0o644 = 420); only 0o777 is kept. */
  mode: z.number().int().min(0).max(0o7777),
  chunks: z.array(ChunkRef)
});
export type ManifestFileInput = z.infer<typeof ManifestFileInput>;

export const ManifestFile = ManifestFileInput.extend({
  /**
   * The file's content hash: sha256 of its chunks' binary digests concatenated in order
   * (computed by the server, so equal content always has one hash).
   */
  hash: Sha256Hex
});
export type ManifestFile = z.infer<typeof ManifestFile>;

/** What changed from one version to another (the previous one, in a version's `summary`). */
export const DatasetDiffSummary = z.strictObject({
  added: z.number().int(),
  removed: z.number().int(),
  changed: z.number().int(),
  unchanged: z.number().int(),
  /** Sizes of added files. */
  bytesAdded: z.number().int(),
  /** Sizes of removed files. */
  bytesRemoved: z.number().int(),
  /** Sizes (in the newer version) of changed files. */
  bytesChanged: z.number().int(),
  /** Uncompressed bytes of the newer version's chunks that the older one lacks: what dedup could not save. */
  newChunkBytes: z.number().int()
});
export type DatasetDiffSummary = z.infer<typeof DatasetDiffSummary>;

export const DatasetVersion = z.strictObject({
  id: z.string(),
  datasetId: z.string(),
  datasetName: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  number: z.number().int().min(1),
  /** `v3` */
  label: z.string(),
  /**
   * sha256 of the canonical manifest (sorted `path\tmode\tsize\thash\n` lines): equal content,
   * equal hash. Lines are sorted by the path's UTF-8 bytes (code point order); mode is
   * `mode & 0o777` written in decimal (`420`), size in decimal, hash the file's hex hash.
   */
  hash: Sha256Hex,
  size: z.number().int(),
  fileCount: z.number().int(),
  message: z.string(),
  /** Name of the token that committed it. */
  author: z.string(),
  createdAt: z.string(),
  /** The run that output this version (a data run), when committed inside one. */
  producedByRunId: z.string().nullable(),
  /** Against the previous version; null for v1. */
  summary: DatasetDiffSummary.nullable(),
  /**
   * Some of its chunks were found corrupt and dropped by `runlab fsck --repair`: the files using
   * them cannot be fetched until the same content is committed again (which heals it).
   */
  damaged: z.boolean()
});
export type DatasetVersion = z.infer<typeof DatasetVersion>;

export const Dataset = z.strictObject({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  name: z.string(),
  createdAt: z.string(),
  versionCount: z.number().int(),
  latest: DatasetVersion.nullable()
});
export type Dataset = z.infer<typeof Dataset>;

export const DatasetListResponse = z.strictObject({ datasets: z.array(Dataset) });
export type DatasetListResponse = z.infer<typeof DatasetListResponse>;

export const DatasetVersionListResponse = z.strictObject({
  /** Newest first. */
  versions: z.array(DatasetVersion)
});
export type DatasetVersionListResponse = z.infer<typeof DatasetVersionListResponse>;

export const DatasetParams = z.strictObject({ project: ProjectName, name: DatasetName });
export const DatasetVersionParams = DatasetParams.extend({ version: VersionRef });

export const CommitDatasetRequest = z.strictObject({
  files: z.array(ManifestFileInput).max(2_000_000),
  message: z.string().max(10_000).default(''),
  /** The run this commit happens in: the version becomes its output (a data run). */
  runId: z.string().min(1).max(100).nullable().default(null),
  /** A retried commit with the same key answers with the version it created. */
  idempotencyKey: z.string().min(8).max(100).optional()
});
export type CommitDatasetRequest = z.input<typeof CommitDatasetRequest>;

export const CommitDatasetResponse = z.strictObject({
  version: DatasetVersion,
  /** false when the manifest equals the latest version's (that version is answered) or the key was seen. */
  created: z.boolean()
});
export type CommitDatasetResponse = z.infer<typeof CommitDatasetResponse>;

export const DatasetManifestResponse = z.strictObject({
  version: DatasetVersion,
  /** Sorted by path. */
  files: z.array(ManifestFile)
});
export type DatasetManifestResponse = z.infer<typeof DatasetManifestResponse>;

export const DatasetDiffQuery = z.strictObject({
  from: VersionRef,
  to: VersionRef,
  /** Most file entries listed per category; the summary always counts them all. */
  limit: z.coerce.number().int().min(0).max(100_000).default(1000)
});

export const DatasetDiffFile = z.strictObject({
  path: z.string(),
  /** null when the file is not in that version. */
  fromSize: z.number().int().nullable(),
  toSize: z.number().int().nullable()
});
export type DatasetDiffFile = z.infer<typeof DatasetDiffFile>;

export const DatasetDiffResponse = z.strictObject({
  from: DatasetVersion,
  to: DatasetVersion,
  summary: DatasetDiffSummary,
  added: z.array(DatasetDiffFile),
  removed: z.array(DatasetDiffFile),
  changed: z.array(DatasetDiffFile),
  /** true when a list was cut at `limit`. */
  truncated: z.boolean()
});
export type DatasetDiffResponse = z.infer<typeof DatasetDiffResponse>;

/** Emitted to the project's room when a version is committed. */
export const DatasetCommittedEvent = z.strictObject({ version: DatasetVersion });
export type DatasetCommittedEvent = z.infer<typeof DatasetCommittedEvent>;

export const DatasetDeletedEvent = z.strictObject({
  projectId: z.string(),
  datasetName: z.string(),
  number: z.number().int().nullable()
});
export type DatasetDeletedEvent = z.infer<typeof DatasetDeletedEvent>;

// ---------------------------------------------------------------------------------------------
// provenance: a graph of what was made from what

/**
 * Kinds of provenance nodes. Later features add theirs (model_version, deployment) here and
 * register a resolver on the server; edges and queries do not change.
 */
export const ProvenanceNodeKind = z.enum(['dataset_version', 'run', 'artifact']);
export type ProvenanceNodeKind = z.infer<typeof ProvenanceNodeKind>;

/**
 * A node reference, `kind:id`: `run:<runId>`, `dataset_version:<versionId>`,
 * `artifact:<runId>/<artifact path>`.
 */
export const ProvenanceNodeRef = z
  .string()
  .min(3)
  .max(1200)
  .regex(/^(dataset_version|run|artifact):.+$/, 'kind:id, e.g. run:<id> or dataset_version:<id>');

export const ProvenanceNode = z.strictObject({
  ref: z.string(),
  kind: ProvenanceNodeKind,
  /** What the UI shows first: `iris@v3`, a run's name, an artifact's path. */
  label: z.string(),
  /** A second line: size and file count, run status, artifact size. */
  detail: z.string(),
  projectName: z.string(),
  createdAt: z.string().nullable(),
  /** Set for runs and artifacts (the run that holds the artifact). */
  runId: z.string().nullable(),
  /** Set for dataset versions. */
  datasetName: z.string().nullable(),
  versionNumber: z.number().int().nullable(),
  /** Set for artifacts. */
  artifactPath: z.string().nullable()
});
export type ProvenanceNode = z.infer<typeof ProvenanceNode>;

export const ProvenanceEdge = z.strictObject({ from: z.string(), to: z.string() });
export type ProvenanceEdge = z.infer<typeof ProvenanceEdge>;

export const ProvenanceQuery = z.strictObject({
  node: ProvenanceNodeRef,
  direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
  depth: z.coerce.number().int().min(1).max(50).default(20)
});
export type ProvenanceQuery = z.input<typeof ProvenanceQuery>;

export const ProvenanceGraph = z.strictObject({
  root: z.string(),
  nodes: z.array(ProvenanceNode),
  /** `from` was used to make `to`: dataset version → run, run → dataset version / artifact. */
  edges: z.array(ProvenanceEdge),
  /** true when the graph was cut at 500 nodes. */
  truncated: z.boolean()
});
export type ProvenanceGraph = z.infer<typeof ProvenanceGraph>;

// ---------------------------------------------------------------------------------------------
// socket.io events, named domain:verb

export interface ServerToClientEvents {
  'project:created': (project: Project) => void;
  'project:updated': (project: Project) => void;
  'project:deleted': (payload: { id: string }) => void;
  /** To the project's room. */
  'run:created': (run: Run) => void;
  /** To the project's room: status, name, params, tags, inputs/outputs, artifacts or snapshot changed. */
  'run:updated': (run: Run) => void;
  'run:deleted': (payload: { id: string; projectId: string }) => void;
  /** To the project's room and the run's room; coalesced to ≤ 10 per second per run. */
  'run:metrics': (payload: RunMetricsEvent) => void;
  /** To the project's room. */
  'dataset:committed': (payload: DatasetCommittedEvent) => void;
  /** To the project's room: a version (`number`) or a whole dataset (`number` null) was deleted. */
  'dataset:deleted': (payload: DatasetDeletedEvent) => void;
  /** To one socket, just before the server disconnects it because its token was revoked. */
  'auth:revoked': (payload: { code: 'unauthorized'; message: string }) => void;
}

export const ProjectRoomPayload = z.strictObject({ projectId: z.string().min(1).max(100) });
export const RunRoomPayload = z.strictObject({ runId: z.string().min(1).max(100) });

/** Optional acknowledgement of a join/leave: `ok` is false when the payload was invalid. */
export type RoomAck = (reply: { ok: boolean }) => void;

/**
 * Rooms: a client joins a project to see its runs live, and a run to stream its points.
 * The acknowledgement is optional; await it (`socket.emitWithAck`) to know events will flow.
 */
export interface ClientToServerEvents {
  'project:join': (payload: { projectId: string }, ack?: RoomAck) => void;
  'project:leave': (payload: { projectId: string }, ack?: RoomAck) => void;
  'run:join': (payload: { runId: string }, ack?: RoomAck) => void;
  'run:leave': (payload: { runId: string }, ack?: RoomAck) => void;
}

/** socket.io handshake: `io(url, { auth: { token } })`. */
export const SocketAuth = z.strictObject({ token: z.string().min(1) });
