/**
 * Runner pools: runners the scheduler starts itself. For each queued job that no connected
 * runner can take now, the planner picks a pool whose labels the job's include and that runs
 * fewer pods than its maxParallel, and starts one runner for that job: a runner record (poolId,
 * the pool's labels, one job at a time) reserved for the job, a runner token that is that
 * runner's only one (job-scoped: revoked when the runner is done), and a Kubernetes Job whose pod
 * runs `runlab runner start --once` with it (manifests.ts).
 *
 * The pool's pods are followed through the shared pod watch of its namespace. A pod that fails
 * or disappears is a lost runner, at once (not after the 30 s lease): its attempt is lost as if
 * its lease had passed (Scheduler.loseRunner), so the job is requeued, or failed once lost
 * maxRetries + 1 times, and the planner starts another pod for it. A pod that succeeded, or a
 * runner whose job is over and whose agent has gone, is retired: its record is removed and its
 * token revoked; Kubernetes removes the finished Job itself (ttlSecondsAfterFinished).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { CreateRunnerPoolRequest, RunnerPool, RunnerPoolPod } from '../../contract';
import { OPERATOR, type AuthService } from '../../auth/service';
import { AppError, notFound } from '../../http/errors';
import type { Principal } from '../../http/registry';
import { runnerPoolRights, type KubernetesClusters } from '../../kubernetes/clusters';
import type { Logger } from '../../logger';
import type { DomainEvents } from '../../realtime/events';
import type { JobLog } from '../jobLog';
import type { JobLifecycle } from '../lifecycle';
import type { Scheduler } from '../scheduler';
import type { JobRecord, JobStore, RunnerRecord } from '../store';
import {
  JOB_LABEL,
  jobNameOf,
  POOL_LABEL,
  RUNNER_LABEL,
  runnerJob,
  runnerTokenSecret,
  secretNameOf,
  type PoolManifestSettings,
  type PoolRunner
} from './manifests';
import type { RunnerPoolRecord, RunnerPoolStore } from './store';

export const PODS_PATH = '/api/v1/namespaces/{namespace}/pods';
/**
 * After the cluster refused (or did not answer) a Job, the pool is not asked again for this long,
 * doubled after each further failure up to a minute.
 */
const RETRY_AFTER_ERROR_MS = 5000;
const MAX_RETRY_AFTER_ERROR_MS = 60_000;

export interface RunnerPoolServiceDeps {
  store: RunnerPoolStore;
  jobs: JobStore;
  scheduler: Scheduler;
  lifecycle: JobLifecycle;
  auth: AuthService;
  clusters: KubernetesClusters;
  events: DomainEvents;
  log: JobLog;
  logger: Logger;
  settings: () => PoolManifestSettings;
}

export type CreateRunnerPoolInput = z.output<typeof CreateRunnerPoolRequest>;

/** Six characters [a-z0-9] that tell a pool's runners apart. */
const suffix = (): string => [...randomBytes(6)].map((byte) => 'abcdefghijklmnopqrstuvwxyz0123456789'[byte % 36]).join('');

/** The suffix a pool runner's name ends with (`<pool>-<suffix>`). */
const suffixOf = (runner: RunnerRecord): string => runner.name.slice(runner.name.lastIndexOf('-') + 1);

const iso = (value: unknown): string => (value ? new Date(value as string).toISOString() : new Date(0).toISOString());

const labelsInclude = (have: readonly string[], need: readonly string[]): boolean => need.every((label) => have.includes(label));

/** Why a pod is not running, in the cluster's words (Unschedulable: 0/2 nodes are available: …). */
function podReason(pod: V1Pod): string {
  const status = pod.status;
  const scheduled = status?.conditions?.find((condition) => condition.type === 'PodScheduled');
  if (scheduled?.status === 'False') return [scheduled.reason, scheduled.message].filter(Boolean).join(': ');
  for (const container of status?.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating') return [waiting.reason, waiting.message].filter(Boolean).join(': ');
    const terminated = container.state?.terminated;
    if (terminated && terminated.exitCode !== 0) {
      return `${terminated.reason ?? 'Error'}: exit code ${terminated.exitCode}${terminated.message ? `: ${terminated.message}` : ''}`;
    }
  }
  return status?.phase === 'Failed' ? [status.reason, status.message].filter(Boolean).join(': ') : '';
}

export class RunnerPoolService {
  /** What stops each pool's pod watch. */
  private readonly unwatch = new Map<string, () => void>();
  /** The last error creating a pool's Job, and until when the pool is left alone. */
  private readonly failures = new Map<string, { message: string; retryAt: number; count: number }>();
  private stopDispatchListener: (() => void) | null = null;
  private started = false;
  private planning: Promise<void> | null = null;
  private planAgain = false;

  constructor(private readonly deps: RunnerPoolServiceDeps) {}

  /** Once the server listens (pods need its URL): follow every pool's pods and start planning. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const pool of this.deps.store.list()) this.follow(pool);
    this.stopDispatchListener = this.deps.lifecycle.onDispatched(() => this.plan());
    this.planning = this.reconcile()
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'runner pools were not reconciled with their clusters'))
      .finally(() => {
        this.planning = null;
        this.plan();
      });
  }

  /**
   * After a restart: a pod that went away while the server was down sent no event the watch can
   * replay, so each runner whose Job is gone, or failed, is lost now.
   */
  private async reconcile(): Promise<void> {
    const { store, jobs, clusters, logger } = this.deps;
    for (const pool of store.list()) {
      const runners = jobs.runnersOfPool(pool.id);
      if (runners.length === 0) continue;
      let listed: V1Job[];
      try {
        listed = (await clusters.list(pool.context, 'batch/v1', 'Job', pool.namespace, `${POOL_LABEL}=${pool.id}`)) as V1Job[];
      } catch (error) {
        logger.warn({ err: error, pool: pool.name }, 'the Jobs of a runner pool could not be listed');
        continue;
      }
      const byName = new Map(listed.map((job) => [job.metadata?.name ?? '', job]));
      for (const runner of runners) {
        const job = byName.get(jobNameOf(pool.name, suffixOf(runner)));
        const failed = job?.status?.conditions?.some((condition) => condition.type === 'Failed' && condition.status === 'True');
        if (!job) this.loseRunner(runner, 'its Job is gone');
        else if (failed) this.loseRunner(runner, `its Job ${job.metadata?.name} failed`);
      }
    }
  }

  async close(): Promise<void> {
    this.started = false;
    this.stopDispatchListener?.();
    for (const stop of this.unwatch.values()) stop();
    this.unwatch.clear();
    await this.planning;
  }

  // ------------------------------------------------------------------------------------------
  // pools

  async create(input: CreateRunnerPoolInput, actor: Principal): Promise<RunnerPool> {
    const { store, clusters } = this.deps;
    const taken = store.findByName(input.name);
    if (taken) {
      throw new AppError(
        'conflict',
        `A runner pool named "${input.name}" already exists (context ${taken.context}, namespace ${taken.namespace}); pick another name, or remove it first (DELETE /api/runner-pools/${taken.id})`
      );
    }
    // Before anything is written: the context must exist and may do all a pool does in the namespace.
    await clusters.requireAccess(input.context, input.namespace, runnerPoolRights(), 'runner pool');
    if (store.findByName(input.name)) throw new AppError('conflict', `A runner pool named "${input.name}" was just added`);
    const pool: RunnerPoolRecord = {
      id: randomUUID(),
      name: input.name,
      kind: input.kind,
      context: input.context,
      namespace: input.namespace,
      image: input.image ?? null,
      labels: [...new Set(input.labels)],
      resources: input.resources,
      nodeSelector: input.nodeSelector,
      maxParallel: input.maxParallel,
      createdAt: new Date().toISOString(),
      createdBy: actor.name
    };
    store.insert(pool);
    if (this.started) this.follow(pool);
    const view = this.view(pool);
    this.deps.events.publish('runner_pool:updated', view);
    this.plan();
    return view;
  }

  list(): RunnerPool[] {
    return this.deps.store.list().map((pool) => this.view(pool));
  }

  get(id: string): RunnerPool {
    return this.view(this.pool(id));
  }

  /**
   * Removes the pool: its runners are removed (their running attempts go back to the queue, no
   * retry spent, as when an operator removes a runner) and their Jobs deleted.
   */
  async remove(id: string): Promise<void> {
    const { store, jobs, clusters, events, lifecycle, logger } = this.deps;
    const pool = this.pool(id);
    this.unwatch.get(id)?.();
    this.unwatch.delete(id);
    const runners = jobs.runnersOfPool(id);
    // The records go first, so the pods' deletion that follows finds no runner to lose.
    for (const runner of runners) this.removeRunner(runner, 'abandoned', `runner pool ${pool.name} was removed`);
    store.remove(id);
    this.failures.delete(id);
    events.publish('runner_pool:removed', { id });
    for (const runner of runners) {
      try {
        await clusters.remove(pool.context, this.jobRef(pool, runner));
      } catch (error) {
        logger.warn({ err: error, pool: pool.name, runner: runner.name }, 'the Job of a removed runner pool was not deleted');
      }
    }
    lifecycle.dispatch();
  }

  private pool(id: string): RunnerPoolRecord {
    const pool = this.deps.store.find(id);
    if (!pool) throw notFound(`Runner pool ${id}`);
    return pool;
  }

  private view(pool: RunnerPoolRecord): RunnerPool {
    const failure = this.failures.get(pool.id);
    const watchError = this.deps.clusters.watchError(pool.context, pool.namespace, PODS_PATH);
    const message = failure?.message ?? watchError ?? '';
    return {
      id: pool.id,
      name: pool.name,
      kind: pool.kind,
      context: pool.context,
      namespace: pool.namespace,
      image: pool.image ?? this.deps.settings().image,
      labels: pool.labels,
      resources: pool.resources,
      nodeSelector: pool.nodeSelector,
      maxParallel: pool.maxParallel,
      status: message ? 'error' : 'ok',
      statusMessage: message,
      pods: this.podsOf(pool),
      createdAt: pool.createdAt,
      createdBy: pool.createdBy
    };
  }

  /** The pool's pods as the watch sees them, and its runners whose pod has not appeared yet. */
  private podsOf(pool: RunnerPoolRecord): RunnerPoolPod[] {
    const pods = this.watchedPods(pool).map((pod): RunnerPoolPod => {
      const labels = pod.metadata?.labels ?? {};
      const owner = pod.metadata?.ownerReferences?.find((reference) => reference.kind === 'Job');
      return {
        jobName: owner?.name ?? labels['job-name'] ?? '',
        podName: pod.metadata?.name ?? null,
        phase: pod.metadata?.deletionTimestamp ? 'Gone' : (pod.status?.phase ?? 'Pending'),
        reason: podReason(pod),
        runnerId: labels[RUNNER_LABEL] ?? '',
        runlabJobId: labels[JOB_LABEL] ?? '',
        createdAt: iso(pod.metadata?.creationTimestamp)
      };
    });
    const withPods = new Set(pods.map((pod) => pod.runnerId));
    for (const runner of this.deps.jobs.runnersOfPool(pool.id)) {
      if (withPods.has(runner.id)) continue;
      pods.push({
        jobName: jobNameOf(pool.name, suffixOf(runner)),
        podName: null,
        phase: 'Pending',
        reason: 'the Job is created; its pod is not there yet',
        runnerId: runner.id,
        runlabJobId: runner.reservedJobId ?? '',
        createdAt: runner.createdAt
      });
    }
    return pods.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private watchedPods(pool: RunnerPoolRecord): V1Pod[] {
    return (this.deps.clusters.watched(pool.context, pool.namespace, PODS_PATH) as V1Pod[]).filter(
      (pod) => pod.metadata?.labels?.[POOL_LABEL] === pool.id
    );
  }

  private publish(poolId: string): void {
    const pool = this.deps.store.find(poolId);
    if (pool) this.deps.events.publish('runner_pool:updated', this.view(pool));
  }

  // ------------------------------------------------------------------------------------------
  // pods

  private follow(pool: RunnerPoolRecord): void {
    if (this.unwatch.has(pool.id)) return;
    const stop = this.deps.clusters.watch(pool.context, pool.namespace, PODS_PATH, (phase, object) => {
      try {
        if (phase === 'ERROR') return this.publish(pool.id);
        const pod = object as V1Pod;
        if (pod.metadata?.labels?.[POOL_LABEL] !== pool.id) return;
        this.podChanged(pool, pod, phase === 'DELETED');
        this.publish(pool.id);
      } catch (error) {
        this.deps.logger.error({ err: error, pool: pool.name }, 'a runner pool pod change was not handled');
      }
    });
    this.unwatch.set(pool.id, stop);
  }

  /** A pod that failed or went away is a lost runner; one that succeeded, a retired one. */
  private podChanged(pool: RunnerPoolRecord, pod: V1Pod, deleted: boolean): void {
    const runner = this.deps.jobs.findRunner(pod.metadata?.labels?.[RUNNER_LABEL] ?? '');
    if (!runner || runner.poolId !== pool.id) return;
    const name = pod.metadata?.name ?? '?';
    if (deleted || pod.metadata?.deletionTimestamp) {
      this.loseRunner(runner, `its pod ${name} was deleted`);
    } else if (pod.status?.phase === 'Failed') {
      const reason = podReason(pod);
      this.loseRunner(runner, `its pod ${name} failed${reason ? ` (${reason})` : ''}`);
    } else if (pod.status?.phase === 'Succeeded') {
      if (this.deps.scheduler.runningAttempts(runner.id).length > 0) this.loseRunner(runner, `its pod ${name} exited`);
      else this.removeRunner(runner, null, 'its pod succeeded');
    }
  }

  /** The runner is gone now: its attempts are lost (their jobs requeue or fail), its record and token removed. */
  private loseRunner(runner: RunnerRecord, reason: string): void {
    const { scheduler, lifecycle, log, jobs } = this.deps;
    const result = scheduler.loseRunner(runner.id, `runner ${runner.name} was lost: ${reason}`);
    for (const lost of result.lost) {
      log.note(lost.jobId, `attempt ${jobs.findAttempt(lost.attemptId)?.number ?? '?'} lost: runner ${runner.name} is gone (${reason})`);
    }
    lifecycle.released(result);
    this.removeRunner(runner, null, reason);
    lifecycle.dispatch();
  }

  /** Removes a pool's runner record and revokes its token (which disconnects its agent). */
  private removeRunner(runner: RunnerRecord, abandon: 'abandoned' | null, reason: string): void {
    const { scheduler, auth, lifecycle, log, logger } = this.deps;
    if (!this.deps.jobs.findRunner(runner.id)) return;
    const attempts = scheduler.runningAttempts(runner.id);
    const result = scheduler.remove(runner.id);
    if (abandon) for (const attempt of attempts) log.note(attempt.jobId, `attempt ${attempt.number} abandoned: ${reason}`);
    if (runner.tokenId && auth.isActive(runner.tokenId)) auth.revokeToken(runner.tokenId, OPERATOR);
    lifecycle.released(result);
    lifecycle.publishRemoved(runner.id);
    logger.info({ runner: runner.name, reason }, 'runner pool runner retired');
  }

  private jobRef(pool: RunnerPoolRecord, runner: RunnerRecord): KubernetesObject {
    return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: jobNameOf(pool.name, suffixOf(runner)), namespace: pool.namespace } };
  }

  // ------------------------------------------------------------------------------------------
  // the planner

  /** Starts runners for queued jobs (and retires those that are done); one pass at a time. */
  plan(): void {
    if (!this.started) return;
    if (this.planning) {
      this.planAgain = true;
      return;
    }
    this.planning = this.planOnce()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'runner pool planning failed'))
      .finally(() => {
        this.planning = null;
        if (this.planAgain) {
          this.planAgain = false;
          this.plan();
        }
      });
  }

  private async planOnce(): Promise<void> {
    const pools = this.deps.store.list();
    if (pools.length === 0) return;
    await this.retireDone(pools);
    const { jobs, scheduler } = this.deps;
    const reserved = new Set(jobs.listRunners().flatMap((runner) => runner.reservedJobId ?? []));
    const free = jobs.runnersWithFreeSlots().filter((slot) => slot.runner.reservedJobId === null);
    for (const job of scheduler.queue()) {
      if (!this.started) return;
      if (reserved.has(job.id)) continue;
      // A connected runner that may take it will be offered it; no pod is needed.
      if (free.some((slot) => labelsInclude(slot.runner.labels, job.requiredLabels))) continue;
      const pool = this.poolFor(job, pools);
      if (pool) await this.startRunner(pool, job);
    }
  }

  /** The most general pool (fewest labels, then oldest) whose labels the job's include, with room for a pod. */
  private poolFor(job: JobRecord, pools: readonly RunnerPoolRecord[]): RunnerPoolRecord | undefined {
    const now = Date.now();
    return pools
      .filter((pool) => this.deps.store.find(pool.id))
      .filter((pool) => labelsInclude(pool.labels, job.requiredLabels))
      .filter((pool) => (this.failures.get(pool.id)?.retryAt ?? 0) <= now)
      .filter((pool) => this.deps.jobs.runnersOfPool(pool.id).length < pool.maxParallel)
      .sort((a, b) => a.labels.length - b.labels.length || a.createdAt.localeCompare(b.createdAt))[0];
  }

  /**
   * Runners whose job is over: once the agent has gone, the record and token are removed (the
   * finished pod is Kubernetes' to clean up). A runner whose job ended before it ever ran it
   * (cancelled while its pod waited) has nothing to do: its Job is deleted.
   */
  private async retireDone(pools: readonly RunnerPoolRecord[]): Promise<void> {
    const { jobs, scheduler, clusters, logger } = this.deps;
    for (const pool of pools) {
      for (const runner of jobs.runnersOfPool(pool.id)) {
        if (scheduler.runningAttempts(runner.id).length > 0) continue;
        const job = runner.reservedJobId === null ? undefined : jobs.findJob(runner.reservedJobId);
        if (job && (job.status === 'queued' || job.status === 'running')) continue;
        const ranIt = job !== undefined && scheduler.attempts(job.id).some((attempt) => attempt.runnerId === runner.id);
        if (ranIt && runner.status !== 'offline') continue;
        this.removeRunner(runner, null, ranIt ? 'its job is over' : 'its job ended before it started');
        this.publish(pool.id);
        if (ranIt) continue;
        try {
          await clusters.remove(pool.context, this.jobRef(pool, runner));
        } catch (error) {
          logger.warn({ err: error, pool: pool.name, runner: runner.name }, 'the Job of an idle pool runner was not deleted');
        }
      }
    }
  }

  /** A runner for one job: its record (reserved for the job), its token, the Secret and the Job. */
  private async startRunner(pool: RunnerPoolRecord, job: JobRecord): Promise<void> {
    const { jobs, auth, clusters, lifecycle, log, logger } = this.deps;
    const runner: PoolRunner = { runnerId: randomUUID(), runnerName: '', runlabJobId: job.id, suffix: suffix() };
    runner.runnerName = `${pool.name}-${runner.suffix}`;
    const { token, secret } = auth.createToken(runner.runnerName, 'runner', OPERATOR);
    jobs.insertRunner(
      {
        id: runner.runnerId,
        name: runner.runnerName,
        labels: pool.labels,
        maxJobs: 1,
        tokenId: token.id,
        poolId: pool.id,
        reservedJobId: job.id
      },
      new Date().toISOString()
    );
    lifecycle.publishRunner(runner.runnerId);
    const jobName = jobNameOf(pool.name, runner.suffix);
    try {
      await clusters.apply(pool.context, runnerTokenSecret(pool, runner, secret));
      const created = await clusters.apply(pool.context, runnerJob(pool, runner, this.deps.settings()));
      const uid = created.metadata?.uid;
      if (uid) await clusters.apply(pool.context, runnerTokenSecret(pool, runner, secret, { uid }));
      this.failures.delete(pool.id);
      log.note(job.id, `runner pool ${pool.name} started runner ${runner.runnerName} for it (Kubernetes Job ${pool.namespace}/${jobName})`);
      const record = jobs.findRunner(runner.runnerId);
      // The pool was removed meanwhile: nothing may run for it.
      if (!record) await clusters.remove(pool.context, this.jobRef(pool, { name: runner.runnerName } as RunnerRecord));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn({ err: error, pool: pool.name, job: job.id }, 'a runner pool could not start a runner');
      const count = (this.failures.get(pool.id)?.count ?? 0) + 1;
      const wait = Math.min(MAX_RETRY_AFTER_ERROR_MS, RETRY_AFTER_ERROR_MS * 2 ** (count - 1));
      this.failures.set(pool.id, { message, retryAt: Date.now() + wait, count });
      const record = jobs.findRunner(runner.runnerId);
      if (record) this.removeRunner(record, null, `its Job was not created: ${message}`);
      for (const ref of [
        this.jobRef(pool, { name: runner.runnerName } as RunnerRecord),
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: secretNameOf(jobName), namespace: pool.namespace } }
      ]) {
        await clusters.remove(pool.context, ref).catch(() => undefined);
      }
    }
    this.publish(pool.id);
  }
}
