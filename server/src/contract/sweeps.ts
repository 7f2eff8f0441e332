/**
 * Sweeps: one notebook run as many runner jobs ("trials"), each with parameters a search proposes
 * from the ranges given (grid, random, or Bayesian: TPE), until exactly `trials` of them reach a
 * final state — finished, failed, or stopped early by the median rule. The server keeps the sweep
 * and its trials in SQLite and asks the proposer (`python -m runlab.sweeps.propose`, Optuna) for
 * each trial's parameters with the whole history, so a sweep continues after a restart and a seed
 * makes its proposals reproducible. A trial lost with its runner is its job's next attempt, never a
 * second trial.
 *
 * A sweep has a parent run (the notebook's snapshot, the ranges as params); each trial's run is
 * its child (`mlflow.parentRunId`), tagged `runlab.sweep` and `runlab.sweep.trial`.
 */
import { z } from 'zod';
import { ProjectName } from './projects';
import { IdParams } from './refs';
import { route } from './route';
import { JobOptions, JobParameters, NotebookSource, ONE_NOTEBOOK_SOURCE, ParameterName } from './runners';
import { LogKey } from './runs';

/** How many values a grid takes from a uniform or log-uniform range without `points`. */
export const DEFAULT_GRID_POINTS = 5;
/** The most combinations a grid may have. */
export const MAX_GRID_SIZE = 10_000;
export const MAX_TRIALS = 1000;

export { SWEEP_TAGS } from './jobTags';

const GridPoints = z
  .number()
  .int()
  .min(2)
  .max(1000)
  .meta({ description: 'How many values a grid search takes from this range (default 5).' });
const FiniteNumber = z.number().refine(Number.isFinite, 'a finite number');

const UniformRange = z.strictObject({ type: z.literal('uniform'), low: FiniteNumber, high: FiniteNumber, points: GridPoints.optional() });
const LogUniformRange = z.strictObject({
  type: z.literal('loguniform'),
  low: FiniteNumber.refine((low) => low > 0, 'above 0 (a logarithm of 0 or less has no value)'),
  high: FiniteNumber,
  points: GridPoints.optional()
});
const IntRange = z.strictObject({
  type: z.literal('intrange'),
  low: z.number().int(),
  high: z.number().int(),
  step: z.number().int().min(1).optional()
});
export const ChoiceValue = z.union([z.string().max(200), FiniteNumber, z.boolean(), z.null()]);
const ChoiceRange = z.strictObject({ type: z.literal('choice'), values: z.array(ChoiceValue).min(1).max(100) });

export const SweepRange = z
  .discriminatedUnion('type', [UniformRange, LogUniformRange, IntRange, ChoiceRange])
  .superRefine((range, ctx) => {
    if (range.type === 'choice') return;
    if (!(range.low < range.high)) ctx.addIssue({ code: 'custom', path: ['high'], message: `above low (${range.low})` });
    if (range.type === 'intrange' && range.step !== undefined && (range.high - range.low) % range.step !== 0) {
      ctx.addIssue({ code: 'custom', path: ['step'], message: `a step that divides high - low (${range.high - range.low})` });
    }
  })
  .meta({
    id: 'SweepRange',
    description:
      '`uniform` / `loguniform` (low < high; log: low > 0): any number between; `intrange`: whole numbers low..high (both ' +
      'included) in steps of `step`; `choice`: one of `values`. `points`: how many values a grid takes from a continuous range.'
  });
export type SweepRange = z.infer<typeof SweepRange>;

export const SweepMethod = z.enum(['grid', 'random', 'bayes']).meta({
  description: '`grid`: every combination of the ranges (continuous ones at `points` values); `random`; `bayes`: Optuna TPE.'
});
export type SweepMethod = z.infer<typeof SweepMethod>;
export const SweepGoal = z.enum(['maximize', 'minimize']);
export type SweepGoal = z.infer<typeof SweepGoal>;

/**
 * The median rule (as Optuna's MedianPruner): a running trial is stopped when, at its latest step
 * of the objective (at least `minSteps`), its best value so far is worse than the median of the
 * completed trials' best values up to the same step, counting only trials that reached that step —
 * once at least `minTrials` of them have.
 */
export const EarlyStop = z.strictObject({
  rule: z.literal('median'),
  minTrials: z.number().int().min(1).max(MAX_TRIALS).default(5),
  minSteps: z.number().int().min(0).max(1_000_000).default(5)
});
export type EarlyStop = z.infer<typeof EarlyStop>;

export const SweepStatus = z.enum(['running', 'paused', 'finished', 'failed', 'cancelled']);
export type SweepStatus = z.infer<typeof SweepStatus>;
/** `finished`, `failed` and `stopped` (early) are final and count toward `trials`; `cancelled` ones are replaced. */
export const TrialStatus = z.enum(['queued', 'running', 'finished', 'failed', 'stopped', 'cancelled']);
export type TrialStatus = z.infer<typeof TrialStatus>;

const SweepParams = z
  .record(ParameterName, SweepRange)
  .refine((params) => Object.keys(params).length >= 1 && Object.keys(params).length <= 20, 'from 1 to 20 parameters');

/** What a sweep does, as given (defaults filled in); the same as a YAML/JSON spec file. */
const SweepSettings = {
  params: SweepParams,
  /** Parameters every trial gets unchanged. */
  fixed: JobParameters.default({}),
  /** The metric each trial's run logs (its latest value is the trial's value). */
  objective: LogKey,
  goal: SweepGoal.default('maximize'),
  method: SweepMethod.default('random'),
  /** Trials that reach a final state; grid: the grid's size unless given (not more). Default 10 for random and bayes. */
  trials: z.number().int().min(1).max(MAX_TRIALS).optional(),
  /** Trials queued or running at once. */
  parallel: z.number().int().min(1).max(64).default(1),
  earlyStop: z
    .union([z.literal('median'), EarlyStop])
    .nullable()
    .default(null),
  /** Failed trials the sweep absorbs before it fails; default: a quarter of the trials, at least 3. */
  maxFailures: z.number().int().min(0).max(MAX_TRIALS).optional(),
  /** Seeds the proposals (default: one drawn at random and recorded). */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional()
};

export const CreateSweepRequest = z
  .strictObject({
    ...NotebookSource,
    ...SweepSettings,
    datasets: JobOptions.datasets,
    labels: JobOptions.labels,
    env: JobOptions.env,
    maxRetries: JobOptions.maxRetries,
    timeoutS: JobOptions.timeoutS
  })
  .refine(...ONE_NOTEBOOK_SOURCE)
  .meta({
    description:
      'Also checked, beyond this schema: exactly one of commit and notebook; 1 to 20 params, each range with low < high (loguniform: ' +
      "low > 0) and a step that divides high - low; every swept and fixed parameter declared by the notebook's `parameters` cell, " +
      "each range's values of the declared type, no parameter both swept and fixed; grid: at most 10000 combinations and `trials` " +
      'not above them.'
  });
export type CreateSweepRequest = z.input<typeof CreateSweepRequest>;

export const SweepSpec = z.strictObject({
  params: z.record(z.string(), SweepRange),
  fixed: JobParameters,
  objective: z.string(),
  goal: SweepGoal,
  method: SweepMethod,
  trials: z.number().int(),
  parallel: z.number().int(),
  earlyStop: EarlyStop.nullable(),
  maxFailures: z.number().int(),
  seed: z.number().int(),
  datasets: z.record(z.string(), z.string()),
  labels: z.array(z.string()),
  env: JobOptions.env,
  maxRetries: z.number().int(),
  timeoutS: z.number().int().nullable()
});
export type SweepSpec = z.infer<typeof SweepSpec>;

export const Trial = z.strictObject({
  id: z.string(),
  sweepId: z.string(),
  /** 0, 1, 2, … in the order proposed. */
  number: z.number().int().nonnegative(),
  params: JobParameters,
  status: TrialStatus,
  /** The objective's latest value on the trial's run (finished and stopped trials). */
  value: z.number().nullable(),
  /** The objective's latest step, while it runs and after. */
  step: z.number().int().nullable(),
  jobId: z.string().nullable(),
  runId: z.string().nullable(),
  /** Attempts of its job: above 1 when a runner was lost and the trial ran again. */
  attempts: z.number().int().nonnegative(),
  error: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable()
});
export type Trial = z.infer<typeof Trial>;

export const SweepCounts = z.strictObject({
  queued: z.number().int(),
  running: z.number().int(),
  finished: z.number().int(),
  failed: z.number().int(),
  stopped: z.number().int(),
  cancelled: z.number().int()
});
export type SweepCounts = z.infer<typeof SweepCounts>;

export const Sweep = z.strictObject({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  name: z.string(),
  /** The sweep's parent run; each trial's run is its child. */
  runId: z.string(),
  notebookPath: z.string(),
  snapshotCommit: z.string(),
  spec: SweepSpec,
  status: SweepStatus,
  /** Why it failed or paused by itself (a proposer or submission error), with what to do. */
  error: z.string().nullable(),
  counts: SweepCounts,
  /** Final trials (finished + failed + stopped) of spec.trials. */
  done: z.number().int(),
  /** The finished trial with the best value. */
  best: Trial.nullable(),
  /** Each parameter's share of the objective's variance over finished trials (fANOVA); empty until two differ. */
  importance: z.record(z.string(), z.number()),
  createdAt: z.string(),
  createdBy: z.string(),
  finishedAt: z.string().nullable()
});
export type Sweep = z.infer<typeof Sweep>;

export const SweepListQuery = z.strictObject({ project: ProjectName.optional() });
export const SweepList = z.strictObject({ sweeps: z.array(Sweep) });
export const TrialList = z.strictObject({ trials: z.array(Trial) });

export interface SweepEvents {
  /** A sweep was created or its status, counts, best or importance changed. */
  'sweep:updated': (sweep: Sweep) => void;
  /** A trial was proposed or changed. */
  'sweep:trial': (trial: Trial) => void;
}

const action = (verb: string, summary: string) =>
  route({
    method: 'post',
    path: `/api/sweeps/:id/${verb}`,
    summary,
    tag: 'sweeps',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Sweep,
    errors: ['not_found', 'conflict']
  });

export const sweepsApi = {
  createSweep: route({
    method: 'post',
    path: '/api/sweeps',
    summary: 'Start a sweep: its parent run and snapshot, then the first trials (at most `parallel`) queued on runners',
    tag: 'sweeps',
    scope: 'user',
    body: CreateSweepRequest,
    largeBody: true,
    status: 201,
    response: Sweep,
    errors: ['not_found']
  }),
  listSweeps: route({
    method: 'get',
    path: '/api/sweeps',
    summary: 'Sweeps, newest first',
    tag: 'sweeps',
    scope: 'user',
    query: SweepListQuery,
    status: 200,
    response: SweepList
  }),
  getSweep: route({
    method: 'get',
    path: '/api/sweeps/:id',
    summary: 'One sweep with its counts, best trial and parameter importance',
    tag: 'sweeps',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Sweep,
    errors: ['not_found']
  }),
  listTrials: route({
    method: 'get',
    path: '/api/sweeps/:id/trials',
    summary: "A sweep's trials in the order proposed",
    tag: 'sweeps',
    scope: 'user',
    params: IdParams,
    status: 200,
    response: TrialList,
    errors: ['not_found']
  }),
  pauseSweep: action('pause', 'Pause: no new trials; queued ones are withdrawn (proposed again on resume), running ones finish'),
  resumeSweep: action('resume', 'Resume a paused sweep (or one a proposer error paused): trials are proposed again'),
  cancelSweep: action('cancel', 'Cancel: every queued and running trial is cancelled and the sweep ends')
};
