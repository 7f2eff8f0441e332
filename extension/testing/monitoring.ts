/**
 * Drift windows and features as the server sends them, for the monitoring feature's unit tests
 * (excluded from the build by tsconfig.json). Tests pass only the fields they are about.
 */
import type { DriftWindow, FeatureDrift } from '../../server/src/contract';

/** A numeric input feature judged with normalized Wasserstein, not drifted. */
export function feature(name: string, extra: Partial<FeatureDrift> = {}): FeatureDrift {
  return {
    name,
    role: 'input',
    kind: 'numeric',
    test: 'wasserstein',
    statistic: 0.02,
    pValue: 0.4,
    adjustedPValue: 0.6,
    effectSize: 0.02,
    effectThreshold: 0.1,
    psi: 0.01,
    drifted: false,
    rows: 200,
    missing: 0,
    reason: null,
    ...extra
  };
}

/** Window `index` of iris v1 on dep-iris, judged, 200 rows, no drift. */
export function window(index: number, extra: Partial<DriftWindow> = {}): DriftWindow {
  return {
    id: `w${index}`,
    deploymentId: 'dep-iris',
    modelVersionId: 'mv-1',
    modelName: 'iris',
    version: 1,
    index,
    startAt: `2026-01-01T00:0${index}:00Z`,
    endAt: `2026-01-01T00:0${index}:59Z`,
    rows: 200,
    status: 'judged',
    reason: null,
    driftedShare: 0,
    drifted: false,
    features: [feature('sepal length'), feature('petal length')],
    predictions: [feature('predict', { role: 'prediction', kind: 'categorical', test: 'chi_squared' })],
    ...extra
  };
}
