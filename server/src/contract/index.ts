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
  /** The path exists but not with this method (HTTP 405); the `Allow` header lists its methods. */
  'method_not_allowed',
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

/**
 * What a token may do:
 * - `admin`: everything a user token can, and managing every token (the local admin token in
 *   `<data dir>/admin-token` is one; `runlab token create --scope admin` makes more);
 * - `user`: the API and live connections; lists and revokes only itself and the tokens it created;
 * - `runner`: only runner endpoints (a machine that executes jobs), never user routes.
 */
export const TokenScope = z.enum(['admin', 'user', 'runner']);
export type TokenScope = z.infer<typeof TokenScope>;

export const TokenInfo = z.strictObject({
  id: z.string(),
  name: z.string(),
  scope: TokenScope,
  /** First characters of the secret, so a user can tell tokens apart; never the secret. */
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** Id of the token that created this one through the API; null when made by the CLI or the server. */
  createdBy: z.string().nullable()
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
 * A whole number in a query string, in digits (`?limit=50`); pipe it into its range. Not
 * z.coerce.number(), which also reads '', ' ', '0x10' and '1e3', none of them the integer that
 * the OpenAPI document promises.
 */
export const QueryWholeNumber = z.string().regex(/^-?[0-9]+$/, 'expected a whole number in digits').transform(Number);

/**
 * relativePathProblem's rules as one regular expression, for the OpenAPI document: segments of
 * anything but `/`, `\` and NUL, the first not a drive (`C:`), none `.` or `..`.
 */
export const RELATIVE_PATH_PATTERN = String.raw`^(?![A-Za-z]:)(?!\.\.?(?:/|$))[^/\\\x00]+(?:/(?!\.\.?(?:/|$))[^/\\\x00]+)*$`;

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
  })
  .meta({
    pattern: RELATIVE_PATH_PATTERN,
    description:
      'A relative path: segments separated by `/`, none empty, `.` or `..`; no leading `/`, no drive letter (`C:`), no backslash, no NUL; 1 to 1000 UTF-16 code units.'
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

/**
 * Keys of params, metrics and tags: what MLflow accepts, so both clients interoperate — letters,
 * digits, spaces and _ - . / :, and, as in MLflow, a normalized path: no `.` or `..` segment, no
 * leading, trailing or doubled `/` (a metric named `..` could not be asked for by URL).
 */
export const LogKey = z
  .string()
  .min(1)
  .max(250)
  .regex(
    /^(?!\/)(?!.*\/\/)(?!.*\/$)(?!(?:.*\/)?\.{1,2}(?:\/|$))[\w\-. /:]+$/,
    'use letters, digits, spaces and _ - . / :, with no "." or ".." segment and no leading, trailing or doubled /'
  );

/** Params are kept as strings (MLflow semantics); the client stringifies numbers and bools. */
export const ParamValue = z.string().max(6000);
export const TagValue = z.string().max(8000);

/**
 * The largest step and timestamp: 2^53 - 1 (`Number.MAX_SAFE_INTEGER`), the largest whole number
 * that JSON readers, JavaScript and float64 columns all keep exactly. Larger ones (such as
 * `time.time_ns()` as a step) are refused with a 400 naming the field, never stored.
 */
export const MAX_WHOLE_NUMBER = Number.MAX_SAFE_INTEGER;

/** A step: a whole number from 0 to 2^53 - 1. */
export const MetricStep = z.number().int().min(0).max(MAX_WHOLE_NUMBER);
/** Milliseconds since the epoch: a whole number from 0 to 2^53 - 1. */
export const MetricTimestamp = z.number().int().min(0).max(MAX_WHOLE_NUMBER);

/** How JSON carries the values it has no number for (as MLflow's REST API does). */
export const NonFiniteValue = z.enum(['NaN', 'Infinity', '-Infinity']);
export type NonFiniteValue = z.infer<typeof NonFiniteValue>;

/**
 * A metric value: any float64. NaN and ±Infinity are stored and come back as the strings
 * "NaN", "Infinity" and "-Infinity"; they are left out of min/max and drawn as gaps in charts.
 */
export const MetricValue = z.union([z.number(), NonFiniteValue]);
export type MetricValue = z.infer<typeof MetricValue>;

/** A float64 as the contract carries it: finite numbers as numbers, the rest as their names. */
export function toMetricValue(value: number): MetricValue {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** The float64 a contract metric value stands for. */
export function fromMetricValue(value: MetricValue): number {
  return typeof value === 'number' ? value : value === 'NaN' ? NaN : value === 'Infinity' ? Infinity : -Infinity;
}

/**
 * A record keyed by user-chosen keys (params, tags, metric names), parsed into an object without
 * a prototype, so every key the key pattern allows round-trips — `__proto__` and `constructor`
 * included (a plain object would drop or misread them).
 */
/** An empty object for user-chosen keys: without a prototype, `__proto__` is just another key. */
export function userKeyed<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function userRecord<V extends z.ZodType>(key: z.ZodType<string>, value: V) {
  const documented = z.record(key, value);
  return z
    .custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), {
      message: 'expected an object'
    })
    .transform((input, context) => {
      // One pass: each key and value checked once, the parsed value kept.
      const out = userKeyed<z.output<V>>();
      for (const name of Object.keys(input)) {
        const keyResult = key.safeParse(name);
        if (!keyResult.success) {
          for (const issue of keyResult.error.issues) context.addIssue({ code: 'custom', path: [name], message: `key: ${issue.message}` });
        }
        const valueResult = value.safeParse(input[name]);
        if (valueResult.success) out[name] = valueResult.data as z.output<V>;
        else for (const issue of valueResult.error.issues) context.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
      }
      return out;
    })
    .meta(z.toJSONSchema(documented, { unrepresentable: 'any' }) as Record<string, unknown>);
}

export const MetricSummary = z.strictObject({
  latest: MetricValue,
  /** Step of the latest point (the point with the greatest step, then the latest time). */
  step: MetricStep,
  /** Smallest and largest finite value; null when every value so far was NaN or ±Infinity. */
  min: z.number().nullable(),
  max: z.number().nullable(),
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
  params: userRecord(z.string(), z.string()),
  tags: userRecord(z.string(), z.string()),
  metrics: userRecord(z.string(), MetricSummary),
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
  params: userRecord(LogKey, ParamValue).default({}),
  tags: userRecord(LogKey, TagValue).default({}),
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
  value: MetricValue,
  /** Omitted: one more than the key's latest step (0 for the first point). */
  step: MetricStep.optional(),
  /** Milliseconds since the epoch; omitted: the server's time. */
  timestamp: MetricTimestamp.optional()
});
export type MetricPointInput = z.infer<typeof MetricPointInput>;

const MAX_BATCH_POINTS = 100000;

/**
 * A column of at most MAX_BATCH_POINTS entries. Only its shape is checked here; MetricColumns
 * checks the entries in one loop, since zod's per-element parsing costs more than the rest of
 * ingest for a large batch. `items` documents them for OpenAPI.
 */
const column = <T>(items: Record<string, unknown>, description: string) =>
  z
    .custom<T[]>((value) => Array.isArray(value) && value.length <= MAX_BATCH_POINTS, {
      message: `expected an array of at most ${MAX_BATCH_POINTS} entries`
    })
    .meta({ type: 'array', maxItems: MAX_BATCH_POINTS, items, description });

const WHOLE = { type: 'integer', minimum: 0, maximum: MAX_WHOLE_NUMBER };
const isWhole = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
const isMetricValue = (value: unknown): boolean =>
  typeof value === 'number' ? Number.isFinite(value) : value === 'NaN' || value === 'Infinity' || value === '-Infinity';

/**
 * Metric points as columns, the compact form for high-volume clients: point i is
 * (keys[keyIndex[i]], values[i], steps[i], timestamps[i]). The arrays are checked in plain loops
 * (lengths, whole numbers, ranges), not point by point through zod.
 */
export const MetricColumns = z
  .strictObject({
    /** The batch's distinct metric keys (each once). */
    keys: z.array(LogKey).min(1).max(10000).meta({ uniqueItems: true }),
    keyIndex: column<number>({ type: 'integer', minimum: 0, maximum: 9999 }, 'Per point, its key as an index into keys.'),
    values: column<MetricValue>(
      { anyOf: [{ type: 'number' }, { type: 'string', enum: NonFiniteValue.options }] },
      'Per point, its value: a number, or "NaN", "Infinity", "-Infinity".'
    ),
    steps: column<number | null>(
      { anyOf: [WHOLE, { type: 'null' }] },
      `Per point, its step (a whole number from 0 to ${MAX_WHOLE_NUMBER}); null: one more than the key's latest step.`
    ),
    timestamps: column<number>(WHOLE, `Per point, milliseconds since the epoch (0 to ${MAX_WHOLE_NUMBER}).`)
  })
  .superRefine((columns, context) => {
    const { keys, keyIndex, values, steps, timestamps } = columns;
    const count = keyIndex.length;
    for (const name of ['values', 'steps', 'timestamps'] as const) {
      if (columns[name].length !== count) {
        context.addIssue({ code: 'custom', path: [name], message: `must have as many entries as keyIndex (${count})` });
        return;
      }
    }
    const keyCount = keys.length;
    const distinct = new Set<string>();
    for (let k = 0; k < keyCount; k++) {
      if (distinct.has(keys[k])) {
        context.addIssue({ code: 'custom', path: ['keys', k], message: `"${keys[k]}" is listed twice; list each key once` });
        return;
      }
      distinct.add(keys[k]);
    }
    for (let i = 0; i < count; i++) {
      const index = keyIndex[i];
      if (!(Number.isInteger(index) && index >= 0 && index < keyCount)) {
        context.addIssue({ code: 'custom', path: ['keyIndex', i], message: `must be a whole number from 0 to ${keyCount - 1}` });
        return;
      }
      if (!isMetricValue(values[i])) {
        context.addIssue({ code: 'custom', path: ['values', i], message: 'must be a number, or "NaN", "Infinity" or "-Infinity"' });
        return;
      }
      const step = steps[i];
      if (step !== null && !isWhole(step)) {
        context.addIssue({ code: 'custom', path: ['steps', i], message: `must be a whole number from 0 to ${MAX_WHOLE_NUMBER}, or null` });
        return;
      }
      if (!isWhole(timestamps[i])) {
        context.addIssue({ code: 'custom', path: ['timestamps', i], message: `must be a whole number from 0 to ${MAX_WHOLE_NUMBER} (milliseconds)` });
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
  params: userRecord(LogKey, ParamValue).default({}),
  tags: userRecord(LogKey, TagValue).default({}),
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
// The key rules (LogKey) as pieces that fit inside a longer pattern: LogKey's own lookaheads
// look to the end of the text, which in a filter or sort order goes on past the key.
const KEY_CHAR = String.raw`[\w\-. :]`; // any key character but /
/** A segment between slashes: not empty, `.` or `..`. */
const KEY_SEGMENT = String.raw`(?:[\w\- :]${KEY_CHAR}*|\.[\w\- :]${KEY_CHAR}*|\.\.${KEY_CHAR}+)`;
/** The same, not ending in a space (the server trims spaces that end a key). */
const KEY_LAST_SEGMENT = String.raw`(?:[\w\-:]|[\w\- :]${KEY_CHAR}*[\w\-.:]|\.[\w\-:]|\.[\w\- :]${KEY_CHAR}*[\w\-.:]|\.\.${KEY_CHAR}*[\w\-.:])`;
/** A key of at most 250 characters, followed by `end`; `trimmed`: it cannot end in a space. */
const keyPattern = (trimmed: boolean, end: string): string =>
  String.raw`(?=[\w\-. /:]{1,250}${end})(?:${KEY_SEGMENT}/)*${trimmed ? KEY_LAST_SEGMENT : KEY_SEGMENT}`;
const FILTER_OPERATOR = String.raw`\s*(?:!=|>=|<=|=|>|<)`;
// The key is the shortest text before the operator, at least one character: so a lone space.
const FILTER_KEY = String.raw`(?:${keyPattern(true, FILTER_OPERATOR)}| )${FILTER_OPERATOR}`;
/** A metric filter's number, as the document promises it: finite, so no more than 15 digits a side and a 2-digit exponent. */
const FILTER_NUMBER = String.raw`\s*[-+]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})(?:[eE][-+]?\d{1,2})?\s*`;
/** runs/filters.ts's grammar as one regular expression, for the OpenAPI document. */
export const RUN_FILTER_PATTERN =
  String.raw`^\s*(?:(?:params|tags)\.${FILTER_KEY}[\s\S]*|metrics\.${FILTER_KEY}\s*(?:${FILTER_NUMBER}|'${FILTER_NUMBER}'|"${FILTER_NUMBER}")\s*)$`;
const RunFilter = z.string().meta({
  pattern: RUN_FILTER_PATTERN,
  description:
    '`params.<key><op><value>`, `tags.<key><op><value>` or `metrics.<key><op><number>`; op is one of = != > >= < <=; ' +
    'the key follows the key rules (letters, digits, spaces and _ - . / :, at most 250, no `.` or `..` segment, no leading, ' +
    'trailing or doubled /), spaces around the op are ignored, ' +
    'a value may be quoted (\'…\' or "…"); params and tags compare as numbers when both sides are, metrics always do.'
});
/**
 * runs/filters.ts's sort orders as one regular expression: a trailing `:asc` or `:desc` is always
 * the direction (keys may hold `:`, so `metrics.a:asc` sorts by `a`, and `metrics.:asc` has no
 * key), and a key that ends the text cannot end in spaces, which are trimmed.
 */
export const RUN_SORT_PATTERN =
  String.raw`^\s*(?:(?:startedAt|name|status|(?:metrics|params)\.${keyPattern(false, String.raw`:(?:asc|desc)\s*$`)}):(?:asc|desc)` +
  String.raw`|(?!.*:(?:asc|desc)\s*$)(?:startedAt|name|status|(?:metrics|params)\.${keyPattern(true, String.raw`\s*$`)}))\s*$`;

export const RunListQuery = z.strictObject({
  project: z.string().optional(),
  status: RunStatus.optional(),
  notebookPath: z.string().optional(),
  filter: z
    .union([RunFilter, z.array(RunFilter)])
    .optional()
    .meta({ description: 'Repeat to AND filters: `?filter=params.lr=0.1&filter=metrics.acc>=0.9`.' }),
  sort: z
    .string()
    .default('startedAt:desc')
    .meta({
      pattern: RUN_SORT_PATTERN,
      description:
        '`startedAt`, `name`, `status`, `metrics.<key>` or `params.<key>`, optionally followed by `:asc` or `:desc` (default: desc; asc for name).'
    }),
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(10000)).default(100),
  offset: QueryWholeNumber.pipe(z.number().int().min(0)).default(0)
});
export type RunListQuery = z.input<typeof RunListQuery>;

export const RunListResponse = z.strictObject({
  runs: z.array(Run),
  /** All runs matching the filters, ignoring limit/offset. */
  total: z.number().int()
});
export type RunListResponse = z.infer<typeof RunListResponse>;

export const MetricPoint = z.strictObject({
  step: MetricStep,
  value: MetricValue,
  timestamp: MetricTimestamp
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** Path of `GET /api/runs/:id/metrics/:key`; send the key URL-encoded (`train%2Floss`). */
export const RunMetricParams = z.strictObject({ id: z.string().min(1).max(100), key: LogKey });

export const MetricHistoryQuery = z.strictObject({
  /** At most this many points come back (downsampled keeping the shape); full resolution on zoom. */
  maxPoints: QueryWholeNumber.pipe(z.number().int().min(2).max(100000)).default(2000),
  minStep: QueryWholeNumber.pipe(MetricStep).optional(),
  maxStep: QueryWholeNumber.pipe(MetricStep).optional()
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

/**
 * 2 to 100 distinct comma-separated run ids, as one regular expression for the OpenAPI document
 * (the lookahead refuses an id given twice). The server also ignores empty entries and repeats.
 */
export const COMPARE_IDS_PATTERN = String.raw`^(?!(?:[^,]*,)*([^,]+),(?:[^,]*,)*\1(?:,|$))[^,]{1,100}(?:,[^,]{1,100}){1,99}$`;

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
    )
    .meta({ pattern: COMPARE_IDS_PATTERN, description: '2 to 100 distinct run ids, separated by commas: `?ids=<id>,<id>`.' }),
  maxPoints: QueryWholeNumber.pipe(z.number().int().min(2).max(100000)).default(2000)
});

/** A downsampled series as two equal-length columns: point i is (steps[i], values[i]). */
export const CompareSeries = z.strictObject({
  steps: z.array(MetricStep),
  values: z.array(MetricValue)
});
export type CompareSeries = z.infer<typeof CompareSeries>;

export const CompareResponse = z.strictObject({
  runs: z.array(Run),
  /** metric key → run id → downsampled series, as columns (no timestamps: charts need none). */
  series: userRecord(z.string(), z.record(z.string(), CompareSeries))
});
export type CompareResponse = z.infer<typeof CompareResponse>;



/** How deep a notebook's JSON may nest: far beyond nbformat's needs, far below a stack overflow. */
export const MAX_NOTEBOOK_DEPTH = 1000;

/** How deeply a JSON value nests (objects and arrays), counted without recursion; stops past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, level]);
    }
  }
  return deepest;
}

/**
 * The notebook exactly as the user sees it (unsaved edits included) plus the project-local
 * modules its kernel imported. Sent by the browser tab that started the run, or by the Python
 * client for scripts.
 */
/** A path in a snapshot commit: a relative path with no `.git` segment (in any case), which git reserves. */
export const SnapshotPath = RelativePath.meta({
  pattern: String.raw`^(?!(?:[^/]*/)*\.[Gg][Ii][Tt](?:/|$))` + RELATIVE_PATH_PATTERN.slice(1),
  description: 'A relative path (as for artifacts) with no `.git` segment in any letter case.'
});

export const CreateSnapshotRequest = z.strictObject({
  notebookPath: SnapshotPath,
  /** nbformat JSON of a notebook, or null when the run came from a script (in `files`). */
  notebook: z
    .record(z.string(), z.unknown())
    .refine((notebook) => nestingDepth(notebook, MAX_NOTEBOOK_DEPTH) <= MAX_NOTEBOOK_DEPTH, {
      message: `is nested more than ${MAX_NOTEBOOK_DEPTH} levels deep; nbformat notebooks need far fewer`
    })
    .meta({ description: `nbformat JSON, nested at most ${MAX_NOTEBOOK_DEPTH} levels deep.` })
    .nullable()
    .default(null),
  files: z.array(SnapshotFile.extend({ path: SnapshotPath })).max(1000).default([])
}).meta({
  description:
    'Also checked, beyond this schema: no path given twice (notebookPath counts when notebook is set), no path inside ' +
    'another given path (a file cannot also be a folder), and without a notebook, notebookPath must be one of the files.'
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
  metrics: userRecord(z.string(), MetricSummary),
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
}).meta({
  description:
    'Also checked, beyond this schema (400 naming the field): each file\'s size is the sum of its chunk sizes, no path is ' +
    'listed twice, no path lies inside another listed file, a chunk the server has is given the size it was uploaded with, ' +
    'and runId names a run of this project. Every chunk must be uploaded first (409 lists the missing ones).'
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
  limit: QueryWholeNumber.pipe(z.number().int().min(0).max(100_000)).default(1000)
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
  // `.` spelled out as what it means here (no line breaks): other readers of the documented
  // pattern (Python's re) take `.` to allow \r, U+2028 and U+2029.
  .regex(/^(dataset_version|run|artifact):[^\n\r\u2028\u2029]+$/, 'kind:id, e.g. run:<id> or dataset_version:<id>');

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
  depth: QueryWholeNumber.pipe(z.number().int().min(1).max(50)).default(20)
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
