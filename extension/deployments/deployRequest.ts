/**
 * What the Deploy model and Change split dialogs send, from what their forms hold: a new
 * deployment, or a canary/shadow added to (or changed on, or dropped from) a live one; or a
 * sentence saying what to fix before anything is sent.
 */
import type { CreateDeploymentRequest, DeploymentTarget, UpdateTrafficRequest } from '../../server/src/contract';
import { IKubernetesValues, kubernetesRequest } from '../kubernetes/format';

export type SecondMode = 'none' | 'canary' | 'shadow';

export interface IDeployValues {
  model: string;
  version: string;
  /** A live deployment of the model to add the version to (as canary or shadow); '' for a new one. */
  addTo: string;
  name: string;
  target: DeploymentTarget;
  replicas: string;
  mode: SecondMode;
  secondVersion: string;
  percent: string;
  /** The Kubernetes target's fields (context, namespace, resources…); read only for that target. */
  kubernetes: IKubernetesValues;
}

/** What the form holds, checked: the request to send, or a sentence saying what to fix. */
export function deployRequest(
  values: IDeployValues
):
  | { kind: 'create'; request: CreateDeploymentRequest }
  | { kind: 'traffic'; id: string; second: { mode: 'canary' | 'shadow'; version: string; percent: number } }
  | { error: string } {
  if (!values.model) {
    return { error: 'Choose a model.' };
  }
  const percent = Number(values.percent);
  const needsPercent = values.addTo !== '' || values.mode !== 'none';
  if (needsPercent && (!Number.isFinite(percent) || percent < 0.1 || percent > 99.9)) {
    return { error: 'The percentage is a number from 0.1 to 99.9.' };
  }
  if (values.addTo) {
    const mode = values.mode === 'shadow' ? 'shadow' : 'canary';
    return { kind: 'traffic', id: values.addTo, second: { mode, version: values.version, percent } };
  }
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16) {
    return { error: 'Replicas is a whole number from 1 to 16.' };
  }
  const request: CreateDeploymentRequest = { model: values.model, version: values.version, target: values.target, replicas };
  if (values.name.trim()) {
    request.name = values.name.trim();
  }
  if (values.target === 'kubernetes') {
    const kubernetes = kubernetesRequest(values.kubernetes);
    if ('error' in kubernetes) {
      return kubernetes;
    }
    request.kubernetes = kubernetes.request;
  }
  if (values.mode !== 'none') {
    if (!values.secondVersion || values.secondVersion === values.version) {
      return { error: `Choose a second version other than ${values.version} for the ${values.mode}.` };
    }
    request.second = { mode: values.mode, version: values.secondVersion, percent };
  }
  return { kind: 'create', request };
}

/** The traffic request the split form holds, or what to fix. */
export function splitRequest(
  values: Pick<IDeployValues, 'mode' | 'secondVersion' | 'percent'>,
  reason: string
): UpdateTrafficRequest | { error: string } {
  if (values.mode === 'none') {
    return { second: null, reason };
  }
  const percent = Number(values.percent);
  if (!Number.isFinite(percent) || percent < 0.1 || percent > 99.9) {
    return { error: 'The percentage is a number from 0.1 to 99.9.' };
  }
  if (!values.secondVersion) {
    return { error: `Choose the ${values.mode} version.` };
  }
  return { second: { mode: values.mode, version: values.secondVersion, percent }, reason };
}
