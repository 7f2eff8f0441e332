/** The sweep page's figures: progress, best-so-far, importance order, parallel-coordinates positions. */
import type { Sweep, Trial } from '../../server/src/contract';
import { describeRange, formatParameter, importanceRows, objectiveRows, parallelAxes, progressText, quality } from './format';

function trial(number: number, extra: Partial<Trial> = {}): Trial {
  return {
    id: `t${number}`,
    sweepId: 's',
    number,
    params: {},
    status: 'finished',
    value: null,
    step: null,
    jobId: null,
    runId: `r${number}`,
    attempts: 1,
    error: null,
    createdAt: '2026-12-03T00:00:00Z',
    endedAt: null,
    ...extra
  };
}

function sweep(extra: Partial<Sweep> = {}): Sweep {
  return {
    id: 's',
    projectId: 'p',
    projectName: 'demo',
    name: 'sweep of demo',
    runId: 'parent',
    notebookPath: 'demo.ipynb',
    snapshotCommit: 'a'.repeat(40),
    spec: {
      params: {
        lr: { type: 'loguniform', low: 0.001, high: 0.1 },
        depth: { type: 'choice', values: [3, 5, 8] }
      },
      fixed: {},
      objective: 'accuracy',
      goal: 'maximize',
      method: 'random',
      trials: 6,
      parallel: 2,
      earlyStop: null,
      maxFailures: 3,
      seed: 1,
      datasets: {},
      labels: [],
      env: 'runner',
      maxRetries: 2,
      timeoutS: null
    },
    status: 'running',
    error: null,
    counts: { queued: 1, running: 2, finished: 2, failed: 1, stopped: 1, cancelled: 0 },
    done: 4,
    best: null,
    importance: {},
    createdAt: '2026-12-03T00:00:00Z',
    createdBy: 'me',
    finishedAt: null,
    ...extra
  };
}

test('progress says done of asked, what runs and waits, and what went wrong', () => {
  expect(progressText(sweep())).toBe('4 of 6 trials done · 2 running · 1 queued · 1 stopped early · 1 failed');
  expect(progressText(sweep({ counts: { queued: 0, running: 0, finished: 6, failed: 0, stopped: 0, cancelled: 2 }, done: 6 }))).toBe(
    '6 of 6 trials done · 0 running · 0 queued'
  );
});

test('ranges and values read as the notebook writes them', () => {
  expect(describeRange({ type: 'loguniform', low: 0.001, high: 0.1 })).toBe('log-uniform 0.001 … 0.1');
  expect(describeRange({ type: 'intrange', low: 10, high: 200, step: 10 })).toBe('whole numbers 10 … 200 step 10');
  expect(describeRange({ type: 'choice', values: ['adam', true, null] })).toBe("one of 'adam', True, None");
  expect(formatParameter(false)).toBe('False');
});

test('best so far follows the goal and skips trials without a value', () => {
  const trials = [
    trial(2, { value: 0.8 }),
    trial(0, { value: 0.5 }),
    trial(1, { value: 0.9, status: 'stopped' }),
    trial(3, { value: null, status: 'failed' }),
    trial(4, { value: 0.95, status: 'running' })
  ];
  expect(objectiveRows(trials, 'maximize')).toEqual([
    { trial: 0, value: 0.5, best: 0.5 },
    { trial: 1, value: 0.9, best: 0.9 },
    { trial: 2, value: 0.8, best: 0.9 }
  ]);
  expect(objectiveRows(trials, 'minimize').map((row) => row.best)).toEqual([0.5, 0.5, 0.5]);
});

test('importance: largest share first', () => {
  expect(importanceRows({ lr: 0.2, depth: 0.7, n: 0.1 }).map((row) => row.name)).toEqual(['depth', 'lr', 'n']);
});

test('parallel coordinates: log axes, category positions, the objective last; trials off the axes are left out', () => {
  const trials = [
    trial(0, { params: { lr: 0.01, depth: 3 }, value: 0.5 }),
    trial(1, { params: { lr: 0.1, depth: 8 }, value: 0.9 }),
    trial(2, { params: { lr: 0.001, depth: 5 }, value: 0.7 }),
    trial(3, { params: { lr: 0.01, depth: 4 }, value: 0.6 }),
    trial(4, { params: { lr: 0.01, depth: 3 }, status: 'queued' })
  ];
  const { axes, lines } = parallelAxes(sweep(), trials);
  expect(axes.map((axis) => axis.name)).toEqual(['lr', 'depth', 'accuracy']);
  expect(axes[1].ticks.map((tick) => tick.label)).toEqual(['3', '5', '8']);
  expect(lines.map((line) => line.trial.number)).toEqual([0, 1, 2]);
  expect(lines[0].points).toEqual([0.5, 0, 0]);
  expect(lines[1].points).toEqual([1, 1, 1]);
  expect(lines[2].points[0]).toBeCloseTo(0);
  expect(lines[2].points[1]).toBe(0.5);
  expect(lines[2].points[2]).toBeCloseTo(0.5);
  expect(quality(0.9, 0.5, 0.9, 'maximize')).toBe(1);
  expect(quality(0.9, 0.5, 0.9, 'minimize')).toBe(0);
});
