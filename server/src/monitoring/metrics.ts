/**
 * /metrics for Prometheus (prom-client's text format), with conventional names and bounded
 * labels: `deployment` is the deployment's name (as many as there are deployments), `role` one of
 * stable/canary/shadow, `code_class` 2xx…5xx, and `feature` at most MAX_FEATURE_SERIES per
 * deployment (the rest folded into `_other`, the largest score kept). Never request ids or
 * model version ids.
 *
 * Latency: the runtime reports cumulative histograms per report, not the raw observations a
 * prom-client Histogram needs (nor their sum), so the server exposes the last minute's p50 and
 * p99 as a gauge `runlab_deployment_request_duration_seconds{quantile}` (from the same buckets
 * the Deployments panel uses) instead of re-publishing a histogram it cannot feed faithfully.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { DeploymentStats, DriftWindow, TelemetryReport } from '../contract';

export const MAX_FEATURE_SERIES = 50;
export const OTHER_FEATURE = '_other';

export interface MetricsSources {
  /** Names and last-minute stats of the deployments that are not stopped. */
  liveDeployments(): { id: string; name: string; stats: DeploymentStats | null }[];
  latestWindow(deploymentId: string): DriftWindow | null;
  firingAlerts(deploymentId: string): number;
}

const codeClass = (status: number): string => `${Math.floor(status / 100)}xx`;

export class MonitoringMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'deployment' | 'role' | 'code_class'>;
  private readonly errors: Counter<'deployment' | 'role'>;
  private readonly rows: Counter<'deployment'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'runlab_deployment_requests_total',
      help: 'Requests answered by a deployment, by role and HTTP status class (shadow counts its copies)',
      labelNames: ['deployment', 'role', 'code_class'],
      registers
    });
    this.errors = new Counter({
      name: 'runlab_deployment_errors_total',
      help: 'Requests a deployment answered with a server error (5xx)',
      labelNames: ['deployment', 'role'],
      registers
    });
    this.rows = new Counter({
      name: 'runlab_prediction_rows_total',
      help: 'Prediction rows logged (sampled) for drift and feedback',
      labelNames: ['deployment'],
      registers
    });
    new Gauge({
      name: 'runlab_deployment_request_duration_seconds',
      help: "Request latency quantiles over the last minute, from the serving runtime's histograms",
      labelNames: ['deployment', 'quantile'],
      registers,
      collect() {
        this.reset();
        for (const { name, stats } of sources.liveDeployments()) {
          if (stats?.p50Ms !== null && stats?.p50Ms !== undefined) this.set({ deployment: name, quantile: '0.5' }, stats.p50Ms / 1000);
          if (stats?.p99Ms !== null && stats?.p99Ms !== undefined) this.set({ deployment: name, quantile: '0.99' }, stats.p99Ms / 1000);
        }
      }
    });
    new Gauge({
      name: 'runlab_deployment_drift_score',
      help: "Effect size of each feature's change in the newest drift window (compare with its test's threshold)",
      labelNames: ['deployment', 'feature'],
      registers,
      collect() {
        this.reset();
        for (const { id, name } of sources.liveDeployments()) {
          const window = sources.latestWindow(id);
          if (!window || window.status !== 'judged') continue;
          const scores = [...window.features, ...window.predictions].sort((a, b) => b.effectSize - a.effectSize);
          scores
            .slice(0, MAX_FEATURE_SERIES)
            .forEach((feature) => this.set({ deployment: name, feature: feature.name }, feature.effectSize));
          if (scores.length > MAX_FEATURE_SERIES) {
            this.set({ deployment: name, feature: OTHER_FEATURE }, scores[MAX_FEATURE_SERIES].effectSize);
          }
        }
      }
    });
    new Gauge({
      name: 'runlab_deployment_drifted_share',
      help: 'Share of input features that drifted in the newest judged drift window',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const { id, name } of sources.liveDeployments()) {
          const window = sources.latestWindow(id);
          if (window?.status === 'judged') this.set({ deployment: name }, window.driftedShare);
        }
      }
    });
    new Gauge({
      name: 'runlab_alerts_firing',
      help: 'Alerts firing now, per deployment',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const { id, name } of sources.liveDeployments()) this.set({ deployment: name }, sources.firingAlerts(id));
      }
    });
  }

  countReport(deploymentName: string, report: TelemetryReport): void {
    for (const { role, status, count } of report.counts) {
      if (count <= 0) continue;
      this.requests.inc({ deployment: deploymentName, role, code_class: codeClass(status) }, count);
      if (status >= 500) this.errors.inc({ deployment: deploymentName, role }, count);
    }
  }

  countRows(deploymentName: string, rows: number): void {
    if (rows > 0) this.rows.inc({ deployment: deploymentName }, rows);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
