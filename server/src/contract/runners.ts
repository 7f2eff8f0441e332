/**
 * Runners and jobs: machines registered with a runner token execute notebooks as jobs, at a
 * snapshot commit, with pinned dataset versions and injected parameters.
 *
 * Three audiences:
 * - users (REST, `user` scope): add, list, drain and remove runners; submit, list, watch and
 *   cancel jobs; re-run a run;
 * - runner agents (`runlab runner start`): one socket.io connection to the `/runners` namespace
 *   (`RunnerClientEvents` / `RunnerServerEvents`), plus the `runner`-scope REST routes below for
 *   what is too large for a socket message (the job's notebook in, the executed notebook out);
 * - browsers: live `job:*` and `runner:*` events (`RunnerEvents`).
 *
 * A job is one run: the run is created when the job is queued and keeps one record however
 * often the job is retried; each try is an attempt, and only the job's current attempt may report
 * (a stale attempt's results are refused: fencing by attempt id).
 */
import { z } from 'zod';
import { TokenName } from './auth';
import { VersionRef } from './datasets';
import { ProjectName } from './projects';
import { IdParams, QueryWholeNumber } from './refs';
import { route, type RunnerAccess } from './route';
import { SnapshotFile, SnapshotPath } from './snapshots';

/** Defaults: a runner heartbeats every 5 s and loses its jobs 30 s after its last heartbeat. */
export const DEFAULT_HEARTBEAT_MS = 5000;
export const DEFAULT_LEASE_MS = 30000;
/** The socket.io namespace runner agents connect to. */
export const RUNNERS_NAMESPACE = '/runners';
/** Header a job's kernel sends with what it logs, so a stale attempt's late points are refused. */
export const ATTEMPT_HEADER = 'X-Runlab-Attempt';
export { JOB_TAGS } from './jobTags';

/**
 * Routes of other features a runner token reaches while it holds a job's current attempt, by
 * operationId: the job's run (read it, log to it, end it, store artifacts) and the dataset
 * versions the job pinned. Every other non-runner route refuses runner tokens (403).
 */
export const RUNNER_ACCESS: Readonly<Record<string, RunnerAccess>> = {
  whoAmI: 'always',
  getOpenApiDocument: 'always',
  getRun: 'run',
  updateRun: 'run',
  logToRun: 'run',
  uploadArtifact: 'run',
  listDatasets: 'projectDatasets',
  getDataset: 'projectDatasets',
  listDatasetVersions: 'projectDatasets',
  getDatasetVersion: 'projectDatasets',
  getDatasetManifest: 'projectDatasets',
  diffDatasetVersions: 'projectDatasets',
  commitDatasetVersion: 'projectDatasets',
  findMissingChunks: 'datasetChunks',
  uploadChunks: 'datasetChunks',
  fetchChunks: 'datasetChunks',
  createModelVersion: 'runBody',
  getModel: 'registryRead',
  listModelVersions: 'registryRead',
  getModelVersion: 'registryRead',
  downloadModelFile: 'registryRead'
};

export const RunnerName = TokenName;
export const RunnerLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a label: letters, digits, _ . - (e.g. gpu, bigmem)');
export const Labels = z.array(RunnerLabel).max(32);

export const GpuInfo = z.strictObject({ model: z.string().max(200), memoryBytes: z.number().int().nonnegative() });
export const RunnerCapacity = z.strictObject({
  cpus: z.number().int().positive(),
  memoryBytes: z.number().int().nonnegative(),
  gpus: z.array(GpuInfo).max(64).default([]),
  os: z.string().max(200),
  python: z.string().max(50)
});
export type RunnerCapacity = z.infer<typeof RunnerCapacity>;

export const RunnerStatus = z.enum(['online', 'offline', 'draining']);
export type RunnerStatus = z.infer<typeof RunnerStatus>;

export const Runner = z.strictObject({
  id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  /** What the agent reported when it last connected; null until it first does. */
  capacity: RunnerCapacity.nullable(),
  maxJobs: z.number().int().positive(),
  status: RunnerStatus,
  lastHeartbeatAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  createdAt: z.string(),
  /** Ids of the jobs it runs now. */
  runningJobs: z.array(z.string()),
  /** The runner pool that started it for one job (runnerPools.ts), or null for a machine added by hand. */
  poolId: z.string().nullable()
});
export type Runner = z.infer<typeof Runner>;

export const AddRunnerRequest = z.strictObject({
  name: RunnerName,
  labels: Labels.default([]),
  maxJobs: z.number().int().min(1).max(256).default(1)
});
export type AddRunnerRequest = z.input<typeof AddRunnerRequest>;

export const AddRunnerResponse = z.strictObject({
  runner: Runner,
  /** The runner token's secret, shown once; only its hash is stored. */
  token: z.string(),
  /** The exact line to run on the machine (`runlab runner start --server … --token …`). */
  command: z.string()
});
export type AddRunnerResponse = z.infer<typeof AddRunnerResponse>;

export const RunnerListResponse = z.strictObject({ runners: z.array(Runner) });

/** A JSON value as parameters take it (checked against the notebook's `parameters` cell). */
export type ParameterValue = string | number | boolean | null | ParameterValue[] | { [key: string]: ParameterValue };
// Named: the OpenAPI document defines the recursive schema once (components.schemas.ParameterValue).
export const ParameterValue: z.ZodType<ParameterValue> = z
  .lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(ParameterValue), z.record(z.string(), ParameterValue)]))
  .meta({ id: 'ParameterValue', description: 'A JSON value: a number, a string, true/false, null, a list or an object of them.' });
export const ParameterName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, 'a Python identifier')
  .meta({ description: 'A Python identifier, as the `parameters` cell assigns it.' });
export const JobParameters = z.record(ParameterName, ParameterValue);
/** Dataset versions by dataset name (`{ "iris": "v3" }`): override the notebook's pins. */
export const JobDatasets = z.record(z.string().min(1).max(64), VersionRef);

export const JobEnvMode = z.enum(['runner', 'recreate']).meta({
  description: "`runner`: the runner's own Python; `recreate`: an environment with exactly the packages the original run recorded."
});
export const JobStatus = z.enum(['queued', 'running', 'finished', 'failed', 'cancelled', 'timed_out']);
export type JobStatus = z.infer<typeof JobStatus>;
export const AttemptStatus = z.enum(['running', 'finished', 'failed', 'cancelled', 'timed_out', 'lost', 'abandoned']);

export const JobAttempt = z.strictObject({
  id: z.string(),
  number: z.number().int().positive(),
  runnerId: z.string().nullable(),
  runnerName: z.string().nullable(),
  status: AttemptStatus,
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  error: z.string().nullable()
});
export type JobAttempt = z.infer<typeof JobAttempt>;

/** Where the current attempt is: code cell `cell` (0-based) of `cells`. */
export const JobProgress = z.strictObject({
  cells: z.number().int().nonnegative(),
  cell: z.number().int().nonnegative().nullable(),
  state: z.enum(['starting', 'running', 'done', 'error'])
});
export type JobProgress = z.infer<typeof JobProgress>;

export const Job = z.strictObject({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  /** The job's run: created when the job is queued; its metrics, artifacts and outcome. */
  runId: z.string(),
  name: z.string(),
  notebookPath: z.string(),
  /** The snapshot commit of the project's repository the notebook runs at. */
  snapshotCommit: z.string(),
  parameters: JobParameters,
  /** The dataset versions materialized for it (the notebook's pins with any overrides). */
  datasets: JobDatasets,
  labels: z.array(z.string()),
  env: JobEnvMode,
  priority: z.number().int(),
  status: JobStatus,
  attemptCount: z.number().int().nonnegative(),
  maxRetries: z.number().int().nonnegative(),
  timeoutS: z.number().int().positive().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  /** The runner running it now (or that ran its last attempt). */
  runnerName: z.string().nullable(),
  progress: JobProgress.nullable(),
  /** The run this job re-produces, for `runlab rerun` / the Re-run button. */
  rerunOf: z.string().nullable(),
  /** Every attempt, oldest first (empty in lists). */
  attempts: z.array(JobAttempt)
});
export type Job = z.infer<typeof Job>;

export const JobOptions = {
  parameters: JobParameters.default({}),
  datasets: JobDatasets.default({}),
  /** A runner must have every one of these labels. */
  labels: Labels.default([]),
  env: JobEnvMode.default('runner'),
  priority: z.number().int().min(-1000).max(1000).default(0),
  maxRetries: z.number().int().min(0).max(10).default(2),
  timeoutS: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .nullable()
    .default(null)
};

/** Which notebook a job (or a sweep's trials) runs: a snapshot already committed, or the notebook sent. */
export const NotebookSource = {
  project: ProjectName,
  notebookPath: SnapshotPath,
  name: z.string().min(1).max(250).optional(),
  /** A snapshot commit already in the project's repository (a run's), or… */
  commit: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .optional(),
  /** …the notebook itself (nbformat JSON, as on disk), committed as a new snapshot. */
  notebook: z.record(z.string(), z.unknown()).optional(),
  /** With `notebook`: the project-local modules it imports, committed with it. */
  files: z
    .array(SnapshotFile.extend({ path: SnapshotPath }))
    .max(1000)
    .default([])
};

/** The refinement every NotebookSource body carries. */
export const ONE_NOTEBOOK_SOURCE = [
  (body: { commit?: string; notebook?: Record<string, unknown> }) => (body.commit === undefined) !== (body.notebook === undefined),
  { message: 'give exactly one of commit (an existing snapshot) or notebook (its JSON)' }
] as const;

export const SubmitJobRequest = z
  .strictObject({ ...NotebookSource, ...JobOptions })
  .refine(...ONE_NOTEBOOK_SOURCE)
  .meta({
    description:
      'Also checked, beyond this schema: exactly one of commit and notebook; the files as for a snapshot (no path twice, none ' +
      "inside another, not the notebook); each parameter declared by the notebook's `parameters` cell with a value of its type, " +
      'and each dataset version in the project (400 naming it); a commit must be in the project repository and hold notebookPath.'
  });
export type SubmitJobRequest = z.input<typeof SubmitJobRequest>;

/** Re-run a run: its snapshot, dataset versions and parameters, with optional overrides. */
export const RerunRequest = z.strictObject({
  parameters: JobParameters.optional(),
  datasets: JobDatasets.optional(),
  labels: Labels.optional(),
  env: JobEnvMode.default('runner'),
  timeoutS: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .nullable()
    .default(null)
});
export type RerunRequest = z.input<typeof RerunRequest>;

export const JobListQuery = z.strictObject({
  project: ProjectName.optional(),
  status: JobStatus.optional(),
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(1000)).default(100)
});
export const JobListResponse = z.strictObject({ jobs: z.array(Job), total: z.number().int() });

/** What a runner gets for an attempt (GET /api/runner/attempts/:id/notebook). */
export const AttemptNotebook = z.strictObject({
  notebookPath: z.string(),
  /** nbformat JSON as committed (outputs stripped), before parameters are injected. */
  notebook: z.record(z.string(), z.unknown()),
  /** The project's other files at the commit that the notebook imports (local modules). */
  files: z.array(SnapshotFile),
  /** With env `recreate`: the packages the original run recorded (`name==version`). */
  packages: z.array(z.string()).nullable()
});
export type AttemptNotebook = z.infer<typeof AttemptNotebook>;

const AttemptParams = z.strictObject({ id: z.string().min(1).max(100) });

export const runnersApi = {
  listRunners: route({
    method: 'get',
    path: '/api/runners',
    summary: 'Registered runners with their status, capacity and running jobs',
    tag: 'runners',
    scope: 'user',
    status: 200,
    response: RunnerListResponse
  }),
  addRunner: route({
    method: 'post',
    path: '/api/runners',
    summary: 'Add a runner: creates its runner-scoped token and answers the one-line command to run on the machine',
    tag: 'runners',
    scope: 'user',
    body: AddRunnerRequest,
    status: 201,
    response: AddRunnerResponse,
    errors: ['conflict']
  }),
  getRunner: route({
    method: 'get',
    path: '/api/runners/:id',
    summary: 'One runner',
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Runner,
    errors: ['not_found']
  }),
  drainRunner: route({
    method: 'post',
    path: '/api/runners/:id/drain',
    summary: 'Stop giving the runner new jobs; what it runs finishes',
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Runner,
    errors: ['not_found']
  }),
  removeRunner: route({
    method: 'delete',
    path: '/api/runners/:id',
    summary: 'Remove a runner: its token is revoked, it is disconnected at once, and its jobs go back to the queue',
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  }),
  submitJob: route({
    method: 'post',
    path: '/api/jobs',
    summary:
      'Queue a notebook to run on a runner; parameters are checked against its `parameters` cell (400 for a wrong type or unknown name)',
    tag: 'runners',
    scope: 'user',
    body: SubmitJobRequest,
    largeBody: true,
    status: 201,
    response: Job,
    errors: ['not_found']
  }),
  listJobs: route({
    method: 'get',
    path: '/api/jobs',
    summary: 'Jobs, newest first',
    tag: 'runners',
    scope: 'user',
    query: JobListQuery,
    status: 200,
    response: JobListResponse
  }),
  getJob: route({
    method: 'get',
    path: '/api/jobs/:id',
    summary: 'One job with its attempts and progress',
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Job,
    errors: ['not_found']
  }),
  cancelJob: route({
    method: 'post',
    path: '/api/jobs/:id/cancel',
    summary: 'Cancel a job: a queued one at once; a running one is interrupted, then killed after a grace period',
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Job,
    errors: ['not_found']
  }),
  getJobLog: route({
    method: 'get',
    path: '/api/jobs/:id/log',
    summary: "The job's output so far (stdout, stderr and errors of every attempt), as text",
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    status: 200,
    rawResponse: { description: 'The output as UTF-8 text.', mediaType: 'text/plain; charset=utf-8' },
    errors: ['not_found']
  }),
  rerunRun: route({
    method: 'post',
    path: '/api/runs/:id/rerun',
    summary: 'Re-produce a run: queue a job at its snapshot, dataset versions and parameters; the new run links to it',
    tag: 'runners',
    scope: 'user',
    params: IdParams,
    body: RerunRequest,
    status: 201,
    response: Job,
    errors: ['not_found']
  }),
  getAttemptNotebook: route({
    method: 'get',
    path: '/api/runner/attempts/:id/notebook',
    summary: "For the runner holding the attempt: the job's notebook at its snapshot, its local modules and (env recreate) packages",
    tag: 'runners',
    scope: 'runner',
    params: AttemptParams,
    status: 200,
    response: AttemptNotebook,
    errors: ['not_found', 'forbidden', 'conflict']
  }),
  putExecutedNotebook: route({
    method: 'put',
    path: '/api/runner/attempts/:id/notebook',
    summary: "For the runner holding the attempt: the executed notebook (with outputs), kept as the run's artifact",
    tag: 'runners',
    scope: 'runner',
    params: AttemptParams,
    body: z.record(z.string(), z.unknown()),
    largeBody: true,
    status: 204,
    errors: ['not_found', 'forbidden', 'conflict']
  })
} as const;

// ----- The runner agent's socket (namespace RUNNERS_NAMESPACE, auth { token }) -----

/** What the executor reports while a notebook runs (python/runlab/runners/execute.py). */
export const JobEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('started'), cells: z.number().int().nonnegative() }),
  z.strictObject({
    type: z.literal('cell'),
    index: z.number().int().nonnegative(),
    of: z.number().int().nonnegative(),
    state: z.enum(['running', 'done', 'error']),
    cell_id: z.string().nullable().optional()
  }),
  z.strictObject({
    type: z.literal('output'),
    index: z.number().int().nonnegative(),
    stream: z.enum(['stdout', 'stderr']),
    text: z.string().max(1_000_000)
  }),
  z.strictObject({
    type: z.literal('error'),
    index: z.number().int().nonnegative(),
    ename: z.string().max(1000),
    evalue: z.string().max(100_000),
    traceback: z.array(z.string().max(100_000)).max(1000)
  })
]);
export type JobEvent = z.infer<typeof JobEvent>;

export const RunnerHello = z.strictObject({
  capacity: RunnerCapacity,
  /** May lower (not raise) the maxJobs the runner was added with. */
  maxJobs: z.number().int().min(1).max(256),
  /** Extra labels from `--labels`, added to those the runner was added with. */
  labels: Labels.default([]),
  version: z.string().max(50),
  /** Attempts this agent is still running (after a reconnect). */
  attempts: z.array(z.string()).max(256).default([])
});
export type RunnerHello = z.input<typeof RunnerHello>;

export interface RunnerWelcome {
  runnerId: string;
  name: string;
  heartbeatMs: number;
  leaseMs: number;
  /** Attempts the agent must stop: no longer its own (requeued while it was away). */
  abandon: string[];
}

/** A job offered to a runner: everything but the notebook, fetched with getAttemptNotebook. */
export interface JobOffer {
  attemptId: string;
  attemptNumber: number;
  jobId: string;
  runId: string;
  projectName: string;
  notebookPath: string;
  snapshotCommit: string;
  parameters: Record<string, ParameterValue>;
  datasets: Record<string, string>;
  env: 'runner' | 'recreate';
  timeoutS: number | null;
}

export type RunnerAck<T> = (reply: ({ ok: true } & T) | { ok: false; code: string; message: string }) => void;

export interface RunnerClientEvents {
  'runner:hello': (payload: RunnerHello, ack: RunnerAck<RunnerWelcome>) => void;
  /** Renews the leases of `attempts`; the reply lists attempts to abandon and cancels to act on. */
  'runner:heartbeat': (
    payload: { attempts: string[] },
    ack: RunnerAck<{ abandon: string[]; cancel: { attemptId: string; outcome: 'cancelled' | 'timed_out' }[] }>
  ) => void;
  /** SIGTERM: take no new jobs (what runs finishes). */
  'runner:drain': (payload: Record<string, never>, ack: RunnerAck<object>) => void;
  'job:event': (payload: { attemptId: string; events: JobEvent[] }, ack: RunnerAck<object>) => void;
  'job:complete': (
    payload: {
      attemptId: string;
      status: 'finished' | 'failed' | 'cancelled' | 'timed_out';
      error: string | null;
      failedCell: number | null;
      durationS: number;
    },
    ack: RunnerAck<object>
  ) => void;
}

export interface RunnerServerEvents {
  /** The agent answers `accepted: false` when it cannot take it (draining, full); the job is requeued. */
  'job:offer': (offer: JobOffer, ack: (reply: { accepted: boolean }) => void) => void;
  'job:cancel': (payload: { attemptId: string; outcome: 'cancelled' | 'timed_out' }) => void;
  /** The runner's token was revoked or the runner removed; the connection closes after this. */
  'runner:revoked': (payload: { message: string }) => void;
}

// ----- Browser events -----

export interface RunnerEvents {
  /** To the job's project room: queued, started, progressed, attempt changed, ended. */
  'job:updated': (job: Job) => void;
  /** To the job's project room: output and errors of the current attempt as they happen. */
  'job:output': (payload: { jobId: string; attemptId: string; events: JobEvent[] }) => void;
  /** To everyone: a runner connected, heartbeated its status change, drained, went offline or was removed. */
  'runner:updated': (runner: Runner) => void;
  'runner:removed': (payload: { id: string }) => void;
}
