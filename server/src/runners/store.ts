/**
 * SQL for the job queue: runners (registered machines), jobs (requests to execute a notebook)
 * and job attempts (one try of a job on one runner, held under a lease). The rules — who gets
 * which job, when a lease is lost, which results are refused — live in runners/scheduler.ts; this
 * file only reads and writes rows. Times are ISO-8601 strings (`Date#toISOString`), as in the
 * rest of the schema, so they compare correctly as text.
 */
import type { Database, Statement } from 'better-sqlite3';

export type RunnerStatus = 'online' | 'offline' | 'draining';
export type JobStatus = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled' | 'timed_out';
/** `lost`: its lease expired (counts towards maxRetries); `abandoned`: taken back (runner removed). */
export type AttemptStatus = 'running' | 'finished' | 'failed' | 'cancelled' | 'timed_out' | 'lost' | 'abandoned';
/** `runner`: use the runner's own Python environment; `recreate`: install the run's package list first. */
export type EnvMode = 'runner' | 'recreate';
/** What a requested cancel ends a job as. */
export type CancelOutcome = 'cancelled' | 'timed_out';

export interface RunnerGpu {
  model: string;
  memoryBytes: number;
}

/** What a runner reports about its machine when it registers. */
export interface RunnerCapacity {
  cpus: number;
  memoryBytes: number;
  gpus: RunnerGpu[];
  os: string;
  python: string;
}

export interface RunnerRecord {
  id: string;
  name: string;
  labels: string[];
  /** What the agent reported when it last connected; null until it first does. */
  capacity: RunnerCapacity | null;
  /** How many jobs it runs at once. */
  maxJobs: number;
  /** The limit it was added with: its agent may ask for fewer (maxJobs), never more. */
  addedMaxJobs: number | null;
  tokenId: string | null;
  status: RunnerStatus;
  lastHeartbeatAt: string | null;
  connectedAt: string | null;
  createdAt: string;
  /** The runner pool that started it (runners/pools), or null for a machine added by hand. */
  poolId: string | null;
  /** A pool's runner is started for one job: the scheduler offers it that job only, and that job to it only. */
  reservedJobId: string | null;
}

export interface JobRecord {
  id: string;
  projectId: string;
  runId: string;
  snapshotCommit: string;
  notebookPath: string;
  parameters: Record<string, unknown>;
  datasetPins: unknown[];
  envMode: EnvMode;
  requiredLabels: string[];
  /** Higher runs first; equal priorities run oldest first. */
  priority: number;
  status: JobStatus;
  /** Attempts made so far (the current one included). */
  attemptCount: number;
  maxRetries: number;
  timeoutS: number | null;
  createdAt: string;
  /** When the current (or last) attempt started; null while queued. */
  startedAt: string | null;
  cancelRequestedAt: string | null;
  cancelOutcome: CancelOutcome | null;
  error: string | null;
  finishedAt: string | null;
  /** The runner holding the job (while running), or the one that last ran it. */
  runnerId: string | null;
  currentAttemptId: string | null;
}

export interface AttemptRecord {
  id: string;
  jobId: string;
  number: number;
  runnerId: string | null;
  status: AttemptStatus;
  startedAt: string;
  leaseExpiresAt: string;
  endedAt: string | null;
  error: string | null;
  /** The last progress the runner reported, as it sent it. */
  progress: unknown;
}

/** A new job as the store inserts it (the scheduler fills in defaults). */
export type NewJob = Pick<
  JobRecord,
  | 'id'
  | 'projectId'
  | 'runId'
  | 'snapshotCommit'
  | 'notebookPath'
  | 'parameters'
  | 'datasetPins'
  | 'envMode'
  | 'requiredLabels'
  | 'priority'
  | 'maxRetries'
  | 'timeoutS'
  | 'createdAt'
>;

/** A runner's registration as the store upserts it. */
export type RunnerRegistration = Pick<RunnerRecord, 'id' | 'name' | 'labels' | 'maxJobs' | 'tokenId'> & { capacity: RunnerCapacity };

interface RunnerRow {
  id: string;
  name: string;
  labels: string;
  capacity: string;
  max_jobs: number;
  added_max_jobs: number | null;
  token_id: string | null;
  status: RunnerStatus;
  last_heartbeat_at: string | null;
  connected_at: string | null;
  created_at: string;
  pool_id: string | null;
  reserved_job_id: string | null;
}

interface JobRow {
  id: string;
  project_id: string;
  run_id: string;
  snapshot_commit: string;
  notebook_path: string;
  parameters: string;
  dataset_pins: string;
  env_mode: EnvMode;
  required_labels: string;
  priority: number;
  status: JobStatus;
  attempt_count: number;
  max_retries: number;
  timeout_s: number | null;
  created_at: string;
  started_at: string | null;
  cancel_requested_at: string | null;
  cancel_outcome: CancelOutcome | null;
  error: string | null;
  finished_at: string | null;
  runner_id: string | null;
  current_attempt_id: string | null;
}

interface AttemptRow {
  id: string;
  job_id: string;
  number: number;
  runner_id: string | null;
  status: AttemptStatus;
  started_at: string;
  lease_expires_at: string;
  ended_at: string | null;
  error: string | null;
  progress: string | null;
}

/** A runner added but never connected has the column's default, `{}`. */
const capacityOf = (value: Partial<RunnerCapacity>): RunnerCapacity | null => (value.cpus === undefined ? null : (value as RunnerCapacity));

const toRunner = (row: RunnerRow): RunnerRecord => ({
  id: row.id,
  name: row.name,
  labels: JSON.parse(row.labels) as string[],
  capacity: capacityOf(JSON.parse(row.capacity) as Partial<RunnerCapacity>),
  maxJobs: row.max_jobs,
  addedMaxJobs: row.added_max_jobs,
  tokenId: row.token_id,
  status: row.status,
  lastHeartbeatAt: row.last_heartbeat_at,
  connectedAt: row.connected_at,
  createdAt: row.created_at,
  poolId: row.pool_id,
  reservedJobId: row.reserved_job_id
});

const toJob = (row: JobRow): JobRecord => ({
  id: row.id,
  projectId: row.project_id,
  runId: row.run_id,
  snapshotCommit: row.snapshot_commit,
  notebookPath: row.notebook_path,
  parameters: JSON.parse(row.parameters) as Record<string, unknown>,
  datasetPins: JSON.parse(row.dataset_pins) as unknown[],
  envMode: row.env_mode,
  requiredLabels: JSON.parse(row.required_labels) as string[],
  priority: row.priority,
  status: row.status,
  attemptCount: row.attempt_count,
  maxRetries: row.max_retries,
  timeoutS: row.timeout_s,
  createdAt: row.created_at,
  startedAt: row.started_at,
  cancelRequestedAt: row.cancel_requested_at,
  cancelOutcome: row.cancel_outcome,
  error: row.error,
  finishedAt: row.finished_at,
  runnerId: row.runner_id,
  currentAttemptId: row.current_attempt_id
});

const toAttempt = (row: AttemptRow): AttemptRecord => ({
  id: row.id,
  jobId: row.job_id,
  number: row.number,
  runnerId: row.runner_id,
  status: row.status,
  startedAt: row.started_at,
  leaseExpiresAt: row.lease_expires_at,
  endedAt: row.ended_at,
  error: row.error,
  progress: row.progress === null ? null : (JSON.parse(row.progress) as unknown)
});

/** The queue's order: higher priority first, then oldest, then first inserted. */
const QUEUE_ORDER = 'ORDER BY j.priority DESC, j.created_at, j.seq';
/** Binds a list as one JSON parameter, so one prepared statement serves any count. */
const IN_JSON = 'IN (SELECT value FROM json_each(?))';

export class JobStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      // runners
      upsertRunner:
        prepare(`INSERT INTO runners (id, name, labels, capacity, max_jobs, token_id, status, last_heartbeat_at, connected_at, created_at)
        VALUES (@id, @name, @labels, @capacity, @maxJobs, @tokenId, 'online', @at, @at, @at)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, labels = excluded.labels, capacity = excluded.capacity,
          max_jobs = excluded.max_jobs, token_id = excluded.token_id, last_heartbeat_at = excluded.last_heartbeat_at,
          connected_at = excluded.connected_at,
          -- an operator's drain outlives a reconnect
          status = CASE WHEN runners.status = 'draining' THEN 'draining' ELSE 'online' END`),
      findRunner: prepare('SELECT * FROM runners WHERE id = ?'),
      // A runner added by a user: known, bound to its token, not connected yet.
      insertRunner: prepare(`INSERT INTO runners (id, name, labels, max_jobs, added_max_jobs, token_id, status, created_at, pool_id,
          reserved_job_id)
        VALUES (@id, @name, @labels, @maxJobs, @maxJobs, @tokenId, 'offline', @at, @poolId, @reservedJobId)`),
      runnersOfPool: prepare('SELECT * FROM runners WHERE pool_id = ? ORDER BY created_at, id'),
      findRunnerByToken: prepare('SELECT * FROM runners WHERE token_id = ?'),
      findRunnerByName: prepare('SELECT * FROM runners WHERE name = ?'),
      listRunners: prepare('SELECT * FROM runners ORDER BY created_at, id'),
      setRunnerStatus: prepare('UPDATE runners SET status = ? WHERE id = ?'),
      markConnected: prepare(`UPDATE runners SET connected_at = @at, last_heartbeat_at = @at,
          status = CASE WHEN status = 'draining' THEN 'draining' ELSE 'online' END WHERE id = @id`),
      touchHeartbeat: prepare(`UPDATE runners SET last_heartbeat_at = @at,
          status = CASE WHEN status = 'offline' THEN 'online' ELSE status END WHERE id = @id`),
      deleteRunner: prepare('DELETE FROM runners WHERE id = ?'),
      // Online runners with a free slot, least loaded first (then longest registered).
      runnersWithFreeSlots: prepare(`SELECT * FROM (
          SELECT r.*, (SELECT COUNT(*) FROM job_attempts a WHERE a.runner_id = r.id AND a.status = 'running') AS running
          FROM runners r WHERE r.status = 'online')
        WHERE running < max_jobs ORDER BY running, created_at, id`),
      runningCount: prepare("SELECT COUNT(*) AS n FROM job_attempts WHERE runner_id = ? AND status = 'running'"),
      markAllRunnersOffline: prepare("UPDATE runners SET status = 'offline' WHERE status = 'online'"),

      // jobs
      insertJob: prepare(`INSERT INTO jobs (id, seq, project_id, run_id, snapshot_commit, notebook_path, parameters, dataset_pins,
          env_mode, required_labels, priority, status, max_retries, timeout_s, created_at)
        VALUES (@id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), @projectId, @runId, @snapshotCommit, @notebookPath, @parameters,
          @datasetPins, @envMode, @requiredLabels, @priority, 'queued', @maxRetries, @timeoutS, @createdAt)`),
      findJob: prepare('SELECT * FROM jobs WHERE id = ?'),
      findJobOfRun: prepare('SELECT * FROM jobs WHERE run_id = ?'),
      listJobs: prepare(`SELECT * FROM jobs WHERE (@projectId IS NULL OR project_id = @projectId) AND (@status IS NULL OR status = @status)
        ORDER BY created_at DESC, seq DESC LIMIT @limit`),
      countJobs: prepare(`SELECT COUNT(*) AS n FROM jobs WHERE (@projectId IS NULL OR project_id = @projectId)
        AND (@status IS NULL OR status = @status)`),
      queued: prepare(`SELECT j.* FROM jobs j WHERE j.status = 'queued' ${QUEUE_ORDER}`),
      queuedInProject: prepare(`SELECT j.* FROM jobs j WHERE j.status = 'queued' AND j.project_id = ? ${QUEUE_ORDER}`),
      running: prepare("SELECT * FROM jobs WHERE status = 'running' ORDER BY created_at, seq"),
      // The best queued job whose required labels are all among the runner's labels (JSON array).
      bestJobFor: prepare(`SELECT j.* FROM jobs j WHERE j.status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM json_each(j.required_labels) need WHERE need.value NOT ${IN_JSON})
          AND NOT EXISTS (SELECT 1 FROM runners r WHERE r.reserved_job_id = j.id)
        ${QUEUE_ORDER} LIMIT 1`),
      // Guarded by status = 'queued': a job already claimed is never claimed again.
      claimJob: prepare(`UPDATE jobs SET status = 'running', attempt_count = @number, runner_id = @runnerId,
          current_attempt_id = @attemptId, started_at = @at
        WHERE id = @jobId AND status = 'queued'`),
      requeueJob: prepare(`UPDATE jobs SET status = 'queued', current_attempt_id = NULL, runner_id = NULL, started_at = NULL
        WHERE id = ? AND status = 'running'`),
      finishJob: prepare(`UPDATE jobs SET status = @status, error = @error, finished_at = @at, current_attempt_id = NULL
        WHERE id = @id AND status IN ('queued', 'running')`),
      requestCancel: prepare(`UPDATE jobs SET cancel_requested_at = @at, cancel_outcome = @outcome
        WHERE id = @id AND status = 'running' AND cancel_requested_at IS NULL`),

      // attempts
      insertAttempt: prepare(`INSERT INTO job_attempts (id, job_id, number, runner_id, status, started_at, lease_expires_at)
        VALUES (@id, @jobId, @number, @runnerId, 'running', @at, @leaseExpiresAt)`),
      findAttempt: prepare('SELECT * FROM job_attempts WHERE id = ?'),
      attemptsOfJob: prepare('SELECT * FROM job_attempts WHERE job_id = ? ORDER BY number'),
      runningAttemptsOf: prepare("SELECT * FROM job_attempts WHERE runner_id = ? AND status = 'running' ORDER BY started_at, id"),
      expiredAttempts: prepare(
        "SELECT * FROM job_attempts WHERE status = 'running' AND lease_expires_at <= ? ORDER BY lease_expires_at, id"
      ),
      endAttempt: prepare(`UPDATE job_attempts SET status = @status, ended_at = @at, error = @error
        WHERE id = @id AND status = 'running'`),
      renewAllLeases: prepare("UPDATE job_attempts SET lease_expires_at = ? WHERE runner_id = ? AND status = 'running'"),
      renewLeasesOf: prepare(`UPDATE job_attempts SET lease_expires_at = ? WHERE runner_id = ? AND status = 'running' AND id ${IN_JSON}`),
      renewEveryLease: prepare("UPDATE job_attempts SET lease_expires_at = ? WHERE status = 'running'"),
      renewLease: prepare("UPDATE job_attempts SET lease_expires_at = ? WHERE id = ? AND status = 'running'"),
      setProgress: prepare("UPDATE job_attempts SET progress = ? WHERE id = ? AND status = 'running'"),
      lostRunnersOf: prepare(`SELECT COALESCE(r.name, a.runner_id, 'unknown') AS name FROM job_attempts a
        LEFT JOIN runners r ON r.id = a.runner_id WHERE a.job_id = ? AND a.status = 'lost' ORDER BY a.number`)
    };
  }

  /**
   * Runs `work` in one write transaction (BEGIN IMMEDIATE), so the check and the write it allows
   * cannot interleave with another connection's.
   */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  // ------------------------------------------------------------------------------------------
  // runners

  /** Creates the runner, or updates its registration; either way it is connected now. */
  upsertRunner(runner: RunnerRegistration, at: string): void {
    this.statements.upsertRunner.run({
      ...runner,
      labels: JSON.stringify(runner.labels),
      capacity: JSON.stringify(runner.capacity),
      at
    });
  }

  /** Adds a runner that has not connected yet (offline, no capacity); a pool's runner names its pool and job. */
  insertRunner(
    runner: Pick<RunnerRecord, 'id' | 'name' | 'labels' | 'maxJobs' | 'tokenId'> & Partial<Pick<RunnerRecord, 'poolId' | 'reservedJobId'>>,
    at: string
  ): void {
    this.statements.insertRunner.run({
      poolId: null,
      reservedJobId: null,
      ...runner,
      labels: JSON.stringify(runner.labels),
      at
    });
  }

  /** The runners a pool started that are not retired yet, oldest first. */
  runnersOfPool(poolId: string): RunnerRecord[] {
    return (this.statements.runnersOfPool.all(poolId) as RunnerRow[]).map(toRunner);
  }

  findRunnerByToken(tokenId: string): RunnerRecord | undefined {
    const row = this.statements.findRunnerByToken.get(tokenId) as RunnerRow | undefined;
    return row && toRunner(row);
  }

  findRunnerByName(name: string): RunnerRecord | undefined {
    const row = this.statements.findRunnerByName.get(name) as RunnerRow | undefined;
    return row && toRunner(row);
  }

  findRunner(id: string): RunnerRecord | undefined {
    const row = this.statements.findRunner.get(id) as RunnerRow | undefined;
    return row && toRunner(row);
  }

  listRunners(): RunnerRecord[] {
    return (this.statements.listRunners.all() as RunnerRow[]).map(toRunner);
  }

  setRunnerStatus(id: string, status: RunnerStatus): boolean {
    return this.statements.setRunnerStatus.run(status, id).changes > 0;
  }

  /** A (re)connection: connected and heard from now; online unless an operator drained it. */
  markConnected(id: string, at: string): void {
    this.statements.markConnected.run({ id, at });
  }

  /** Heard from now; a runner marked offline that still heartbeats is evidently online. */
  touchHeartbeat(id: string, at: string): void {
    this.statements.touchHeartbeat.run({ id, at });
  }

  deleteRunner(id: string): boolean {
    return this.statements.deleteRunner.run(id).changes > 0;
  }

  /** Online runners with at least one free slot, least loaded first, with their running counts. */
  runnersWithFreeSlots(): { runner: RunnerRecord; running: number }[] {
    return (this.statements.runnersWithFreeSlots.all() as (RunnerRow & { running: number })[]).map((row) => ({
      runner: toRunner(row),
      running: row.running
    }));
  }

  runningCount(runnerId: string): number {
    return (this.statements.runningCount.get(runnerId) as { n: number }).n;
  }

  /** After a server restart no runner is connected yet. */
  markAllRunnersOffline(): void {
    this.statements.markAllRunnersOffline.run();
  }

  // ------------------------------------------------------------------------------------------
  // jobs

  insertJob(job: NewJob): void {
    this.statements.insertJob.run({
      ...job,
      parameters: JSON.stringify(job.parameters),
      datasetPins: JSON.stringify(job.datasetPins),
      requiredLabels: JSON.stringify(job.requiredLabels)
    });
  }

  findJob(id: string): JobRecord | undefined {
    const row = this.statements.findJob.get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  findJobOfRun(runId: string): JobRecord | undefined {
    const row = this.statements.findJobOfRun.get(runId) as JobRow | undefined;
    return row && toJob(row);
  }

  /** Jobs newest first, of one project and/or status, with how many match in all. */
  listJobs(filter: { projectId: string | null; status: JobStatus | null; limit: number }): { jobs: JobRecord[]; total: number } {
    const jobs = (this.statements.listJobs.all(filter) as JobRow[]).map(toJob);
    const { projectId, status } = filter;
    return { jobs, total: (this.statements.countJobs.get({ projectId, status }) as { n: number }).n };
  }

  /** Queued jobs in queue order, of one project or of all. */
  queued(projectId?: string): JobRecord[] {
    const rows = (projectId === undefined ? this.statements.queued.all() : this.statements.queuedInProject.all(projectId)) as JobRow[];
    return rows.map(toJob);
  }

  running(): JobRecord[] {
    return (this.statements.running.all() as JobRow[]).map(toJob);
  }

  /** The first queued job (in queue order) that a runner with these labels may run. */
  bestJobFor(labels: readonly string[]): JobRecord | undefined {
    const row = this.statements.bestJobFor.get(JSON.stringify(labels)) as JobRow | undefined;
    return row && toJob(row);
  }

  /** Marks a queued job running under this attempt; false when it was no longer queued. */
  claimJob(claim: { jobId: string; attemptId: string; runnerId: string; number: number; at: string }): boolean {
    return this.statements.claimJob.run(claim).changes > 0;
  }

  /** Puts a running job back in the queue (keeping its attempt count and its place). */
  requeueJob(id: string): boolean {
    return this.statements.requeueJob.run(id).changes > 0;
  }

  /** Ends a queued or running job; false when it had already ended. */
  finishJob(id: string, status: Exclude<JobStatus, 'queued' | 'running'>, error: string | null, at: string): boolean {
    return this.statements.finishJob.run({ id, status, error, at }).changes > 0;
  }

  /** Records a cancel request on a running job once; false when one was already recorded. */
  requestCancel(id: string, outcome: CancelOutcome, at: string): boolean {
    return this.statements.requestCancel.run({ id, outcome, at }).changes > 0;
  }

  // ------------------------------------------------------------------------------------------
  // attempts

  insertAttempt(attempt: { id: string; jobId: string; number: number; runnerId: string; at: string; leaseExpiresAt: string }): void {
    this.statements.insertAttempt.run(attempt);
  }

  findAttempt(id: string): AttemptRecord | undefined {
    const row = this.statements.findAttempt.get(id) as AttemptRow | undefined;
    return row && toAttempt(row);
  }

  attemptsOfJob(jobId: string): AttemptRecord[] {
    return (this.statements.attemptsOfJob.all(jobId) as AttemptRow[]).map(toAttempt);
  }

  runningAttemptsOf(runnerId: string): AttemptRecord[] {
    return (this.statements.runningAttemptsOf.all(runnerId) as AttemptRow[]).map(toAttempt);
  }

  /** Running attempts whose lease ended at or before `at`. */
  expiredAttempts(at: string): AttemptRecord[] {
    return (this.statements.expiredAttempts.all(at) as AttemptRow[]).map(toAttempt);
  }

  /** Ends a running attempt; false when it had already ended. */
  endAttempt(id: string, status: Exclude<AttemptStatus, 'running'>, error: string | null, at: string): boolean {
    return this.statements.endAttempt.run({ id, status, error, at }).changes > 0;
  }

  /** Extends the leases of a runner's running attempts (all, or those listed); returns how many. */
  renewLeases(runnerId: string, leaseExpiresAt: string, attemptIds?: readonly string[]): number {
    const result =
      attemptIds === undefined
        ? this.statements.renewAllLeases.run(leaseExpiresAt, runnerId)
        : this.statements.renewLeasesOf.run(leaseExpiresAt, runnerId, JSON.stringify(attemptIds));
    return result.changes;
  }

  renewLease(attemptId: string, leaseExpiresAt: string): void {
    this.statements.renewLease.run(leaseExpiresAt, attemptId);
  }

  /** Extends every running attempt's lease (after a restart, so runners have time to reconnect). */
  renewEveryLease(leaseExpiresAt: string): number {
    return this.statements.renewEveryLease.run(leaseExpiresAt).changes;
  }

  setProgress(attemptId: string, progress: unknown): void {
    this.statements.setProgress.run(JSON.stringify(progress ?? null), attemptId);
  }

  /** The names of the runners the job's lost attempts ran on, in attempt order. */
  lostRunnerNames(jobId: string): string[] {
    return (this.statements.lostRunnersOf.all(jobId) as { name: string }[]).map((row) => row.name);
  }
}
