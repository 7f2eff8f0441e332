/**
 * How the Monitoring view and the Deployments panel's badge put drift, traffic, alerts and
 * retrains into words and rows. Pure functions, so each sentence is tested once.
 */
import type {
  Deployment,
  DriftWindow,
  FeatureDrift,
  FeatureHistogram,
  MonitoringSettings,
  Retrain,
  TrafficPoint
} from '../../server/src/contract';
import { formatNumber } from '../shared/format';
import type { IFeatureChoice, IFillingWindow } from './tokens';

export type BadgeLevel = 'drift' | 'ok' | 'muted';

export interface IDriftBadge {
  label: string;
  level: BadgeLevel;
  /** The tooltip: which features drifted, or why the window was not judged. */
  title: string;
}

/** The drifted input features and prediction columns of a window, most drifted first. */
export function driftedNames(window: DriftWindow): string[] {
  return [...window.features, ...window.predictions]
    .filter((feature) => feature.drifted)
    .sort((a, b) => ratio(b) - ratio(a))
    .map((feature) => (feature.role === 'prediction' ? `${feature.name} (prediction)` : feature.name));
}

/** The badge of a deployment's newest window; null before any window closed. */
export function driftBadge(window: DriftWindow | null | undefined): IDriftBadge | null {
  if (!window) {
    return null;
  }
  const where = `window ${window.index} of v${window.version}, ${window.rows} rows`;
  if (window.status === 'too_small') {
    return { label: 'too few rows', level: 'muted', title: `${where}: ${window.reason ?? 'too few rows to judge'}` };
  }
  if (window.status === 'no_profile') {
    return { label: 'no reference', level: 'muted', title: `${where}: ${window.reason ?? 'the model version has no reference profile'}` };
  }
  const drifted = driftedNames(window);
  if (drifted.length) {
    return { label: 'drift', level: 'drift', title: `Drifted in ${where}: ${drifted.join(', ')}` };
  }
  return { label: 'no drift', level: 'ok', title: `No feature drifted in ${where}` };
}

/** effectSize / effectThreshold: 1 is the threshold. */
export function ratio(feature: Pick<FeatureDrift, 'effectSize' | 'effectThreshold'>): number {
  return feature.effectThreshold > 0 ? feature.effectSize / feature.effectThreshold : feature.effectSize > 0 ? Infinity : 0;
}

/** A heatmap cell's shade: 0 (far below the threshold) … 3 (well above it). */
export function cellLevel(feature: FeatureDrift): 0 | 1 | 2 | 3 {
  const r = ratio(feature);
  return r >= 2 ? 3 : r >= 1 ? 2 : r >= 0.5 ? 1 : 0;
}

const TEST_NAMES: Record<FeatureDrift['test'], string> = {
  ks: 'Kolmogorov–Smirnov D',
  wasserstein: 'normalized Wasserstein',
  chi_squared: 'chi²',
  jensen_shannon: 'Jensen–Shannon distance'
};

export function testName(test: FeatureDrift['test']): string {
  return TEST_NAMES[test];
}

/** "normalized Wasserstein 0.62 ≥ 0.1: drifted", with why a large change may still not count. */
export function driftVerdict(feature: FeatureDrift): string {
  if (feature.reason) {
    return `not judged: ${feature.reason}`;
  }
  const above = feature.effectSize >= feature.effectThreshold;
  const comparison = `${testName(feature.test)} ${formatNumber(feature.effectSize)} ${above ? '≥' : '<'} ${formatNumber(feature.effectThreshold)}`;
  if (feature.drifted) {
    return `${comparison}: drifted`;
  }
  if (above) {
    return `${comparison}, but not significant (adjusted p ${formatP(feature.adjustedPValue)}): no drift`;
  }
  return `${comparison}: no drift`;
}

export function formatP(p: number | null): string {
  if (p === null) {
    return '—';
  }
  return p < 1e-4 ? p.toExponential(1) : formatNumber(p);
}

/** The test's figures, one line: statistic, p-value, adjusted p, PSI. */
export function driftFigures(feature: FeatureDrift): string {
  const parts = [
    `statistic ${formatNumber(feature.statistic)}`,
    `p ${formatP(feature.pValue)}`,
    `adjusted p ${formatP(feature.adjustedPValue)}`
  ];
  if (feature.psi !== null) {
    parts.push(`PSI ${formatNumber(feature.psi)}`);
  }
  parts.push(`${feature.rows} rows${feature.missing ? `, ${feature.missing} missing` : ''}`);
  return parts.join(' · ');
}

/** The window filling now, in words: "412 of 1000 rows" (rows windows) or the rows so far and when it closes. */
export function fillingText(filling: readonly IFillingWindow[], settings: MonitoringSettings | null): string | null {
  if (!filling.length || !settings) {
    return null;
  }
  const rows = filling.reduce((sum, window) => sum + window.rows, 0);
  if (settings.window.kind === 'rows') {
    const most = Math.max(...filling.map((window) => window.rows));
    return `Next window filling: ${most} of ${settings.window.size} rows`;
  }
  const closes = filling.map((window) => window.closesAt).find((at) => at);
  return `Next window filling: ${rows} rows so far${closes ? `, closes at ${new Date(closes).toLocaleTimeString()}` : ''} (at least ${settings.minRows} needed)`;
}

/** The versions a deployment serves: "iris v1 (stable, 90%) · v2 (canary, 10%)". */
export function servedVersions(deployment: Deployment | null): string {
  if (!deployment) {
    return '';
  }
  return deployment.slots
    .map((slot, index) => `${index === 0 ? `${slot.modelName} ` : ''}v${slot.version} (${slot.role}, ${slot.percent}%)`)
    .join(' · ');
}

/** A retrain's state in words, for the header's live line. */
export function retrainText(retrain: Retrain): string {
  switch (retrain.status) {
    case 'queued':
      return `Retrain queued (job ${retrain.jobId.slice(0, 8)}), waiting for a runner`;
    case 'running':
      return `Retrain running: re-producing the run with ${datasetsText(retrain)}`;
    case 'proposed':
      return `Retrain done: ${retrain.modelName} v${retrain.newVersion ?? '?'} proposed as a canary (${retrain.canaryPercent}%)`;
    case 'promoted':
      return `Retrain done: ${retrain.modelName} v${retrain.newVersion ?? '?'} promoted`;
    case 'failed':
      return `Retrain failed: ${retrain.error ?? 'no reason given'}`;
    case 'cancelled':
      return 'Retrain cancelled';
  }
}

function datasetsText(retrain: Retrain): string {
  const refs = Object.values(retrain.datasets);
  return refs.length ? refs.join(', ') : 'the newest data';
}

export interface IHeatmapRow {
  name: string;
  role: 'input' | 'prediction';
  /** By window id. */
  cells: Map<string, FeatureDrift>;
}

/** The heatmap's rows: input features, then prediction columns, in the order the windows name them. */
export function heatmapRows(windows: readonly DriftWindow[]): IHeatmapRow[] {
  const rows = new Map<string, IHeatmapRow>();
  for (const role of ['input', 'prediction'] as const) {
    for (const window of windows) {
      for (const feature of role === 'input' ? window.features : window.predictions) {
        const key = `${role}:${feature.name}`;
        const row = rows.get(key) ?? { name: feature.name, role, cells: new Map() };
        row.cells.set(window.id, feature);
        rows.set(key, row);
      }
    }
  }
  return [...rows.values()];
}

/** "37 rows in this window; drift needs at least 100", or the server's reason. */
export function refusedText(window: DriftWindow, settings: MonitoringSettings | null): string {
  if (window.status === 'too_small' && settings) {
    return `${window.rows} rows in this window; drift needs at least ${settings.minRows}`;
  }
  return window.reason ?? 'not judged';
}

/** The feature shown first: the most drifted of the newest judged window, else its first feature. */
export function defaultChoice(windows: readonly DriftWindow[]): IFeatureChoice | null {
  const judged = [...windows].reverse().find((window) => window.status === 'judged');
  const newest = judged ?? windows[windows.length - 1];
  if (!newest || !newest.features.length) {
    return null;
  }
  const first = [...newest.features].sort((a, b) => Number(b.drifted) - Number(a.drifted) || ratio(b) - ratio(a))[0];
  return { feature: first.name, role: 'input', windowId: null };
}

export interface ITrafficRow {
  /** Milliseconds since the epoch. */
  at: number;
  requestsPerSecond: number;
  /** Share of requests answered with a 5xx, in percent. */
  errorPercent: number;
  p50: number | null;
  p99: number | null;
}

export function trafficRows(points: readonly TrafficPoint[]): ITrafficRow[] {
  return points.map((point) => ({
    at: Date.parse(point.at),
    requestsPerSecond: point.requests / 60,
    errorPercent: point.requests ? (100 * point.serverErrors) / point.requests : 0,
    p50: point.p50Ms,
    p99: point.p99Ms
  }));
}

export interface IHistogramRow {
  bin: string;
  reference: number;
  current: number;
}

/** One row per bin: its range (numeric) or category, and both proportions in percent. */
export function histogramRows(histogram: FeatureHistogram): IHistogramRow[] {
  return histogram.reference.map((reference, index) => ({
    bin:
      histogram.kind === 'categorical'
        ? (histogram.categories[index] ?? `#${index + 1}`)
        : `${formatNumber(histogram.edges[index])}–${formatNumber(histogram.edges[index + 1])}`,
    reference: 100 * reference,
    current: 100 * (histogram.current[index] ?? 0)
  }));
}

/** The window a histogram's "production" bars come from. */
export function windowLabel(windows: readonly DriftWindow[], windowId: string): string {
  const window = windows.find((candidate) => candidate.id === windowId);
  return window ? `production (window ${window.index})` : 'production';
}
