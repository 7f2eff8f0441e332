/**
 * Alert rules as pure functions: what a valid rule is, what value a drift window or the serving
 * figures give a rule, whether that value crosses its threshold, and the plain-words message of
 * an alert. No storage, no timers: service.ts holds the state.
 */
import type { z } from 'zod';
import type { AlertRule, AlertRuleKind, CreateAlertRuleRequest, DriftWindow, FeatureDrift, UpdateAlertRuleRequest } from '../../contract';
import { AppError } from '../../http/errors';

export type CreateAlertRuleInput = z.output<typeof CreateAlertRuleRequest>;
export type UpdateAlertRuleInput = z.output<typeof UpdateAlertRuleRequest>;
export type Comparison = AlertRule['comparison'];

/** The rule every deployment gets: some input feature or prediction drifted in a judged window. */
export const DEFAULT_DRIFT_RULE = {
  name: 'Data drift',
  kind: 'drift_share',
  feature: null,
  comparison: 'above',
  threshold: 0,
  forSeconds: 0,
  action: 'notify',
  enabled: true
} as const satisfies Omit<CreateAlertRuleInput, 'deploymentId'>;

/** Accuracy falls; everything else rises. */
export const defaultComparison = (kind: AlertRuleKind): Comparison => (kind === 'accuracy' ? 'below' : 'above');

export const isDriftKind = (kind: AlertRuleKind): boolean => kind === 'drift_share' || kind === 'feature_drift';

const invalid = (field: string, message: string): AppError =>
  new AppError('invalid_request', `Invalid alert rule: ${field} ${message}`, [{ path: `body.${field}`, message }]);

/** The threshold each kind allows, so a rule that could never fire (or always fires) is refused. */
export function checkThreshold(kind: AlertRuleKind, comparison: Comparison, threshold: number): void {
  switch (kind) {
    case 'drift_share':
      if (threshold < 0 || threshold > 1) {
        throw invalid('threshold', `must be a share of features from 0 to 1 for drift_share, got ${threshold}`);
      }
      return;
    case 'feature_drift':
      if (threshold < 0) throw invalid('threshold', `must be an effect size of 0 or more for feature_drift, got ${threshold}`);
      return;
    case 'error_rate':
      if (threshold < 0 || threshold > 1) {
        throw invalid('threshold', `must be a share of requests from 0 to 1 for error_rate (0.05 is 5%), got ${threshold}`);
      }
      return;
    case 'latency_p99':
      if (threshold <= 0) throw invalid('threshold', `must be a number of milliseconds above 0 for latency_p99, got ${threshold}`);
      return;
    case 'accuracy':
      if (comparison === 'below' && (threshold < 0 || threshold > 1)) {
        throw invalid('threshold', `must be an accuracy from 0 to 1 for accuracy below, got ${threshold}`);
      }
      if (comparison === 'above' && threshold <= 0) {
        throw invalid('threshold', `must be an error (RMSE) above 0 for accuracy above, got ${threshold}`);
      }
      return;
  }
}

/** A create request made whole: the default comparison, and every field checked for its kind. */
export function checkNewRule(input: CreateAlertRuleInput): CreateAlertRuleInput & { comparison: Comparison } {
  const comparison = input.comparison ?? defaultComparison(input.kind);
  if (input.kind === 'feature_drift' && input.feature === null) {
    throw invalid('feature', 'is required for kind feature_drift: the feature (or prediction column) whose drift score is compared');
  }
  if (input.kind !== 'feature_drift' && input.feature !== null) {
    throw invalid('feature', `is only for kind feature_drift, not ${input.kind}`);
  }
  checkThreshold(input.kind, comparison, input.threshold);
  return { ...input, comparison };
}

const TEST_NAMES: Record<FeatureDrift['test'], string> = {
  ks: 'KS',
  wasserstein: 'normalized Wasserstein',
  chi_squared: 'chi²',
  jensen_shannon: 'Jensen–Shannon'
};

/** Two significant digits, as people read scores: 0.62, 0.0031, 12. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  return String(Number(value.toPrecision(2)));
}

const percent = (share: number): string => `${formatNumber(share * 100)}%`;

const describeDrift = (feature: FeatureDrift): string =>
  `${TEST_NAMES[feature.test]} ${formatNumber(feature.effectSize)} ≥ ${formatNumber(feature.effectThreshold)}`;

/** What a rule sees of one window: its value and the words of the alert it would fire. */
export interface Observation {
  value: number;
  message: string;
  driftedFeatures: string[];
  windowId: string | null;
  modelVersionId: string | null;
}

const windowName = (window: DriftWindow): string => `window ${window.index} of ${window.modelName} v${window.version}`;

/** Drifted features and predictions, most drifted first (by effect size). */
function driftedOf(window: DriftWindow): FeatureDrift[] {
  return [...window.features, ...window.predictions].filter((feature) => feature.drifted).sort((a, b) => b.effectSize - a.effectSize);
}

/**
 * A drift rule's value in a window; null when the window gives none (refused windows, or the
 * feature was not judged): such a window neither fires nor resolves the rule.
 */
export function observeWindow(rule: AlertRule, window: DriftWindow): Observation | null {
  if (window.status !== 'judged') return null;
  const drifted = driftedOf(window);
  const base = { driftedFeatures: drifted.map((feature) => feature.name), windowId: window.id, modelVersionId: window.modelVersionId };
  if (rule.kind === 'feature_drift') {
    const feature = [...window.features, ...window.predictions].find((candidate) => candidate.name === rule.feature);
    if (!feature || feature.reason !== null) return null;
    const what = feature.role === 'prediction' ? `Prediction ${feature.name}` : `Feature ${feature.name}`;
    const verdict = feature.drifted ? 'drifted' : 'changed';
    return {
      ...base,
      value: feature.effectSize,
      message: `${what} ${verdict} (${TEST_NAMES[feature.test]} ${formatNumber(feature.effectSize)}, rule threshold ${formatNumber(rule.threshold)}) in ${windowName(window)}`
    };
  }
  // drift_share: the share of input features that drifted; when only predictions drifted, the
  // share of predictions that did (a prediction shift with unchanged inputs is still drift).
  const inputs = drifted.filter((feature) => feature.role === 'input');
  const predictions = drifted.filter((feature) => feature.role === 'prediction');
  const value =
    inputs.length > 0 ? window.driftedShare : window.predictions.length > 0 ? predictions.length / window.predictions.length : 0;
  let message: string;
  if (drifted.length === 0) {
    message = `No feature drifted in ${windowName(window)}`;
  } else if (drifted.length === 1) {
    const [only] = drifted;
    message = `${only.role === 'prediction' ? 'Prediction' : 'Feature'} ${only.name} drifted (${describeDrift(only)}) in ${windowName(window)}`;
  } else {
    const judged = window.features.filter((feature) => feature.reason === null).length;
    const head =
      inputs.length > 0
        ? `${inputs.length} of ${judged} features drifted (${percent(window.driftedShare)})${predictions.length > 0 ? ` and ${predictions.length === 1 ? 'the prediction' : `${predictions.length} predictions`}` : ''}`
        : `${predictions.length} predictions drifted`;
    message = `${head} in ${windowName(window)}: ${drifted.map((feature) => `${feature.name} (${describeDrift(feature)})`).join(', ')}`;
  }
  return { ...base, value, message };
}

/** Whether the value crosses the rule's threshold. */
export const crosses = (rule: Pick<AlertRule, 'comparison' | 'threshold'>, value: number): boolean =>
  rule.comparison === 'above' ? value > rule.threshold : value < rule.threshold;

/** What the serving figures and the feedback say right now. */
export interface ServingFigures {
  deploymentName: string;
  modelVersionId: string | null;
  errorRate: number | null;
  p99Ms: number | null;
  windowSeconds: number | null;
  accuracy: { metric: 'accuracy' | 'rmse'; value: number; labelledRows: number } | null;
}

/** An error-rate, latency or accuracy rule's value now; null without figures (no traffic, no labels). */
export function observeServing(rule: AlertRule, figures: ServingFigures): Observation | null {
  const base = { driftedFeatures: [], windowId: null, modelVersionId: figures.modelVersionId };
  const sign = rule.comparison === 'above' ? '>' : '<';
  const over = figures.windowSeconds ? ` over the last ${formatNumber(figures.windowSeconds)} s` : '';
  switch (rule.kind) {
    case 'error_rate':
      if (figures.errorRate === null) return null;
      return {
        ...base,
        value: figures.errorRate,
        message: `Error rate ${percent(figures.errorRate)} ${sign} ${percent(rule.threshold)}${over} on ${figures.deploymentName}`
      };
    case 'latency_p99':
      if (figures.p99Ms === null) return null;
      return {
        ...base,
        value: figures.p99Ms,
        message: `p99 latency ${formatNumber(figures.p99Ms)} ms ${sign} ${formatNumber(rule.threshold)} ms${over} on ${figures.deploymentName}`
      };
    case 'accuracy': {
      const accuracy = figures.accuracy;
      if (!accuracy) return null;
      const name = accuracy.metric === 'rmse' ? 'RMSE' : 'Accuracy';
      return {
        ...base,
        value: accuracy.value,
        message: `${name} ${formatNumber(accuracy.value)} ${sign} ${formatNumber(rule.threshold)} from ${accuracy.labelledRows} labelled predictions on ${figures.deploymentName}`
      };
    }
    default:
      return null;
  }
}
