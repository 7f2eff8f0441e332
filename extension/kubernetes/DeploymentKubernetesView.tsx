/**
 * A Kubernetes deployment as the cluster sees it, in the Deployments panel and the progress
 * dialog: where it is (context / namespace) and what Runlab created there, the rollout's
 * progress, each pod's state, the newest events, drift from what Runlab wrote (with Reconcile),
 * and why the cluster cannot be read, when it cannot. Live: the deployment arrives again on every
 * `deployment:updated`.
 */
import React from 'react';
import type { DeploymentKubernetes } from '../../server/src/contract';
import { formatTime, relativeTime } from '../shared/format';
import { driftText, eventHead, objectText, podStateText, ROLLOUT_LABELS, rolloutCounts } from './format';

/** How many events the card shows (the server keeps the newest first). */
const SHOWN_EVENTS = 3;

function Rollout({ kubernetes, showMessage }: { kubernetes: DeploymentKubernetes; showMessage: boolean }): JSX.Element {
  const rollout = kubernetes.rollout;
  if (!rollout) {
    return <div className="jp-runlab-KubeRollout jp-runlab-Muted">Rollout not observed yet.</div>;
  }
  return (
    <div className="jp-runlab-KubeRollout" data-phase={rollout.phase}>
      <span className="jp-runlab-Badge jp-runlab-KubeRollout-phase" data-phase={rollout.phase}>
        {ROLLOUT_LABELS[rollout.phase]}
      </span>{' '}
      <span className="jp-runlab-KubeRollout-counts">{rolloutCounts(rollout)}</span>
      {showMessage && rollout.message && <div className="jp-runlab-Muted jp-runlab-KubeRollout-message">{rollout.message}</div>}
    </div>
  );
}

function Pods({ pods }: { pods: DeploymentKubernetes['pods'] }): JSX.Element {
  if (!pods.length) {
    return <p className="jp-runlab-Muted jp-runlab-KubePods-empty">No pods yet.</p>;
  }
  return (
    <ul className="jp-runlab-KubePods" aria-label="Pods">
      {pods.map((pod) => (
        <li
          key={pod.name}
          className="jp-runlab-KubePod"
          data-pod={pod.name}
          data-phase={pod.phase}
          data-ready={pod.ready ? 'true' : 'false'}
          title={pod.node ? `on ${pod.node}` : 'not scheduled'}
        >
          <span className="jp-runlab-KubePod-dot" data-ready={pod.ready ? 'true' : 'false'} aria-hidden="true" />
          <code className="jp-runlab-KubePod-name">{pod.name}</code>
          <span className="jp-runlab-KubePod-state">
            {podStateText(pod)} · revision {pod.revision}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Events({ events }: { events: DeploymentKubernetes['events'] }): JSX.Element {
  if (!events.length) {
    return <p className="jp-runlab-Muted">No events.</p>;
  }
  return (
    <ol className="jp-runlab-KubeEvents" aria-label="Kubernetes events">
      {events.slice(0, SHOWN_EVENTS).map((event, index) => (
        <li key={`${event.object}-${event.reason}-${event.at}-${index}`} className="jp-runlab-KubeEvent" data-type={event.type}>
          <strong className="jp-runlab-KubeEvent-reason">{eventHead(event)}</strong>{' '}
          <span className="jp-runlab-KubeEvent-message">{event.message}</span>
          <div className="jp-runlab-Muted" title={formatTime(event.at)}>
            {event.object} · {relativeTime(event.at)}
          </div>
        </li>
      ))}
    </ol>
  );
}

export function DeploymentKubernetesView({
  kubernetes,
  onReconcile,
  failureShown = false
}: {
  kubernetes: DeploymentKubernetes;
  /** The card says why the rollout failed above this view: the rollout's message is not repeated. */
  failureShown?: boolean;
  /** Write the objects again as Runlab wants them; absent where the view only shows. */
  onReconcile?: () => void;
}): JSX.Element {
  return (
    <div className="jp-runlab-KubeDeployment" data-context={kubernetes.context} data-namespace={kubernetes.namespace}>
      <div className="jp-runlab-KubePlace">
        <span className="jp-runlab-Badge jp-runlab-KubePlace-where" title="context / namespace">
          {kubernetes.context} / {kubernetes.namespace}
        </span>
        <span className="jp-runlab-Muted">{kubernetes.backend === 'kserve' ? 'KServe InferenceService' : 'Deployment'}</span>
        {kubernetes.observedAt && (
          <span className="jp-runlab-Muted" title={formatTime(kubernetes.observedAt)}>
            observed {relativeTime(kubernetes.observedAt)}
          </span>
        )}
      </div>
      {kubernetes.clusterError && (
        <p className="jp-runlab-Message jp-runlab-KubeClusterError" role="alert">
          {kubernetes.clusterError}
        </p>
      )}
      {kubernetes.objects.length > 0 && (
        <div className="jp-runlab-KubeObjects" aria-label="Kubernetes objects">
          {kubernetes.objects.map((object) => (
            <code key={objectText(object)} className="jp-runlab-KubeObject">
              {objectText(object)}
            </code>
          ))}
        </div>
      )}
      <Rollout kubernetes={kubernetes} showMessage={!failureShown} />
      <Pods pods={kubernetes.pods} />
      {kubernetes.drift.length > 0 && (
        <div className="jp-runlab-KubeDrift" role="alert">
          <strong>Changed outside Runlab</strong>
          <ul>
            {kubernetes.drift.map((drift) => (
              <li key={`${objectText(drift.object)}-${drift.field}`} className="jp-runlab-KubeDrift-item">
                <code>{objectText(drift.object)}</code> {driftText(drift)}
              </li>
            ))}
          </ul>
          {onReconcile && (
            <button
              className="jp-Button jp-mod-styled jp-mod-accept jp-runlab-Small jp-runlab-KubeReconcile"
              title="Write the objects again as Runlab wants them"
              onClick={onReconcile}
            >
              Reconcile
            </button>
          )}
        </div>
      )}
      <div className="jp-runlab-KubeEventsSection">
        <div className="jp-runlab-KubeSectionTitle">
          Events{kubernetes.events.length > SHOWN_EVENTS ? ` (newest ${SHOWN_EVENTS} of ${kubernetes.events.length})` : ''}
        </div>
        <Events events={kubernetes.events} />
      </div>
    </div>
  );
}
