import type { AlertRule, DriftWindow, FeatureDrift } from '../../contract';
import { checkNewRule, crosses, formatNumber, observeServing, observeWindow } from './rules';

const rule = (changes: Partial<AlertRule> = {}): AlertRule => ({
  id: 'r1',
  deploymentId: 'd1',
  name: 'Data drift',
  kind: 'drift_share',
  feature: null,
  comparison: 'above',
  threshold: 0,
  forSeconds: 0,
  action: 'notify',
  enabled: true,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'runlab',
  ...changes
});

const feature = (name: string, effectSize: number, changes: Partial<FeatureDrift> = {}): FeatureDrift => ({
  name,
  role: 'input',
  kind: 'numeric',
  test: 'wasserstein',
  statistic: effectSize,
  pValue: 0.001,
  adjustedPValue: 0.002,
  effectSize,
  effectThreshold: 0.1,
  psi: null,
  drifted: effectSize >= 0.1,
  rows: 1000,
  missing: 0,
  reason: null,
  ...changes
});

const window = (features: FeatureDrift[], predictions: FeatureDrift[] = [], status: DriftWindow['status'] = 'judged'): DriftWindow => ({
  id: 'w3',
  deploymentId: 'd1',
  modelVersionId: 'v1',
  modelName: 'iris',
  version: 1,
  index: 3,
  startAt: '',
  endAt: '',
  rows: 1000,
  status,
  reason: null,
  driftedShare: features.filter((candidate) => candidate.drifted).length / Math.max(1, features.length),
  drifted: false,
  features,
  predictions
});

test('the message of a single drifted feature is the one the issue shows', () => {
  const observation = observeWindow(rule(), window([feature('petal_length', 0.62), feature('sepal_width', 0.02)]));
  expect(observation).toMatchObject({
    value: 0.5,
    driftedFeatures: ['petal_length'],
    message: 'Feature petal_length drifted (normalized Wasserstein 0.62 ≥ 0.1) in window 3 of iris v1'
  });
});

test('refused windows give no observation; clean ones give 0', () => {
  expect(observeWindow(rule(), window([], [], 'too_small'))).toBeNull();
  expect(observeWindow(rule(), window([], [], 'no_profile'))).toBeNull();
  expect(observeWindow(rule(), window([feature('a', 0.01)]))?.value).toBe(0);
});

test('a prediction-only drift counts as the share of drifted predictions', () => {
  const predictions = [
    feature('label', 0.3, { role: 'prediction', test: 'jensen_shannon' }),
    feature('score', 0.01, { role: 'prediction' })
  ];
  const observation = observeWindow(rule(), window([feature('a', 0.01)], predictions));
  expect(observation?.value).toBe(0.5);
  expect(observation?.message).toBe('Prediction label drifted (Jensen–Shannon 0.3 ≥ 0.1) in window 3 of iris v1');
});

test('feature rules compare one feature; a feature not judged gives nothing', () => {
  const featureRule = rule({ kind: 'feature_drift', feature: 'a', threshold: 0.2 });
  expect(observeWindow(featureRule, window([feature('a', 0.25)]))?.value).toBe(0.25);
  expect(observeWindow(featureRule, window([feature('a', 0, { reason: 'not in the reference profile' })]))).toBeNull();
  expect(observeWindow(featureRule, window([feature('b', 0.9)]))).toBeNull();
});

test('comparisons, defaults and numbers', () => {
  expect(crosses({ comparison: 'above', threshold: 0 }, 0)).toBe(false);
  expect(crosses({ comparison: 'below', threshold: 0.8 }, 0.7)).toBe(true);
  const base = { deploymentId: 'd1', name: 'n', feature: null, forSeconds: 0, action: 'notify' as const, enabled: true };
  expect(checkNewRule({ ...base, kind: 'accuracy', threshold: 0.9 }).comparison).toBe('below');
  expect(checkNewRule({ ...base, kind: 'latency_p99', threshold: 200 }).comparison).toBe('above');
  expect(() => checkNewRule({ ...base, kind: 'accuracy', comparison: 'above', threshold: 0 })).toThrow('RMSE');
  expect([0.6234, 0.1, 12.34, 0.00312, 0].map(formatNumber)).toEqual(['0.62', '0.1', '12', '0.0031', '0']);
  const figures = { deploymentName: 'iris-prod', modelVersionId: 'v1', errorRate: null, p99Ms: 812.4, windowSeconds: 60, accuracy: null };
  expect(observeServing(rule({ kind: 'latency_p99', threshold: 500 }), figures)?.message).toBe(
    'p99 latency 810 ms > 500 ms over the last 60 s on iris-prod'
  );
  expect(observeServing(rule({ kind: 'error_rate', threshold: 0.05 }), figures)).toBeNull();
});
