/**
 * Monitoring as the extension sees it. The server sends every signed-in browser `drift:window`,
 * `alert:fired`, `alert:updated`, `retrain:updated` and `deployment:updated`, so no room is
 * joined: the model keeps each deployment's newest window (the Deployments panel's badge) and,
 * for each open Monitoring view, a monitor that reads the overview, alerts and retrains and
 * reads them again when an event says they changed. Views render; only this file fetches.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { Alert, Deployment, DriftWindow, FeatureHistogram, MonitoringOverview, Retrain } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { IRunlabConnection } from '../tokens';
import { defaultChoice } from './format';
import type { IDeploymentMonitor, IFeatureChoice, IFillingWindow, IMonitoringModel } from './tokens';

/** How far back the view's charts go. */
const OVERVIEW_HOURS = 24;
/** Events come in bursts (a window closes, an alert fires, a retrain starts): one read per burst. */
const REFRESH_DELAY_MS = 300;

/** `list` with `item` added or replaced by id, newest (`createdAt`/`firedAt`) first. */
export function upsertNewestFirst<T extends { id: string }>(list: readonly T[], item: T, at: (item: T) => string): T[] {
  return [item, ...list.filter((candidate) => candidate.id !== item.id)].sort((a, b) => at(b).localeCompare(at(a)));
}

export class DeploymentMonitor implements IDeploymentMonitor {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly deploymentId: string
  ) {}

  get deployment(): Deployment | null {
    return this._deployment;
  }
  get overview(): MonitoringOverview | null {
    return this._overview;
  }
  get filling(): readonly IFillingWindow[] {
    return this._filling;
  }
  get alerts(): readonly Alert[] {
    return this._alerts;
  }
  get retrains(): readonly Retrain[] {
    return this._retrains;
  }
  get selected(): IFeatureChoice | null {
    return this._selected;
  }
  get histogram(): FeatureHistogram | null {
    return this._histogram;
  }
  get histogramError(): string | null {
    return this._histogramError;
  }
  get predictionHistograms(): readonly FeatureHistogram[] {
    return this._predictionHistograms;
  }
  get loading(): boolean {
    return this._loading;
  }
  get error(): string | null {
    return this._error;
  }
  get actionError(): string | null {
    return this._actionError;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    const id = this.deploymentId;
    const api = this._connection.api;
    this._loading = true;
    this._changed.emit();
    try {
      const [deployment, overview, drift, alerts, retrains] = await Promise.all([
        api.deployments.getDeployment({ params: { id } }),
        api.monitoring.getMonitoringOverview({ params: { id }, query: { hours: OVERVIEW_HOURS } }),
        api.monitoring.listDriftWindows({ params: { id }, query: { limit: 1 } }),
        api.alerts.listAlerts({ query: { deploymentId: id } }),
        api.retrain.listRetrains({ params: { id } })
      ]);
      this._deployment = deployment;
      this._overview = overview;
      this._filling = drift.filling;
      this._alerts = alerts.alerts;
      this._retrains = retrains.retrains;
      this._error = null;
      if (!this._selected || !this._knows(this._selected)) {
        this._selected = defaultChoice(overview.windows);
      }
    } catch (error) {
      this._error = describeError('Could not load the monitoring of this deployment', error, 'monitoring');
    } finally {
      this._loading = false;
      this._changed.emit();
    }
    await this._loadHistograms();
  }

  select(choice: IFeatureChoice): void {
    this._selected = choice;
    this._histogram = null;
    this._changed.emit();
    void this._loadHistograms(false);
  }

  async retrain(alertId: string | null = null): Promise<Retrain | null> {
    return this._act('Could not start a retrain', async () => {
      const retrain = await this._connection.api.retrain.retrainDeployment({ params: { id: this.deploymentId }, body: { alertId } });
      this.applyRetrain(retrain);
      return retrain;
    });
  }

  async acknowledge(alertId: string): Promise<void> {
    await this._act('Could not acknowledge the alert', async () => {
      this.applyAlert(await this._connection.api.alerts.acknowledgeAlert({ params: { id: alertId } }));
    });
  }

  async silence(alert: Alert, seconds: number): Promise<void> {
    await this._act('Could not silence the alert', async () => {
      await this._connection.api.alerts.createSilence({
        body: {
          deploymentId: this.deploymentId,
          ruleId: alert.ruleId,
          reason: `silenced from the Monitoring view (${alert.ruleName})`,
          durationSeconds: seconds
        }
      });
      this.scheduleRefresh();
    });
  }

  /** A live alert of this deployment: replaced in place, newest first. */
  applyAlert(alert: Alert): void {
    this._alerts = upsertNewestFirst(this._alerts, alert, (item) => item.firedAt);
    this._changed.emit();
    // The overview's firing count changes with it.
    this.scheduleRefresh();
  }

  applyRetrain(retrain: Retrain): void {
    this._retrains = upsertNewestFirst(this._retrains, retrain, (item) => item.createdAt);
    this._changed.emit();
  }

  applyDeployment(deployment: Deployment): void {
    if (!this._deployment || deployment.revision >= this._deployment.revision) {
      this._deployment = deployment;
      this._changed.emit();
    }
  }

  /** Read everything again soon (once for a burst of events). */
  scheduleRefresh(): void {
    if (this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  dispose(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  private _knows(choice: IFeatureChoice): boolean {
    return (this._overview?.windows ?? []).some((window) =>
      (choice.role === 'input' ? window.features : window.predictions).some((feature) => feature.name === choice.feature)
    );
  }

  /** The selected feature's histogram and the predictions' (the latter only with `predictions`). */
  private async _loadHistograms(predictions = true): Promise<void> {
    const id = this.deploymentId;
    const api = this._connection.api.monitoring;
    const judged = [...(this._overview?.windows ?? [])].reverse().find((window) => window.status === 'judged') ?? null;
    const choice = this._selected;
    const token = ++this._histogramRead;
    const selected =
      choice && judged
        ? api
            .getFeatureHistogram({
              params: { id },
              query: { feature: choice.feature, role: choice.role, ...(choice.windowId ? { window: choice.windowId } : {}) }
            })
            .then(
              (histogram) => ({ histogram, error: null }),
              (error) => ({
                histogram: null,
                error: describeError(`Could not read the histogram of ${choice.feature}`, error, 'monitoring')
              })
            )
        : Promise.resolve({ histogram: null, error: null });
    const predictionReads =
      predictions && judged
        ? Promise.all(
            judged.predictions.map((column) =>
              api
                .getFeatureHistogram({ params: { id }, query: { feature: column.name, role: 'prediction', window: judged.id } })
                .catch(() => null)
            )
          )
        : Promise.resolve(null);
    const [{ histogram, error }, predictionHistograms] = await Promise.all([selected, predictionReads]);
    if (token !== this._histogramRead && !predictions) {
      return;
    }
    if (token === this._histogramRead) {
      this._histogram = histogram;
      this._histogramError = error;
    }
    if (predictionHistograms) {
      this._predictionHistograms = predictionHistograms.filter((item): item is FeatureHistogram => item !== null);
    }
    this._changed.emit();
  }

  private async _act<T>(what: string, action: () => Promise<T>): Promise<T | null> {
    try {
      const result = await action();
      this._actionError = null;
      this._changed.emit();
      return result;
    } catch (error) {
      this._actionError = describeError(what, error, 'monitoring');
      this._changed.emit();
      return null;
    }
  }

  private _deployment: Deployment | null = null;
  private _overview: MonitoringOverview | null = null;
  private _filling: IFillingWindow[] = [];
  private _alerts: Alert[] = [];
  private _retrains: Retrain[] = [];
  private _selected: IFeatureChoice | null = null;
  private _histogram: FeatureHistogram | null = null;
  private _histogramError: string | null = null;
  private _predictionHistograms: FeatureHistogram[] = [];
  private _histogramRead = 0;
  private _loading = false;
  private _error: string | null = null;
  private _actionError: string | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private readonly _changed = new Signal<this, void>(this);
}

export class MonitoringModel implements IMonitoringModel {
  constructor(private readonly _connection: IRunlabConnection) {
    _connection.on('drift:window', (window) => this._onWindow(window), this);
    _connection.on(
      'alert:fired',
      (alert) => {
        this._monitors.get(alert.deploymentId)?.applyAlert(alert);
        this._alertFired.emit(alert);
      },
      this
    );
    _connection.on('alert:updated', (alert) => this._monitors.get(alert.deploymentId)?.applyAlert(alert), this);
    _connection.on(
      'retrain:updated',
      (retrain) => {
        const monitor = this._monitors.get(retrain.deploymentId);
        monitor?.applyRetrain(retrain);
        // A proposed version changes the deployment's slots and the overview's versions.
        monitor?.scheduleRefresh();
      },
      this
    );
    _connection.on('deployment:updated', (deployment) => this._monitors.get(deployment.id)?.applyDeployment(deployment), this);
    // Events missed while disconnected: read again on reconnect.
    _connection.stateChanged.connect((_, state) => {
      if (state.status === 'connected') {
        this._latest.clear();
        for (const monitor of this._monitors.values()) {
          void monitor.refresh();
        }
      }
    }, this);
  }

  get latestChanged(): ISignal<this, string> {
    return this._latestChanged;
  }
  get alertFired(): ISignal<this, Alert> {
    return this._alertFired;
  }

  latestWindow(deploymentId: string): DriftWindow | null | undefined {
    if (!this._latest.has(deploymentId) && !this._reading.has(deploymentId)) {
      this._reading.add(deploymentId);
      void this._connection.api.monitoring
        .getMonitoringOverview({ params: { id: deploymentId }, query: { hours: 1 } })
        .then(
          (overview) => this._setLatest(deploymentId, overview.latest),
          // An older server without monitoring, or a deployment gone: no badge.
          () => this._setLatest(deploymentId, null)
        )
        .finally(() => this._reading.delete(deploymentId));
    }
    return this._latest.get(deploymentId);
  }

  monitor(deploymentId: string): DeploymentMonitor {
    let monitor = this._monitors.get(deploymentId);
    if (!monitor) {
      monitor = new DeploymentMonitor(this._connection, deploymentId);
      this._monitors.set(deploymentId, monitor);
    }
    return monitor;
  }

  /** A view closed: its monitor stops following. */
  release(deploymentId: string): void {
    this._monitors.get(deploymentId)?.dispose();
    this._monitors.delete(deploymentId);
  }

  /** The deployments to choose from (the palette's Open Monitoring without a deployment). */
  async deployments(): Promise<Deployment[]> {
    const { deployments } = await this._connection.api.deployments.listDeployments({});
    return deployments.filter((deployment) => deployment.status !== 'stopped');
  }

  private _onWindow(window: DriftWindow): void {
    const known = this._latest.get(window.deploymentId);
    if (!known || known.endAt <= window.endAt) {
      this._setLatest(window.deploymentId, window);
    }
    this._monitors.get(window.deploymentId)?.scheduleRefresh();
  }

  private _setLatest(deploymentId: string, window: DriftWindow | null): void {
    this._latest.set(deploymentId, window);
    this._latestChanged.emit(deploymentId);
  }

  private readonly _latest = new Map<string, DriftWindow | null>();
  private readonly _reading = new Set<string>();
  private readonly _monitors = new Map<string, DeploymentMonitor>();
  private readonly _latestChanged = new Signal<this, string>(this);
  private readonly _alertFired = new Signal<this, Alert>(this);
}
