/** Records as the contract shows them: a runner with its running jobs, a job with its run's name, attempts and progress. */
import { JOB_TAGS, JobProgress, type Job, type JobAttempt, type Runner } from '../contract';
import type { RunService } from '../runs/service';
import type { Scheduler } from './scheduler';
import type { AttemptRecord, JobRecord, JobStore, RunnerRecord } from './store';

/** A dataset version a job runs with, as the job stores it (`datasetPins`). */
export interface DatasetPin {
  name: string;
  /** `v3` */
  version: string;
  versionId: string;
}

export const pinsOf = (job: JobRecord): DatasetPin[] => job.datasetPins as DatasetPin[];

export class RunnerViews {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly store: JobStore,
    private readonly runs: RunService
  ) {}

  runner(record: RunnerRecord): Runner {
    return {
      id: record.id,
      name: record.name,
      labels: record.labels,
      capacity: record.capacity,
      maxJobs: record.maxJobs,
      status: record.status,
      lastHeartbeatAt: record.lastHeartbeatAt,
      connectedAt: record.connectedAt,
      createdAt: record.createdAt,
      runningJobs: this.scheduler
        .runningAttempts(record.id)
        .filter((attempt) => this.scheduler.isCurrent(attempt.id))
        .map((attempt) => attempt.jobId),
      poolId: record.poolId
    };
  }

  /** Jobs with their runs' names; attempts only when `withAttempts` (lists leave them out). */
  jobs(records: readonly JobRecord[], withAttempts: boolean): Job[] {
    const runs = new Map(this.runs.getMany(records.map((record) => record.runId)).map((run) => [run.id, run]));
    return records.map((record) => {
      const run = runs.get(record.runId);
      const attempts = this.scheduler.attempts(record.id);
      const current = attempts.find((attempt) => attempt.id === record.currentAttemptId) ?? attempts.at(-1);
      const progress = JobProgress.safeParse(current?.progress);
      return {
        id: record.id,
        projectId: record.projectId,
        projectName: run?.projectName ?? '',
        runId: record.runId,
        name: run?.name ?? '',
        notebookPath: record.notebookPath,
        snapshotCommit: record.snapshotCommit,
        parameters: record.parameters as Job['parameters'],
        datasets: Object.fromEntries(pinsOf(record).map((pin) => [pin.name, pin.version])),
        labels: record.requiredLabels,
        env: record.envMode,
        priority: record.priority,
        status: record.status,
        attemptCount: record.attemptCount,
        maxRetries: record.maxRetries,
        timeoutS: record.timeoutS,
        createdAt: record.createdAt,
        startedAt: record.startedAt,
        finishedAt: record.finishedAt,
        error: record.error,
        runnerName: this.runnerName(record.runnerId ?? current?.runnerId ?? null) ?? run?.tags[JOB_TAGS.runner] ?? null,
        progress: progress.success ? progress.data : null,
        rerunOf: run?.tags[JOB_TAGS.rerunOf] ?? null,
        attempts: withAttempts ? attempts.map((attempt) => this.attempt(attempt)) : []
      };
    });
  }

  job(record: JobRecord): Job {
    return this.jobs([record], true)[0];
  }

  private attempt(record: AttemptRecord): JobAttempt {
    return {
      id: record.id,
      number: record.number,
      runnerId: record.runnerId,
      runnerName: this.runnerName(record.runnerId),
      status: record.status,
      startedAt: record.startedAt,
      endedAt: record.endedAt,
      error: record.error
    };
  }

  private runnerName(runnerId: string | null): string | null {
    return runnerId === null ? null : (this.store.findRunner(runnerId)?.name ?? null);
  }
}
