/**
 * A deployment's Monitoring view (main area): the served versions with the drift badge, firing
 * alerts and Retrain; traffic and latency per minute; drift per feature over windows (a
 * heatmap: click a cell or a feature to see its histogram); the reference vs production
 * histogram of the selected feature with the test's verdict in words; the prediction
 * distribution; accuracy from feedback; and the alerts with their webhook deliveries.
 * Everything comes from the monitor, which follows the live events.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { Suspense } from 'react';
import type { Alert, DriftWindow, FeatureHistogram, MonitoringOverview } from '../../server/src/contract';
import { ErrorMessage } from '../shared/ErrorMessage';
import { formatTime, relativeTime } from '../shared/format';
import { createMainAreaTab } from '../shared/mainArea';
import { DriftBadge } from './DriftBadge';
import {
  cellLevel,
  driftFigures,
  driftVerdict,
  fillingText,
  heatmapRows,
  refusedText,
  retrainText,
  servedVersions,
  trafficRows,
  windowLabel
} from './format';
import { monitoringIcon } from './icons';
import { AccuracyChart, HistogramChart, LatencyChart, TrafficChart } from './lazyCharts';
import { IDeploymentMonitor } from './tokens';

/** Alerts silenced from the view's button are silenced this long. */
export const SILENCE_SECONDS = 3600;
/** The heatmap shows this many windows, the newest. */
const HEATMAP_WINDOWS = 40;

export interface IMonitoringActions {
  openVersion(name: string, version: number): void;
}

const chartFallback = <div className="jp-runlab-Muted jp-runlab-ChartLoading">Loading chart…</div>;

function Header({ monitor }: { monitor: IDeploymentMonitor }): JSX.Element {
  const { deployment, overview } = monitor;
  const retrain = monitor.retrains[0] ?? null;
  const busy = retrain?.status === 'queued' || retrain?.status === 'running';
  const firing = overview?.firingAlerts ?? monitor.alerts.filter((alert) => alert.state === 'firing').length;
  return (
    <div className="jp-runlab-MonitoringHeader">
      <div className="jp-runlab-MonitoringHeader-title">
        <h2 className="jp-runlab-MonitoringName">{deployment?.name ?? monitor.deploymentId}</h2>
        <DriftBadge window={overview?.latest} />
        <span className="jp-runlab-MonitoringFiring" data-firing={firing > 0} title="Alerts firing now">
          {firing === 0 ? 'no alerts firing' : `${firing} ${firing === 1 ? 'alert' : 'alerts'} firing`}
        </span>
        <span className="jp-runlab-MonitoringHeader-spacer" />
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-MonitoringRetrain"
          disabled={busy || !deployment}
          title="Re-produce the deployed model's run with the newest data on a runner, and propose the new version as a canary"
          onClick={() => void monitor.retrain(null)}
        >
          Retrain
        </button>
        <button className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-MonitoringRefresh" onClick={() => void monitor.refresh()}>
          Refresh
        </button>
      </div>
      <div className="jp-runlab-Muted jp-runlab-MonitoringVersions">
        {servedVersions(deployment)}
        {overview ? ` · ${overview.loggedRows} predictions logged · ${overview.labelledRows} labelled` : ''}
      </div>
      <div className="jp-runlab-MonitoringRetrainStatus" aria-live="polite" data-status={retrain?.status ?? 'none'}>
        {retrain ? (
          <>
            {retrainText(retrain)}
            <span className="jp-runlab-Muted"> · {relativeTime(retrain.createdAt)}</span>
          </>
        ) : null}
      </div>
      {monitor.actionError && (
        <p className="jp-runlab-Message" role="alert">
          {monitor.actionError}
        </p>
      )}
    </div>
  );
}

function Traffic({ overview, endpoint }: { overview: MonitoringOverview; endpoint: string | null }): JSX.Element {
  const rows = trafficRows(overview.traffic);
  const requests = overview.traffic.reduce((sum, point) => sum + point.requests, 0);
  return (
    <section className="jp-runlab-MonitoringSection jp-runlab-MonitoringTraffic" aria-label="Traffic">
      <h3>Traffic and latency</h3>
      {requests === 0 ? (
        <p className="jp-runlab-Muted jp-runlab-MonitoringNoTraffic">
          No traffic yet: send requests to {endpoint ?? 'the endpoint'} and they appear here within a minute.
        </p>
      ) : (
        <Suspense fallback={chartFallback}>
          <div className="jp-runlab-MonitoringCharts">
            <TrafficChart rows={rows} />
            <LatencyChart rows={rows} />
          </div>
        </Suspense>
      )}
    </section>
  );
}

function Heatmap({ monitor, overview }: { monitor: IDeploymentMonitor; overview: MonitoringOverview }): JSX.Element {
  const windows = overview.windows.slice(-HEATMAP_WINDOWS);
  const rows = heatmapRows(windows);
  const selected = monitor.selected;
  const selectedWindow = selected?.windowId ?? [...windows].reverse().find((window) => window.status === 'judged')?.id ?? null;
  return (
    <table className="jp-runlab-DriftHeatmap" aria-label="Drift per feature and window">
      <thead>
        <tr>
          <th scope="col">feature</th>
          {windows.map((window) => (
            <th
              key={window.id}
              scope="col"
              className="jp-runlab-DriftHeatmap-window"
              data-status={window.status}
              data-drifted={window.drifted}
              title={`window ${window.index} of v${window.version}: ${window.rows} rows, ${formatTime(window.startAt)} – ${formatTime(window.endAt)}${
                window.status === 'judged'
                  ? `; ${Math.round(100 * window.driftedShare)}% of the features drifted`
                  : `; ${refusedText(window, overview.settings)}`
              }`}
            >
              {window.index}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const isSelected = selected?.feature === row.name && selected.role === row.role;
          return (
            <tr key={`${row.role}:${row.name}`} data-feature={row.name} data-role={row.role} aria-selected={isSelected}>
              <th scope="row">
                <button
                  className="jp-runlab-Link jp-runlab-DriftHeatmap-feature"
                  onClick={() => monitor.select({ feature: row.name, role: row.role, windowId: null })}
                >
                  {row.role === 'prediction' ? `${row.name} (prediction)` : row.name}
                </button>
              </th>
              {windows.map((window) => {
                if (window.status !== 'judged') {
                  return (
                    <td key={window.id} className="jp-runlab-DriftCell" data-refused="true" title={refusedText(window, overview.settings)}>
                      <span className="jp-runlab-DriftCell-mark">–</span>
                    </td>
                  );
                }
                const cell = row.cells.get(window.id);
                if (!cell) {
                  return <td key={window.id} className="jp-runlab-DriftCell" data-missing="true" title="not in this window" />;
                }
                return (
                  <td
                    key={window.id}
                    className="jp-runlab-DriftCell"
                    data-level={cellLevel(cell)}
                    data-drifted={cell.drifted}
                    data-selected={isSelected && window.id === selectedWindow}
                    title={`${row.name}, window ${window.index}: ${driftVerdict(cell)}`}
                  >
                    <button
                      className="jp-runlab-DriftCell-button"
                      aria-label={`${row.name}, window ${window.index}: ${driftVerdict(cell)}`}
                      onClick={() => monitor.select({ feature: row.name, role: row.role, windowId: window.id })}
                    >
                      {cell.drifted ? '✕' : ''}
                    </button>
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function HistogramPanel({
  histogram,
  windows,
  title
}: {
  histogram: FeatureHistogram;
  windows: readonly DriftWindow[];
  title: string;
}): JSX.Element {
  const drift = histogram.drift;
  return (
    <div
      className="jp-runlab-FeatureHistogram"
      data-feature={histogram.feature}
      data-role={histogram.role}
      data-drifted={drift?.drifted ?? false}
    >
      <h4>{title}</h4>
      <Suspense fallback={chartFallback}>
        <HistogramChart histogram={histogram} currentLabel={windowLabel(windows, histogram.windowId)} />
      </Suspense>
      {drift ? (
        <>
          <p className="jp-runlab-DriftVerdict" data-drifted={drift.drifted}>
            {driftVerdict(drift)}
          </p>
          <p className="jp-runlab-Muted jp-runlab-DriftFigures">{driftFigures(drift)}</p>
        </>
      ) : (
        <p className="jp-runlab-Muted">Not judged in this window.</p>
      )}
    </div>
  );
}

function Drift({ monitor, overview }: { monitor: IDeploymentMonitor; overview: MonitoringOverview }): JSX.Element {
  const filling = fillingText(monitor.filling, overview.settings);
  const latest = overview.latest;
  return (
    <section className="jp-runlab-MonitoringSection jp-runlab-MonitoringDrift" aria-label="Drift">
      <h3>Drift against the training data</h3>
      <p className="jp-runlab-Muted jp-runlab-MonitoringWindowSettings">
        Windows of {overview.settings.window.size} {overview.settings.window.kind}; at least {overview.settings.minRows} rows to judge; a
        feature drifts when significant after Benjamini–Hochberg (FDR {overview.settings.falseDiscoveryRate}) and larger than its effect
        threshold.
        {filling ? <span className="jp-runlab-MonitoringFilling"> {filling}.</span> : null}
      </p>
      {latest?.status === 'no_profile' && (
        <p className="jp-runlab-Message jp-runlab-MonitoringNoProfile">
          No reference profile: {latest.reason ?? `v${latest.version} was logged without one, so its windows cannot be judged`}. Log the
          model with an input example or training data to get one.
        </p>
      )}
      {!overview.windows.length ? (
        <p className="jp-runlab-Muted jp-runlab-MonitoringNoWindows">
          No window has closed yet: drift is judged every {overview.settings.window.size} {overview.settings.window.kind} of logged
          predictions.
        </p>
      ) : (
        <div className="jp-runlab-MonitoringDrift-body">
          <div className="jp-runlab-DriftHeatmapHost">
            <Heatmap monitor={monitor} overview={overview} />
            <p className="jp-runlab-Muted jp-runlab-DriftLegend">
              Cell colour: effect size against its threshold; ✕ drifted; grey columns were not judged (hover for why).
            </p>
          </div>
          <div className="jp-runlab-MonitoringHistogram">
            {monitor.histogramError ? (
              <p className="jp-runlab-Message" role="alert">
                {monitor.histogramError}
              </p>
            ) : monitor.histogram ? (
              <HistogramPanel
                histogram={monitor.histogram}
                windows={overview.windows}
                title={`${monitor.histogram.feature}: training vs production`}
              />
            ) : monitor.selected ? (
              <p className="jp-runlab-Muted">Loading the histogram of {monitor.selected.feature}…</p>
            ) : (
              <p className="jp-runlab-Muted">No judged window yet: the histograms appear with the first.</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

function Predictions({ monitor, overview }: { monitor: IDeploymentMonitor; overview: MonitoringOverview }): JSX.Element | null {
  if (!monitor.predictionHistograms.length) {
    return null;
  }
  return (
    <section className="jp-runlab-MonitoringSection jp-runlab-MonitoringPredictions" aria-label="Prediction distribution">
      <h3>Prediction distribution</h3>
      <div className="jp-runlab-MonitoringPredictions-list">
        {monitor.predictionHistograms.map((histogram) => (
          <HistogramPanel key={histogram.feature} histogram={histogram} windows={overview.windows} title={histogram.feature} />
        ))}
      </div>
    </section>
  );
}

function Accuracy({ overview }: { overview: MonitoringOverview }): JSX.Element {
  return (
    <section className="jp-runlab-MonitoringSection jp-runlab-MonitoringAccuracy" aria-label="Accuracy">
      <h3>Accuracy from feedback</h3>
      {overview.accuracy.length ? (
        <Suspense fallback={chartFallback}>
          <AccuracyChart points={overview.accuracy} />
        </Suspense>
      ) : (
        <p className="jp-runlab-Muted jp-runlab-MonitoringNoFeedback">
          No feedback yet: POST <code>/api/deployments/{overview.deploymentId}/feedback</code> with request ids and labels.
        </p>
      )}
    </section>
  );
}

function AlertItem({ alert, monitor }: { alert: Alert; monitor: IDeploymentMonitor }): JSX.Element {
  const firing = alert.state === 'firing';
  return (
    <li className="jp-runlab-AlertItem" data-state={alert.state} data-alert={alert.id} data-rule={alert.ruleName}>
      <div className="jp-runlab-AlertItem-head">
        <span className="jp-runlab-AlertState" data-state={alert.state}>
          {alert.state}
        </span>
        {alert.silenced && <span className="jp-runlab-AlertSilenced">silenced</span>}
        <strong>{alert.ruleName}</strong>
        <span className="jp-runlab-AlertMessage">{alert.message}</span>
      </div>
      <div className="jp-runlab-Muted jp-runlab-AlertTimes">
        fired <span title={formatTime(alert.firedAt)}>{relativeTime(alert.firedAt)}</span>
        {alert.resolvedAt && (
          <>
            {' '}
            · resolved <span title={formatTime(alert.resolvedAt)}>{relativeTime(alert.resolvedAt)}</span>
          </>
        )}
        {alert.acknowledgedBy && (
          <>
            {' '}
            · acknowledged by {alert.acknowledgedBy}
            {alert.acknowledgedAt ? `, ${relativeTime(alert.acknowledgedAt)}` : ''}
          </>
        )}
        {alert.driftedFeatures.length > 0 && <> · drifted: {alert.driftedFeatures.join(', ')}</>}
      </div>
      {alert.deliveries.length > 0 && (
        <ul className="jp-runlab-AlertDeliveries" aria-label="Webhook deliveries">
          {alert.deliveries.map((delivery) => (
            <li key={delivery.id} data-status={delivery.status} title={delivery.lastError ?? ''}>
              {delivery.event} → {delivery.url}: <strong>{delivery.status}</strong> after {delivery.attempts}{' '}
              {delivery.attempts === 1 ? 'attempt' : 'attempts'}
              {delivery.lastStatusCode !== null ? ` (HTTP ${delivery.lastStatusCode})` : ''}
              {delivery.status === 'failed' && delivery.lastError ? `: ${delivery.lastError}` : ''}
              {delivery.status === 'pending' && delivery.nextAttemptAt ? `, next try ${relativeTime(delivery.nextAttemptAt)}` : ''}
            </li>
          ))}
        </ul>
      )}
      <div className="jp-runlab-AlertItem-actions">
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-AlertAcknowledge"
          disabled={!!alert.acknowledgedBy}
          onClick={() => void monitor.acknowledge(alert.id)}
        >
          {alert.acknowledgedBy ? 'Acknowledged' : 'Acknowledge'}
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-AlertSilence"
          title={`No notices or webhooks from “${alert.ruleName}” on this deployment for an hour`}
          onClick={() => void monitor.silence(alert, SILENCE_SECONDS)}
        >
          Silence 1 h
        </button>
        {firing && (
          <button
            className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-AlertRetrain"
            disabled={!!alert.retrainId}
            title={alert.retrainId ? 'A retrain was started from this alert' : 'Retrain from this alert'}
            onClick={() => void monitor.retrain(alert.id)}
          >
            {alert.retrainId ? 'Retrain started' : 'Retrain'}
          </button>
        )}
      </div>
    </li>
  );
}

function Alerts({ monitor }: { monitor: IDeploymentMonitor }): JSX.Element {
  return (
    <section className="jp-runlab-MonitoringSection jp-runlab-MonitoringAlerts" aria-label="Alerts">
      <h3>Alerts</h3>
      {monitor.alerts.length ? (
        <ul className="jp-runlab-AlertList">
          {monitor.alerts.map((alert) => (
            <AlertItem key={alert.id} alert={alert} monitor={monitor} />
          ))}
        </ul>
      ) : (
        <p className="jp-runlab-Muted">No alerts yet. Every deployment has a “Data drift” rule; add others with POST /api/alert-rules.</p>
      )}
    </section>
  );
}

export function MonitoringBody({ monitor }: { monitor: IDeploymentMonitor }): JSX.Element {
  const overview = monitor.overview;
  if (!overview) {
    return (
      <div className="jp-runlab-MonitoringView-body">
        {monitor.error ? (
          <ErrorMessage message={monitor.error} onRetry={() => void monitor.refresh()} />
        ) : (
          <p className="jp-runlab-Muted">Loading monitoring…</p>
        )}
      </div>
    );
  }
  return (
    <div className="jp-runlab-MonitoringView-body">
      <Header monitor={monitor} />
      {monitor.error && (
        <p className="jp-runlab-Message" role="alert">
          {monitor.error}
        </p>
      )}
      <Traffic overview={overview} endpoint={monitor.deployment?.endpoint ?? null} />
      <Drift monitor={monitor} overview={overview} />
      <Predictions monitor={monitor} overview={overview} />
      <Accuracy overview={overview} />
      <Alerts monitor={monitor} />
    </div>
  );
}

class MonitoringWidget extends ReactWidget {
  constructor(private readonly _monitor: IDeploymentMonitor) {
    super();
    this.addClass('jp-runlab-MonitoringView');
    this.node.dataset.deployment = _monitor.deploymentId;
  }

  render(): JSX.Element {
    return <UseSignal signal={this._monitor.changed}>{() => <MonitoringBody monitor={this._monitor} />}</UseSignal>;
  }
}

/** The Monitoring tab of one deployment; `onClose` lets the model stop following it. */
export function createMonitoringView(monitor: IDeploymentMonitor, label: string, onClose: () => void): MainAreaWidget {
  const widget = createMainAreaTab(new MonitoringWidget(monitor), {
    id: `jp-runlab-monitoring-${monitor.deploymentId}`,
    label: `Monitoring: ${label}`,
    icon: monitoringIcon,
    caption: `Production monitoring of ${label}: traffic, drift, alerts, retrain`
  });
  widget.disposed.connect(onClose);
  const rename = () => {
    if (monitor.deployment) {
      widget.title.label = `Monitoring: ${monitor.deployment.name}`;
    }
  };
  monitor.changed.connect(rename, widget);
  void monitor.refresh();
  return widget;
}
