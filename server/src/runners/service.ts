/**
 * Runners and jobs for users: add, drain and remove runners; queue notebooks as jobs (checked
 * against their `parameters` cell and dataset pins before anything is created), cancel them,
 * read their logs, re-run a run; and, for the runner holding an attempt, the notebook to run
 * and the executed notebook back.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import {
  JOB_TAGS,
  type AddRunnerRequest,
  type AddRunnerResponse,
  type AttemptNotebook,
  type FieldProblem,
  type Job,
  type JobListQuery,
  type ParameterValue,
  type RerunRequest,
  type Run,
  type Runner,
  type SubmitJobRequest
} from '../contract';
import { OPERATOR, type AuthService } from '../auth/service';
import type { DatasetService } from '../datasets/service';
import { AppError, invalid, notFound } from '../http/errors';
import type { Principal } from '../http/registry';
import type { ProjectService } from '../projects/service';
import type { ProvenanceService } from '../provenance/service';
import { runNodeRef } from '../runs/provenance';
import type { RunService } from '../runs/service';
import type { SnapshotService } from '../snapshots/service';
import type { JobLog } from './jobLog';
import type { JobLifecycle } from './lifecycle';
import { checkParameters, declaredParameters, parameterFromText, parameterText } from '../contract/parameters';
import type { Scheduler } from './scheduler';
import type { EnvMode, JobStore, RunnerRecord } from './store';
import type { DatasetPin, RunnerViews } from './views';

export type AddRunnerInput = z.output<typeof AddRunnerRequest>;
export type SubmitJobInput = z.output<typeof SubmitJobRequest>;
export type RerunInput = z.output<typeof RerunRequest>;
export type JobListInput = z.output<typeof JobListQuery>;

export const EXECUTED_NOTEBOOK_ARTIFACT = 'executed.ipynb';

export interface RunnerServiceDeps {
  scheduler: Scheduler;
  store: JobStore;
  auth: AuthService;
  runs: RunService;
  snapshots: SnapshotService;
  datasets: DatasetService;
  projects: ProjectService;
  provenance: ProvenanceService;
  lifecycle: JobLifecycle;
  views: RunnerViews;
  log: JobLog;
}

/** Everything a job needs, however it was asked for (submitted or re-run). */
interface JobSpec extends SubmitOptions {
  project: string;
  notebookPath: string;
  notebook: Record<string, unknown>;
  /** An existing snapshot commit, with the files it holds for this notebook; or null to commit `notebook` with `files`. */
  commit: { id: string; files: string[] } | null;
  files: { path: string; content: string }[];
  name: string | undefined;
  parameters: Record<string, ParameterValue>;
  /** Pins over the notebook's own (`metadata.runlab.datasets`). */
  datasets: Record<string, string>;
  /** Pins replacing the notebook's (a re-run uses what the run used). */
  basePins: Record<string, string> | null;
  labels: string[];
  env: EnvMode;
  priority: number;
  maxRetries: number;
  timeoutS: number | null;
  rerunOf: Run | null;
}

/** What a caller inside the server may add to a submitted job. */
export interface SubmitOptions {
  /**
   * Records the new job in the same SQLite transaction that queues it, so a crash cannot leave a
   * queued job that its owner (a sweep's trial) does not know about.
   */
  onQueued?: (job: { id: string; runId: string }) => void;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The notebook's dataset pins, `metadata.runlab.datasets = {"iris": "v3"}` (anything malformed left out). */
export function notebookPins(notebook: Record<string, unknown>): Record<string, string> {
  const metadata = isRecord(notebook.metadata) ? notebook.metadata : {};
  const runlab = isRecord(metadata.runlab) ? metadata.runlab : {};
  const datasets = isRecord(runlab.datasets) ? runlab.datasets : {};
  return Object.fromEntries(Object.entries(datasets).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Quotes a command-line word when the shell would split it. */
const shellWord = (word: string): string => (/^[\w.@,:/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

export class RunnerService {
  constructor(private readonly deps: RunnerServiceDeps) {}

  // ------------------------------------------------------------------------------------------
  // runners

  addRunner(input: AddRunnerInput, actor: Principal, serverUrl: string): AddRunnerResponse {
    const { store, auth, lifecycle } = this.deps;
    const taken = store.findRunnerByName(input.name);
    if (taken) {
      throw new AppError(
        'conflict',
        `A runner named "${input.name}" already exists (added ${taken.createdAt}); pick another name, or remove it first (DELETE /api/runners/${taken.id})`
      );
    }
    const { token, secret } = auth.createToken(input.name, 'runner', actor);
    const id = randomUUID();
    store.insertRunner(
      { id, name: input.name, labels: [...new Set(input.labels)], maxJobs: input.maxJobs, tokenId: token.id },
      new Date().toISOString()
    );
    lifecycle.publishRunner(id);
    const labels = input.labels.length > 0 ? ` --labels ${shellWord(input.labels.join(','))}` : '';
    return {
      runner: this.getRunner(id),
      token: secret,
      command: `runlab runner start --server ${shellWord(serverUrl)} --token ${secret} --name ${shellWord(input.name)}${labels}`
    };
  }

  listRunners(): Runner[] {
    return this.deps.scheduler.runners().map((record) => this.deps.views.runner(record));
  }

  getRunner(id: string): Runner {
    return this.deps.views.runner(this.deps.scheduler.runner(id));
  }

  drainRunner(id: string): Runner {
    this.deps.scheduler.drain(id);
    this.deps.lifecycle.publishRunner(id);
    return this.getRunner(id);
  }

  /** Removes the runner: its token is revoked (which disconnects it) and its jobs requeue. */
  removeRunner(id: string): void {
    const { scheduler, auth, lifecycle, log } = this.deps;
    const runner = scheduler.runner(id);
    const attempts = scheduler.runningAttempts(id);
    const result = scheduler.remove(id);
    for (const attempt of attempts) log.note(attempt.jobId, `attempt ${attempt.number} abandoned: runner ${runner.name} was removed`);
    if (runner.tokenId && auth.isActive(runner.tokenId)) auth.revokeToken(runner.tokenId, OPERATOR);
    lifecycle.released(result);
    lifecycle.publishRemoved(id);
    lifecycle.dispatch();
  }

  runnerOfPrincipal(principal: Principal): RunnerRecord {
    const runner = this.deps.store.findRunnerByToken(principal.tokenId);
    if (!runner) throw new AppError('forbidden', `Runner token "${principal.name}" belongs to no runner (it was removed)`);
    return runner;
  }

  // ------------------------------------------------------------------------------------------
  // jobs

  async submit(input: SubmitJobInput, options: SubmitOptions = {}): Promise<Job> {
    const project = await this.existingProject(input.project);
    let notebook: Record<string, unknown>;
    let commit: JobSpec['commit'] = null;
    if (input.commit !== undefined) {
      if (!project) {
        throw new AppError(
          'not_found',
          `Project ${input.project} not found, so commit ${input.commit} cannot be one of its snapshots; send the notebook itself ("notebook") instead`
        );
      }
      notebook = await this.notebookAtCommit(project.id, input.project, input.commit, input.notebookPath);
      const modules = await this.deps.snapshots.pathsAt(project.id, input.commit, (file) => file.endsWith('.py'));
      commit = { id: input.commit, files: [input.notebookPath, ...modules] };
    } else {
      notebook = input.notebook as Record<string, unknown>;
    }
    return this.queue({
      project: input.project,
      notebookPath: input.notebookPath,
      notebook,
      commit,
      files: input.files,
      name: input.name,
      parameters: input.parameters,
      datasets: input.datasets,
      basePins: null,
      labels: input.labels,
      env: input.env,
      priority: input.priority,
      maxRetries: input.maxRetries,
      timeoutS: input.timeoutS,
      rerunOf: null,
      onQueued: options.onQueued
    });
  }

  /** Queues the run again: its snapshot, its parameters and the dataset versions it used, with overrides. */
  async rerun(runId: string, input: RerunInput): Promise<Job> {
    const original = this.deps.runs.get(runId);
    const snapshot = original.snapshot;
    if (!snapshot) {
      throw new AppError(
        'invalid_request',
        `Run ${original.name} (${runId}) has no snapshot, so there is no notebook to re-run; runs started from a notebook in JupyterLab (or as jobs) have one`
      );
    }
    const notebook = await this.notebookAtCommit(original.projectId, original.projectName, snapshot.commit, snapshot.notebookPath);
    const originalJob = this.deps.store.findJobOfRun(runId);
    const declared = declaredParameters(notebook);
    const parameters: Record<string, ParameterValue> = originalJob
      ? { ...(originalJob.parameters as Record<string, ParameterValue>) }
      : Object.fromEntries(
          [...declared.values()].flatMap((parameter) => {
            const text = original.params[parameter.name];
            const value = text === undefined ? undefined : parameterFromText(parameter, text);
            return value === undefined ? [] : [[parameter.name, value]];
          })
        );
    const usedPins = Object.fromEntries(
      original.inputs.flatMap((io) => {
        const match = io.kind === 'dataset' ? /^(.+)@(v?[1-9][0-9]*)$/.exec(io.name) : null;
        return match ? [[match[1], match[2]]] : [];
      })
    );
    return this.queue({
      project: original.projectName,
      notebookPath: snapshot.notebookPath,
      notebook,
      commit: { id: snapshot.commit, files: snapshot.files },
      files: [],
      name: original.name,
      parameters: { ...parameters, ...input.parameters },
      datasets: input.datasets ?? {},
      basePins: Object.keys(usedPins).length > 0 ? usedPins : null,
      labels: input.labels ?? originalJob?.requiredLabels ?? [],
      env: input.env,
      priority: originalJob?.priority ?? 0,
      maxRetries: originalJob?.maxRetries ?? 2,
      timeoutS: input.timeoutS ?? originalJob?.timeoutS ?? null,
      rerunOf: original
    });
  }

  async listJobs(query: JobListInput): Promise<{ jobs: Job[]; total: number }> {
    const project = query.project === undefined ? null : await this.existingProject(query.project);
    if (query.project !== undefined && !project) return { jobs: [], total: 0 };
    const { jobs, total } = this.deps.store.listJobs({ projectId: project?.id ?? null, status: query.status ?? null, limit: query.limit });
    return { jobs: this.deps.views.jobs(jobs, false), total };
  }

  getJob(id: string): Job {
    return this.deps.views.job(this.deps.scheduler.job(id));
  }

  /** A queued job ends at once; a running one's runner is told to stop it (it completes as cancelled). */
  cancelJob(id: string): Job {
    const { scheduler, lifecycle, log } = this.deps;
    const before = scheduler.job(id).status;
    const { job, notify } = scheduler.requestCancel(id);
    if (before === 'queued' && job.status === 'cancelled') {
      log.note(id, 'cancelled before it started');
      lifecycle.settle(id);
    }
    if (notify) {
      log.note(id, 'cancel requested: the runner is asked to stop it');
      lifecycle.cancel(notify);
      lifecycle.publishJob(id);
    }
    return this.getJob(id);
  }

  jobLog(id: string): string {
    this.deps.scheduler.job(id);
    return this.deps.log.read(id);
  }

  // ------------------------------------------------------------------------------------------
  // for the runner holding an attempt

  async attemptNotebook(attemptId: string, principal: Principal): Promise<AttemptNotebook> {
    const job = this.heldAttempt(attemptId, principal);
    const { snapshots, runs } = this.deps;
    const run = runs.record(job.runId);
    const notebook = await snapshots.notebookAt(job.projectId, job.snapshotCommit, job.notebookPath);
    if (!notebook) throw notFound(`${job.notebookPath} in commit ${job.snapshotCommit}`);
    const others = (run.snapshot?.files ?? []).filter((file) => file !== job.notebookPath);
    const files = [];
    for (const file of others) {
      const content = await snapshots.textAt(job.projectId, job.snapshotCommit, file);
      if (content !== null) files.push({ path: file, content });
    }
    return { notebookPath: job.notebookPath, notebook, files, packages: job.envMode === 'recreate' ? this.packagesFor(job.runId) : null };
  }

  async putExecutedNotebook(attemptId: string, principal: Principal, notebook: Record<string, unknown>): Promise<void> {
    const job = this.heldAttempt(attemptId, principal);
    await this.deps.runs.putArtifact(job.runId, EXECUTED_NOTEBOOK_ARTIFACT, Readable.from([Buffer.from(JSON.stringify(notebook), 'utf8')]));
  }

  // ------------------------------------------------------------------------------------------

  /** The job of an attempt this principal's runner holds as current: 403 for another runner's, 409 for a stale one. */
  private heldAttempt(attemptId: string, principal: Principal) {
    const runner = this.runnerOfPrincipal(principal);
    const attempt = this.deps.store.findAttempt(attemptId);
    if (!attempt) throw notFound(`Attempt ${attemptId}`);
    if (attempt.runnerId !== runner.id) {
      throw new AppError('forbidden', `Attempt ${attemptId} is not held by runner ${runner.name}; a runner reaches only its own attempts`);
    }
    return this.deps.scheduler.currentAttempt(attemptId, runner.id).job;
  }

  /** With env `recreate`: what the re-run run recorded (`name==version`), else nothing to recreate from. */
  private packagesFor(runId: string): string[] | null {
    const rerunOf = this.deps.runs.get(runId).tags[JOB_TAGS.rerunOf];
    if (!rerunOf) return null;
    try {
      const packages = this.deps.runs.get(rerunOf).environment?.packages;
      return packages ? Object.entries(packages).map(([name, version]) => `${name}==${version}`) : null;
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    }
  }

  private async existingProject(name: string): Promise<{ id: string; name: string } | undefined> {
    const [project] = await this.deps.projects.list({ name });
    return project?.name === name ? project : undefined;
  }

  private async notebookAtCommit(
    projectId: string,
    projectName: string,
    commit: string,
    notebookPath: string
  ): Promise<Record<string, unknown>> {
    if (!(await this.deps.snapshots.hasCommit(projectId, commit))) {
      throw invalid([
        {
          path: 'body.commit',
          message:
            `Commit ${commit} is not in the repository of project ${projectName}; give the snapshot commit of one of its runs ` +
            '(run.snapshot.commit), or send the notebook itself as "notebook"'
        }
      ]);
    }
    const notebook = await this.deps.snapshots.notebookAt(projectId, commit, notebookPath);
    if (!notebook) {
      throw invalid([
        {
          path: 'body.notebookPath',
          message: `Commit ${commit} of project ${projectName} has no notebook at ${notebookPath}; check notebookPath (the run's snapshot.notebookPath)`
        }
      ]);
    }
    return notebook;
  }

  /** Checks, then creates: the run, its snapshot, its dataset inputs and the queued job. */
  private async queue(spec: JobSpec): Promise<Job> {
    const { runs, snapshots, scheduler, lifecycle, provenance } = this.deps;
    const problems = checkParameters(declaredParameters(spec.notebook), spec.parameters);
    if (problems.length > 0) {
      throw invalid(problems.map((problem) => ({ path: `body.parameters.${problem.name}`, message: problem.message })));
    }
    const pins = this.resolvePins(spec.project, { ...(spec.basePins ?? notebookPins(spec.notebook)), ...spec.datasets });

    const run = await runs.create({
      project: spec.project,
      name: spec.name ?? path.posix.basename(spec.notebookPath).replace(/\.[^.]*$/, ''),
      params: Object.fromEntries(Object.entries(spec.parameters).map(([name, value]) => [name, parameterText(value)])),
      tags: { [JOB_TAGS.attempts]: '0', ...(spec.rerunOf ? { [JOB_TAGS.rerunOf]: spec.rerunOf.id } : {}) },
      notebookPath: spec.notebookPath,
      source: { kind: 'job', cell: null },
      environment: null,
      frontendId: null,
      moduleFiles: []
    });
    let jobId: string;
    try {
      const snapshot = spec.commit
        ? snapshots.attach(run.id, { commit: spec.commit.id, notebookPath: spec.notebookPath, files: spec.commit.files })
        : await snapshots.create(run.id, { notebookPath: spec.notebookPath, notebook: spec.notebook, files: spec.files });
      for (const pin of pins) runs.recordIo(run.id, 'input', { kind: 'dataset', name: `${pin.name}@${pin.version}`, digest: null });
      const job = this.deps.store.transaction(() => {
        const queued = scheduler.enqueue({
          projectId: run.projectId,
          runId: run.id,
          snapshotCommit: snapshot.commit,
          notebookPath: spec.notebookPath,
          parameters: spec.parameters,
          datasetPins: pins,
          envMode: spec.env,
          requiredLabels: spec.labels,
          priority: spec.priority,
          maxRetries: spec.maxRetries,
          timeoutS: spec.timeoutS
        });
        spec.onQueued?.({ id: queued.id, runId: run.id });
        return queued;
      });
      jobId = job.id;
      runs.setTags(run.id, { [JOB_TAGS.job]: job.id });
      if (spec.rerunOf) provenance.link(run.projectId, runNodeRef(spec.rerunOf.id), runNodeRef(run.id));
    } catch (error) {
      // A refused job leaves no run behind.
      runs.delete(run.id);
      throw error;
    }
    lifecycle.publishJob(jobId);
    lifecycle.dispatch();
    return this.getJob(jobId);
  }

  /** Each pin must name a dataset version of the project; stored as `vN`. */
  private resolvePins(projectName: string, pins: Record<string, string>): DatasetPin[] {
    const problems: FieldProblem[] = [];
    const resolved: DatasetPin[] = [];
    for (const [name, ref] of Object.entries(pins)) {
      try {
        const version = this.deps.datasets.version(projectName, name, ref);
        resolved.push({ name, version: `v${version.number}`, versionId: version.id });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'not_found')) throw error;
        problems.push({
          path: `body.datasets.${name}`,
          message: `Dataset ${name}@${ref} is not in project ${projectName}: ${error.message}; commit it first (runlab data commit) or pin a version it has`
        });
      }
    }
    if (problems.length > 0) throw invalid(problems);
    return resolved;
  }
}
