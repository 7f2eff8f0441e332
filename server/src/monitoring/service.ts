/**
 * Monitoring: what deployed models see in production. Telemetry's sampled predictions become
 * compressed columnar blocks (predictions.ts), cut into drift windows judged against the model
 * version's reference profile (windows.ts, drift.ts); feedback labels give accuracy over time
 * (feedback.ts); per-minute traffic survives restarts; /metrics serves Prometheus (metrics.ts).
 * Logged predictions, labels and traffic are kept RUNLAB_PREDICTION_RETENTION_DAYS; drift
 * windows (small) are kept for the deployment's history.
 */
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_MONITORING_SETTINGS,
  type AccuracyPoint,
  type Deployment,
  type DriftWindow,
  type FeatureDrift,
  type FeatureHistogram,
  type FeedbackRequest,
  type FeedbackResponse,
  type ListDeploymentsQuery,
  type ModelVersion,
  type MonitoringOverview,
  type MonitoringSettings,
  type PredictionRecord,
  type ReferenceProfile,
  type TelemetryReport,
  type TrafficPoint,
  type UpdateMonitoringSettingsRequest
} from '../contract';
import type { PredictionLog } from '../deployments/service';
import { histogramQuantile } from '../deployments/telemetry';
import { AppError, notFound } from '../http/errors';
import type { Logger } from '../logger';
import type { DomainEvents } from '../realtime/events';
import type { z } from 'zod';
import { alignPredictionColumns, binAgainstReference, binCategoriesAgainstReference, judgeWindow, type FeatureDriftResult } from './drift';
import { applyFeedback } from './feedback';
import { MonitoringMetrics } from './metrics';
import { checkedRowCount, decodeBlock, encodeBlock, recordsOf } from './predictions';
import type { MonitoringStore, TrafficRow } from './store';
import { readWindowColumns, WindowTracker, type ClosingWindow } from './windows';

export interface MonitoringModels {
  versionById(id: string): ModelVersion;
  /** 404 AppError when the version was logged without one. */
  profile(name: string, selector: string): ReferenceProfile;
}

export interface MonitoringDeployments {
  get(id: string): Deployment;
  list(query: z.output<typeof ListDeploymentsQuery>): Deployment[];
}

export interface MonitoringServiceDeps {
  store: MonitoringStore;
  models: MonitoringModels;
  deployments: MonitoringDeployments;
  events: DomainEvents;
  logger: Logger;
  /** RUNLAB_PREDICTION_RETENTION_DAYS. */
  retentionDays: number;
  now?: () => number;
}

export interface AccuracySummary {
  metric: 'accuracy' | 'rmse';
  value: number;
  labelledRows: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** How often time windows are checked for closing. */
const TICK_MS = 1000;
const PRUNE_MS = HOUR_MS;

/** Per-bound (not cumulative) latency counts of one minute. */
interface MinuteLatency {
  bounds: number[];
  counts: number[];
  total: number;
}

const toFeatureDrift = (result: FeatureDriftResult): FeatureDrift => ({
  name: result.name,
  role: result.role,
  kind: result.kind,
  test: result.test,
  statistic: result.statistic,
  pValue: result.pValue,
  adjustedPValue: result.adjustedPValue,
  effectSize: result.effectSize,
  effectThreshold: result.effectThreshold,
  psi: result.psi,
  drifted: result.drifted,
  rows: result.rows,
  missing: result.missing,
  reason: result.reason
});

export class MonitoringService implements PredictionLog {
  private readonly windows: WindowTracker;
  private readonly listeners: ((window: DriftWindow) => void)[] = [];
  private readonly settingsCache = new Map<string, MonitoringSettings>();
  private readonly versions = new Map<string, ModelVersion | null>();
  private readonly profiles = new Map<string, ReferenceProfile | null>();
  private readonly names = new Map<string, string>();
  private alertCounter: (deploymentId: string) => number = () => 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  readonly metrics: MonitoringMetrics;

  constructor(private readonly deps: MonitoringServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.windows = new WindowTracker(
      deps.store,
      (id) => this.settings(id).window,
      (window) => this.closeWindowSafely(window)
    );
    this.metrics = new MonitoringMetrics({
      liveDeployments: () =>
        deps.deployments
          .list({ includeStopped: 'false' })
          .map((deployment) => ({ id: deployment.id, name: deployment.name, stats: deployment.stats })),
      latestWindow: (id) => this.latestWindow(id),
      firingAlerts: (id) => this.alertCounter(id)
    });
  }

  /** Finds the filling windows again, prunes expired logs, and starts the timers (unref'd). */
  start(): void {
    this.windows.restore();
    this.prune();
    const tick = setInterval(() => this.closeDue(), TICK_MS);
    const prune = setInterval(() => this.prune(), PRUNE_MS);
    tick.unref();
    prune.unref();
    this.timers.push(tick, prune);
  }

  close(): void {
    this.timers.forEach((timer) => clearInterval(timer));
    this.timers.length = 0;
  }

  onWindow(listener: (window: DriftWindow) => void): void {
    this.listeners.push(listener);
  }

  /** The alerts feature's count of firing alerts per deployment (overview, /metrics). */
  setAlertCounter(counter: (deploymentId: string) => number): void {
    this.alertCounter = counter;
  }

  // ------------------------------------------------------------------------------------------
  // telemetry (PredictionLog)

  record(deploymentId: string, deploymentName: string, report: TelemetryReport): number {
    this.names.set(deploymentId, deploymentName);
    this.recordTraffic(deploymentId, report);
    this.metrics.countReport(deploymentName, report);
    return this.ingest(deploymentId, report.predictions);
  }

  /**
   * Stores predictions as one block per (model version, role); returns how many were kept.
   * A record whose columns differ in length, or naming a model version that does not exist, is
   * skipped (logged) and the rest of the batch kept.
   */
  ingest(deploymentId: string, predictions: PredictionRecord[]): number {
    const groups = new Map<string, PredictionRecord[]>();
    let skipped = 0;
    for (const record of predictions) {
      if (checkedRowCount(record) === null || !this.version(record.modelVersionId)) {
        skipped += 1;
        continue;
      }
      const key = `${record.modelVersionId}\u0000${record.role}`;
      const group = groups.get(key);
      if (group) group.push(record);
      else groups.set(key, [record]);
    }
    if (skipped > 0) {
      this.deps.logger.warn(
        { deploymentId, skipped },
        'skipped malformed prediction records (unequal column lengths or an unknown model version)'
      );
    }
    if (groups.size === 0) return 0;
    const receivedAt = this.now();
    const { store } = this.deps;
    const stored: { modelVersionId: string; blockId: number; rows: number }[] = [];
    store.transaction(() => {
      for (const records of groups.values()) {
        const encoded = encodeBlock(records);
        let offset = 0;
        const requests = records.map((record) => {
          const rows = checkedRowCount(record) as number;
          const entry = { id: record.requestId, offset, rows, at: record.at };
          offset += rows;
          return entry;
        });
        const { modelVersionId, role } = records[0];
        const blockId = store.insertBlock({
          deploymentId,
          modelVersionId,
          role,
          firstAt: encoded.firstAt,
          lastAt: encoded.lastAt,
          receivedAt,
          rows: encoded.rows,
          requests,
          data: encoded.data
        });
        stored.push({ modelVersionId, blockId, rows: encoded.rows });
      }
    });
    let rows = 0;
    for (const block of stored) {
      rows += block.rows;
      this.windows.added(deploymentId, block.modelVersionId, block.blockId, block.rows, receivedAt);
    }
    const name = this.names.get(deploymentId);
    if (name) this.metrics.countRows(name, rows);
    return predictions.length - skipped;
  }

  /** The newest logged predictions, rebuilt from their blocks (listPredictions). */
  newest(deploymentId: string, limit: number): { predictions: PredictionRecord[]; total: number } {
    const { store } = this.deps;
    const predictions: PredictionRecord[] = [];
    let before = Number.MAX_SAFE_INTEGER;
    while (predictions.length < limit) {
      const blocks = store.newestBlocks(deploymentId, before);
      if (blocks.length === 0) break;
      for (const block of blocks) {
        const records = recordsOf(
          decodeBlock(store.blockData(block.id) as Buffer),
          block.role as PredictionRecord['role'],
          block.model_version_id
        );
        for (let index = records.length - 1; index >= 0 && predictions.length < limit; index--) predictions.push(records[index]);
        before = block.id;
        if (predictions.length >= limit) break;
      }
    }
    return { predictions, total: store.totals(deploymentId).requests };
  }

  private recordTraffic(deploymentId: string, report: TelemetryReport): void {
    const minute = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS;
    const { store } = this.deps;
    const current = store.traffic(deploymentId, minute) ?? {
      minute,
      requests: 0,
      server_errors: 0,
      client_errors: 0,
      latency: '{"bounds":[],"counts":[],"total":0}'
    };
    const next: TrafficRow = { ...current };
    for (const { role, status, count } of report.counts) {
      // Shadow copies are not answers to clients.
      if (role === 'shadow' || count <= 0) continue;
      next.requests += count;
      if (status >= 500) next.server_errors += count;
      else if (status >= 400) next.client_errors += count;
    }
    const latency = JSON.parse(current.latency) as MinuteLatency;
    const { bucketsMs, counts } = report.latency;
    if (counts.length === bucketsMs.length + 1 && counts[counts.length - 1] > 0) {
      const perBound = new Map<number, number>(latency.bounds.map((bound, index) => [bound, latency.counts[index]]));
      let previous = 0;
      bucketsMs.forEach((bound, index) => {
        perBound.set(bound, (perBound.get(bound) ?? 0) + Math.max(0, counts[index] - previous));
        previous = counts[index];
      });
      const bounds = [...perBound.keys()].sort((a, b) => a - b);
      next.latency = JSON.stringify({
        bounds,
        counts: bounds.map((bound) => perBound.get(bound) ?? 0),
        total: latency.total + counts[counts.length - 1]
      });
    }
    if (next.requests === current.requests && next.latency === current.latency && store.traffic(deploymentId, minute)) return;
    store.putTraffic(deploymentId, next);
  }

  // ------------------------------------------------------------------------------------------
  // windows

  /** Closes the time windows whose time is up (the timer calls it every second). */
  closeDue(now = this.now()): void {
    try {
      this.windows.closeDue(now);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'closing drift windows failed');
    }
  }

  /** A window that cannot be judged (a bug) is logged and skipped: the telemetry that closed it is stored already. */
  private closeWindowSafely(closing: ClosingWindow): void {
    try {
      this.closeWindow(closing);
    } catch (error) {
      this.deps.logger.error({ err: error, deploymentId: closing.deploymentId, index: closing.index }, 'judging a drift window failed');
    }
  }

  private closeWindow(closing: ClosingWindow): void {
    const { store, events, logger } = this.deps;
    const version = this.version(closing.modelVersionId);
    const profile = this.profile(closing.modelVersionId);
    const settings = this.settings(closing.deploymentId);
    const { inputs, outputs, rows } = readWindowColumns(
      store,
      closing.deploymentId,
      closing.modelVersionId,
      closing.start,
      closing.end,
      profile
    );
    const judgement = judgeWindow(profile, inputs, outputs, {
      minRows: settings.minRows,
      largeWindowRows: settings.largeWindowRows,
      falseDiscoveryRate: settings.falseDiscoveryRate,
      driftShare: settings.driftShare
    });
    const window: DriftWindow = {
      id: randomUUID(),
      deploymentId: closing.deploymentId,
      modelVersionId: closing.modelVersionId,
      modelName: version?.modelName ?? '',
      version: version?.version ?? 1,
      index: closing.index,
      startAt: new Date(closing.openedAt).toISOString(),
      endAt: new Date(closing.closedAt).toISOString(),
      rows,
      status: judgement.status,
      reason: judgement.reason,
      driftedShare: judgement.driftedShare,
      drifted: judgement.drifted,
      features: judgement.features.map(toFeatureDrift),
      predictions: judgement.predictions.map(toFeatureDrift)
    };
    store.insertWindow(window, closing.end.block, closing.end.row);
    logger.info(
      {
        deploymentId: window.deploymentId,
        modelVersionId: window.modelVersionId,
        index: window.index,
        rows,
        status: window.status,
        drifted: window.drifted
      },
      'drift window closed'
    );
    events.publish('drift:window', window);
    for (const listener of this.listeners) {
      try {
        listener(window);
      } catch (error) {
        logger.error({ err: error }, 'a drift window listener failed');
      }
    }
  }

  latestWindow(deploymentId: string): DriftWindow | null {
    return this.deps.store.windows(deploymentId, 1)[0] ?? null;
  }

  driftWindows(deploymentId: string, limit: number, modelVersionId?: string) {
    this.deps.deployments.get(deploymentId);
    const windows = this.deps.store.windows(deploymentId, limit, modelVersionId);
    const spec = this.settings(deploymentId).window;
    const filling = this.windows
      .fillingOf(deploymentId)
      .filter((window) => !modelVersionId || window.modelVersionId === modelVersionId)
      .map((window) => ({
        modelVersionId: window.modelVersionId,
        rows: window.rows,
        startAt: window.openedAt === null ? null : new Date(window.openedAt).toISOString(),
        closesAt: spec.kind === 'seconds' && window.openedAt !== null ? new Date(window.openedAt + spec.size * 1000).toISOString() : null
      }));
    return { windows, filling };
  }

  histogram(deploymentId: string, query: { feature: string; role: 'input' | 'prediction'; window?: string }): FeatureHistogram {
    this.deps.deployments.get(deploymentId);
    const { store } = this.deps;
    const window = query.window ? store.window(deploymentId, query.window) : store.newestJudgedWindow(deploymentId);
    if (!window) {
      throw notFound(
        query.window ? `Drift window ${query.window} of this deployment` : 'A judged drift window of this deployment (none has closed yet)'
      );
    }
    const profile = this.profile(window.modelVersionId);
    const reference = (query.role === 'input' ? profile?.features : profile?.predictions)?.find(
      (feature) => feature.name === query.feature
    );
    if (!reference) {
      throw notFound(
        `${query.role === 'input' ? 'Feature' : 'Prediction column'} ${query.feature} in the reference profile of ${window.modelName} v${window.version}`
      );
    }
    const bounds = store.windowBounds(deploymentId, window.id);
    const { inputs, outputs } = bounds
      ? readWindowColumns(store, deploymentId, window.modelVersionId, bounds.start, bounds.end, profile)
      : { inputs: new Map(), outputs: new Map() };
    const column = (query.role === 'input' ? inputs : alignPredictionColumns(profile, outputs)).get(query.feature);
    const drift = (query.role === 'input' ? window.features : window.predictions).find((feature) => feature.name === query.feature) ?? null;
    const share = (counts: number[]): number[] => {
      const total = counts.reduce((sum, count) => sum + count, 0);
      return counts.map((count) => (total > 0 ? count / total : 0));
    };
    if (reference.kind === 'numeric') {
      const values = column?.kind === 'numeric' ? column.values : new Float64Array(0);
      const bins = binAgainstReference(reference, values);
      return {
        feature: query.feature,
        role: query.role,
        kind: 'numeric',
        windowId: window.id,
        edges: bins.edges,
        categories: [],
        reference: share(bins.reference),
        current: share(bins.current),
        drift
      };
    }
    const values = column?.kind === 'categorical' ? column.values : [];
    const bins = binCategoriesAgainstReference(reference, values);
    return {
      feature: query.feature,
      role: query.role,
      kind: 'categorical',
      windowId: window.id,
      edges: [],
      categories: bins.categories,
      reference: share(bins.reference),
      current: share(bins.current),
      drift
    };
  }

  // ------------------------------------------------------------------------------------------
  // settings, overview, feedback

  settings(deploymentId: string): MonitoringSettings {
    let settings = this.settingsCache.get(deploymentId);
    if (!settings) {
      settings = this.deps.store.settings(deploymentId) ?? DEFAULT_MONITORING_SETTINGS;
      this.settingsCache.set(deploymentId, settings);
    }
    return settings;
  }

  updateSettings(deploymentId: string, change: z.output<z.ZodType<UpdateMonitoringSettingsRequest>>): MonitoringSettings {
    this.deps.deployments.get(deploymentId);
    const settings: MonitoringSettings = { ...this.settings(deploymentId), ...(change as Partial<MonitoringSettings>) };
    if (settings.largeWindowRows < settings.minRows) {
      throw new AppError('invalid_request', `largeWindowRows (${settings.largeWindowRows}) must be at least minRows (${settings.minRows})`);
    }
    this.deps.store.putSettings(deploymentId, settings);
    this.settingsCache.set(deploymentId, settings);
    return settings;
  }

  overview(deploymentId: string, hours: number): MonitoringOverview {
    this.deps.deployments.get(deploymentId);
    const { store } = this.deps;
    const since = this.now() - hours * HOUR_MS;
    const traffic: TrafficPoint[] = store.trafficSince(deploymentId, Math.floor(since / MINUTE_MS) * MINUTE_MS).map((row) => {
      const latency = JSON.parse(row.latency) as MinuteLatency;
      let running = 0;
      const cumulative = latency.counts.map((count) => (running += count));
      cumulative.push(Math.max(latency.total, running));
      const quantile = (q: number): number | null => {
        const value = histogramQuantile(q, latency.bounds, cumulative);
        return value === null ? null : Math.round(value * 1000) / 1000;
      };
      return {
        at: new Date(row.minute).toISOString(),
        requests: row.requests,
        serverErrors: row.server_errors,
        clientErrors: row.client_errors,
        p50Ms: quantile(0.5),
        p99Ms: quantile(0.99)
      };
    });
    const accuracy: AccuracyPoint[] = store.accuracyByHour(deploymentId, since).map((row) => ({
      at: new Date(row.hour).toISOString(),
      metric: row.metric,
      value: row.metric === 'accuracy' ? row.correct / Math.max(1, row.rows) : Math.sqrt(row.squared_error / Math.max(1, row.rows)),
      labelledRows: row.rows
    }));
    return {
      deploymentId,
      settings: this.settings(deploymentId),
      traffic,
      accuracy,
      windows: store.windowsSince(deploymentId, new Date(since).toISOString()),
      latest: this.latestWindow(deploymentId),
      loggedRows: store.totals(deploymentId).rows,
      labelledRows: store.labelledRows(deploymentId),
      firingAlerts: this.alertCounter(deploymentId)
    };
  }

  feedback(deploymentId: string, request: { labels: FeedbackRequest['labels'] }): FeedbackResponse {
    this.deps.deployments.get(deploymentId);
    return applyFeedback(this.deps.store, deploymentId, request.labels, this.now());
  }

  /** Accuracy (or RMSE) of the labelled predictions made since `sinceMs`; null without labels. */
  latestAccuracy(deploymentId: string, sinceMs: number): AccuracySummary | null {
    const rows = this.deps.store.accuracySince(deploymentId, sinceMs).sort((a, b) => b.rows - a.rows);
    const row = rows[0];
    if (!row || row.rows === 0) return null;
    const value = row.metric === 'accuracy' ? row.correct / row.rows : Math.sqrt(row.squared_error / row.rows);
    return { metric: row.metric, value, labelledRows: row.rows };
  }

  /** Stored bytes and rows of a deployment's prediction blocks. */
  storage(deploymentId: string): { bytes: number; rows: number } {
    return this.deps.store.blockBytes(deploymentId);
  }

  /** Deletes logged predictions, labels and traffic past the retention; returns the blocks deleted. */
  prune(now = this.now()): number {
    const deleted = this.deps.store.prune(now - this.deps.retentionDays * 24 * HOUR_MS);
    if (deleted > 0) {
      this.deps.logger.info({ blocks: deleted, retentionDays: this.deps.retentionDays }, 'pruned prediction logs past their retention');
    }
    return deleted;
  }

  private version(id: string): ModelVersion | null {
    if (!this.versions.has(id)) {
      try {
        this.versions.set(id, this.deps.models.versionById(id));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        // Not cached: a version registered later is known then.
        return null;
      }
    }
    return this.versions.get(id) ?? null;
  }

  private profile(versionId: string): ReferenceProfile | null {
    if (!this.profiles.has(versionId)) {
      const version = this.version(versionId);
      let profile: ReferenceProfile | null = null;
      if (version) {
        try {
          profile = this.deps.models.profile(version.modelName, String(version.version));
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
        }
      }
      this.profiles.set(versionId, profile);
    }
    return this.profiles.get(versionId) ?? null;
  }
}
