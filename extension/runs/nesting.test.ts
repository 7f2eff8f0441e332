/** A sweep's trials under its parent run in the Runs panel, and MLflow's nested runs the same. */
import type { Run } from '../../server/src/contract';
import { nestRuns } from './nesting';

function run(id: string, tags: Record<string, string> = {}, kind: Run['source']['kind'] = 'job'): Run {
  return { id, name: id, tags, source: { kind, cell: null } } as unknown as Run;
}

const runs = [
  run('t2', { 'mlflow.parentRunId': 'sweep', 'runlab.sweep': 's1', 'runlab.sweep.trial': '2' }),
  run('other'),
  run('t0', { 'mlflow.parentRunId': 'sweep', 'runlab.sweep': 's1', 'runlab.sweep.trial': '0' }),
  run('t1', { 'mlflow.parentRunId': 'sweep', 'runlab.sweep': 's1', 'runlab.sweep.trial': '1' }),
  run('sweep', { 'runlab.sweep': 's1' }, 'sweep'),
  run('orphan', { 'mlflow.parentRunId': 'not-listed' }),
  run('mlflow-child', { 'mlflow.parentRunId': 'other' }, 'mlflow')
];

test('collapsed: one row per parent with its count; children of runs not listed stay on top', () => {
  const rows = nestRuns(runs, new Set());
  expect(rows.map((row) => row.run.id)).toEqual(['other', 'sweep', 'orphan']);
  expect(rows.find((row) => row.run.id === 'sweep')).toMatchObject({ children: 3, sweepId: 's1', depth: 0, expanded: false });
  expect(rows.find((row) => row.run.id === 'other')).toMatchObject({ children: 1, sweepId: null });
});

test('expanded: the trials follow their sweep in trial order', () => {
  const rows = nestRuns(runs, new Set(['sweep', 'other']));
  expect(rows.map((row) => [row.run.id, row.depth])).toEqual([
    ['other', 0],
    ['mlflow-child', 1],
    ['sweep', 0],
    ['t0', 1],
    ['t1', 1],
    ['t2', 1],
    ['orphan', 0]
  ]);
});
