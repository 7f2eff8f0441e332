/**
 * What a runner token may reach beyond the runner routes (contract: RUNNER_ACCESS, the routes'
 * `runnerAccess`): while its runner holds a job's current attempt, that job's run and the
 * datasets of the job's project (a notebook loads versions it did not pin, and commits the ones
 * it makes), and model versions logged from that run, nothing of other runs or projects. And a request naming an attempt (ATTEMPT_HEADER) is heard
 * only while that attempt is its job's current one, so a lost runner's late points never land.
 */
import type { Request } from 'express';
import { ATTEMPT_HEADER, RUNNER_ACCESS, type RunnerAccess } from '../contract';
import { AppError } from '../http/errors';
import type { Principal, Route, RunnerAccessCheck } from '../http/registry';
import type { RunService } from '../runs/service';
import type { Scheduler } from './scheduler';
import { StaleAttemptError } from './scheduler';
import type { JobRecord, JobStore } from './store';

/** The routes with the runner access the contract gives them. */
export function withRunnerAccess(routes: readonly Route[]): Route[] {
  return routes.map((route) => (RUNNER_ACCESS[route.operationId] ? { ...route, runnerAccess: RUNNER_ACCESS[route.operationId] } : route));
}

const paramOf = (request: Request, name: string): string => String((request.params as Record<string, unknown>)[name] ?? '');
/** The run a `runBody` route names (http/registry.ts checks it once the body is parsed). */
const bodyRunId = (request: Request): string => String((request.body as { runId?: unknown } | undefined)?.runId ?? '');

export class RunnerAccessPolicy {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly store: JobStore,
    private readonly runs: RunService
  ) {}

  readonly check: RunnerAccessCheck = (access, request, principal) => {
    if (access === 'always') return;
    const attemptId = request.get(ATTEMPT_HEADER);
    if (access === 'run' && attemptId) this.checkAttempt(attemptId, paramOf(request, 'id'));
    if (access === 'runBody' && attemptId) this.checkAttempt(attemptId, bodyRunId(request));
    if (principal.scope !== 'runner') return;
    const held = this.heldJobs(principal);
    if (!this.allows(access, request, held)) {
      throw new AppError('forbidden', this.refusal(access, request, principal, held.length));
    }
  };

  /** The jobs whose current attempt this runner token's runner holds. */
  private heldJobs(principal: Principal): JobRecord[] {
    const runner = this.store.findRunnerByToken(principal.tokenId);
    if (!runner) return [];
    return this.scheduler.runningAttempts(runner.id).flatMap((attempt) => {
      const job = this.store.findJob(attempt.jobId);
      return job && job.status === 'running' && job.currentAttemptId === attempt.id ? [job] : [];
    });
  }

  private allows(access: Exclude<RunnerAccess, 'always'>, request: Request, held: readonly JobRecord[]): boolean {
    switch (access) {
      case 'run':
        return held.some((job) => job.runId === paramOf(request, 'id'));
      case 'runBody':
        return held.some((job) => job.runId === bodyRunId(request));
      case 'datasetChunks':
      case 'registryRead':
        return held.length > 0;
      case 'projectDatasets': {
        const project = paramOf(request, 'project');
        return held.some((job) => this.runs.record(job.runId).projectName === project);
      }
    }
  }

  private refusal(access: Exclude<RunnerAccess, 'always'>, request: Request, principal: Principal, heldCount: number): string {
    const what =
      access === 'run'
        ? `run ${paramOf(request, 'id')}`
        : access === 'runBody'
          ? `run ${bodyRunId(request)}`
          : access === 'datasetChunks'
            ? 'dataset chunks'
            : access === 'registryRead'
              ? 'the model registry'
              : `the datasets of project ${paramOf(request, 'project')}`;
    const holding = heldCount === 0 ? 'it runs no job now' : `it is not part of the ${heldCount === 1 ? 'job' : 'jobs'} it runs`;
    return `Runner token "${principal.name}" cannot reach ${what}: a runner reaches only the run and the project's datasets of a job it runs (and reads the model registry while it runs one), and ${holding}`;
  }

  /** 409 unless the attempt is the current one of the job of this run. */
  private checkAttempt(attemptId: string, runId: string): void {
    const attempt = this.store.findAttempt(attemptId);
    const job = attempt && this.store.findJob(attempt.jobId);
    if (!attempt || !job || job.runId !== runId) {
      throw new StaleAttemptError(
        attemptId,
        `This attempt was superseded or is unknown: ${attemptId} is not an attempt of run ${runId}'s job`
      );
    }
    try {
      this.scheduler.currentAttempt(attemptId);
    } catch (error) {
      if (error instanceof StaleAttemptError) {
        throw new StaleAttemptError(attemptId, `This attempt was superseded: ${error.message}; stop sending its results`);
      }
      throw error;
    }
  }
}
