/** The scheduler's rules, against real SQLite files in a temporary directory and a fake clock. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../db/database';
import { AppError } from '../http/errors';
import { Scheduler, StaleAttemptError, type EnqueueJobInput, type SchedulerOptions } from './scheduler';
import { JobStore, type RunnerCapacity } from './store';

const CAPACITY: RunnerCapacity = { cpus: 8, memoryBytes: 16 * 2 ** 30, gpus: [], os: 'linux', python: '3.12.4' };
const LEASE_MS = 30_000;

let dir: string;
let file: string;
let db: Database;
let clock: number;
let scheduler: Scheduler;
let runCounter = 0;

const now = (): number => clock;
const advance = (ms: number): void => {
  clock += ms;
};

function open(options: SchedulerOptions = {}): Scheduler {
  db = openDatabase(file);
  return new Scheduler(new JobStore(db), { now, ...options });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-jobs-'));
  file = path.join(dir, 'runlab.db');
  clock = Date.parse('2026-01-01T00:00:00.000Z');
  scheduler = open();
  for (const project of ['p1', 'p2']) {
    db.prepare("INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, 't', 't')").run(project, project);
  }
});

afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Queues a job for a fresh run (the caller creates the run before queueing, as the server does). */
function enqueue(input: Partial<EnqueueJobInput> = {}) {
  const projectId = input.projectId ?? 'p1';
  const runId = `run-${++runCounter}`;
  db.prepare(
    "INSERT INTO runs (id, project_id, number, name, status, source_kind, started_at) VALUES (?, ?, ?, ?, 'running', 'api', 't')"
  ).run(runId, projectId, runCounter, runId);
  const job = scheduler.enqueue({ projectId, runId, snapshotCommit: 'c0ffee', notebookPath: 'train.ipynb', ...input });
  advance(1);
  return job;
}

function register(name: string, options: { labels?: string[]; maxJobs?: number } = {}) {
  return scheduler.register({ id: name, name, capacity: CAPACITY, ...options });
}

/** Offers jobs to the runner until it gets none; returns their ids in order. */
function drainQueueTo(runnerId: string): string[] {
  const ids: string[] = [];
  for (let offer = scheduler.offer(runnerId); offer; offer = scheduler.offer(runnerId)) ids.push(offer.job.id);
  return ids;
}

function expectStale(work: () => unknown): void {
  let caught: unknown;
  try {
    work();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StaleAttemptError);
  expect(caught).toMatchObject({ status: 409, code: 'conflict', reason: 'stale_attempt' });
}

describe('queue order', () => {
  test('higher priority first, then oldest first, across two projects; queue(project) shows its part', () => {
    const a = enqueue({ projectId: 'p1' });
    const b = enqueue({ projectId: 'p2' });
    const c = enqueue({ projectId: 'p1', priority: 5 });
    const d = enqueue({ projectId: 'p2', priority: 5 });
    const e = enqueue({ projectId: 'p1' });
    const f = enqueue({ projectId: 'p2', priority: -1 });
    expect(scheduler.queue().map((job) => job.id)).toEqual([c.id, d.id, a.id, b.id, e.id, f.id]);
    expect(scheduler.queue('p1').map((job) => job.id)).toEqual([c.id, a.id, e.id]);
    expect(scheduler.queue('p2').map((job) => job.id)).toEqual([d.id, b.id, f.id]);

    register('big', { maxJobs: 10 });
    expect(drainQueueTo('big')).toEqual([c.id, d.id, a.id, b.id, e.id, f.id]);
    expect(scheduler.queue()).toEqual([]);
  });

  test('jobs queued in the same millisecond keep the order they were queued in', () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(enqueue().id);
      advance(-1);
    }
    register('r', { maxJobs: 5 });
    expect(scheduler.assignable().map((offer) => offer.job.id)).toEqual(ids);
  });

  test('a queued job records what the issue asks for, with defaults', () => {
    const job = enqueue({ parameters: { lr: 0.1 }, datasetPins: [{ dataset: 'iris', version: 3 }], requiredLabels: ['gpu', 'gpu'] });
    expect(job).toMatchObject({
      status: 'queued',
      parameters: { lr: 0.1 },
      datasetPins: [{ dataset: 'iris', version: 3 }],
      envMode: 'runner',
      requiredLabels: ['gpu'],
      priority: 0,
      attemptCount: 0,
      maxRetries: 2,
      timeoutS: null,
      runnerId: null,
      cancelRequestedAt: null
    });
  });

  test('refuses bad input, a second job for one run and unknown projects', () => {
    expect(() => enqueue({ priority: 1.5 })).toThrow(/priority must be an integer/);
    expect(() => enqueue({ maxRetries: -1, timeoutS: 0 })).toThrow(/maxRetries.*timeoutS/);
    const job = enqueue();
    expect(() => scheduler.enqueue({ projectId: 'p1', runId: job.runId, snapshotCommit: 'c', notebookPath: 'n.ipynb' })).toThrow(
      /already has a job/
    );
    expect(() => scheduler.enqueue({ projectId: 'nope', runId: 'nope', snapshotCommit: 'c', notebookPath: 'n.ipynb' })).toThrow(AppError);
  });
});

describe('matching', () => {
  test('a runner gets a job only when it has every required label', () => {
    const gpuJob = enqueue({ requiredLabels: ['gpu', 'linux'] });
    register('cpu', { labels: ['linux'] });
    register('gpu', { labels: ['linux', 'gpu', 'a100'] });
    expect(scheduler.offer('cpu')).toBeUndefined();
    const offer = scheduler.offer('gpu');
    expect(offer).toMatchObject({ runnerId: 'gpu', job: { id: gpuJob.id, status: 'running', runnerId: 'gpu', attemptCount: 1 } });
  });

  test('assignable() gives each job to a runner with its labels, the least loaded first', () => {
    const cpuJob = enqueue();
    const gpuJob = enqueue({ requiredLabels: ['gpu'] });
    const another = enqueue();
    register('gpu', { labels: ['gpu'] });
    register('cpu1');
    register('cpu2', { maxJobs: 2 });
    const offers = scheduler.assignable().map((offer) => [offer.job.id, offer.runnerId]);
    // The older cpu job does not take the only gpu runner away from the gpu job.
    expect(offers).toEqual([
      [cpuJob.id, 'cpu1'],
      [gpuJob.id, 'gpu'],
      [another.id, 'cpu2']
    ]);
    expect(scheduler.assignable()).toEqual([]);
  });

  test('a runner with maxJobs 1 gets one job only, and the next once it completes', () => {
    const first = enqueue();
    const second = enqueue();
    register('r');
    const offer = scheduler.offer('r');
    expect(offer?.job.id).toBe(first.id);
    expect(scheduler.offer('r')).toBeUndefined();
    expect(scheduler.assignable()).toEqual([]);
    scheduler.complete(offer!.attempt.id, { status: 'finished' });
    expect(scheduler.offer('r')?.job.id).toBe(second.id);
  });

  test('offline and draining runners get nothing', () => {
    enqueue();
    register('r');
    scheduler.setOffline('r');
    expect(scheduler.offer('r')).toBeUndefined();
    expect(scheduler.resume('r').status).toBe('offline');
    scheduler.reconnect('r', []);
    scheduler.drain('r');
    expect(scheduler.offer('r')).toBeUndefined();
    expect(scheduler.assignable()).toEqual([]);
    expect(scheduler.offer('nobody')).toBeUndefined();
  });
});

describe('attempts, leases and fencing', () => {
  test('an attempt gets a fresh id, number n + 1 and a lease of leaseMs', () => {
    enqueue();
    register('r');
    const offer = scheduler.offer('r')!;
    expect(offer.attempt).toMatchObject({
      number: 1,
      runnerId: 'r',
      status: 'running',
      leaseExpiresAt: new Date(clock + LEASE_MS).toISOString()
    });
    expect(offer.attempt.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(offer.job.currentAttemptId).toBe(offer.attempt.id);
  });

  test('heartbeats renew the lease, so a live runner keeps its job', () => {
    enqueue();
    register('r');
    const { attempt } = scheduler.offer('r')!;
    for (let i = 0; i < 10; i++) {
      advance(20_000);
      expect(scheduler.heartbeat('r')).toEqual({ renewed: [attempt.id], abandon: [], cancel: [] });
      expect(scheduler.expireLeases().lost).toEqual([]);
    }
    expect(scheduler.runner('r').lastHeartbeatAt).toBe(new Date(clock).toISOString());
    expect(scheduler.isCurrent(attempt.id)).toBe(true);
  });

  test('a lost lease requeues the job to another runner as attempt 2; the first attempt is refused', () => {
    const job = enqueue();
    register('a');
    const first = scheduler.offer('a')!;
    register('b');
    advance(LEASE_MS);
    scheduler.heartbeat('b');

    const expiry = scheduler.expireLeases();
    expect(expiry).toEqual({
      lost: [{ attemptId: first.attempt.id, jobId: job.id, runnerId: 'a' }],
      offlineRunners: ['a'],
      requeued: [job.id],
      failed: [],
      ended: []
    });
    expect(scheduler.runner('a').status).toBe('offline');
    expect(scheduler.job(job.id)).toMatchObject({ status: 'queued', attemptCount: 1, runnerId: null, runId: job.runId });

    const [second] = scheduler.assignable();
    expect(second).toMatchObject({ runnerId: 'b', job: { id: job.id, runId: job.runId, attemptCount: 2 }, attempt: { number: 2 } });
    expect(scheduler.attempts(job.id).map((attempt) => [attempt.number, attempt.status])).toEqual([
      [1, 'lost'],
      [2, 'running']
    ]);

    // The first runner comes back and reports: every result of its attempt is refused.
    expect(scheduler.isCurrent(first.attempt.id)).toBe(false);
    expect(scheduler.isCurrent(second.attempt.id)).toBe(true);
    expectStale(() => scheduler.complete(first.attempt.id, { status: 'finished' }));
    expectStale(() => scheduler.reportProgress(first.attempt.id, { cell: 3 }));
    expect(scheduler.heartbeat('a', [first.attempt.id])).toMatchObject({ renewed: [], abandon: [first.attempt.id] });

    expect(scheduler.complete(second.attempt.id, { status: 'finished' })).toMatchObject({ status: 'finished', runnerId: 'b' });
  });

  test('after maxRetries + 1 lost attempts the job fails with a clear error', () => {
    const job = enqueue();
    register('gpu-2');
    for (let attempt = 1; attempt <= 3; attempt++) {
      scheduler.reconnect('gpu-2', []);
      expect(scheduler.offer('gpu-2')?.attempt.number).toBe(attempt);
      advance(LEASE_MS);
      const expiry = scheduler.expireLeases();
      expect(attempt < 3 ? expiry.requeued : expiry.failed).toEqual([job.id]);
    }
    expect(scheduler.job(job.id)).toMatchObject({ status: 'failed', attemptCount: 3, error: 'runner gpu-2 was lost 3 times; giving up' });
    scheduler.reconnect('gpu-2', []);
    expect(scheduler.offer('gpu-2')).toBeUndefined();
  });

  test('the error names every runner that lost the job', () => {
    const job = enqueue({ maxRetries: 1 });
    register('vm-1');
    scheduler.offer('vm-1');
    advance(LEASE_MS);
    scheduler.expireLeases();
    register('vm-2');
    expect(scheduler.offer('vm-2')?.attempt.number).toBe(2);
    advance(LEASE_MS);
    expect(scheduler.expireLeases()).toMatchObject({ failed: [job.id], offlineRunners: ['vm-2'] });
    expect(scheduler.job(job.id).error).toBe('runners vm-1, vm-2 were lost 2 times; giving up');
  });

  test('maxRetries 0 gives up at the first loss, naming the runner', () => {
    const job = enqueue({ maxRetries: 0 });
    register('vm-1');
    scheduler.offer('vm-1');
    advance(LEASE_MS);
    expect(scheduler.expireLeases().failed).toEqual([job.id]);
    expect(scheduler.job(job.id).error).toBe('runner vm-1 was lost 1 time; giving up');
  });

  test('a runner that leaves an attempt out of its heartbeat loses that attempt only, and stays online', () => {
    const kept = enqueue();
    const dropped = enqueue();
    register('r', { maxJobs: 2 });
    const [first, second] = scheduler.assignable();
    advance(20_000);
    expect(scheduler.heartbeat('r', [first.attempt.id, 'made-up'])).toEqual({
      renewed: [first.attempt.id],
      abandon: ['made-up'],
      cancel: []
    });
    advance(20_000);
    const expiry = scheduler.expireLeases();
    expect(expiry).toMatchObject({ lost: [{ attemptId: second.attempt.id }], requeued: [dropped.id], offlineRunners: [] });
    expect(scheduler.runner('r').status).toBe('online');
    expect(scheduler.job(kept.id).status).toBe('running');
  });

  test('complete() and reportProgress() refuse an ended attempt, and another runner', () => {
    enqueue();
    register('r');
    register('other');
    const { attempt } = scheduler.offer('r')!;
    expectStale(() => scheduler.reportProgress(attempt.id, { cell: 1 }, 'other'));
    expect(scheduler.reportProgress(attempt.id, { cell: 1, of: 9 }, 'r').status).toBe('running');
    expect(scheduler.attempts(attempt.jobId)[0].progress).toEqual({ cell: 1, of: 9 });
    expect(scheduler.complete(attempt.id, { status: 'failed', error: 'ZeroDivisionError' }, 'r')).toMatchObject({
      status: 'failed',
      error: 'ZeroDivisionError'
    });
    expectStale(() => scheduler.complete(attempt.id, { status: 'finished' }));
    expect(() => scheduler.complete('no-such-attempt', { status: 'finished' })).toThrow(/not found/);
    expect(scheduler.isCurrent(attempt.id)).toBe(false);
  });
});

describe('never two running attempts of one job', () => {
  test('SQL refuses a second running attempt even when the code is bypassed', () => {
    const job = enqueue();
    register('a');
    register('b');
    const offer = scheduler.offer('a')!;
    expect(() =>
      db
        .prepare(
          `INSERT INTO job_attempts (id, job_id, number, runner_id, status, started_at, lease_expires_at)
           VALUES ('forged', ?, 2, 'b', 'running', 't', 't')`
        )
        .run(job.id)
    ).toThrow(/UNIQUE constraint failed/);
    // Nor can the store claim it again: the claim is guarded by status = 'queued'.
    const store = new JobStore(db);
    expect(store.claimJob({ jobId: job.id, attemptId: 'forged', runnerId: 'b', number: 2, at: 't' })).toBe(false);
    expect(scheduler.offer('b')).toBeUndefined();
    expect(scheduler.attempts(job.id).map((attempt) => attempt.id)).toEqual([offer.attempt.id]);
  });

  test('two schedulers on two connections to one database never claim one job twice', () => {
    const jobs = [enqueue(), enqueue(), enqueue()];
    const otherDb = openDatabase(file);
    try {
      const other = new Scheduler(new JobStore(otherDb), { now });
      register('a', { maxJobs: 3 });
      register('b', { maxJobs: 3 });
      const claimed = [scheduler.offer('a'), other.offer('b'), other.assignable(), scheduler.assignable(), scheduler.offer('b')]
        .flat()
        .filter((offer) => offer !== undefined)
        .map((offer) => offer.job.id);
      expect(claimed.sort()).toEqual(jobs.map((job) => job.id).sort());
      const running = db.prepare("SELECT job_id, COUNT(*) AS n FROM job_attempts WHERE status = 'running' GROUP BY job_id").all();
      expect(running).toHaveLength(3);
      expect(running.every((row) => (row as { n: number }).n === 1)).toBe(true);
    } finally {
      otherDb.close();
    }
  });
});

describe('cancel and timeout', () => {
  test('a job cancelled while queued is cancelled at once and never offered', () => {
    const job = enqueue();
    expect(scheduler.requestCancel(job.id)).toEqual({
      job: expect.objectContaining({ status: 'cancelled', finishedAt: expect.any(String) })
    });
    register('r');
    expect(scheduler.offer('r')).toBeUndefined();
    // Cancelling an ended job changes nothing.
    expect(scheduler.requestCancel(job.id).job.status).toBe('cancelled');
  });

  test('cancelling a running job names the runner and attempt; the runner completes it as cancelled', () => {
    const job = enqueue();
    register('r');
    const { attempt } = scheduler.offer('r')!;
    const { job: requested, notify } = scheduler.requestCancel(job.id);
    expect(requested).toMatchObject({ status: 'running', cancelRequestedAt: new Date(clock).toISOString(), cancelOutcome: 'cancelled' });
    expect(notify).toEqual({ jobId: job.id, runnerId: 'r', attemptId: attempt.id, outcome: 'cancelled' });
    // Repeated on every heartbeat until the runner reports, in case the first notice was missed.
    expect(scheduler.heartbeat('r').cancel).toEqual([notify]);
    expect(scheduler.complete(attempt.id, { status: 'cancelled' })).toMatchObject({ status: 'cancelled', finishedAt: expect.any(String) });
    expect(scheduler.heartbeat('r').cancel).toEqual([]);
  });

  test('a job that fails while it is being cancelled (its kernel stopped as it started) ends cancelled', () => {
    const job = enqueue();
    register('r');
    const { attempt } = scheduler.offer('r')!;
    scheduler.requestCancel(job.id);
    const error = 'RuntimeError: Kernel died before replying to kernel_info';
    expect(scheduler.complete(attempt.id, { status: 'failed', error })).toMatchObject({ status: 'cancelled', error: null });
    expect(new JobStore(db).findAttempt(attempt.id)).toMatchObject({ status: 'cancelled', error });
  });

  test('a running job whose runner is lost while cancelling ends cancelled, not requeued', () => {
    const job = enqueue();
    register('r');
    scheduler.offer('r');
    scheduler.requestCancel(job.id);
    advance(LEASE_MS);
    expect(scheduler.expireLeases()).toMatchObject({ ended: [job.id], requeued: [] });
    expect(scheduler.job(job.id).status).toBe('cancelled');
  });

  test('a job past its timeout is asked to stop once and ends timed_out', () => {
    const job = enqueue({ timeoutS: 60 });
    const untimed = enqueue();
    register('r', { maxJobs: 2 });
    advance(10_000); // time in the queue does not count
    const [offer] = scheduler.assignable();
    advance(59_000);
    scheduler.heartbeat('r');
    expect(scheduler.expireTimeouts()).toEqual([]);
    advance(1_000);
    expect(scheduler.expireTimeouts()).toEqual([{ jobId: job.id, runnerId: 'r', attemptId: offer.attempt.id, outcome: 'timed_out' }]);
    expect(scheduler.expireTimeouts()).toEqual([]);
    expect(scheduler.complete(offer.attempt.id, { status: 'cancelled' })).toMatchObject({
      status: 'timed_out',
      error: 'timed out after 60 seconds'
    });
    expect(scheduler.job(untimed.id).status).toBe('running');
  });
});

describe('drain, offline and removal', () => {
  test('a drained runner finishes what it runs but gets no new jobs until resumed', () => {
    const first = enqueue();
    const second = enqueue();
    register('r');
    const { attempt } = scheduler.offer('r')!;
    expect(scheduler.drain('r').status).toBe('draining');
    expect(scheduler.complete(attempt.id, { status: 'finished' }).id).toBe(first.id);
    expect(scheduler.offer('r')).toBeUndefined();
    // A drain outlives the runner reconnecting or re-registering.
    scheduler.reconnect('r', []);
    register('r');
    expect(scheduler.runner('r').status).toBe('draining');
    expect(scheduler.assignable()).toEqual([]);
    scheduler.resume('r');
    expect(scheduler.offer('r')?.job.id).toBe(second.id);
  });

  test('removing a runner requeues its jobs without spending a retry', () => {
    const job = enqueue({ maxRetries: 0 });
    register('r');
    const { attempt } = scheduler.offer('r')!;
    expect(scheduler.remove('r')).toEqual({ abandon: [attempt.id], requeued: [job.id], failed: [], ended: [] });
    expect(() => scheduler.runner('r')).toThrow(/not found/);
    expect(scheduler.attempts(job.id)[0]).toMatchObject({ status: 'abandoned', runnerId: null });
    expectStale(() => scheduler.complete(attempt.id, { status: 'finished' }));
    register('s');
    expect(scheduler.offer('s')).toMatchObject({ job: { id: job.id }, attempt: { number: 2 } });
  });

  test('a disconnected runner that reconnects within its lease keeps its attempts', () => {
    const job = enqueue();
    register('r');
    const { attempt } = scheduler.offer('r')!;
    scheduler.setOffline('r');
    advance(LEASE_MS - 1_000);
    expect(scheduler.reconnect('r', [attempt.id])).toEqual({
      keep: [attempt.id],
      abandon: [],
      cancel: [],
      requeued: [],
      failed: [],
      ended: []
    });
    expect(scheduler.runner('r').status).toBe('online');
    advance(LEASE_MS - 1_000);
    expect(scheduler.expireLeases().lost).toEqual([]);
    expect(scheduler.job(job.id).status).toBe('running');
  });

  test('unknown runners are not found', () => {
    expect(() => scheduler.drain('ghost')).toThrow(/Runner ghost not found/);
    expect(() => scheduler.heartbeat('ghost')).toThrow(/not found/);
    expect(() => scheduler.reconnect('ghost', [])).toThrow(/not found/);
  });
});

describe('restart', () => {
  test('a new Scheduler over the reopened database sees every queued and running job', () => {
    const running = enqueue();
    const orphan = enqueue();
    const queued = enqueue();
    register('a');
    register('b');
    const kept = scheduler.offer('a')!;
    const lost = scheduler.offer('b')!;
    expect([kept.job.id, lost.job.id]).toEqual([running.id, orphan.id]);
    db.close();

    advance(5 * 60_000); // the server was down for longer than a lease
    scheduler = open();
    expect(scheduler.recover()).toBe(2);
    expect(scheduler.runners().map((runner) => runner.status)).toEqual(['offline', 'offline']);
    expect(scheduler.queue().map((job) => job.id)).toEqual([queued.id]);
    expect(scheduler.job(running.id)).toMatchObject({ status: 'running', currentAttemptId: kept.attempt.id });
    // Nothing expires straight away: each runner gets a full lease to reconnect.
    expect(scheduler.expireLeases().lost).toEqual([]);

    advance(10_000);
    expect(scheduler.reconnect('a', [kept.attempt.id, 'forgotten-attempt'])).toMatchObject({
      keep: [kept.attempt.id],
      abandon: ['forgotten-attempt']
    });
    advance(LEASE_MS - 10_000);
    const expiry = scheduler.expireLeases();
    expect(expiry).toMatchObject({ lost: [{ attemptId: lost.attempt.id }], requeued: [orphan.id], offlineRunners: ['b'] });
    expect(scheduler.queue().map((job) => job.id)).toEqual([orphan.id, queued.id]);
    expect(scheduler.complete(kept.attempt.id, { status: 'finished' }).status).toBe('finished');
  });

  test('a runner that reconnects without an attempt loses it at once', () => {
    const job = enqueue();
    register('r');
    const { attempt } = scheduler.offer('r')!;
    expect(scheduler.reconnect('r', [])).toMatchObject({ keep: [], requeued: [job.id] });
    expect(scheduler.attempts(job.id)[0]).toMatchObject({ id: attempt.id, status: 'lost' });
    expect(scheduler.offer('r')).toMatchObject({ job: { id: job.id }, attempt: { number: 2 } });
  });
});

test('the lease must outlast the heartbeat interval', () => {
  expect(() => new Scheduler(new JobStore(db), { leaseMs: 5_000, heartbeatMs: 5_000 })).toThrow(/longer than the heartbeat/);
  expect(scheduler).toMatchObject({ leaseMs: 30_000, heartbeatMs: 5_000 });
});

describe('runners a pool started for one job', () => {
  /** A pool's runner as runners/pools adds it: offline until its pod connects, reserved for one job. */
  function poolRunner(name: string, reservedJobId: string): void {
    const store = new JobStore(db);
    db.prepare(
      "INSERT OR IGNORE INTO runner_pools (id, name, kind, context, namespace, max_parallel, created_at, created_by) VALUES ('pool', 'pool', 'kubernetes', 'c', 'n', 2, 't', 'test')"
    ).run();
    store.insertRunner({ id: name, name, labels: [], maxJobs: 1, tokenId: null, poolId: 'pool', reservedJobId }, 't');
    register(name);
  }

  test('the reserved job goes to its runner only, and that runner takes no other job', () => {
    const other = enqueue({ priority: 10 });
    const reserved = enqueue();
    register('machine');
    poolRunner('pod-runner', reserved.id);
    const offers = scheduler.assignable();
    expect(offers.map((offer) => [offer.runnerId, offer.job.id])).toEqual([
      ['machine', other.id],
      ['pod-runner', reserved.id]
    ]);
    expect(scheduler.runner('pod-runner')).toMatchObject({ poolId: 'pool', reservedJobId: reserved.id });
  });

  test('offer(): a free machine skips a job reserved for a pod; the pod gets nothing but its job', () => {
    const reserved = enqueue({ priority: 10 });
    const other = enqueue();
    poolRunner('pod-runner', reserved.id);
    register('machine');
    expect(drainQueueTo('machine')).toEqual([other.id]);
    const offer = scheduler.offer('pod-runner');
    expect(offer?.job.id).toBe(reserved.id);
    // Its one job done, a pod's runner takes no other, though one waits.
    scheduler.complete(offer?.attempt.id ?? '', { status: 'finished' });
    const waiting = enqueue();
    expect(scheduler.offer('pod-runner')).toBeUndefined();
    expect(scheduler.assignable()).toEqual([]);
    expect(scheduler.queue().map((job) => job.id)).toEqual([waiting.id]);
  });

  test('loseRunner: its attempt is lost at once (no lease wait) and the job requeued, counting towards maxRetries', () => {
    const job = enqueue({ maxRetries: 0 });
    poolRunner('pod-runner', job.id);
    const offer = scheduler.offer('pod-runner');
    expect(offer?.job.id).toBe(job.id);
    const result = scheduler.loseRunner('pod-runner', 'runner pod-runner was lost: its pod was deleted');
    expect(result.lost).toEqual([{ attemptId: offer?.attempt.id, jobId: job.id, runnerId: 'pod-runner' }]);
    // maxRetries 0: lost once is lost for good.
    expect(result.failed).toEqual([job.id]);
    expect(scheduler.attempts(job.id)[0]).toMatchObject({ status: 'lost', error: 'runner pod-runner was lost: its pod was deleted' });
    expect(scheduler.runner('pod-runner').status).toBe('offline');

    const again = enqueue({ maxRetries: 2 });
    scheduler.remove('pod-runner');
    poolRunner('pod-runner-2', again.id);
    scheduler.offer('pod-runner-2');
    expect(scheduler.loseRunner('pod-runner-2', 'gone').requeued).toEqual([again.id]);
    expect(scheduler.job(again.id)).toMatchObject({ status: 'queued', attemptCount: 1 });
  });
});
