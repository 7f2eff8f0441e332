/**
 * Change split: the share of a deployment's canary (or the copied share of its shadow), another
 * second version, or none. Each change is a new revision the runtime swaps in without dropping
 * requests, and a line in the deployment's history.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import React, { useState } from 'react';
import type { Deployment } from '../../server/src/contract';
import { IModelsModel } from '../models/tokens';
import { RunlabRequestError } from '../request';
import { SubmittingDialog } from '../runners/dialog';
import { describeError } from '../shared/errors';
import { SecondFields } from './deployDialog';
import { defaultKubernetesValues } from '../kubernetes/format';
import { IDeployValues, splitRequest } from './deployRequest';
import { secondSlot, splitLabel, stableSlot } from './format';
import { IDeploymentsModel } from './tokens';

function SplitForm({
  values,
  deployment,
  versions,
  error
}: {
  values: IDeployValues & { reason: string };
  deployment: Deployment;
  versions: readonly number[];
  error: string | null;
}): JSX.Element {
  const [, setRevision] = useState(0);
  const edit = (change: () => void) => {
    change();
    setRevision((revision) => revision + 1);
  };
  const stable = stableSlot(deployment.slots);
  return (
    <div className="jp-runlab-SplitForm">
      {error && (
        <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
          {error}
        </p>
      )}
      <p>
        Now: <strong className="jp-runlab-DeploymentSplit">{splitLabel(deployment.slots)}</strong>
      </p>
      <SecondFields values={values} edit={edit} allowNone={true} />
      {values.mode !== 'none' && (
        <label className="jp-runlab-Field">
          <span>Version</span>
          <select
            className="jp-mod-styled"
            aria-label="Second version"
            value={values.secondVersion}
            onChange={(event) => edit(() => (values.secondVersion = event.target.value))}
          >
            <option value="">choose…</option>
            {versions
              .filter((version) => version !== stable?.version)
              .map((version) => (
                <option key={version} value={`v${version}`}>
                  v{version}
                </option>
              ))}
          </select>
        </label>
      )}
      <label className="jp-runlab-Field">
        <span>Reason (kept in the history)</span>
        <input
          className="jp-mod-styled"
          aria-label="Reason"
          value={values.reason}
          onChange={(event) => edit(() => (values.reason = event.target.value))}
        />
      </label>
    </div>
  );
}

class SplitBody extends ReactWidget {
  error: string | null = null;
  constructor(
    readonly values: IDeployValues & { reason: string },
    private readonly _deployment: Deployment,
    private readonly _versions: readonly number[]
  ) {
    super();
    this.addClass('jp-runlab-SplitDialog');
  }
  protected render(): JSX.Element {
    return <SplitForm values={this.values} deployment={this._deployment} versions={this._versions} error={this.error} />;
  }
}

/** Opens the dialog for `deployment`; answers it changed, or null when cancelled. */
export async function changeSplitDialog(
  registry: IModelsModel,
  deployments: IDeploymentsModel,
  deployment: Deployment
): Promise<Deployment | null> {
  const stable = stableSlot(deployment.slots);
  const second = secondSlot(deployment.slots);
  const modelName = stable?.modelName ?? deployment.slots[0]?.modelName ?? '';
  const versions = modelName ? (await registry.loadVersions(modelName).catch(() => [])).map((version) => version.version) : [];
  const values: IDeployValues & { reason: string } = {
    model: modelName,
    version: '',
    addTo: deployment.id,
    name: '',
    target: deployment.target,
    replicas: String(deployment.replicas),
    mode: second ? (second.role as 'canary' | 'shadow') : 'canary',
    secondVersion: second ? `v${second.version}` : '',
    percent: second ? String(second.percent) : '10',
    kubernetes: defaultKubernetesValues(),
    reason: ''
  };
  const body = new SplitBody(values, deployment, versions);
  let changed: Deployment | null = null;
  const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: 'Change split' })];
  const dialog = new SubmittingDialog<unknown>({ title: `Change the traffic split of ${deployment.name}`, body, buttons }, async () => {
    const request = splitRequest(values, values.reason.trim());
    try {
      if ('error' in request) {
        throw new Error(request.error);
      }
      changed = await deployments.updateTraffic(deployment.id, request);
      return true;
    } catch (error) {
      body.error =
        error instanceof RunlabRequestError && error.status !== 0 && error.status < 500
          ? [error.message, ...error.details.map((problem) => problem.message)].join(' ')
          : error instanceof RunlabRequestError
            ? describeError('Could not change the split', error, 'deployments')
            : (error as Error).message;
      body.update();
      return false;
    }
  });
  dialog.addClass('jp-runlab-TallDialog');
  const result = await dialog.launch();
  return result.button.accept ? changed : null;
}
