/**
 * Runs and metric summaries as the server sends them, for the extension's unit tests (excluded
 * from the build by tsconfig.json). Tests pass only the fields they are about.
 */
import type { MetricSummary, Run } from '../../server/src/contract';

/** A metric logged `count` times whose last value is `latest`. */
export const summary = (latest: MetricSummary['latest'], count = 1): MetricSummary => ({
  latest,
  step: count - 1,
  min: typeof latest === 'number' ? latest : null,
  max: typeof latest === 'number' ? latest : null,
  count,
  updatedAt: '2024-01-01T00:00:00Z'
});

/** A finished run of project p1 ("demo") started 2024-01-01, with `fields` over the defaults. */
export const run = (id: string, fields: Partial<Run> = {}): Run => ({
  id,
  projectId: 'p1',
  projectName: 'demo',
  name: id,
  status: 'finished',
  notebookPath: 'train.ipynb',
  source: { kind: 'api', cell: null },
  startedAt: '2024-01-01T00:00:00Z',
  endedAt: '2024-01-01T00:01:00Z',
  params: {},
  tags: {},
  metrics: {},
  inputs: [],
  outputs: [],
  artifacts: [],
  snapshot: null,
  environment: null,
  error: null,
  frontendId: null,
  ...fields
});
