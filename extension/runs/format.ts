/** Small display helpers shared by the runs views. */
import type { MetricSummary, MetricValue, Run } from '../../server/src/contract';

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return Number(value.toPrecision(4)).toString();
}

export function formatDuration(run: Pick<Run, 'startedAt' | 'endedAt'>, now = Date.now()): string {
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  const seconds = Math.max(0, Math.round((end - Date.parse(run.startedAt)) / 1000));
  if (seconds < 60) {
    return `${seconds}s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** Metric keys in a stable order: the ones most runs have first, then by name. */
export function metricKeys(runs: readonly Pick<Run, 'metrics'>[]): string[] {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const key of Object.keys(run.metrics)) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.localeCompare(b));
}

/** A metric value as text: numbers formatted, NaN and ±Infinity by name, no value as a dash. */
export function formatValue(value: MetricValue | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return typeof value === 'number' ? formatNumber(value) : value;
}

/** A metric value a chart can draw: NaN and ±Infinity become null, which charts leave as a gap. */
export function plottable(value: MetricValue): number | null {
  return typeof value === 'number' ? value : null;
}

export function latest(summary: MetricSummary | undefined): string {
  return summary ? formatValue(summary.latest) : '—';
}
