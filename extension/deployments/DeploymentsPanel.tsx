/**
 * The Deployments sidebar: each deployment's status, versions and traffic split, endpoint,
 * serving figures (requests/s, p50/p99 latency, error rate) and history, with Try it, Promote
 * canary, Roll back, Change split and Undeploy.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import type { Deployment, DeploymentEvent } from '../../server/src/contract';
import { serverListPlaceholder, StaleListError } from '../shared/serverListPlaceholder';
import { formatTime, relativeTime } from '../shared/format';
import { DeploymentKubernetesView } from '../kubernetes/DeploymentKubernetesView';
import { failureReason } from '../kubernetes/format';
import { DeploymentDriftBadge } from '../monitoring/DriftBadge';
import type { IMonitoringModel } from '../monitoring/tokens';
import { StatusBadge } from './DeploymentStatusView';
import { EVENT_LABELS, replicasText, secondSlot, splitLabel, statsFigures } from './format';
import { IDeploymentsModel } from './tokens';
import { Endpoint } from './TryIt';

export interface IDeploymentsPanelActions {
  deploy(): void;
  tryIt(deployment: Deployment): void;
  promote(deployment: Deployment): void;
  rollback(deployment: Deployment): void;
  changeSplit(deployment: Deployment): void;
  undeploy(deployment: Deployment): void;
  /** Kubernetes: write the objects again as Runlab wants them (undoes drift). */
  reconcile(deployment: Deployment): void;
  openVersion(name: string, version: number): void;
  /** The deployment's Monitoring view (traffic, drift, alerts, Retrain). */
  monitor?(deployment: Deployment): void;
}

export function DeploymentsEmptyState({ onDeploy }: { onDeploy: () => void }): JSX.Element {
  return (
    <div className="jp-runlab-DeploymentsEmpty">
      <p>
        <strong>No deployments yet.</strong> A deployment serves a model version on this machine (the <code>local</code> target) behind the
        Open Inference Protocol, with an optional canary or shadow version beside it.
      </p>
      <p>
        Log a model with <code>runlab.model(...)</code> in a run, then press <strong>Deploy model</strong> in the notebook&apos;s toolbar,
        or:
      </p>
      <button className="jp-Button jp-mod-styled jp-mod-accept" onClick={onDeploy}>
        Deploy model…
      </button>
    </div>
  );
}

function HistoryList({ events }: { events: readonly DeploymentEvent[] }): JSX.Element {
  if (!events.length) {
    return <p className="jp-runlab-Muted">No history yet.</p>;
  }
  return (
    <ol className="jp-runlab-DeploymentHistory" aria-label="Deployment history">
      {events.map((event) => (
        <li key={event.id} className="jp-runlab-HistoryEntry jp-runlab-DeploymentEvent" data-kind={event.kind}>
          <strong className="jp-runlab-DeploymentEvent-kind">{EVENT_LABELS[event.kind]}</strong>{' '}
          <span className="jp-runlab-DeploymentEvent-message">{event.message}</span>
          <div className="jp-runlab-Muted" title={formatTime(event.at)}>
            {splitLabel(event.slots)} · revision {event.revision} · by {event.actor}, {relativeTime(event.at)}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Figures({ deployment }: { deployment: Deployment }): JSX.Element {
  const figures = statsFigures(deployment.stats);
  if (!figures) {
    return <div className="jp-runlab-DeploymentStats jp-runlab-Muted">No requests yet.</div>;
  }
  return (
    <dl className="jp-runlab-DeploymentStats" aria-label="Serving figures, last minute">
      <div>
        <dt>requests</dt>
        <dd className="jp-runlab-DeploymentStats-rate">{figures.rate}</dd>
      </div>
      <div>
        <dt>p50</dt>
        <dd className="jp-runlab-DeploymentStats-p50">{figures.p50}</dd>
      </div>
      <div>
        <dt>p99</dt>
        <dd className="jp-runlab-DeploymentStats-p99">{figures.p99}</dd>
      </div>
      <div>
        <dt>errors</dt>
        <dd className="jp-runlab-DeploymentStats-errors">{figures.errors}</dd>
      </div>
    </dl>
  );
}

function DeploymentCard({
  deployment,
  actions,
  monitoring
}: {
  deployment: Deployment;
  actions: IDeploymentsPanelActions;
  monitoring?: IMonitoringModel | null;
}): JSX.Element {
  const second = secondSlot(deployment.slots);
  const stopped = deployment.status === 'stopped';
  const kubernetes = deployment.kubernetes ?? null;
  // A failed Kubernetes rollout goes back to the last revision that was ready.
  const rolloutFailed = !!kubernetes && !stopped && (deployment.status === 'failed' || kubernetes.rollout?.phase === 'failed');
  const canRollBack =
    !!second ||
    deployment.history.some((event) => event.kind === 'promoted' || event.kind === 'split_changed') ||
    (rolloutFailed && deployment.revision > 1);
  return (
    <li
      className="jp-runlab-DeploymentCard"
      data-deployment={deployment.name}
      data-status={deployment.status}
      data-revision={deployment.revision}
    >
      <div className="jp-runlab-DeploymentCard-head">
        <strong className="jp-runlab-DeploymentCard-name">{deployment.name}</strong>
        <StatusBadge status={deployment.status} />
        {monitoring && <DeploymentDriftBadge monitoring={monitoring} deploymentId={deployment.id} />}
        <span className="jp-runlab-Muted">
          {kubernetes ? 'Kubernetes' : 'this machine'} · {replicasText(deployment)}
        </span>
      </div>
      {rolloutFailed && kubernetes ? (
        <div className="jp-runlab-Message jp-runlab-DeploymentCard-problem jp-runlab-KubeFailed" role="alert">
          <p>
            <strong>Rollout failed</strong> (revision {deployment.revision}): {failureReason(kubernetes) || deployment.statusMessage}
          </p>
          {canRollBack && (
            <button
              className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-KubeFailed-rollback"
              onClick={() => actions.rollback(deployment)}
            >
              Roll back to the last ready revision
            </button>
          )}
        </div>
      ) : (
        (deployment.status === 'failed' || deployment.status === 'degraded') &&
        deployment.statusMessage && (
          <p className="jp-runlab-Message jp-runlab-DeploymentCard-problem" role="alert">
            {deployment.statusMessage}
          </p>
        )
      )}
      <div className="jp-runlab-DeploymentCard-detail">
        <span className="jp-runlab-DeploymentSplit">{splitLabel(deployment.slots)}</span>
      </div>
      <div className="jp-runlab-DeploymentCard-detail jp-runlab-DeploymentCard-versions">
        <span className="jp-runlab-Muted">versions</span>
        {deployment.slots.map((slot) => (
          <button
            key={slot.role}
            className="jp-runlab-Link"
            title={`Open ${slot.modelName} v${slot.version}`}
            onClick={() => actions.openVersion(slot.modelName, slot.version)}
          >
            {slot.modelName} v{slot.version}
          </button>
        ))}
      </div>
      <div className="jp-runlab-DeploymentCard-detail">
        <Endpoint endpoint={deployment.endpoint} />
      </div>
      {kubernetes && !stopped && (
        <DeploymentKubernetesView kubernetes={kubernetes} failureShown={rolloutFailed} onReconcile={() => actions.reconcile(deployment)} />
      )}
      <Figures deployment={deployment} />
      <div className="jp-runlab-DeploymentCard-actions">
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-DeploymentTry"
          disabled={stopped || deployment.status === 'failed'}
          onClick={() => actions.tryIt(deployment)}
        >
          Try it…
        </button>
        {actions.monitor && (
          <button
            className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-DeploymentMonitoring"
            title="Traffic, drift per feature, alerts and Retrain"
            onClick={() => actions.monitor?.(deployment)}
          >
            Monitoring
          </button>
        )}
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-DeploymentPromote"
          disabled={stopped || second?.role !== 'canary'}
          title={second?.role === 'canary' ? `Make v${second.version} the stable version, with all the traffic` : 'No canary to promote'}
          onClick={() => actions.promote(deployment)}
        >
          Promote canary
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-DeploymentRollback"
          disabled={stopped || !canRollBack}
          title={
            second
              ? `Drop the ${second.role} (v${second.version})`
              : rolloutFailed
                ? 'Go back to the last revision that was ready'
                : 'Go back to the previous stable version'
          }
          onClick={() => actions.rollback(deployment)}
        >
          Roll back
        </button>
        <button
          className="jp-Button jp-mod-styled jp-runlab-Small jp-runlab-DeploymentSplitButton"
          disabled={stopped}
          onClick={() => actions.changeSplit(deployment)}
        >
          Change split…
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-warn jp-runlab-Small jp-runlab-DeploymentUndeploy"
          disabled={stopped}
          onClick={() => actions.undeploy(deployment)}
        >
          Undeploy…
        </button>
      </div>
      <details className="jp-runlab-HistorySection jp-runlab-DeploymentHistorySection">
        <summary>History ({deployment.history.length})</summary>
        <HistoryList events={deployment.history} />
      </details>
    </li>
  );
}

function DeploymentsList({
  model,
  actions,
  monitoring
}: {
  model: IDeploymentsModel;
  actions: IDeploymentsPanelActions;
  monitoring?: IMonitoringModel | null;
}): JSX.Element {
  const placeholder = serverListPlaceholder({
    list: model,
    count: model.deployments.length,
    bodyClass: 'jp-runlab-DeploymentsBody',
    loadingText: 'Loading deployments…',
    empty: <DeploymentsEmptyState onDeploy={actions.deploy} />
  });
  if (placeholder) {
    return placeholder;
  }
  const ready = model.deployments.filter((deployment) => deployment.status === 'ready').length;
  return (
    <div className="jp-runlab-DeploymentsBody">
      <div className="jp-runlab-DeploymentsSummary">
        <span className="jp-runlab-Muted">
          {model.deployments.length} {model.deployments.length === 1 ? 'deployment' : 'deployments'}, {ready} ready
        </span>
        <button className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small" onClick={actions.deploy}>
          Deploy model…
        </button>
      </div>
      <StaleListError list={model} />
      <ul className="jp-runlab-DeploymentList" aria-label="Deployments">
        {model.deployments.map((deployment) => (
          <DeploymentCard key={deployment.id} deployment={deployment} actions={actions} monitoring={monitoring} />
        ))}
      </ul>
    </div>
  );
}

export function DeploymentsPanelView({
  model,
  actions,
  monitoring
}: {
  model: IDeploymentsModel;
  actions: IDeploymentsPanelActions;
  /** The drift badges (absent without the monitoring plugin). */
  monitoring?: IMonitoringModel | null;
}): JSX.Element {
  return <UseSignal signal={model.changed}>{() => <DeploymentsList model={model} actions={actions} monitoring={monitoring} />}</UseSignal>;
}
