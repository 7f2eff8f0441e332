/**
 * The scheduler: which runner runs which job, and what happens when a runner goes quiet.
 *
 * - The queue is ordered by priority (higher first), then age (oldest first), across projects;
 *   `queue(projectId)` shows one project's part of it in that order.
 * - A runner gets a job only when it is online (not draining or offline), has a free slot
 *   (running attempts < maxJobs) and has every label the job requires.
 * - A runner a pool started for one job (reservedJobId) gets that job only, and no other runner
 *   gets it while the reservation stands (runners/pools).
 * - Each try of a job is an attempt, held under a lease that the runner's heartbeats renew. An
 *   attempt whose lease passes is lost: its job goes back to the queue, or fails once it has been
 *   lost maxRetries + 1 times. The run stays the job's one run throughout.
 * - Fencing: a runner's results name their attempt, and only the job's current running attempt
 *   is heard; anything else is refused with a StaleAttemptError (409).
 *
 * Everything lives in SQLite (runners/store.ts) and every multi-step change is one transaction, so
 * a Scheduler built over the same database after a restart carries on where the last one was.
 * It owns no timers and no sockets: the caller runs `expireLeases()` and `expireTimeouts()` on
 * its own timer and delivers the offers and notices these methods return.
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../http/errors';
import type { AttemptRecord, CancelOutcome, EnvMode, JobRecord, JobStore, RunnerCapacity, RunnerRecord, RunnerStatus } from './store';

export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

export interface SchedulerOptions {
  /** The clock, in epoch milliseconds; tests inject their own. */
  now?: () => number;
  /** How long an attempt's lease lasts after each heartbeat (default 30 s). */
  leaseMs?: number;
  /** How often runners are asked to heartbeat (default 5 s); must be shorter than the lease. */
  heartbeatMs?: number;
}

export interface EnqueueJobInput {
  projectId: string;
  /** The job's run, created by the caller when it queues the job. */
  runId: string;
  snapshotCommit: string;
  notebookPath: string;
  parameters?: Record<string, unknown>;
  datasetPins?: unknown[];
  envMode?: EnvMode;
  requiredLabels?: string[];
  priority?: number;
  maxRetries?: number;
  timeoutS?: number | null;
}

export interface RegisterRunnerInput {
  /** Given when the runner already has an id (re-registering); a fresh one otherwise. */
  id?: string;
  name: string;
  labels?: string[];
  capacity: RunnerCapacity;
  maxJobs?: number;
  tokenId?: string | null;
}

/** A job claimed for a runner: the caller sends it to the runner, naming the attempt. */
export interface Offer {
  job: JobRecord;
  attempt: AttemptRecord;
  runnerId: string;
}

/** Who to tell that a running job should stop: the runner interrupts, then kills, then completes. */
export interface CancelNotice {
  jobId: string;
  runnerId: string;
  attemptId: string;
  outcome: CancelOutcome;
}

/** How a runner says an attempt ended. `cancelled` becomes `timed_out` when a timeout asked for it. */
export interface AttemptOutcome {
  status: 'finished' | 'failed' | 'cancelled' | 'timed_out';
  error?: string | null;
}

/** What became of jobs whose attempt was taken away (lease lost, runner gone). */
export interface JobsReleased {
  /** Back in the queue: the caller should call `assignable()`. */
  requeued: string[];
  /** Failed for good: lost too often. */
  failed: string[];
  /** Ended as they were asked to (cancelled or timed out) since their runner cannot confirm. */
  ended: string[];
}

export interface LeaseExpiry extends JobsReleased {
  lost: { attemptId: string; jobId: string; runnerId: string | null }[];
  /** Runners marked offline because a lease of theirs passed. */
  offlineRunners: string[];
}

export interface HeartbeatResult {
  /** Attempts whose lease was extended. */
  renewed: string[];
  /** Attempts the runner named that are no longer its current ones: stop them, send nothing more. */
  abandon: string[];
  /** Running attempts of this runner whose job has a cancel pending (repeated until it ends). */
  cancel: CancelNotice[];
}

export interface ReconnectResult extends JobsReleased {
  /** Attempts still current: carry on (their leases are renewed). */
  keep: string[];
  /** Attempts no longer current: stop them, send nothing more. */
  abandon: string[];
  cancel: CancelNotice[];
}

export interface RemoveResult extends JobsReleased {
  /** The runner's attempts that were taken back; tell the runner (if connected) to stop them. */
  abandon: string[];
}

export interface CancelResult {
  job: JobRecord;
  /** Set when the job is running: the runner to tell. */
  notify?: CancelNotice;
}

/**
 * A result from an attempt that is not its job's current running attempt: the runner lost its
 * lease (and the job moved on), or the attempt already ended. HTTP 409; `reason` tells it apart
 * from other conflicts.
 */
export class StaleAttemptError extends AppError {
  readonly reason = 'stale_attempt';

  constructor(
    readonly attemptId: string,
    message: string
  ) {
    super('conflict', message);
    this.name = 'StaleAttemptError';
  }
}

function isSqliteError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export class Scheduler {
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: JobStore,
    options: SchedulerOptions = {}
  ) {
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (!(this.heartbeatMs > 0 && this.leaseMs > this.heartbeatMs)) {
      throw new Error(`The lease (${this.leaseMs} ms) must be longer than the heartbeat interval (${this.heartbeatMs} ms)`);
    }
  }

  private at(): string {
    return new Date(this.now()).toISOString();
  }

  private leaseFromNow(): string {
    return new Date(this.now() + this.leaseMs).toISOString();
  }

  // ------------------------------------------------------------------------------------------
  // start-up

  /**
   * Call once when the server starts, before runners connect. No runner is connected yet, so
   * online ones become offline (drained ones stay drained); every running attempt gets a full
   * lease from now, so its runner has that long to reconnect and keep it, however long the
   * server was down. Returns how many attempts are waiting for their runners.
   */
  recover(): number {
    return this.store.transaction(() => {
      this.store.markAllRunnersOffline();
      return this.store.renewEveryLease(this.leaseFromNow());
    });
  }

  // ------------------------------------------------------------------------------------------
  // jobs

  /** Queues a job for its (already created) run. Call `assignable()` next to start it. */
  enqueue(input: EnqueueJobInput): JobRecord {
    const priority = input.priority ?? 0;
    const maxRetries = input.maxRetries ?? DEFAULT_MAX_RETRIES;
    const timeoutS = input.timeoutS ?? null;
    const requiredLabels = [...new Set(input.requiredLabels ?? [])];
    const problems = [
      !Number.isSafeInteger(priority) && 'priority must be an integer',
      !(Number.isSafeInteger(maxRetries) && maxRetries >= 0) && 'maxRetries must be an integer ≥ 0',
      timeoutS !== null && !(Number.isSafeInteger(timeoutS) && timeoutS > 0) && 'timeoutS must be a whole number of seconds > 0',
      requiredLabels.some((label) => typeof label !== 'string' || label === '') && 'requiredLabels must be non-empty strings'
    ].filter((problem): problem is string => typeof problem === 'string');
    if (problems.length > 0) throw new AppError('invalid_request', problems.join('; '));
    const id = randomUUID();
    try {
      this.store.insertJob({
        id,
        projectId: input.projectId,
        runId: input.runId,
        snapshotCommit: input.snapshotCommit,
        notebookPath: input.notebookPath,
        parameters: input.parameters ?? {},
        datasetPins: input.datasetPins ?? [],
        envMode: input.envMode ?? 'runner',
        requiredLabels,
        priority,
        maxRetries,
        timeoutS,
        createdAt: this.at()
      });
    } catch (error) {
      if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE')) throw new AppError('conflict', `Run ${input.runId} already has a job`);
      if (isSqliteError(error, 'SQLITE_CONSTRAINT_FOREIGNKEY')) {
        throw new AppError('not_found', `Project ${input.projectId} or run ${input.runId} not found`);
      }
      throw error;
    }
    return this.job(id);
  }

  job(jobId: string): JobRecord {
    const job = this.store.findJob(jobId);
    if (!job) throw notFound(`Job ${jobId}`);
    return job;
  }

  /** The job's attempts, first to last. */
  attempts(jobId: string): AttemptRecord[] {
    return this.store.attemptsOfJob(jobId);
  }

  /** Queued jobs in the order they will be offered: one project's, or all. */
  queue(projectId?: string): JobRecord[] {
    return this.store.queued(projectId);
  }

  /**
   * Cancels a job. A queued job is cancelled at once (and so is never offered); a running one
   * records the request and returns the runner to tell, which completes with `cancelled` once
   * the notebook stopped. An ended job is returned as it is.
   */
  requestCancel(jobId: string): CancelResult {
    return this.store.transaction(() => {
      const job = this.job(jobId);
      if (job.status === 'queued') {
        this.store.finishJob(jobId, 'cancelled', null, this.at());
        return { job: this.job(jobId) };
      }
      if (job.status === 'running') {
        this.store.requestCancel(jobId, 'cancelled', this.at());
        const updated = this.job(jobId);
        return { job: updated, notify: this.cancelNotice(updated) };
      }
      return { job };
    });
  }

  /**
   * Running jobs past their timeout (counted from the current attempt's start) are asked to
   * stop, and will end as `timed_out`. Returns the runners to tell; each job is returned once.
   */
  expireTimeouts(): CancelNotice[] {
    return this.store.transaction(() => {
      const now = this.now();
      const notices: CancelNotice[] = [];
      for (const job of this.store.running()) {
        if (job.timeoutS === null || job.cancelRequestedAt !== null || job.startedAt === null) continue;
        if (Date.parse(job.startedAt) + job.timeoutS * 1000 > now) continue;
        this.store.requestCancel(job.id, 'timed_out', this.at());
        const notice = this.cancelNotice(this.job(job.id));
        if (notice) notices.push(notice);
      }
      return notices;
    });
  }

  private cancelNotice(job: JobRecord): CancelNotice | undefined {
    if (job.status !== 'running' || !job.cancelRequestedAt || !job.currentAttemptId || !job.runnerId) return undefined;
    return { jobId: job.id, runnerId: job.runnerId, attemptId: job.currentAttemptId, outcome: job.cancelOutcome ?? 'cancelled' };
  }

  // ------------------------------------------------------------------------------------------
  // offering jobs

  /**
   * Claims the best queued job this runner may run, if any: a new attempt (number n + 1) under
   * a fresh lease. Nothing when the runner is not online, is full, or nothing matches.
   */
  offer(runnerId: string): Offer | undefined {
    return this.store.transaction(() => {
      const runner = this.store.findRunner(runnerId);
      if (!runner || runner.status !== 'online') return undefined;
      if (this.store.runningCount(runnerId) >= runner.maxJobs) return undefined;
      const reserved = runner.reservedJobId === null ? undefined : this.store.findJob(runner.reservedJobId);
      const job =
        runner.reservedJobId === null ? this.store.bestJobFor(runner.labels) : reserved?.status === 'queued' ? reserved : undefined;
      return job && this.claim(job, runner);
    });
  }

  /** The same as `offer`: the next job for this runner. */
  nextJobFor(runnerId: string): Offer | undefined {
    return this.offer(runnerId);
  }

  /**
   * Assigns queued jobs to every online runner with free slots, best job first, each to the
   * least loaded runner that has its labels. Call it when a job is queued or a runner frees up
   * (connects, completes, is resumed). Returns the offers to send.
   */
  assignable(): Offer[] {
    return this.store.transaction(() => {
      const slots = this.store.runnersWithFreeSlots();
      const offers: Offer[] = [];
      if (slots.length === 0) return offers;
      const reserved = new Set(this.store.listRunners().flatMap((runner) => runner.reservedJobId ?? []));
      for (const job of this.store.queued()) {
        const open = slots.filter((slot) => slot.running < slot.runner.maxJobs);
        if (open.length === 0) break;
        const fits = open.filter((slot) =>
          slot.runner.reservedJobId === null
            ? !reserved.has(job.id) && job.requiredLabels.every((label) => slot.runner.labels.includes(label))
            : slot.runner.reservedJobId === job.id
        );
        if (fits.length === 0) continue;
        const chosen = fits.reduce((best, slot) => (slot.running < best.running ? slot : best));
        offers.push(this.claim(job, chosen.runner));
        chosen.running += 1;
      }
      return offers;
    });
  }

  private claim(job: JobRecord, runner: RunnerRecord): Offer {
    const attemptId = randomUUID();
    const number = job.attemptCount + 1;
    const at = this.at();
    // The status guard in claimJob and the partial unique index on running attempts both stand
    // between a job and a second concurrent attempt; failing either rolls the transaction back.
    if (!this.store.claimJob({ jobId: job.id, attemptId, runnerId: runner.id, number, at })) {
      throw new Error(`Job ${job.id} is no longer queued`);
    }
    this.store.insertAttempt({ id: attemptId, jobId: job.id, number, runnerId: runner.id, at, leaseExpiresAt: this.leaseFromNow() });
    return { job: this.job(job.id), attempt: this.store.findAttempt(attemptId) as AttemptRecord, runnerId: runner.id };
  }

  // ------------------------------------------------------------------------------------------
  // results from runners (fenced by attempt)

  /** True when this attempt is its job's current running attempt (so its results count). */
  isCurrent(attemptId: string): boolean {
    const attempt = this.store.findAttempt(attemptId);
    if (!attempt || attempt.status !== 'running') return false;
    const job = this.store.findJob(attempt.jobId);
    return job?.status === 'running' && job.currentAttemptId === attemptId;
  }

  /**
   * The attempt and its job when the attempt is current (and, if `runnerId` is given, held by
   * that runner); otherwise throws StaleAttemptError, or not_found for an unknown attempt.
   */
  currentAttempt(attemptId: string, runnerId?: string): { attempt: AttemptRecord; job: JobRecord } {
    const attempt = this.store.findAttempt(attemptId);
    if (!attempt) throw notFound(`Attempt ${attemptId}`);
    const job = this.job(attempt.jobId);
    if (attempt.status !== 'running' || job.status !== 'running' || job.currentAttemptId !== attemptId) {
      const why = attempt.status === 'running' ? 'is not the current one' : `has ended (${attempt.status})`;
      throw new StaleAttemptError(
        attemptId,
        `Attempt ${attempt.number} of job ${job.id} ${why}; its results are refused (the job is ${job.status})`
      );
    }
    if (runnerId !== undefined && attempt.runnerId !== runnerId) {
      throw new StaleAttemptError(attemptId, `Attempt ${attempt.number} of job ${job.id} is not held by runner ${runnerId}`);
    }
    return { attempt, job };
  }

  /**
   * Records progress from the runner (any JSON it sends); progress is a sign of life, so it
   * also renews the lease. Returns the job, whose cancelRequestedAt tells the runner to stop.
   */
  reportProgress(attemptId: string, progress: unknown, runnerId?: string): JobRecord {
    return this.store.transaction(() => {
      const { job } = this.currentAttempt(attemptId, runnerId);
      this.store.setProgress(attemptId, progress);
      this.store.renewLease(attemptId, this.leaseFromNow());
      return job;
    });
  }

  /**
   * Ends the current attempt, and its job, as the runner reports. The run's own status is the
   * caller's to update (it owns RunService). Frees the runner's slot: call `assignable()` next.
   */
  complete(attemptId: string, outcome: AttemptOutcome, runnerId?: string): JobRecord {
    return this.store.transaction(() => {
      const { job } = this.currentAttempt(attemptId, runnerId);
      // A notebook stopped because its timeout asked for it ended by timing out, not by a user.
      let status = outcome.status === 'cancelled' && job.cancelOutcome === 'timed_out' ? 'timed_out' : outcome.status;
      const error = outcome.error ?? (status === 'timed_out' ? this.timeoutMessage(job) : null);
      // Stopped while it was starting (the kernel killed before it answered): it failed because it
      // was asked to stop, so it ends as asked; the attempt keeps what the runner saw.
      const asked = status === 'failed' && job.cancelRequestedAt ? (job.cancelOutcome ?? 'cancelled') : null;
      if (asked) status = asked;
      const at = this.at();
      this.store.endAttempt(attemptId, status, error, at);
      this.store.finishJob(job.id, status, asked === 'cancelled' ? null : asked === 'timed_out' ? this.timeoutMessage(job) : error, at);
      return this.job(job.id);
    });
  }

  private timeoutMessage(job: JobRecord): string {
    return `timed out after ${plural(job.timeoutS ?? 0, 'second')}`;
  }

  // ------------------------------------------------------------------------------------------
  // leases

  /**
   * A runner's heartbeat: extends the leases of its running attempts (only those named, when
   * `attemptIds` is given) and records when it was last heard from. Names it gives that are not
   * its current attempts come back in `abandon`.
   */
  heartbeat(runnerId: string, attemptIds?: readonly string[]): HeartbeatResult {
    return this.store.transaction(() => {
      this.runner(runnerId);
      this.store.touchHeartbeat(runnerId, this.at());
      this.store.renewLeases(runnerId, this.leaseFromNow(), attemptIds);
      const current = this.currentAttemptsOf(runnerId);
      const renewed =
        attemptIds === undefined
          ? current.map((entry) => entry.attempt.id)
          : attemptIds.filter((id) => current.some((entry) => entry.attempt.id === id));
      return {
        renewed,
        abandon: (attemptIds ?? []).filter((id) => !renewed.includes(id)),
        cancel: current.flatMap((entry) => this.cancelNotice(entry.job) ?? [])
      };
    });
  }

  /**
   * Ends every attempt whose lease passed: the attempt is lost, its runner marked offline, and
   * its job requeued — or failed, once lost maxRetries + 1 times; a job whose cancel was pending
   * ends as asked. Call it on a timer (every heartbeat interval or so).
   */
  expireLeases(): LeaseExpiry {
    return this.store.transaction(() => {
      const result: LeaseExpiry = { lost: [], offlineRunners: [], requeued: [], failed: [], ended: [] };
      for (const attempt of this.store.expiredAttempts(this.at())) {
        result.lost.push({ attemptId: attempt.id, jobId: attempt.jobId, runnerId: attempt.runnerId });
        if (attempt.runnerId && !result.offlineRunners.includes(attempt.runnerId) && this.silent(attempt.runnerId)) {
          this.store.setRunnerStatus(attempt.runnerId, 'offline');
          result.offlineRunners.push(attempt.runnerId);
        }
        this.release(attempt, 'lost', 'the lease expired (no heartbeat from the runner)', result);
      }
      return result;
    });
  }

  /**
   * The runner is known to be gone (its pod failed or was deleted): its running attempts are lost
   * now, as if their leases had passed, so their jobs requeue or fail under the same rules.
   */
  loseRunner(runnerId: string, reason: string): LeaseExpiry {
    return this.store.transaction(() => {
      const result: LeaseExpiry = { lost: [], offlineRunners: [], requeued: [], failed: [], ended: [] };
      this.runner(runnerId);
      this.store.setRunnerStatus(runnerId, 'offline');
      result.offlineRunners.push(runnerId);
      for (const attempt of this.store.runningAttemptsOf(runnerId)) {
        result.lost.push({ attemptId: attempt.id, jobId: attempt.jobId, runnerId });
        this.release(attempt, 'lost', reason, result);
      }
      return result;
    });
  }

  /**
   * True when the runner has not been heard from for a whole lease. A runner that heartbeats but
   * left an attempt out of its heartbeat lost only that attempt; it stays online.
   */
  private silent(runnerId: string): boolean {
    const heard = this.store.findRunner(runnerId)?.lastHeartbeatAt;
    return heard === null || heard === undefined || Date.parse(heard) + this.leaseMs <= this.now();
  }

  /**
   * Takes an attempt away from its runner and decides its job's fate. Only `lost` attempts count
   * towards maxRetries: an operator removing a runner is not the job's fault.
   */
  private release(attempt: AttemptRecord, how: 'lost' | 'abandoned', reason: string, result: JobsReleased): void {
    const at = this.at();
    this.store.endAttempt(attempt.id, how, reason, at);
    const job = this.job(attempt.jobId);
    if (job.status !== 'running' || job.currentAttemptId !== attempt.id) return;
    if (job.cancelRequestedAt) {
      const outcome = job.cancelOutcome ?? 'cancelled';
      this.store.finishJob(job.id, outcome, outcome === 'timed_out' ? this.timeoutMessage(job) : null, at);
      result.ended.push(job.id);
      return;
    }
    const lostRunners = how === 'lost' ? this.store.lostRunnerNames(job.id) : [];
    if (how === 'lost' && lostRunners.length >= job.maxRetries + 1) {
      const names = [...new Set(lostRunners)];
      const who = names.length === 1 ? `runner ${names[0]} was` : `runners ${names.join(', ')} were`;
      this.store.finishJob(job.id, 'failed', `${who} lost ${plural(lostRunners.length, 'time')}; giving up`, at);
      result.failed.push(job.id);
      return;
    }
    this.store.requeueJob(job.id);
    result.requeued.push(job.id);
  }

  /**
   * An offer the runner did not take (it declined, or never answered): the attempt ends as
   * abandoned and the job goes back to the queue in its place, no retry spent.
   */
  giveBack(attemptId: string, reason: string): JobsReleased {
    return this.store.transaction(() => {
      const result: JobsReleased = { requeued: [], failed: [], ended: [] };
      const attempt = this.store.findAttempt(attemptId);
      if (attempt?.status === 'running') this.release(attempt, 'abandoned', reason, result);
      return result;
    });
  }

  // ------------------------------------------------------------------------------------------
  // runners

  /** Registers a runner (or updates its registration) and marks it connected. */
  register(input: RegisterRunnerInput): RunnerRecord {
    const maxJobs = input.maxJobs ?? 1;
    if (!(Number.isSafeInteger(maxJobs) && maxJobs >= 1)) throw new AppError('invalid_request', 'maxJobs must be an integer ≥ 1');
    const id = input.id ?? randomUUID();
    this.store.upsertRunner(
      { id, name: input.name, labels: [...new Set(input.labels ?? [])], capacity: input.capacity, maxJobs, tokenId: input.tokenId ?? null },
      this.at()
    );
    return this.runner(id);
  }

  runner(runnerId: string): RunnerRecord {
    const runner = this.store.findRunner(runnerId);
    if (!runner) throw notFound(`Runner ${runnerId}`);
    return runner;
  }

  runners(): RunnerRecord[] {
    return this.store.listRunners();
  }

  /** The runner's running attempts. */
  runningAttempts(runnerId: string): AttemptRecord[] {
    return this.store.runningAttemptsOf(runnerId);
  }

  /**
   * A registered runner connects again and says which attempts it is still running. Those still
   * current are kept (leases renewed); those not are to be abandoned; its running attempts it
   * did not name were lost with its restart and are released like an expired lease.
   */
  reconnect(runnerId: string, attemptIds: readonly string[]): ReconnectResult {
    return this.store.transaction(() => {
      this.runner(runnerId);
      this.store.markConnected(runnerId, this.at());
      const result: ReconnectResult = { keep: [], abandon: [], cancel: [], requeued: [], failed: [], ended: [] };
      for (const { attempt, job } of this.currentAttemptsOf(runnerId)) {
        if (attemptIds.includes(attempt.id)) {
          result.keep.push(attempt.id);
          const notice = this.cancelNotice(job);
          if (notice) result.cancel.push(notice);
        } else {
          this.release(attempt, 'lost', 'the runner reconnected without it', result);
        }
      }
      this.store.renewLeases(runnerId, this.leaseFromNow(), result.keep);
      result.abandon = attemptIds.filter((id) => !result.keep.includes(id));
      return result;
    });
  }

  /** Stops offering the runner new jobs; what it runs carries on. */
  drain(runnerId: string): RunnerRecord {
    return this.setStatus(runnerId, 'draining');
  }

  /**
   * Undoes a drain: the runner gets jobs again. An offline runner stays offline; only its
   * reconnecting (or heartbeating) brings it back.
   */
  resume(runnerId: string): RunnerRecord {
    const runner = this.runner(runnerId);
    return runner.status === 'draining' ? this.setStatus(runnerId, 'online') : runner;
  }

  /**
   * The runner disconnected. Its attempts keep their leases: it may reconnect in time and keep
   * them; if not, `expireLeases()` releases them.
   */
  setOffline(runnerId: string): RunnerRecord {
    return this.setStatus(runnerId, 'offline');
  }

  private setStatus(runnerId: string, status: RunnerStatus): RunnerRecord {
    if (!this.store.setRunnerStatus(runnerId, status)) throw notFound(`Runner ${runnerId}`);
    return this.runner(runnerId);
  }

  /** Deletes the runner's registration; its running jobs go back to the queue (no retry spent). */
  remove(runnerId: string): RemoveResult {
    return this.store.transaction(() => {
      const runner = this.runner(runnerId);
      const result: RemoveResult = { abandon: [], requeued: [], failed: [], ended: [] };
      for (const attempt of this.store.runningAttemptsOf(runnerId)) {
        result.abandon.push(attempt.id);
        this.release(attempt, 'abandoned', `runner ${runner.name} was removed`, result);
      }
      this.store.deleteRunner(runnerId);
      return result;
    });
  }

  /** The runner's running attempts that are still their job's current attempt, with the job. */
  private currentAttemptsOf(runnerId: string): { attempt: AttemptRecord; job: JobRecord }[] {
    return this.store.runningAttemptsOf(runnerId).flatMap((attempt) => {
      const job = this.store.findJob(attempt.jobId);
      return job && job.status === 'running' && job.currentAttemptId === attempt.id ? [{ attempt, job }] : [];
    });
  }
}
