/**
 * Add runner pool: a name, a Kubernetes context and namespace (checked up front for the rights
 * a pool needs: Jobs, Secrets…), the image its pods run, the labels its runners have, each pod's
 * CPU and memory, a node selector and a cap on parallel pods. Add stays disabled until the
 * access check says yes; a refusal from the server keeps the dialog open with what was typed.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';
import React, { useState } from 'react';
import type { RunnerPool } from '../../server/src/contract';
import { clusterErrorText, KubernetesTargetModel } from '../kubernetes/targetModel';
import { TargetFields } from '../kubernetes/TargetFields';
import type { IRunlabConnection } from '../tokens';
import { SubmittingDialog } from './dialog';
import { defaultPoolValues, IPoolValues, poolRequest } from './pools';
import { IRunnerPoolsModel } from './tokens';

type TextKey = Exclude<keyof IPoolValues, 'context' | 'namespace'>;

function PoolForm({
  values,
  target,
  error,
  onEdit
}: {
  values: IPoolValues;
  target: KubernetesTargetModel;
  error: string | null;
  onEdit: () => void;
}): JSX.Element {
  const [, setRevision] = useState(0);
  const field = (key: TextKey, label: string, placeholder: string, extra: { autoFocus?: boolean; multiline?: boolean } = {}) => {
    const onChange = (value: string) => {
      values[key] = value;
      setRevision((revision) => revision + 1);
      onEdit();
    };
    return (
      <label className="jp-runlab-Field">
        <span>{label}</span>
        {extra.multiline ? (
          <textarea
            className="jp-mod-styled"
            aria-label={label}
            placeholder={placeholder}
            rows={2}
            value={values[key]}
            onChange={(event) => onChange(event.target.value)}
          />
        ) : (
          <input
            className="jp-mod-styled"
            aria-label={label}
            placeholder={placeholder}
            autoFocus={extra.autoFocus}
            value={values[key]}
            onChange={(event) => onChange(event.target.value)}
          />
        )}
      </label>
    );
  };
  return (
    <div className="jp-runlab-RunnerForm jp-runlab-PoolForm">
      {error && (
        <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
          {error}
        </p>
      )}
      {field('name', 'Pool name', 'e.g. gpu-pool', { autoFocus: true })}
      <TargetFields target={target} />
      {field('image', 'Image', "default: the server's runner image (RUNLAB_RUNNER_IMAGE)")}
      {field('labels', 'Labels', 'e.g. gpu, bigmem (optional)')}
      <div className="jp-runlab-DeployForm-row">
        {field('cpuRequest', 'CPU request', '500m')}
        {field('memoryRequest', 'Memory request', '1Gi')}
        {field('maxParallel', 'Max parallel pods', '4')}
      </div>
      {field('nodeSelector', 'Node selector', 'optional key=value pairs, comma-separated: gpu=true, zone=eu-1', { multiline: true })}
      <p className="jp-runlab-Muted">
        Each queued job that no connected runner takes becomes a Kubernetes Job here: its pod runs the notebook and exits. Jobs that ask for
        labels only go to pools whose runners have all of them.
      </p>
    </div>
  );
}

class AddPoolBody extends ReactWidget {
  readonly values = defaultPoolValues();
  readonly target: KubernetesTargetModel;
  error: string | null = null;
  constructor(connection: IRunlabConnection) {
    super();
    this.addClass('jp-runlab-RunnerDialog');
    this.addClass('jp-runlab-PoolDialog');
    this.target = new KubernetesTargetModel(connection, 'runnerPool', this.values);
    this.target.changed.connect(() => this._edited.emit());
    void this.target.start();
  }
  get edited(): ISignal<this, void> {
    return this._edited;
  }
  /** Why Add is disabled now, or null. */
  get blocked(): string | null {
    if (!this.values.context) {
      return 'Choose a Kubernetes context.';
    }
    if (!this.target.checking && !this.target.access && this.target.error) {
      return this.target.error;
    }
    if (this.target.checking || !this.target.access) {
      return 'Waiting for the access check.';
    }
    return this.target.allowed ? null : 'The context may not create what a runner pool needs in this namespace (see the missing rights).';
  }
  protected render(): JSX.Element {
    return <PoolForm values={this.values} target={this.target} error={this.error} onEdit={() => this._edited.emit()} />;
  }
  private readonly _edited = new Signal<this, void>(this);
}

/** Asks for the pool, checks the rights, adds it; null when cancelled. */
export async function addRunnerPoolDialog(connection: IRunlabConnection, pools: IRunnerPoolsModel): Promise<RunnerPool | null> {
  const body = new AddPoolBody(connection);
  let created: RunnerPool | null = null;
  const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: 'Add pool' })];
  const dialog = new SubmittingDialog<unknown>({ title: 'Add a Kubernetes runner pool', body, buttons }, async () => {
    const checked = poolRequest(body.values);
    body.error = 'error' in checked ? checked.error : body.blocked;
    if (!body.error && 'request' in checked) {
      try {
        created = await pools.create(checked.request);
        return true;
      } catch (error) {
        body.error = clusterErrorText('Could not add the runner pool', error);
      }
    }
    body.update();
    return false;
  });
  dialog.addClass('jp-runlab-TallDialog');
  const updateAddButton = () => {
    const button = dialog.node.querySelector<HTMLButtonElement>('.jp-Dialog-footer .jp-mod-accept');
    if (button) {
      const blocked = body.blocked;
      button.disabled = blocked !== null;
      button.title = blocked ?? '';
    }
  };
  body.edited.connect(updateAddButton);
  requestAnimationFrame(updateAddButton);
  const result = await dialog.launch();
  return result.button.accept ? created : null;
}
