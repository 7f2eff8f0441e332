/**
 * What happens around the scheduler's decisions, shared by the REST routes and the runners'
 * socket: a job's run follows its job (tags, metrics of a new attempt, its end), browsers hear
 * `job:updated` / `runner:updated`, and claimed jobs are handed to the transport that offers
 * them to runner agents (runners/socket.ts).
 */
import { JOB_TAGS, type JobOffer, type RunStatus } from '../contract';
import type { Logger } from '../logger';
import { projectRoom, type DomainEvents } from '../realtime/events';
import type { RunService } from '../runs/service';
import type { JobLog } from './jobLog';
import type { CancelNotice, JobsReleased, Offer, Scheduler } from './scheduler';
import type { JobRecord, JobStore } from './store';
import { pinsOf, type RunnerViews } from './views';

/** Delivers to runner agents; the socket layer implements it. */
export interface RunnerTransport {
  /** Offers a claimed job; a runner that cannot be reached or does not accept gives it back. */
  offer(runnerId: string, offer: JobOffer): void;
  cancel(notice: CancelNotice): void;
}

/** How a finished job leaves its run. */
const RUN_STATUS: Record<'finished' | 'failed' | 'cancelled' | 'timed_out', RunStatus> = {
  finished: 'finished',
  failed: 'failed',
  timed_out: 'failed',
  cancelled: 'killed'
};

/** `job:updated` for progress goes out at most this often per job. */
const PROGRESS_UPDATE_MS = 250;

export interface JobLifecycleDeps {
  scheduler: Scheduler;
  store: JobStore;
  runs: RunService;
  events: DomainEvents;
  log: JobLog;
  views: RunnerViews;
  logger: Logger;
}

export class JobLifecycle {
  private transport: RunnerTransport | undefined;
  private readonly pendingUpdates = new Map<string, NodeJS.Timeout>();
  private readonly dispatchListeners = new Set<() => void>();

  constructor(private readonly deps: JobLifecycleDeps) {}

  attach(transport: RunnerTransport): void {
    this.transport = transport;
  }

  publishJob(jobId: string): void {
    const timer = this.pendingUpdates.get(jobId);
    if (timer) clearTimeout(timer);
    this.pendingUpdates.delete(jobId);
    const job = this.deps.views.job(this.deps.scheduler.job(jobId));
    this.deps.events.publishTo([projectRoom(job.projectId)], 'job:updated', job);
  }

  /** `job:updated` soon: progress of a busy notebook, throttled. */
  publishJobSoon(jobId: string): void {
    if (this.pendingUpdates.has(jobId)) return;
    const timer = setTimeout(() => {
      this.pendingUpdates.delete(jobId);
      try {
        this.publishJob(jobId);
      } catch (error) {
        this.deps.logger.debug({ err: error, jobId }, 'job update not published');
      }
    }, PROGRESS_UPDATE_MS);
    timer.unref();
    this.pendingUpdates.set(jobId, timer);
  }

  publishRunner(runnerId: string): void {
    const record = this.deps.store.findRunner(runnerId);
    if (record) this.deps.events.publish('runner:updated', this.deps.views.runner(record));
  }

  publishRemoved(runnerId: string): void {
    this.deps.events.publish('runner:removed', { id: runnerId });
  }

  /** A job that ended: its run ends the same way (finished, failed with the error, killed). */
  settle(jobId: string): void {
    const job = this.deps.scheduler.job(jobId);
    if (job.status === 'queued' || job.status === 'running') return;
    const run = this.deps.runs.record(job.runId);
    if (run.status === 'running') {
      const status = RUN_STATUS[job.status];
      this.deps.runs.update(job.runId, {
        status,
        ...(status === 'finished'
          ? {}
          : { error: { message: job.error ?? (job.status === 'cancelled' ? 'cancelled' : 'failed'), traceback: null } })
      });
    }
    this.publishJob(jobId);
  }

  /** Jobs whose attempt was taken away: back in the queue (announced) or ended (settled). */
  released(result: JobsReleased): void {
    for (const jobId of result.requeued) this.publishJob(jobId);
    for (const jobId of [...result.failed, ...result.ended]) this.settle(jobId);
  }

  /**
   * Offers every queued job that a connected runner with a free slot can take, then tells the
   * `onDispatched` listeners (runner pools start runners for the jobs still waiting).
   */
  dispatch(): void {
    for (const offer of this.deps.scheduler.assignable()) this.start(offer);
    for (const listener of this.dispatchListeners) listener();
  }

  /**
   * Called after every dispatch: a job was queued, a runner freed up, or the periodic tick.
   * Returns what stops listening.
   */
  onDispatched(listener: () => void): () => void {
    this.dispatchListeners.add(listener);
    return () => this.dispatchListeners.delete(listener);
  }

  /** An offer the runner did not take: the job goes back to the queue, no retry spent. */
  giveBack(attemptId: string, reason: string): void {
    const attempt = this.deps.store.findAttempt(attemptId);
    if (attempt?.status !== 'running') return;
    this.deps.log.note(attempt.jobId, `attempt ${attempt.number} given back: ${reason}`);
    this.released(this.deps.scheduler.giveBack(attemptId, reason));
    if (attempt.runnerId) this.publishRunner(attempt.runnerId);
  }

  cancel(notice: CancelNotice): void {
    this.transport?.cancel(notice);
  }

  close(): void {
    for (const timer of this.pendingUpdates.values()) clearTimeout(timer);
    this.pendingUpdates.clear();
  }

  /**
   * A new attempt begins: the run names its runner and attempt count and, from the second
   * attempt on, loses the earlier attempts' metric points (the notebook runs again from the top).
   */
  private start({ job, attempt, runnerId }: Offer): void {
    const runner = this.deps.store.findRunner(runnerId);
    const runnerName = runner?.name ?? runnerId;
    this.deps.log.startAttempt(job.id, attempt.number, runnerName);
    if (attempt.number > 1) this.deps.runs.clearMetrics(job.runId);
    this.deps.runs.setTags(job.runId, { [JOB_TAGS.runner]: runnerName, [JOB_TAGS.attempts]: String(attempt.number) });
    this.publishJob(job.id);
    this.publishRunner(runnerId);
    const offer = this.offerOf(job, attempt.id, attempt.number);
    if (this.transport) this.transport.offer(runnerId, offer);
    else this.giveBack(attempt.id, 'no runner connection is set up');
  }

  private offerOf(job: JobRecord, attemptId: string, attemptNumber: number): JobOffer {
    return {
      attemptId,
      attemptNumber,
      jobId: job.id,
      runId: job.runId,
      projectName: this.deps.runs.record(job.runId).projectName,
      notebookPath: job.notebookPath,
      snapshotCommit: job.snapshotCommit,
      parameters: job.parameters as JobOffer['parameters'],
      datasets: Object.fromEntries(pinsOf(job).map((pin) => [pin.name, pin.version])),
      env: job.envMode,
      timeoutS: job.timeoutS
    };
  }
}
