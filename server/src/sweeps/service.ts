/**
 * Sweeps: create one (its parent run and snapshot, checked against the notebook's `parameters`
 * cell), then keep it moving — ask the proposer for parameters, queue each trial as a runner job,
 * follow the jobs (`job:updated`) to each trial's final state and value, stop trials early by the
 * median rule as their objective arrives (`run:metrics`), and end the sweep when exactly
 * `spec.trials` trials are final (or the failure budget is spent). Pause, resume and cancel.
 *
 * Exactly N: a trial is its job, and a job whose runner is lost runs again as the same job's next
 * attempt, so it is still one trial; only trials that end cancelled (paused, or cancelled by hand)
 * are replaced. Everything is in SQLite: `start()` after a restart follows each running sweep's
 * jobs to where they are now and goes on. Steps of one sweep run one at a time (`advance`).
 */
import { randomInt, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  DEFAULT_GRID_POINTS,
  EarlyStop,
  MAX_GRID_SIZE,
  SWEEP_TAGS,
  type CreateSweepRequest,
  type FieldProblem,
  type Job,
  type MetricPoint,
  type ParameterValue,
  type Sweep,
  type SweepCounts,
  type SweepRange,
  type SweepSpec,
  type Trial
} from '../contract';
import { checkParameters, declaredParameters, parameterText } from '../contract/parameters';
import { AppError, invalid, notFound } from '../http/errors';
import type { Principal } from '../http/registry';
import type { DomainEvents } from '../realtime/events';
import type { RunnerService } from '../runners/service';
import type { RunService } from '../runs/service';
import type { SnapshotService } from '../snapshots/service';
import { ProposerError, type Proposer, type ProposerTrial } from './proposer';
import { ACTIVE_TRIAL, type SweepRecord, type SweepStore, type TrialRecord } from './store';

export type CreateSweepInput = z.output<typeof CreateSweepRequest>;

export interface SweepServiceDeps {
  store: SweepStore;
  runs: RunService;
  snapshots: SnapshotService;
  runners: Pick<RunnerService, 'submit' | 'getJob' | 'cancelJob'>;
  proposer: Proposer;
  events: DomainEvents;
  logger: Logger;
  now?: () => Date;
}

const better = (goal: SweepSpec['goal'], a: number, b: number): boolean => (goal === 'maximize' ? a > b : a < b);

/** How many values a grid takes from a range (python/runlab/sweeps/ranges.py `grid_values`). */
export function gridValueCount(range: SweepRange): number {
  if (range.type === 'choice') return range.values.length;
  if (range.type === 'intrange') return Math.floor((range.high - range.low) / (range.step ?? 1)) + 1;
  return range.points ?? DEFAULT_GRID_POINTS;
}

/** Values of a range worth checking against the declared type: its ends, a value between, every choice. */
function sampleValues(range: SweepRange): ParameterValue[] {
  if (range.type === 'choice') return range.values;
  if (range.type === 'intrange') return [range.low, range.high];
  // A value between that is not whole, so a continuous range of a whole-number parameter is refused.
  const middle = (range.low + range.high) / 2;
  return [range.low, Number.isInteger(middle) && middle + 0.5 <= range.high ? middle + 0.5 : middle, range.high];
}

/** Best value up to `step` on a curve (latest point per step), or undefined before its first point. */
function bestUpTo(points: readonly MetricPoint[], step: number, goal: SweepSpec['goal']): number | undefined {
  let best: number | undefined;
  for (const point of points) {
    if (point.step > step || typeof point.value !== 'number' || !Number.isFinite(point.value)) continue;
    if (best === undefined || better(goal, point.value, best)) best = point.value;
  }
  return best;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export class SweepService {
  private readonly store: SweepStore;
  private readonly now: () => Date;
  /** Each sweep's steps run one after another: a step awaits the proposer and job submissions. */
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;
  /** Objective points of finished and stopped trials, for the median rule (endedCurve). */
  private readonly endedCurves = new Map<string, MetricPoint[]>();

  constructor(private readonly deps: SweepServiceDeps) {
    this.store = deps.store;
    this.now = deps.now ?? (() => new Date());
    deps.events.subscribe((event, payload) => {
      if (this.closed) return;
      try {
        if (event === 'job:updated') this.jobChanged(payload as Job);
        if (event === 'run:metrics') this.objectiveLogged((payload as { runId: string }).runId);
      } catch (error) {
        deps.logger.warn({ err: error }, 'a sweep did not follow its trial');
      }
    });
  }

  /** After a restart: every running sweep's trials follow their jobs as they are now, then it goes on. */
  start(): void {
    for (const sweep of this.store.running()) {
      for (const trial of this.store.trials(sweep.id)) {
        if (!ACTIVE_TRIAL.includes(trial.status) || trial.jobId === null) continue;
        try {
          this.jobChanged(this.deps.runners.getJob(trial.jobId));
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'not_found')) throw error;
          this.endTrial(trial, 'failed', { error: `Its job ${trial.jobId} is gone` });
        }
      }
      this.deps.logger.info({ sweepId: sweep.id }, `sweep ${sweep.name} continues`);
      void this.advance(sweep.id);
    }
  }

  /** Shutdown: no new steps; proposers under way are stopped and the steps waited for. */
  async close(): Promise<void> {
    this.closed = true;
    this.deps.proposer.close();
    await Promise.allSettled([...this.chains.values()]);
  }

  // ------------------------------------------------------------------------------------------
  // for users

  async create(input: CreateSweepInput, actor: Principal): Promise<Sweep> {
    const { runs, snapshots } = this.deps;
    const grid = input.method === 'grid' ? Object.values(input.params).reduce((size, range) => size * gridValueCount(range), 1) : null;
    const spec = this.specOf(input, grid);
    const name = input.name ?? `sweep of ${path.posix.basename(input.notebookPath).replace(/\.[^.]*$/, '')}`;
    const parent = await runs.create({
      project: input.project,
      name,
      params: Object.fromEntries([
        ...Object.entries(spec.params).map(([param, range]) => [param, rangeText(range)]),
        ...Object.entries(spec.fixed).map(([param, value]) => [param, parameterText(value)])
      ]),
      tags: { [SWEEP_TAGS.sweep]: 'parent' },
      notebookPath: input.notebookPath,
      source: { kind: 'sweep', cell: null },
      environment: null,
      frontendId: null,
      moduleFiles: []
    });
    try {
      let notebook: Record<string, unknown>;
      let commit: string;
      if (input.commit !== undefined) {
        const found = (await snapshots.hasCommit(parent.projectId, input.commit))
          ? await snapshots.notebookAt(parent.projectId, input.commit, input.notebookPath)
          : null;
        if (!found) {
          throw invalid([
            {
              path: 'body.commit',
              message: `Commit ${input.commit} of project ${input.project} has no notebook at ${input.notebookPath}; give a run's snapshot.commit and snapshot.notebookPath, or send the notebook itself as "notebook"`
            }
          ]);
        }
        notebook = found;
        const modules = await snapshots.pathsAt(parent.projectId, input.commit, (file) => file.endsWith('.py'));
        snapshots.attach(parent.id, { commit: input.commit, notebookPath: input.notebookPath, files: [input.notebookPath, ...modules] });
        commit = input.commit;
      } else {
        notebook = input.notebook as Record<string, unknown>;
        commit = (await snapshots.create(parent.id, { notebookPath: input.notebookPath, notebook, files: input.files })).commit;
      }
      this.checkAgainstNotebook(spec, notebook);
      const sweep: SweepRecord = {
        id: randomUUID(),
        projectId: parent.projectId,
        name,
        runId: parent.id,
        notebookPath: input.notebookPath,
        snapshotCommit: commit,
        spec,
        status: 'running',
        error: null,
        importance: {},
        createdAt: this.now().toISOString(),
        createdBy: actor.name,
        finishedAt: null
      };
      this.store.insert(sweep);
      runs.setTags(parent.id, { [SWEEP_TAGS.sweep]: sweep.id });
      this.deps.logger.info(
        { sweepId: sweep.id, method: spec.method, trials: spec.trials, parallel: spec.parallel },
        `sweep ${name} started`
      );
      await this.advance(sweep.id);
      return this.get(sweep.id);
    } catch (error) {
      // A refused sweep leaves no run behind.
      runs.delete(parent.id);
      throw error;
    }
  }

  list(projectId: string | null): Sweep[] {
    return this.store.list(projectId).map((record) => this.view(record));
  }

  get(id: string): Sweep {
    return this.view(this.record(id));
  }

  trials(id: string): Trial[] {
    this.record(id);
    return this.store.trials(id).map((trial) => this.trialView(trial));
  }

  pause(id: string): Sweep {
    const sweep = this.record(id);
    if (sweep.status !== 'running') {
      throw new AppError('conflict', `Sweep ${sweep.name} is ${sweep.status}; only a running sweep can be paused`);
    }
    this.store.update(id, { status: 'paused' });
    this.deps.logger.info({ sweepId: id }, `sweep ${sweep.name} paused`);
    // Queued trials make way (they are proposed again on resume); running ones finish.
    for (const trial of this.store.trials(id).filter((candidate) => candidate.status === 'queued')) this.withdraw(trial);
    return this.publish(id);
  }

  resume(id: string): Sweep {
    const sweep = this.record(id);
    if (sweep.status !== 'paused') {
      throw new AppError('conflict', `Sweep ${sweep.name} is ${sweep.status}; only a paused sweep can be resumed`);
    }
    this.store.update(id, { status: 'running', error: null });
    this.deps.logger.info({ sweepId: id }, `sweep ${sweep.name} resumed`);
    void this.advance(id);
    return this.publish(id);
  }

  cancel(id: string): Sweep {
    const sweep = this.record(id);
    if (sweep.status !== 'running' && sweep.status !== 'paused') {
      throw new AppError('conflict', `Sweep ${sweep.name} is ${sweep.status} already`);
    }
    this.end(sweep, 'cancelled', null);
    return this.get(id);
  }

  // ------------------------------------------------------------------------------------------
  // the spec

  private specOf(input: CreateSweepInput, grid: number | null): SweepSpec {
    const problems: FieldProblem[] = [];
    if (grid !== null && grid > MAX_GRID_SIZE) {
      problems.push({
        path: 'body.params',
        message: `The grid has ${grid} combinations, more than ${MAX_GRID_SIZE}; give continuous ranges fewer points or use method random or bayes`
      });
    }
    if (grid !== null && input.trials !== undefined && input.trials > grid) {
      problems.push({
        path: 'body.trials',
        message: `The grid has ${grid} combinations, so at most ${grid} trials (leave trials out to run them all)`
      });
    }
    for (const name of Object.keys(input.fixed)) {
      if (name in input.params) problems.push({ path: `body.fixed.${name}`, message: `${name} is swept (params); it cannot be fixed too` });
    }
    if (problems.length > 0) throw invalid(problems);
    const trials = input.trials ?? grid ?? 10;
    return {
      params: input.params,
      fixed: input.fixed,
      objective: input.objective,
      goal: input.goal,
      method: input.method,
      trials,
      parallel: input.parallel,
      earlyStop: input.earlyStop === 'median' ? EarlyStop.parse({ rule: 'median' }) : input.earlyStop,
      maxFailures: input.maxFailures ?? Math.max(3, Math.ceil(trials / 4)),
      seed: input.seed ?? randomInt(0, 2 ** 31 - 1),
      datasets: input.datasets,
      labels: input.labels,
      env: input.env,
      maxRetries: input.maxRetries,
      timeoutS: input.timeoutS
    };
  }

  /** Every swept and fixed parameter must be the notebook's, with values of its declared type. */
  private checkAgainstNotebook(spec: SweepSpec, notebook: Record<string, unknown>): void {
    const declared = declaredParameters(notebook);
    const problems: FieldProblem[] = checkParameters(declared, spec.fixed).map((problem) => ({
      path: `body.fixed.${problem.name}`,
      message: problem.message
    }));
    for (const [name, range] of Object.entries(spec.params)) {
      const problem = sampleValues(range)
        .map((value) => checkParameters(declared, { [name]: value })[0])
        .find((found) => found !== undefined);
      if (problem) problems.push({ path: `body.params.${name}`, message: `${rangeText(range)}: ${problem.message}` });
    }
    if (problems.length > 0) throw invalid(problems);
  }

  // ------------------------------------------------------------------------------------------
  // keeping a sweep moving

  /** Runs the sweep's next step after the ones before it. */
  private advance(sweepId: string): Promise<void> {
    const next = (this.chains.get(sweepId) ?? Promise.resolve()).then(() =>
      this.step(sweepId).catch((error: unknown) => this.deps.logger.error({ err: error, sweepId }, 'a sweep step failed'))
    );
    this.chains.set(sweepId, next);
    void next.then(() => {
      if (this.chains.get(sweepId) === next) this.chains.delete(sweepId);
    });
    return next;
  }

  /** Ends the sweep when it is done, else proposes and queues trials up to `parallel`. */
  private async step(sweepId: string): Promise<void> {
    if (this.closed) return;
    let sweep = this.store.find(sweepId);
    if (!sweep || sweep.status !== 'running') return;
    const { spec } = sweep;
    // Proposed before a restart, never queued.
    for (const trial of this.store.trials(sweepId).filter((candidate) => candidate.status === 'queued' && candidate.jobId === null)) {
      await this.submitTrial(sweep, trial);
    }
    const trials = this.store.trials(sweepId);
    const counts = countTrials(trials);
    const final = counts.finished + counts.failed + counts.stopped;
    const active = counts.queued + counts.running;
    if (counts.failed > spec.maxFailures) {
      this.end(
        sweep,
        'failed',
        `${counts.failed} trials failed, more than the failure budget (maxFailures ${spec.maxFailures}); open a failed trial's run to see why, then start the sweep again`
      );
      return;
    }
    if (final >= spec.trials) {
      if (active === 0) this.end(sweep, 'finished', null);
      return;
    }
    const wanted = Math.min(spec.parallel - active, spec.trials - final - active);
    if (wanted <= 0) return;
    let proposals: Record<string, ParameterValue>[];
    try {
      proposals = await this.deps.proposer.propose({
        method: spec.method,
        goal: spec.goal,
        seed: spec.seed,
        trials: spec.trials,
        params: spec.params,
        history: trials.filter((trial) => trial.status !== 'cancelled').map((trial) => this.proposerTrial(sweep as SweepRecord, trial)),
        number: trials.length,
        count: wanted
      });
    } catch (error) {
      if (!(error instanceof ProposerError)) throw error;
      if (this.closed) return; // stopped by the shutdown, not broken
      // Paused, not failed: once the proposer is fixed, Resume goes on where it stopped.
      this.store.update(sweepId, { status: 'paused', error: `${error.message}; then resume the sweep` });
      this.deps.logger.error({ err: error, sweepId }, `sweep ${sweep.name} paused: its proposer failed`);
      this.publish(sweepId);
      return;
    }
    if (this.closed) return;
    sweep = this.store.find(sweepId);
    // Paused or cancelled while the proposer ran.
    if (!sweep || sweep.status !== 'running') return;
    if (proposals.length === 0 && active === 0) {
      // A grid with no combination left (its failed ones are final, not retried).
      this.end(sweep, 'finished', null);
      return;
    }
    let number = trials.length === 0 ? 0 : Math.max(...trials.map((trial) => trial.number)) + 1;
    for (const params of proposals) {
      // Paused or cancelled while the trials before were being queued.
      if (this.closed || this.store.find(sweepId)?.status !== 'running') break;
      const trial: TrialRecord = {
        id: randomUUID(),
        sweepId,
        number: number++,
        params,
        status: 'queued',
        value: null,
        step: null,
        jobId: null,
        runId: null,
        stopRequested: false,
        error: null,
        createdAt: this.now().toISOString(),
        endedAt: null
      };
      this.store.insertTrial(trial);
      await this.submitTrial(sweep, trial);
    }
    this.publish(sweepId);
  }

  private async submitTrial(sweep: SweepRecord, trial: TrialRecord): Promise<void> {
    const { spec } = sweep;
    const project = this.projectName(sweep);
    let job: Job;
    try {
      job = await this.deps.runners.submit(
        {
          project,
          notebookPath: sweep.notebookPath,
          commit: sweep.snapshotCommit,
          files: [],
          name: `${sweep.name} #${trial.number}`,
          parameters: { ...spec.fixed, ...trial.params },
          datasets: spec.datasets,
          labels: spec.labels,
          env: spec.env,
          priority: 0,
          maxRetries: spec.maxRetries,
          timeoutS: spec.timeoutS
        },
        {
          // In the job's own transaction: after a crash, a trial without a job has none queued,
          // and a trial's run always carries its sweep's tags.
          onQueued: (queued) => {
            this.store.updateTrial(trial.id, { jobId: queued.id, runId: queued.runId });
            this.deps.runs.setTags(queued.runId, {
              [SWEEP_TAGS.parent]: sweep.runId,
              [SWEEP_TAGS.sweep]: sweep.id,
              [SWEEP_TAGS.trial]: String(trial.number)
            });
          }
        }
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.logger.warn({ err: error, sweepId: sweep.id, trial: trial.number }, 'a trial could not be queued');
      this.endTrial(trial, 'failed', { error: `It could not be queued: ${message}` });
      return;
    }
    this.publishTrial(trial.id);
    const current = this.deps.runners.getJob(job.id);
    if (!ACTIVE_TRIAL.includes(this.store.trial(trial.id)?.status ?? 'cancelled')) {
      // Withdrawn (pause, cancel) before its job was recorded on it: the job goes too.
      if (current.status === 'queued' || current.status === 'running') this.deps.runners.cancelJob(job.id);
      return;
    }
    // The job may have moved on while submit() returned.
    this.jobChanged(current);
  }

  /** A trial's job changed: the trial follows it, and a trial that ended lets the sweep go on. */
  private jobChanged(job: Job): void {
    const trial = this.store.trialOfJob(job.id);
    if (!trial || !ACTIVE_TRIAL.includes(trial.status)) return;
    const sweep = this.store.find(trial.sweepId);
    if (!sweep) return;
    if (job.status === 'queued' || job.status === 'running') {
      // queued again: its runner was lost and the job waits for its next attempt (the same trial).
      if (trial.status !== job.status) {
        this.store.updateTrial(trial.id, { status: job.status });
        this.publishTrial(trial.id);
        this.publish(sweep.id);
      }
      return;
    }
    const objective = this.objective(sweep, trial);
    if (job.status === 'finished') {
      if (objective.value === null) {
        this.endTrial(trial, 'failed', {
          ...objective,
          error: `Its run logged no ${sweep.spec.objective}; log it in the notebook: runlab.metric("${sweep.spec.objective}", value)`
        });
      } else {
        this.endTrial(trial, 'finished', objective);
      }
    } else if (job.status === 'cancelled') {
      this.endTrial(trial, trial.stopRequested ? 'stopped' : 'cancelled', objective);
    } else {
      this.endTrial(trial, 'failed', {
        ...objective,
        error: job.error ?? `Its job ${job.status === 'timed_out' ? 'timed out' : 'failed'}`
      });
    }
  }

  private endTrial(
    trial: TrialRecord,
    status: TrialRecord['status'],
    changes: { value?: number | null; step?: number | null; error?: string }
  ): void {
    this.store.updateTrial(trial.id, { status, ...changes, endedAt: this.now().toISOString() });
    this.deps.logger.info(
      { sweepId: trial.sweepId, trial: trial.number, status, value: changes.value ?? null },
      `trial ${trial.number} ${status}`
    );
    this.publishTrial(trial.id);
    this.publish(trial.sweepId);
    if (status === 'finished') void this.refreshImportance(trial.sweepId);
    void this.advance(trial.sweepId);
  }

  /** A queued trial makes way: its job is cancelled (a trial not yet queued ends at once). */
  private withdraw(trial: TrialRecord): void {
    if (trial.jobId === null) {
      this.endTrial(trial, 'cancelled', {});
      return;
    }
    this.deps.runners.cancelJob(trial.jobId);
  }

  private end(sweep: SweepRecord, status: 'finished' | 'failed' | 'cancelled', error: string | null): void {
    this.store.update(sweep.id, { status, error, finishedAt: this.now().toISOString() });
    const trials = this.store.trials(sweep.id);
    // An ended sweep stops no more trials: its completed curves are not needed again.
    for (const trial of trials) this.endedCurves.delete(trial.id);
    const counts = countTrials(trials);
    this.deps.logger.info({ sweepId: sweep.id, counts, error }, `sweep ${sweep.name} ${status}`);
    for (const trial of trials.filter((candidate) => ACTIVE_TRIAL.includes(candidate.status))) this.withdraw(trial);
    try {
      this.deps.runs.update(sweep.runId, { status: status === 'finished' ? 'finished' : status === 'failed' ? 'failed' : 'killed' });
    } catch (runError) {
      // The parent run was deleted by hand: the sweep ends all the same.
      if (!(runError instanceof AppError && runError.code === 'not_found')) throw runError;
    }
    this.publish(sweep.id);
  }

  private async refreshImportance(sweepId: string): Promise<void> {
    const sweep = this.store.find(sweepId);
    if (!sweep) return;
    const trials = this.store.trials(sweepId).filter((trial) => trial.status === 'finished');
    if (trials.length < 2) return;
    try {
      const importance = await this.deps.proposer.importance({
        goal: sweep.spec.goal,
        params: sweep.spec.params,
        history: trials.map((trial) => this.proposerTrial(sweep, trial))
      });
      this.store.update(sweepId, { importance });
      this.publish(sweepId);
    } catch (error) {
      this.deps.logger.warn({ err: error, sweepId }, 'parameter importance could not be worked out');
    }
  }

  // ------------------------------------------------------------------------------------------
  // early stopping

  /** A trial's run logged points: its step moves, and the median rule may stop it. */
  private objectiveLogged(runId: string): void {
    const trial = this.store.trialOfRun(runId);
    if (!trial || trial.status !== 'running' || trial.stopRequested) return;
    const sweep = this.store.find(trial.sweepId);
    if (!sweep || sweep.status === 'cancelled') return;
    const points = this.points(trial.runId as string, sweep.spec.objective);
    if (points.length === 0) return;
    const step = Math.max(...points.map((point) => point.step));
    if (step !== trial.step) {
      this.store.updateTrial(trial.id, { step });
      this.publishTrial(trial.id);
    }
    const rule = sweep.spec.earlyStop;
    if (!rule || step < rule.minSteps) return;
    const { goal } = sweep.spec;
    const own = bestUpTo(points, step, goal);
    if (own === undefined) return;
    const others: number[] = [];
    for (const other of this.store.trials(sweep.id)) {
      if ((other.status !== 'finished' && other.status !== 'stopped') || other.runId === null) continue;
      const curve = this.endedCurve(other.id, other.runId, sweep.spec.objective);
      if (curve.length === 0 || Math.max(...curve.map((point) => point.step)) < step) continue;
      const best = bestUpTo(curve, step, goal);
      if (best !== undefined) others.push(best);
    }
    if (others.length < rule.minTrials) return;
    const middle = median(others);
    if (!better(goal, middle, own)) return;
    this.store.updateTrial(trial.id, { stopRequested: true });
    this.deps.logger.info(
      { sweepId: sweep.id, trial: trial.number, step, value: own, median: middle, trials: others.length },
      `trial ${trial.number} stopped early: ${sweep.spec.objective} ${own} at step ${step} is worse than the median ${middle} of ${others.length} trials`
    );
    if (trial.jobId) this.deps.runners.cancelJob(trial.jobId);
  }

  // ------------------------------------------------------------------------------------------
  // views

  private record(id: string): SweepRecord {
    const sweep = this.store.find(id);
    if (!sweep) throw notFound(`Sweep ${id}`);
    return sweep;
  }

  private projectName(sweep: SweepRecord): string {
    return this.deps.runs.get(sweep.runId).projectName;
  }

  /** A completed trial's objective points: they no longer change, so they are read once. */
  private endedCurve(trialId: string, runId: string, key: string): MetricPoint[] {
    let curve = this.endedCurves.get(trialId);
    if (!curve) {
      curve = this.points(runId, key);
      this.endedCurves.set(trialId, curve);
    }
    return curve;
  }

  private points(runId: string, key: string): MetricPoint[] {
    try {
      return this.deps.runs.points(runId, key);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return [];
      throw error;
    }
  }

  /** The objective's latest value and step on the trial's run. */
  private objective(sweep: SweepRecord, trial: TrialRecord): { value: number | null; step: number | null } {
    if (trial.runId === null) return { value: null, step: null };
    try {
      const summary = this.deps.runs.get(trial.runId).metrics[sweep.spec.objective];
      const value = typeof summary?.latest === 'number' && Number.isFinite(summary.latest) ? summary.latest : null;
      return { value, step: summary?.step ?? null };
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return { value: null, step: null };
      throw error;
    }
  }

  private proposerTrial(sweep: SweepRecord, trial: TrialRecord): ProposerTrial {
    const curve =
      trial.status === 'stopped' && trial.runId !== null
        ? Object.fromEntries(
            this.points(trial.runId, sweep.spec.objective)
              .filter((point) => typeof point.value === 'number' && Number.isFinite(point.value))
              .map((point) => [String(point.step), point.value as number])
          )
        : undefined;
    return { params: trial.params, state: trial.status, value: trial.value, ...(curve ? { curve } : {}) };
  }

  private trialView(trial: TrialRecord): Trial {
    let attempts = 0;
    if (trial.jobId !== null) {
      try {
        attempts = this.deps.runners.getJob(trial.jobId).attemptCount;
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'not_found')) throw error;
      }
    }
    const { stopRequested: _stopRequested, ...rest } = trial;
    return { ...rest, attempts };
  }

  private view(sweep: SweepRecord): Sweep {
    const trials = this.store.trials(sweep.id);
    const counts = countTrials(trials);
    let best: TrialRecord | undefined;
    for (const trial of trials) {
      if (trial.status !== 'finished' || trial.value === null) continue;
      if (!best || better(sweep.spec.goal, trial.value, best.value as number)) best = trial;
    }
    let projectName = '';
    try {
      projectName = this.projectName(sweep);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'not_found')) throw error;
    }
    return {
      id: sweep.id,
      projectId: sweep.projectId,
      projectName,
      name: sweep.name,
      runId: sweep.runId,
      notebookPath: sweep.notebookPath,
      snapshotCommit: sweep.snapshotCommit,
      spec: sweep.spec,
      status: sweep.status,
      error: sweep.error,
      counts,
      done: counts.finished + counts.failed + counts.stopped,
      best: best ? this.trialView(best) : null,
      importance: sweep.importance,
      createdAt: sweep.createdAt,
      createdBy: sweep.createdBy,
      finishedAt: sweep.finishedAt
    };
  }

  private publish(id: string): Sweep {
    const sweep = this.get(id);
    this.deps.events.publish('sweep:updated', sweep);
    return sweep;
  }

  private publishTrial(id: string): void {
    const trial = this.store.trial(id);
    if (trial) this.deps.events.publish('sweep:trial', this.trialView(trial));
  }
}

function countTrials(trials: readonly TrialRecord[]): SweepCounts {
  const counts: SweepCounts = { queued: 0, running: 0, finished: 0, failed: 0, stopped: 0, cancelled: 0 };
  for (const trial of trials) counts[trial.status] += 1;
  return counts;
}

/** `loguniform(0.0001, 0.1)`, `choice([3, 5, 8])`: a range as the parent run's param. */
export function rangeText(range: SweepRange): string {
  if (range.type === 'choice') return `choice(${JSON.stringify(range.values)})`;
  if (range.type === 'intrange') return `intrange(${range.low}, ${range.high}${range.step ? `, step=${range.step}` : ''})`;
  return `${range.type}(${range.low}, ${range.high})`;
}
