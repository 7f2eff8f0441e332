/**
 * What runner agents say over their socket, as domain operations: hello (register or reconnect
 * with the attempts still running), heartbeats, drain, a notebook's events and an attempt's end;
 * plus the periodic work (leases, timeouts). Results are fenced by attempt: only a job's current
 * attempt, held by the runner that says so, is heard (StaleAttemptError otherwise).
 */
import { z } from 'zod';
import { JobEvent, RunnerHello, type JobProgress, type RunnerWelcome } from '../contract';
import { AppError } from '../http/errors';
import type { JobLog } from './jobLog';
import type { JobLifecycle } from './lifecycle';
import type { Scheduler } from './scheduler';
import type { JobStore, RunnerRecord } from './store';

export const JobEventsPayload = z.strictObject({ attemptId: z.string().min(1).max(100), events: z.array(JobEvent).max(10_000) });
export const HeartbeatPayload = z.strictObject({ attempts: z.array(z.string().max(100)).max(256).default([]) });
export const CompletePayload = z.strictObject({
  attemptId: z.string().min(1).max(100),
  status: z.enum(['finished', 'failed', 'cancelled', 'timed_out']),
  error: z.string().max(100_000).nullable().default(null),
  failedCell: z.number().int().nonnegative().nullable().default(null),
  durationS: z.number().nonnegative().default(0)
});
export { RunnerHello };

export interface RunnerAgentsDeps {
  scheduler: Scheduler;
  store: JobStore;
  lifecycle: JobLifecycle;
  log: JobLog;
}

export class RunnerAgents {
  constructor(private readonly deps: RunnerAgentsDeps) {}

  /** The runner bound to a runner token; 403 once it was removed. */
  runnerOfToken(tokenId: string, tokenName: string): RunnerRecord {
    const runner = this.deps.store.findRunnerByToken(tokenId);
    if (!runner) {
      throw new AppError(
        'forbidden',
        `Runner token "${tokenName}" belongs to no runner (it was removed); add the runner again: runlab runners add ${tokenName}`
      );
    }
    return runner;
  }

  /** Registers (or reconnects) the runner of this token; its attempts it no longer holds come back in `abandon`. */
  hello(tokenId: string, tokenName: string, input: z.output<typeof RunnerHello>): RunnerWelcome {
    const { scheduler, lifecycle } = this.deps;
    const known = this.runnerOfToken(tokenId, tokenName);
    scheduler.register({
      id: known.id,
      name: known.name,
      labels: [...new Set([...known.labels, ...input.labels])],
      capacity: input.capacity,
      // The agent may take fewer jobs at once than the runner was added with, never more.
      maxJobs: Math.min(known.addedMaxJobs ?? known.maxJobs, input.maxJobs),
      tokenId
    });
    const result = scheduler.reconnect(known.id, input.attempts);
    lifecycle.released(result);
    for (const notice of result.cancel) lifecycle.cancel(notice);
    lifecycle.publishRunner(known.id);
    return {
      runnerId: known.id,
      name: known.name,
      heartbeatMs: scheduler.heartbeatMs,
      leaseMs: scheduler.leaseMs,
      abandon: result.abandon
    };
  }

  heartbeat(
    runnerId: string,
    attempts: readonly string[]
  ): { abandon: string[]; cancel: { attemptId: string; outcome: 'cancelled' | 'timed_out' }[] } {
    const before = this.deps.scheduler.runner(runnerId).status;
    const result = this.deps.scheduler.heartbeat(runnerId, attempts);
    if (this.deps.scheduler.runner(runnerId).status !== before) {
      this.deps.lifecycle.publishRunner(runnerId);
      this.deps.lifecycle.dispatch();
    }
    return { abandon: result.abandon, cancel: result.cancel.map(({ attemptId, outcome }) => ({ attemptId, outcome })) };
  }

  drain(runnerId: string): void {
    this.deps.scheduler.drain(runnerId);
    this.deps.lifecycle.publishRunner(runnerId);
  }

  /** A notebook's progress and output: recorded, logged, and passed on to the job's watchers. */
  events(runnerId: string, attemptId: string, events: readonly JobEvent[]): { jobId: string; projectId: string } {
    const { scheduler, lifecycle, log } = this.deps;
    const { attempt, job } = scheduler.currentAttempt(attemptId, runnerId);
    const progress = events.reduce(advance, (attempt.progress as JobProgress | null) ?? null);
    scheduler.reportProgress(attemptId, progress, runnerId);
    log.events(job.id, events);
    lifecycle.publishJobSoon(job.id);
    return { jobId: job.id, projectId: job.projectId };
  }

  complete(runnerId: string, input: z.output<typeof CompletePayload>): void {
    const { scheduler, lifecycle, log, store } = this.deps;
    const { attempt } = scheduler.currentAttempt(input.attemptId, runnerId);
    const job = scheduler.complete(input.attemptId, { status: input.status, error: input.error }, runnerId);
    // failedCell counts code cells from 0; people count from 1 ("Cell 3 raised …").
    const where = input.failedCell === null ? '' : ` in code cell ${input.failedCell + 1}`;
    log.note(
      job.id,
      `attempt ${attempt.number} ${job.status}${job.error ? `${where}: ${job.error}` : ''} after ${input.durationS.toFixed(1)} s`
    );
    lifecycle.settle(job.id);
    if (store.findRunner(runnerId)) lifecycle.publishRunner(runnerId);
    lifecycle.dispatch();
  }

  /** The runner's last connection closed: offline; its attempts keep their leases until they expire. */
  disconnected(runnerId: string): void {
    if (!this.deps.store.findRunner(runnerId)) return;
    this.deps.scheduler.setOffline(runnerId);
    this.deps.lifecycle.publishRunner(runnerId);
  }

  /** Periodic: lost leases (their jobs requeue or fail), timeouts (their runners are told), then offers. */
  tick(): void {
    const { scheduler, lifecycle, log } = this.deps;
    const expiry = scheduler.expireLeases();
    for (const lost of expiry.lost) {
      log.note(lost.jobId, `attempt ${this.deps.store.findAttempt(lost.attemptId)?.number ?? '?'} lost: no heartbeat from its runner`);
    }
    for (const runnerId of expiry.offlineRunners) lifecycle.publishRunner(runnerId);
    lifecycle.released(expiry);
    for (const notice of scheduler.expireTimeouts()) {
      log.note(notice.jobId, 'timed out: the runner is asked to stop it');
      lifecycle.cancel(notice);
      lifecycle.publishJob(notice.jobId);
    }
    lifecycle.dispatch();
  }
}

/** Progress after one event. */
function advance(progress: JobProgress | null, event: JobEvent): JobProgress | null {
  const cells = progress?.cells ?? 0;
  switch (event.type) {
    case 'started':
      return { cells: event.cells, cell: null, state: 'starting' };
    case 'cell':
      return {
        cells: event.of,
        cell: event.index,
        state: event.state === 'error' ? 'error' : event.state === 'done' && event.index + 1 >= event.of ? 'done' : 'running'
      };
    case 'error':
      return { cells, cell: event.index, state: 'error' };
    default:
      return progress;
  }
}
