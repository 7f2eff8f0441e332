/**
 * One deployment followed live (in the Deploy model dialog once submitted, and from the
 * Deployments panel's Try it): its status until ready or failed, then the endpoint and the
 * try-it box, prefilled from the stable version's signature and input example.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';
import type { Deployment, ModelVersion } from '../../server/src/contract';
import { DeploymentKubernetesView } from '../kubernetes/DeploymentKubernetesView';
import { describeError } from '../shared/errors';
import { IRunlabConnection } from '../tokens';
import { isSettled, progressText, splitLabel, STATUS_LABELS, stableSlot } from './format';
import { IDeploymentsModel } from './tokens';
import { buildInferRequest, requestText } from './tryIt';
import { Endpoint, TryIt } from './TryIt';

export function StatusBadge({ status }: { status: Deployment['status'] }): JSX.Element {
  return (
    <span className="jp-runlab-Badge jp-runlab-DeploymentStatus" data-status={status}>
      {STATUS_LABELS[status]}
    </span>
  );
}

/** The stable version's signature and example, read once per version. */
function useStableVersion(
  connection: IRunlabConnection,
  deployment: Deployment | null
): { version: ModelVersion | null; error: string | null } {
  const stable = deployment ? stableSlot(deployment.slots) : null;
  const [state, setState] = useState<{ key: string; version: ModelVersion | null; error: string | null }>({
    key: '',
    version: null,
    error: null
  });
  const key = stable ? `${stable.modelName}@${stable.version}` : '';
  useEffect(() => {
    if (!stable || state.key === key) {
      return;
    }
    connection.api.models.getModelVersion({ params: { name: stable.modelName, version: String(stable.version) } }).then(
      (version) => setState({ key, version, error: null }),
      (error) => setState({ key, version: null, error: describeError('Could not read the version’s signature', error, 'models') })
    );
  }, [key]);
  return state.key === key ? state : { version: null, error: null };
}

function StatusBody({
  connection,
  deployments,
  id
}: {
  connection: IRunlabConnection;
  deployments: IDeploymentsModel;
  id: string;
}): JSX.Element {
  const deployment = deployments.deployment(id);
  const { version, error } = useStableVersion(connection, deployment);
  if (!deployment) {
    return <p className="jp-runlab-Muted">Loading the deployment…</p>;
  }
  const stable = stableSlot(deployment.slots);
  const settled = isSettled(deployment.status);
  return (
    <div
      className="jp-runlab-DeploymentProgress"
      data-deployment={deployment.name}
      data-status={deployment.status}
      data-revision={deployment.revision}
    >
      <div className="jp-runlab-DeploymentProgress-head">
        <StatusBadge status={deployment.status} />
        <span className="jp-runlab-DeploymentProgress-text" role="status">
          {progressText(deployment)}
        </span>
        {!settled && <span className="jp-runlab-Spinner" aria-hidden="true" />}
      </div>
      <table className="jp-runlab-Table">
        <tbody>
          <tr>
            <th scope="row">Deployment</th>
            <td>
              {deployment.name} · {deployment.kubernetes ? 'Kubernetes' : 'this machine'} · revision {deployment.revision}
            </td>
          </tr>
          <tr>
            <th scope="row">Traffic</th>
            <td className="jp-runlab-DeploymentSplit">{splitLabel(deployment.slots)}</td>
          </tr>
          <tr>
            <th scope="row">Endpoint</th>
            <td>
              <Endpoint endpoint={deployment.endpoint} />
            </td>
          </tr>
        </tbody>
      </table>
      {deployment.kubernetes && deployment.status !== 'stopped' && <DeploymentKubernetesView kubernetes={deployment.kubernetes} />}
      {deployment.status === 'failed' && (
        <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
          {deployment.statusMessage || 'The serving process did not start.'}{' '}
          {deployment.kubernetes
            ? 'Roll back in the Deployments panel goes back to the last revision that was ready.'
            : 'The Deployments panel keeps its history; fix the cause and deploy again.'}
        </p>
      )}
      {error && (
        <p className="jp-runlab-Message" role="alert">
          {error}
        </p>
      )}
      {(deployment.status === 'ready' || deployment.status === 'degraded') && stable && version && (
        <TryIt
          key={`${version.id}`}
          deployment={deployment}
          modelName={stable.modelName}
          initialRequest={requestText(buildInferRequest(version.signature, version.inputExample))}
        />
      )}
    </div>
  );
}

export class DeploymentStatusWidget extends ReactWidget {
  constructor(
    private readonly _connection: IRunlabConnection,
    private readonly _deployments: IDeploymentsModel,
    private readonly _id: string
  ) {
    super();
    this.addClass('jp-runlab-DeploymentDialog');
  }
  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._deployments.changed}>
        {() => <StatusBody connection={this._connection} deployments={this._deployments} id={this._id} />}
      </UseSignal>
    );
  }
}

/** A dialog following one deployment until the user closes it. */
export async function showDeploymentStatus(
  connection: IRunlabConnection,
  deployments: IDeploymentsModel,
  deployment: Deployment,
  options: { title?: string; onShowPanel?: () => void } = {}
): Promise<void> {
  const buttons = options.onShowPanel
    ? [Dialog.cancelButton({ label: 'Show Deployments' }), Dialog.okButton({ label: 'Close' })]
    : [Dialog.okButton({ label: 'Close' })];
  const dialog = new Dialog({
    title: options.title ?? `Deployment ${deployment.name}`,
    body: new DeploymentStatusWidget(connection, deployments, deployment.id),
    buttons
  });
  // Room for the try-it answer: JupyterLab's dialogs are 500 px high at most.
  dialog.addClass('jp-runlab-TallDialog');
  const result = await dialog.launch();
  if (options.onShowPanel && !result.button.accept && result.button.label === 'Show Deployments') {
    options.onShowPanel();
  }
}
