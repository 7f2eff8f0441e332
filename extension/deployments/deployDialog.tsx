/**
 * Deploy model: which model and version (or alias), the target (this machine, or a Kubernetes
 * context and namespace, checked for the rights the objects need before Deploy is enabled),
 * replicas, and an optional second version as a canary or a shadow. When the model already has
 * a live deployment, the dialog offers to add the version to it as its canary or shadow
 * instead. Once submitted, the deployment is followed live until ready (then the endpoint and
 * the try-it box) or failed (with its message).
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import { UseSignal } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import React, { useEffect, useState } from 'react';
import type { Deployment, DeploymentTarget } from '../../server/src/contract';
import { defaultKubernetesValues } from '../kubernetes/format';
import { accessOptionsOf, KubernetesDeployFields } from '../kubernetes/KubernetesDeployFields';
import { KubernetesTargetModel } from '../kubernetes/targetModel';
import { latestFromNotebook, newestFirst, resolveSelector, versionChoices } from '../models/format';
import { IModelsModel } from '../models/tokens';
import { RunlabRequestError } from '../request';
import { SubmittingDialog } from '../runners/dialog';
import { describeError } from '../shared/errors';
import type { IRunlabConnection } from '../tokens';
import { defaultDeploymentName, isLive, splitLabel, stableSlot } from './format';
import { deployRequest, IDeployValues, SecondMode } from './deployRequest';
import { IDeploymentsModel } from './tokens';

/** The targets a deployment can go to. */
const TARGETS: { value: DeploymentTarget; label: string }[] = [
  { value: 'local', label: 'This machine' },
  { value: 'kubernetes', label: 'Kubernetes' }
];

function DeployForm({
  values,
  registry,
  deployments,
  error,
  kubernetes,
  onEdit
}: {
  values: IDeployValues;
  registry: IModelsModel;
  deployments: IDeploymentsModel;
  error: string | null;
  /** The Kubernetes target's contexts, namespaces and access check, once that target was chosen. */
  kubernetes: () => KubernetesTargetModel;
  onEdit: () => void;
}): JSX.Element {
  const [, setRevision] = useState(0);
  const edit = (change: () => void) => {
    change();
    setRevision((revision) => revision + 1);
    onEdit();
  };
  useEffect(() => {
    if (values.model && !registry.versions(values.model)) {
      void registry.loadVersions(values.model).catch(() => undefined);
    }
  }, [values.model]);
  const model = registry.model(values.model);
  const versions = registry.versions(values.model) ?? [];
  const choices = model ? versionChoices(model, versions) : [];
  const live = deployments.deployments.filter(
    (deployment) => isLive(deployment) && deployment.slots.some((slot) => slot.modelName === values.model)
  );
  const chosen = model ? resolveSelector(model, values.version) : null;
  const secondChoices = choices.filter((choice) => choice.value.startsWith('v') && choice.value !== `v${chosen}`);
  return (
    <div className="jp-runlab-DeployForm">
      {error && (
        <p className="jp-runlab-Message jp-runlab-RunForm-error" role="alert">
          {error}
        </p>
      )}
      <label className="jp-runlab-Field">
        <span>Model</span>
        <select
          className="jp-mod-styled"
          aria-label="Model"
          value={values.model}
          onChange={(event) =>
            edit(() => {
              values.model = event.target.value;
              values.version = 'latest';
              values.addTo = '';
            })
          }
        >
          {registry.models.map((candidate) => (
            <option key={candidate.name} value={candidate.name}>
              {candidate.name}
            </option>
          ))}
        </select>
      </label>
      <label className="jp-runlab-Field">
        <span>Version or alias</span>
        <select
          className="jp-mod-styled"
          aria-label="Version"
          value={values.version}
          onChange={(event) => edit(() => (values.version = event.target.value))}
        >
          {choices.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
          {!choices.some((choice) => choice.value === values.version) && <option value={values.version}>{values.version}</option>}
        </select>
      </label>
      {live.length > 0 && (
        <fieldset className="jp-runlab-RunForm-section jp-runlab-DeployWhere">
          <legend>Deployment</legend>
          {live.map((deployment) => (
            <label key={deployment.id} className="jp-runlab-Radio">
              <input
                type="radio"
                name="jp-runlab-deploy-where"
                aria-label={`Add to ${deployment.name}`}
                checked={values.addTo === deployment.id}
                onChange={() =>
                  edit(() => {
                    values.addTo = deployment.id;
                    if (values.mode === 'none') {
                      values.mode = 'canary';
                    }
                  })
                }
              />{' '}
              Add to <strong>{deployment.name}</strong> (now {splitLabel(deployment.slots)}) as its canary or shadow
            </label>
          ))}
          <label className="jp-runlab-Radio">
            <input
              type="radio"
              name="jp-runlab-deploy-where"
              aria-label="A new deployment"
              checked={values.addTo === ''}
              onChange={() => edit(() => (values.addTo = ''))}
            />{' '}
            A new deployment
          </label>
        </fieldset>
      )}
      {values.addTo ? (
        <fieldset className="jp-runlab-RunForm-section">
          <legend>Traffic for {values.version === 'latest' && chosen ? `v${chosen}` : values.version}</legend>
          <SecondFields values={values} edit={edit} allowNone={false} />
          <p className="jp-runlab-Muted">
            {stableSlot(live.find((deployment) => deployment.id === values.addTo)?.slots ?? [])
              ? 'The stable version keeps the rest of the traffic; Promote in the Deployments panel makes this version stable, Roll back drops it.'
              : ''}
          </p>
        </fieldset>
      ) : (
        <>
          <label className="jp-runlab-Field">
            <span>Deployment name</span>
            <input
              className="jp-mod-styled"
              aria-label="Deployment name"
              placeholder={defaultDeploymentName(values.model)}
              value={values.name}
              onChange={(event) => edit(() => (values.name = event.target.value))}
            />
          </label>
          <div className="jp-runlab-DeployForm-row">
            <label className="jp-runlab-Field">
              <span>Target</span>
              <select
                className="jp-mod-styled"
                aria-label="Target"
                value={values.target}
                onChange={(event) => edit(() => (values.target = event.target.value as DeploymentTarget))}
              >
                {TARGETS.map((target) => (
                  <option key={target.value} value={target.value}>
                    {target.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="jp-runlab-Field">
              <span>Replicas</span>
              <input
                className="jp-mod-styled"
                aria-label="Replicas"
                type="number"
                min={1}
                max={16}
                value={values.replicas}
                onChange={(event) => edit(() => (values.replicas = event.target.value))}
              />
            </label>
          </div>
          {values.target === 'kubernetes' && <KubernetesDeployFields values={values.kubernetes} target={kubernetes()} edit={edit} />}
          <fieldset className="jp-runlab-RunForm-section">
            <legend>Second version</legend>
            <SecondFields values={values} edit={edit} allowNone={true} />
            {values.mode !== 'none' && (
              <label className="jp-runlab-Field">
                <span>{values.mode === 'canary' ? 'Canary version' : 'Shadow version'}</span>
                <select
                  className="jp-mod-styled"
                  aria-label="Second version"
                  value={values.secondVersion}
                  onChange={(event) => edit(() => (values.secondVersion = event.target.value))}
                >
                  <option value="">choose…</option>
                  {secondChoices.map((choice) => (
                    <option key={choice.value} value={choice.value}>
                      {choice.label}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </fieldset>
        </>
      )}
    </div>
  );
}

export function SecondFields({
  values,
  edit,
  allowNone
}: {
  values: IDeployValues;
  edit: (change: () => void) => void;
  allowNone: boolean;
}): JSX.Element {
  const modes: { mode: SecondMode; label: string }[] = [
    ...(allowNone ? [{ mode: 'none' as const, label: 'None: one version takes all traffic' }] : []),
    { mode: 'canary', label: 'Canary: answers a share of the requests' },
    { mode: 'shadow', label: 'Shadow: gets a copy of a share of the requests; its answers are logged, never returned' }
  ];
  return (
    <>
      {modes.map(({ mode, label }) => (
        <label key={mode} className="jp-runlab-Radio">
          <input
            type="radio"
            name="jp-runlab-deploy-mode"
            aria-label={mode}
            checked={values.mode === mode}
            onChange={() => edit(() => (values.mode = mode))}
          />{' '}
          {label}
        </label>
      ))}
      {values.mode !== 'none' && (
        <label className="jp-runlab-Field jp-runlab-PercentField">
          <span>Percent of the requests</span>
          <input
            className="jp-mod-styled"
            aria-label="Percent"
            inputMode="decimal"
            value={values.percent}
            onChange={(event) => edit(() => (values.percent = event.target.value))}
          />
        </label>
      )}
    </>
  );
}

class DeployBody extends ReactWidget {
  error: string | null = null;
  constructor(
    readonly values: IDeployValues,
    private readonly _registry: IModelsModel,
    private readonly _deployments: IDeploymentsModel,
    private readonly _connection: IRunlabConnection
  ) {
    super();
    this.addClass('jp-runlab-DeployDialog');
  }

  /** Fires on every edit and every answer of the Kubernetes checks: Deploy's state may change. */
  get edited(): ISignal<this, void> {
    return this._edited;
  }

  /** null until the Kubernetes target is first chosen: a local deployment never asks the cluster. */
  get kubernetes(): KubernetesTargetModel | null {
    return this._kubernetes;
  }

  /** Why Deploy is disabled now, or null when it may be pressed. */
  get blocked(): string | null {
    if (this.values.addTo || this.values.target !== 'kubernetes') {
      return null;
    }
    const target = this._kubernetes;
    if (!target || !target.place.context) {
      return 'Choose a Kubernetes context.';
    }
    if (!target.checking && !target.access && target.error) {
      return target.error;
    }
    if (target.checking || !target.access) {
      return 'Waiting for the access check.';
    }
    return target.allowed ? null : 'The context may not create what the deployment needs in this namespace (see the missing rights).';
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._registry.changed}>
        {() => (
          <DeployForm
            values={this.values}
            registry={this._registry}
            deployments={this._deployments}
            error={this.error}
            kubernetes={() => this._kubernetesTarget()}
            onEdit={() => this._edited.emit()}
          />
        )}
      </UseSignal>
    );
  }

  private _kubernetesTarget(): KubernetesTargetModel {
    if (!this._kubernetes) {
      const target = new KubernetesTargetModel(this._connection, 'deployment', this.values.kubernetes);
      target.changed.connect(() => this._edited.emit());
      this._kubernetes = target;
      void target.start(accessOptionsOf(this.values.kubernetes));
    }
    return this._kubernetes;
  }

  private _kubernetes: KubernetesTargetModel | null = null;
  private readonly _edited = new Signal<this, void>(this);
}

function refusal(error: unknown): string {
  // The cluster's refusal (403, naming the verb and resource) and unavailability (503) are the server's own sentences.
  const clusterAnswer = error instanceof RunlabRequestError && (error.code === 'forbidden' || error.code === 'unavailable');
  if (error instanceof RunlabRequestError && (error.status === 400 || error.status === 409 || error.status === 404 || clusterAnswer)) {
    const details = error.details.map((problem) => problem.message).filter((message) => !error.message.includes(message));
    return [error.message, ...details].join(' ');
  }
  return describeError('Could not deploy', error, 'deployments');
}

/**
 * The model and version the dialog starts with: the ones asked for; else the newest version
 * logged from this notebook (among the most recently updated models); else the newest model.
 */
export async function defaultModelChoice(
  registry: IModelsModel,
  notebookPath: string | null,
  preset: { model?: string; version?: string }
): Promise<{ model: string; version: string } | null> {
  if (!registry.models.length) {
    await registry.refresh();
  }
  if (preset.model) {
    return { model: preset.model, version: preset.version || 'latest' };
  }
  if (notebookPath) {
    const recent = registry.models.slice(0, 20);
    const lists = await Promise.all(recent.map((model) => registry.loadVersions(model.name).catch(() => [])));
    const fromNotebook = latestFromNotebook(newestFirst(lists.flat()), notebookPath);
    if (fromNotebook) {
      return { model: fromNotebook.modelName, version: `v${fromNotebook.version}` };
    }
  }
  const newest = registry.models[0];
  return newest ? { model: newest.name, version: 'latest' } : null;
}

/** Opens the dialog; answers the deployment created (or changed), or null when cancelled. */
export async function deployModelDialog(
  connection: IRunlabConnection,
  registry: IModelsModel,
  deployments: IDeploymentsModel,
  start: { model: string; version: string }
): Promise<Deployment | null> {
  await Promise.all([registry.loadVersions(start.model).catch(() => undefined), deployments.refresh()]);
  const live = deployments.deployments.find(
    (deployment) => isLive(deployment) && deployment.slots.some((slot) => slot.modelName === start.model)
  );
  const model = registry.model(start.model);
  const chosen = model ? resolveSelector(model, start.version) : null;
  // Offer the live deployment when this version is not what it serves already.
  const addTo = live && !live.slots.some((slot) => slot.version === chosen) ? live.id : '';
  const values: IDeployValues = {
    model: start.model,
    version: start.version,
    addTo,
    name: '',
    target: 'local',
    replicas: '1',
    mode: addTo ? 'canary' : 'none',
    secondVersion: '',
    percent: '10',
    kubernetes: defaultKubernetesValues()
  };
  const body = new DeployBody(values, registry, deployments, connection);
  let deployment: Deployment | null = null;
  const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: 'Deploy' })];
  const dialog = new SubmittingDialog<unknown>({ title: 'Deploy model', body, buttons }, async () => {
    const checked = deployRequest(values);
    try {
      if ('error' in checked) {
        throw new Error(checked.error);
      }
      if (body.blocked) {
        throw new Error(body.blocked);
      }
      deployment =
        checked.kind === 'create'
          ? await deployments.create(checked.request)
          : await deployments.updateTraffic(checked.id, {
              second: checked.second,
              reason: `${checked.second.mode} from the Deploy model dialog`
            });
      return true;
    } catch (error) {
      body.error = error instanceof RunlabRequestError ? refusal(error) : (error as Error).message;
      body.update();
      return false;
    }
  });
  dialog.addClass('jp-runlab-TallDialog');
  // Deploy stays disabled while the Kubernetes access check is missing or says no.
  const updateDeployButton = () => {
    const button = dialog.node.querySelector<HTMLButtonElement>('.jp-Dialog-footer .jp-mod-accept');
    if (button) {
      const blocked = body.blocked;
      button.disabled = blocked !== null;
      button.title = blocked ?? '';
    }
  };
  body.edited.connect(updateDeployButton);
  requestAnimationFrame(updateDeployButton);
  const result = await dialog.launch();
  return result.button.accept ? deployment : null;
}
