import { z } from 'zod';
import { ProjectName } from './projects';
import { IdParams, MAX_WHOLE_NUMBER, QueryWholeNumber, RelativePath, shapeOnlyArray, userRecord } from './refs';
import { RunSnapshot, SnapshotFile } from './snapshots';
import { route } from './route';

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

export const RunError = z.strictObject({
  message: z.string().max(10000),
  traceback: z.string().max(200000).nullable().default(null)
});

export const RunSource = z.strictObject({
  kind: z.enum(['notebook', 'cell', 'script', 'mlflow', 'api', 'job', 'sweep']),
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

/** A column of at most MAX_BATCH_POINTS entries; MetricColumns checks the entries in one loop. */
const column = <T>(items: Record<string, unknown>, description: string) => shapeOnlyArray<T>(MAX_BATCH_POINTS, items, description);

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
        context.addIssue({
          code: 'custom',
          path: ['timestamps', i],
          message: `must be a whole number from 0 to ${MAX_WHOLE_NUMBER} (milliseconds)`
        });
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
 * Sort: `startedAt`, `name`, `status`, `metrics.<key>`, `params.<key>` or `tags.<key>`, then `:asc` / `:desc`.
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
export const RUN_FILTER_PATTERN = String.raw`^\s*(?:(?:params|tags)\.${FILTER_KEY}[\s\S]*|metrics\.${FILTER_KEY}\s*(?:${FILTER_NUMBER}|'${FILTER_NUMBER}'|"${FILTER_NUMBER}")\s*)$`;
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
  String.raw`^\s*(?:(?:startedAt|name|status|(?:metrics|params|tags)\.${keyPattern(false, String.raw`:(?:asc|desc)\s*$`)}):(?:asc|desc)` +
  String.raw`|(?!.*:(?:asc|desc)\s*$)(?:startedAt|name|status|(?:metrics|params|tags)\.${keyPattern(true, String.raw`\s*$`)}))\s*$`;

export const RunListQuery = z.strictObject({
  project: z.string().optional(),
  status: RunStatus.optional(),
  notebookPath: z.string().optional(),
  filter: z
    .union([RunFilter, z.array(RunFilter)])
    .optional()
    .meta({ description: 'Repeat to AND filters: `?filter=params.lr=0.1&filter=metrics.acc>=0.9`.' }),
  sort: z.string().default('startedAt:desc').meta({
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

/** What to group a run list by: a param or a tag. */
export const RUN_GROUP_BY_PATTERN = String.raw`^(?:params|tags)\.[\w\-. /:]{1,250}$`;

/**
 * Runs grouped by one param or tag, with aggregate metrics per group (mean ± standard deviation
 * across, say, seeds). Takes the run list's filters, so a table's groups match its rows.
 */
export const RunGroupQuery = z.strictObject({
  project: z.string().optional(),
  status: RunStatus.optional(),
  filter: RunListQuery.shape.filter,
  by: z
    .string()
    .regex(/^(?:params|tags)\..+$/, 'expected params.<key> or tags.<key>')
    .meta({ pattern: RUN_GROUP_BY_PATTERN, description: '`params.<key>` or `tags.<key>`.' }),
  metric: z
    .union([LogKey, z.array(LogKey).max(50)])
    .optional()
    .meta({ description: 'Metric keys to aggregate (latest values); repeat for several: `?metric=acc&metric=loss`.' })
});
export type RunGroupQuery = z.input<typeof RunGroupQuery>;

export const MetricAggregate = z.strictObject({
  /** Runs of the group with a finite latest value of the metric. */
  count: z.number().int(),
  mean: z.number().nullable(),
  /** Sample standard deviation (n − 1); null for fewer than two values. */
  sd: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable()
});
export type MetricAggregate = z.infer<typeof MetricAggregate>;

export const RunGroup = z.strictObject({
  /** The param's or tag's value; null for the runs that lack it. */
  value: z.string().nullable(),
  count: z.number().int(),
  metrics: userRecord(z.string(), MetricAggregate)
});
export type RunGroup = z.infer<typeof RunGroup>;

export const RunGroupResponse = z.strictObject({
  /** Ordered by value (numerically when the values are numbers); the runs lacking it last. */
  groups: z.array(RunGroup),
  /** All runs matching the filters. */
  total: z.number().int()
});
export type RunGroupResponse = z.infer<typeof RunGroupResponse>;

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

export const runsApi = {
  createRun: route({
    method: 'post',
    path: '/api/runs',
    summary: 'Start a run; its project is created on first use',
    tag: 'runs',
    scope: 'user',
    body: CreateRunRequest,
    // Carries the local modules the kernel imported, which can exceed the default limit.
    largeBody: true,
    status: 201,
    response: Run
  }),
  listRuns: route({
    method: 'get',
    path: '/api/runs',
    summary: 'List runs with params, tags and metric summaries (no environment, no artifacts), filtered and sorted',
    tag: 'runs',
    scope: 'user',
    query: RunListQuery,
    status: 200,
    response: RunListResponse,
    // Built from typed rows; checking 100 runs' nested objects on every list cost ~15% of it.
    checkResponse: false
  }),
  // Before /api/runs/:id, so express does not take "groups" for a run id.
  groupRuns: route({
    method: 'get',
    path: '/api/runs/groups',
    summary: 'Runs grouped by a param or tag, with count and mean ± standard deviation of metrics per group',
    tag: 'runs',
    scope: 'user',
    query: RunGroupQuery,
    status: 200,
    response: RunGroupResponse
  }),
  // Before /api/runs/:id, so express does not take "compare" for a run id.
  compareRuns: route({
    method: 'get',
    path: '/api/runs/compare',
    summary: 'Runs side by side with every metric series, downsampled',
    tag: 'runs',
    scope: 'user',
    query: CompareQuery,
    status: 200,
    response: CompareResponse,
    // Up to 100 runs × every key × maxPoints points: checking each point would double the time.
    checkResponse: false,
    errors: ['not_found']
  }),
  getRun: route({
    method: 'get',
    path: '/api/runs/:id',
    summary: 'Get a run with its environment and artifacts',
    tag: 'runs',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Run,
    checkResponse: false,
    errors: ['not_found']
  }),
  updateRun: route({
    method: 'patch',
    path: '/api/runs/:id',
    summary: 'Rename, end or fail a run (ending sets endedAt, default now)',
    tag: 'runs',
    scope: 'user',
    params: IdParams,
    body: UpdateRunRequest,
    // An error's traceback may be 200,000 characters, which JSON can escape to 12 bytes each.
    largeBody: true,
    status: 200,
    response: Run,
    errors: ['not_found']
  }),
  deleteRun: route({
    method: 'delete',
    path: '/api/runs/:id',
    summary: 'Delete a run, its metrics and artifacts (and blobs nothing else uses)',
    tag: 'runs',
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  }),
  logToRun: route({
    method: 'post',
    path: '/api/runs/:id/log',
    summary: 'Log a batch of params, tags, metric points and inputs/outputs; retried batches are applied once',
    tag: 'runs',
    scope: 'user',
    params: IdParams,
    body: LogBatchRequest,
    largeBody: true,
    status: 200,
    response: LogBatchResponse,
    errors: ['not_found', 'conflict']
  }),
  getMetricHistory: route({
    method: 'get',
    path: '/api/runs/:id/metrics/:key',
    summary: 'A metric series, downsampled to maxPoints; full resolution when the step range holds fewer',
    tag: 'runs',
    scope: 'user',
    params: RunMetricParams,
    query: MetricHistoryQuery,
    status: 200,
    response: MetricHistoryResponse,
    errors: ['not_found']
  }),
  uploadArtifact: route({
    method: 'put',
    path: '/api/runs/:id/artifacts',
    summary: 'Store a file with the run at ?path= (raw bytes, content-addressed, deduplicated)',
    tag: 'runs',
    scope: 'user',
    params: IdParams,
    query: ArtifactPathQuery,
    rawBody: { description: 'The file content, limited by RUNLAB_MAX_ARTIFACT_BYTES' },
    status: 201,
    response: Artifact,
    errors: ['not_found']
  }),
  downloadArtifact: route({
    method: 'get',
    path: '/api/runs/:id/artifacts',
    summary: 'The bytes of the artifact at ?path= (Content-Type from its extension)',
    tag: 'runs',
    scope: 'user',
    params: IdParams,
    query: ArtifactPathQuery,
    rawResponse: { description: 'The artifact content' },
    status: 200,
    errors: ['not_found']
  })
};

/** Live events of runs, named `run:<verb>`. */
export interface RunEvents {
  /** To the project's room. */
  'run:created': (run: Run) => void;
  /** To the project's room: status, name, params, tags, inputs/outputs, artifacts or snapshot changed. */
  'run:updated': (run: Run) => void;
  'run:deleted': (payload: { id: string; projectId: string }) => void;
  /** To the project's room and the run's room; coalesced to ≤ 10 per second per run. */
  'run:metrics': (payload: RunMetricsEvent) => void;
}
