/** Metric helpers of the runs views. */
import type { MetricSummary, Run } from '../../server/src/contract';
import { formatValue } from '../shared/format';

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

/** A metric's latest value as text, or a dash when the run has none. */
export function latest(summary: MetricSummary | undefined): string {
  return summary ? formatValue(summary.latest) : '—';
}
