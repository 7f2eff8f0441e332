/**
 * Serving figures of each deployment over the last minute, from its runtimes' telemetry reports
 * (every replica reports separately, every `pollSeconds`). Kept in memory: they describe "now",
 * so a restarted server shows none until the next reports arrive.
 *
 * Latency quantiles come from the reports' cumulative histograms, summed bucket by bucket and
 * interpolated linearly inside the bucket holding the quantile, as Prometheus' histogram_quantile
 * does; rates count the requests answered to clients (stable and canary), not shadow copies.
 */
import type { DeploymentStats, TelemetryReport } from '../contract';

export const STATS_WINDOW_SECONDS = 60;

interface ReceivedReport {
  /** When it arrived (ms). */
  at: number;
  intervalSeconds: number;
  counts: TelemetryReport['counts'];
  latency: TelemetryReport['latency'];
}

/** A quantile (0–1) of a cumulative histogram: `le` bounds, then counts per bound and +Inf last. */
export function histogramQuantile(quantile: number, boundsMs: readonly number[], cumulative: readonly number[]): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = quantile * total;
  for (let index = 0; index < boundsMs.length; index++) {
    if (cumulative[index] >= rank) {
      const lower = index === 0 ? 0 : boundsMs[index - 1];
      const below = index === 0 ? 0 : cumulative[index - 1];
      const inBucket = cumulative[index] - below;
      if (inBucket <= 0) return boundsMs[index];
      return lower + (boundsMs[index] - lower) * ((rank - below) / inBucket);
    }
  }
  // Beyond the highest finite bound: that bound is all a histogram can say.
  return boundsMs.length > 0 ? boundsMs[boundsMs.length - 1] : null;
}

/** Sums cumulative histograms that may use different bounds: per-bound counts become cumulative over the union. */
function mergeHistograms(reports: readonly ReceivedReport[]): { bounds: number[]; cumulative: number[] } {
  const perBound = new Map<number, number>();
  let total = 0;
  for (const { latency } of reports) {
    const counts = latency.counts;
    // An empty histogram says nothing, and its bounds would only split others' buckets.
    if (counts.length !== latency.bucketsMs.length + 1 || counts[counts.length - 1] <= 0) continue;
    let previous = 0;
    latency.bucketsMs.forEach((bound, index) => {
      perBound.set(bound, (perBound.get(bound) ?? 0) + Math.max(0, counts[index] - previous));
      previous = counts[index];
    });
    total += counts[counts.length - 1];
  }
  const bounds = [...perBound.keys()].sort((a, b) => a - b);
  let running = 0;
  const cumulative = bounds.map((bound) => (running += perBound.get(bound) ?? 0));
  cumulative.push(Math.max(total, running));
  return { bounds, cumulative };
}

export class TelemetryWindows {
  private readonly reports = new Map<string, ReceivedReport[]>();

  constructor(private readonly now: () => number = Date.now) {}

  add(deploymentId: string, report: TelemetryReport): void {
    const list = this.reports.get(deploymentId) ?? [];
    list.push({ at: this.now(), intervalSeconds: report.intervalSeconds, counts: report.counts, latency: report.latency });
    this.reports.set(deploymentId, list);
    this.prune(deploymentId);
  }

  forget(deploymentId: string): void {
    this.reports.delete(deploymentId);
  }

  /** The figures over the last minute; null before any report (or after a minute without one). */
  stats(deploymentId: string): DeploymentStats | null {
    this.prune(deploymentId);
    const reports = this.reports.get(deploymentId);
    if (!reports || reports.length === 0) return null;
    const now = this.now();
    // The window covers what the reports cover: a minute, or less while the first minute fills.
    const earliest = Math.min(...reports.map((report) => report.at - report.intervalSeconds * 1000));
    const windowSeconds = Math.max(0.001, Math.min(STATS_WINDOW_SECONDS, (now - earliest) / 1000));
    const requestsByRole: Record<string, number> = {};
    let answered = 0;
    let serverErrors = 0;
    let clientErrors = 0;
    for (const report of reports) {
      for (const { role, status, count } of report.counts) {
        if (count <= 0) continue;
        requestsByRole[role] = (requestsByRole[role] ?? 0) + count;
        if (role === 'shadow') continue;
        answered += count;
        if (status >= 500) serverErrors += count;
        else if (status >= 400) clientErrors += count;
      }
    }
    const { bounds, cumulative } = mergeHistograms(reports);
    const round = (value: number | null): number | null => (value === null ? null : Math.round(value * 1000) / 1000);
    return {
      windowSeconds: Math.round(windowSeconds * 1000) / 1000,
      requestsPerSecond: answered / windowSeconds,
      p50Ms: round(histogramQuantile(0.5, bounds, cumulative)),
      p99Ms: round(histogramQuantile(0.99, bounds, cumulative)),
      errorRate: answered > 0 ? serverErrors / answered : 0,
      clientErrorRate: answered > 0 ? clientErrors / answered : 0,
      requestsByRole,
      updatedAt: new Date(Math.max(...reports.map((report) => report.at))).toISOString()
    };
  }

  private prune(deploymentId: string): void {
    const list = this.reports.get(deploymentId);
    if (!list) return;
    const cutoff = this.now() - STATS_WINDOW_SECONDS * 1000;
    const kept = list.filter((report) => report.at >= cutoff);
    if (kept.length === 0) this.reports.delete(deploymentId);
    else this.reports.set(deploymentId, kept);
  }
}
