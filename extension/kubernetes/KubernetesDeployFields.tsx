/**
 * The Deploy dialog's Kubernetes part: context and namespace (with the access check), how it is
 * served (a Deployment, or a KServe InferenceService when the cluster has KServe), the pods'
 * CPU and memory, and optionally an autoscaler and an ingress host.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { IAccessOptions, KubernetesTargetModel } from './targetModel';
import { IKubernetesValues } from './format';
import { TargetFields } from './TargetFields';
import { TextField } from '../shared/TextField';

/** What the objects would need rights for, from the form. */
export function accessOptionsOf(values: IKubernetesValues): IAccessOptions {
  return { autoscale: values.autoscale, ingress: values.ingressHost.trim() !== '', kserve: values.backend === 'kserve' };
}

export function KubernetesDeployFields({
  values,
  target,
  edit
}: {
  values: IKubernetesValues;
  target: KubernetesTargetModel;
  /** Applies a change to `values` and renders again. */
  edit: (change: () => void) => void;
}): JSX.Element {
  const change = (apply: () => void) => {
    edit(apply);
    void target.setOptions(accessOptionsOf(values));
  };
  return <UseSignal signal={target.changed}>{() => renderFields(values, target, edit, change)}</UseSignal>;
}

function renderFields(
  values: IKubernetesValues,
  target: KubernetesTargetModel,
  edit: (change: () => void) => void,
  change: (change: () => void) => void
): JSX.Element {
  const kserveAvailable = target.access?.kserveAvailable === true;
  return (
    <fieldset className="jp-runlab-RunForm-section jp-runlab-KubeFields">
      <legend>Kubernetes</legend>
      <TargetFields target={target} />
      <label className="jp-runlab-Field">
        <span>Served by</span>
        <select
          className="jp-mod-styled"
          aria-label="Backend"
          value={values.backend}
          onChange={(event) => change(() => (values.backend = event.target.value as IKubernetesValues['backend']))}
        >
          <option value="deployment">Deployment + Service (the Runlab serving image)</option>
          {(kserveAvailable || values.backend === 'kserve') && <option value="kserve">KServe InferenceService</option>}
        </select>
      </label>
      <div className="jp-runlab-DeployForm-row">
        <TextField label="CPU request" value={values.cpuRequest} placeholder="100m" onChange={(v) => edit(() => (values.cpuRequest = v))} />
        <TextField
          label="Memory request"
          value={values.memoryRequest}
          placeholder="256Mi"
          onChange={(v) => edit(() => (values.memoryRequest = v))}
        />
      </div>
      <div className="jp-runlab-DeployForm-row">
        <TextField label="CPU limit" value={values.cpuLimit} placeholder="none" onChange={(v) => edit(() => (values.cpuLimit = v))} />
        <TextField
          label="Memory limit"
          value={values.memoryLimit}
          placeholder="none"
          onChange={(v) => edit(() => (values.memoryLimit = v))}
        />
      </div>
      <label className="jp-runlab-Radio">
        <input
          type="checkbox"
          aria-label="Autoscale"
          checked={values.autoscale}
          onChange={(event) => change(() => (values.autoscale = event.target.checked))}
        />{' '}
        Autoscale on CPU (a HorizontalPodAutoscaler)
      </label>
      {values.autoscale && (
        <div className="jp-runlab-DeployForm-row jp-runlab-KubeAutoscale">
          <TextField
            label="Min replicas"
            inputMode="numeric"
            value={values.minReplicas}
            onChange={(v) => edit(() => (values.minReplicas = v))}
          />
          <TextField
            label="Max replicas"
            inputMode="numeric"
            value={values.maxReplicas}
            onChange={(v) => edit(() => (values.maxReplicas = v))}
          />
          <TextField
            label="Target CPU %"
            inputMode="numeric"
            value={values.targetCpuPercent}
            onChange={(v) => edit(() => (values.targetCpuPercent = v))}
          />
        </div>
      )}
      <TextField
        label="Ingress host"
        value={values.ingressHost}
        placeholder="optional: models.example.com"
        onChange={(v) => change(() => (values.ingressHost = v))}
      />
    </fieldset>
  );
}
