/** What the Monitoring view and the drift badge say about windows, features, traffic and retrains. */
import type { Retrain } from '../../server/src/contract';
import { DEFAULT_MONITORING_SETTINGS } from '../../server/src/contract/monitoring';
import {
  cellLevel,
  defaultChoice,
  driftBadge,
  driftVerdict,
  fillingText,
  heatmapRows,
  histogramRows,
  refusedText,
  retrainText,
  servedVersions,
  trafficRows
} from './format';
import { feature, window } from '../testing/monitoring';

const drifted = feature('petal length', { effectSize: 0.62, statistic: 0.62, pValue: 1e-12, adjustedPValue: 2e-12, drifted: true });

describe('the drift badge', () => {
  it('says drift and names the drifted features, most drifted first', () => {
    const badge = driftBadge(
      window(3, {
        drifted: true,
        features: [feature('sepal length', { drifted: true, effectSize: 0.15 }), drifted],
        predictions: [feature('predict', { role: 'prediction', drifted: true, effectSize: 0.3 })]
      })
    );
    expect(badge).toEqual({
      label: 'drift',
      level: 'drift',
      title: 'Drifted in window 3 of v1, 200 rows: petal length, predict (prediction), sepal length'
    });
  });

  it('says no drift, too few rows (grey, with the reason) or nothing before the first window', () => {
    expect(driftBadge(window(1))?.label).toBe('no drift');
    const small = driftBadge(window(2, { status: 'too_small', rows: 37, reason: '37 rows; drift needs at least 100' }));
    expect(small).toMatchObject({ label: 'too few rows', level: 'muted' });
    expect(small?.title).toContain('37 rows; drift needs at least 100');
    expect(driftBadge(null)).toBeNull();
  });
});

describe('a feature in words', () => {
  it('compares the effect size with its threshold and says the verdict', () => {
    expect(driftVerdict(drifted)).toBe('normalized Wasserstein 0.62 ≥ 0.1: drifted');
    expect(driftVerdict(feature('x'))).toBe('normalized Wasserstein 0.02 < 0.1: no drift');
    expect(driftVerdict(feature('x', { test: 'ks', effectSize: 0.3, effectThreshold: 0.1, adjustedPValue: 0.2 }))).toBe(
      'Kolmogorov–Smirnov D 0.3 ≥ 0.1, but not significant (adjusted p 0.2): no drift'
    );
    expect(driftVerdict(feature('x', { reason: 'not in the reference profile' }))).toBe('not judged: not in the reference profile');
  });

  it('shades heatmap cells by effect size over threshold', () => {
    expect([0.01, 0.06, 0.1, 0.25].map((effectSize) => cellLevel(feature('x', { effectSize })))).toEqual([0, 1, 2, 3]);
  });
});

describe('the heatmap and the histogram', () => {
  it('has a row per input feature then per prediction column, and refused windows say why', () => {
    const windows = [window(1), window(2, { status: 'too_small', rows: 37, features: [], predictions: [] })];
    const rows = heatmapRows(windows);
    expect(rows.map((row) => `${row.role}:${row.name}`)).toEqual(['input:sepal length', 'input:petal length', 'prediction:predict']);
    expect(rows[0].cells.has('w1')).toBe(true);
    expect(refusedText(windows[1], DEFAULT_MONITORING_SETTINGS)).toBe('37 rows in this window; drift needs at least 100');
  });

  it('shows the most drifted feature of the newest judged window first', () => {
    const windows = [window(1, { features: [feature('sepal length'), drifted] }), window(2, { status: 'too_small', features: [] })];
    expect(defaultChoice(windows)).toEqual({ feature: 'petal length', role: 'input', windowId: null });
    expect(defaultChoice([])).toBeNull();
  });

  it('labels numeric bins by their range and categorical ones by category, in percent', () => {
    const rows = histogramRows({
      feature: 'petal length',
      role: 'input',
      kind: 'numeric',
      windowId: 'w1',
      edges: [1, 2.5, 4],
      categories: [],
      reference: [0.75, 0.25],
      current: [0.1, 0.9],
      drift: null
    });
    expect(rows).toEqual([
      { bin: '1–2.5', reference: 75, current: 10 },
      { bin: '2.5–4', reference: 25, current: 90 }
    ]);
  });
});

describe('traffic, filling windows, versions and retrains', () => {
  it('turns per-minute counts into requests per second and error percent', () => {
    expect(trafficRows([{ at: '2026-01-01T00:00:00Z', requests: 120, serverErrors: 6, clientErrors: 1, p50Ms: 2, p99Ms: 9 }])).toEqual([
      { at: Date.parse('2026-01-01T00:00:00Z'), requestsPerSecond: 2, errorPercent: 5, p50: 2, p99: 9 }
    ]);
  });

  it('says how full the next window is', () => {
    const filling = [{ modelVersionId: 'mv-1', rows: 412, startAt: null, closesAt: null }];
    expect(fillingText(filling, DEFAULT_MONITORING_SETTINGS)).toBe('Next window filling: 412 of 1000 rows');
    expect(fillingText([], DEFAULT_MONITORING_SETTINGS)).toBeNull();
  });

  it('names the served versions with their role and share', () => {
    expect(
      servedVersions({
        slots: [
          { role: 'stable', modelVersionId: 'a', modelName: 'iris', version: 2, percent: 90 },
          { role: 'canary', modelVersionId: 'b', modelName: 'iris', version: 3, percent: 10 }
        ]
      } as never)
    ).toBe('iris v2 (stable, 90%) · v3 (canary, 10%)');
  });

  it('follows a retrain from queued to proposed or failed', () => {
    const retrain = {
      id: 'r1',
      jobId: 'job-12345678-abcd',
      modelName: 'iris',
      datasets: { iris: 'iris@v2' },
      canaryPercent: 10,
      newVersion: null,
      error: null
    } as unknown as Retrain;
    expect(retrainText({ ...retrain, status: 'queued' })).toBe('Retrain queued (job job-1234), waiting for a runner');
    expect(retrainText({ ...retrain, status: 'running' })).toBe('Retrain running: re-producing the run with iris@v2');
    expect(retrainText({ ...retrain, status: 'proposed', newVersion: 3 })).toBe('Retrain done: iris v3 proposed as a canary (10%)');
    expect(retrainText({ ...retrain, status: 'failed', error: 'the notebook raised KeyError' })).toBe(
      'Retrain failed: the notebook raised KeyError'
    );
  });
});
