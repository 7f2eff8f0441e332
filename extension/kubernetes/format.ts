/**
 * How Kubernetes reads in the Deploy and Add pool dialogs and the Deployments and Runners
 * panels: what the forms hold, checked into the contract's requests; access-check answers;
 * rollout progress, pod states, object names and drift, in a line each.
 */
import type {
  DeploymentKubernetes,
  KubernetesDeploymentRequest,
  KubernetesDrift,
  KubernetesObjectRef,
  MissingRight
} from '../../server/src/contract';

/** As the contract checks them: `500m`, `2`, `512Mi`, `4Gi`. */
const QUANTITY = /^(\d+(\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export type KubernetesPod = DeploymentKubernetes['pods'][number];
export type KubernetesEvent = DeploymentKubernetes['events'][number];
export type KubernetesRollout = NonNullable<DeploymentKubernetes['rollout']>;
export type KubernetesBackend = DeploymentKubernetes['backend'];

/** The Deploy dialog's Kubernetes fields, as typed (text until checked). */
export interface IKubernetesValues {
  context: string;
  namespace: string;
  backend: KubernetesBackend;
  cpuRequest: string;
  memoryRequest: string;
  cpuLimit: string;
  memoryLimit: string;
  autoscale: boolean;
  minReplicas: string;
  maxReplicas: string;
  targetCpuPercent: string;
  ingressHost: string;
}

export function defaultKubernetesValues(): IKubernetesValues {
  return {
    context: '',
    namespace: '',
    backend: 'deployment',
    cpuRequest: '100m',
    memoryRequest: '256Mi',
    cpuLimit: '',
    memoryLimit: '',
    autoscale: false,
    minReplicas: '1',
    maxReplicas: '3',
    targetCpuPercent: '80',
    ingressHost: ''
  };
}

function wholeNumber(text: string, min: number, max: number): number | null {
  const value = Number(text);
  return text.trim() !== '' && Number.isInteger(value) && value >= min && value <= max ? value : null;
}

/**
 * CPU and memory requests (both needed) and limits (each optional), checked; or what to fix.
 * `what` names the thing in the sentence ("the pods").
 */
export function resourcesFrom(
  values: Pick<IKubernetesValues, 'cpuRequest' | 'memoryRequest' | 'cpuLimit' | 'memoryLimit'>
): { resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory?: string } } } | { error: string } {
  const fields: [string, string, boolean][] = [
    ['CPU request', values.cpuRequest.trim(), true],
    ['Memory request', values.memoryRequest.trim(), true],
    ['CPU limit', values.cpuLimit.trim(), false],
    ['Memory limit', values.memoryLimit.trim(), false]
  ];
  for (const [label, value, required] of fields) {
    if (!value && required) {
      return { error: `${label} is needed: a Kubernetes quantity such as ${label.startsWith('CPU') ? '100m or 2' : '256Mi or 4Gi'}.` };
    }
    if (value && !QUANTITY.test(value)) {
      return { error: `${label} "${value}" is not a Kubernetes quantity: ${label.startsWith('CPU') ? '500m or 2' : '512Mi or 4Gi'}.` };
    }
  }
  const limits: { cpu?: string; memory?: string } = {};
  if (values.cpuLimit.trim()) {
    limits.cpu = values.cpuLimit.trim();
  }
  if (values.memoryLimit.trim()) {
    limits.memory = values.memoryLimit.trim();
  }
  return { resources: { requests: { cpu: values.cpuRequest.trim(), memory: values.memoryRequest.trim() }, limits } };
}

/** The `kubernetes` part of a create-deployment request, or a sentence saying what to fix. */
export function kubernetesRequest(values: IKubernetesValues): { request: KubernetesDeploymentRequest } | { error: string } {
  if (!values.context) {
    return { error: 'Choose a Kubernetes context.' };
  }
  if (!values.namespace) {
    return { error: 'Choose a namespace.' };
  }
  const resources = resourcesFrom(values);
  if ('error' in resources) {
    return resources;
  }
  const request: KubernetesDeploymentRequest = {
    context: values.context,
    namespace: values.namespace,
    backend: values.backend,
    resources: resources.resources,
    progressDeadlineSeconds: 300
  };
  if (values.autoscale) {
    const minReplicas = wholeNumber(values.minReplicas, 1, 100);
    const maxReplicas = wholeNumber(values.maxReplicas, 1, 100);
    const targetCpuPercent = wholeNumber(values.targetCpuPercent, 1, 100);
    if (minReplicas === null || maxReplicas === null) {
      return { error: 'Autoscale: minimum and maximum replicas are whole numbers from 1 to 100.' };
    }
    if (maxReplicas < minReplicas) {
      return { error: `Autoscale: the maximum (${maxReplicas}) is below the minimum (${minReplicas}).` };
    }
    if (targetCpuPercent === null) {
      return { error: 'Autoscale: the target CPU is a whole percentage from 1 to 100.' };
    }
    request.autoscale = { minReplicas, maxReplicas, targetCpuPercent };
  }
  const host = values.ingressHost.trim().toLowerCase();
  if (host) {
    if (!HOST.test(host) || host.length > 253) {
      return { error: `Ingress host "${values.ingressHost.trim()}" is not a host name (models.example.com).` };
    }
    request.ingress = { host, path: '/' };
  }
  return { request };
}

/**
 * The missing rights grouped by resource, as a cluster admin would grant them:
 * `secrets: get, list, create` per line, in the order the server named them.
 */
export function missingRightsByResource(missing: readonly MissingRight[]): { resource: string; verbs: string }[] {
  const byResource = new Map<string, string[]>();
  for (const right of missing) {
    const verbs = byResource.get(right.resource) ?? [];
    if (!verbs.includes(right.verb)) {
      verbs.push(right.verb);
    }
    byResource.set(right.resource, verbs);
  }
  return [...byResource].map(([resource, verbs]) => ({ resource, verbs: verbs.join(', ') }));
}

/** `Deployment/iris`. */
export function objectText(object: KubernetesObjectRef): string {
  return `${object.kind}/${object.name}`;
}

/** `2 of 2 updated · 2 ready · 2 available`. */
export function rolloutCounts(rollout: KubernetesRollout): string {
  return `${rollout.updatedReplicas} of ${rollout.replicas} updated · ${rollout.readyReplicas} ready · ${rollout.availableReplicas} available`;
}

export const ROLLOUT_LABELS: Record<KubernetesRollout['phase'], string> = {
  progressing: 'rolling out',
  complete: 'rolled out',
  failed: 'rollout failed'
};

/** `Running, ready`, `Pending: Unschedulable`, `Running: not ready (ContainersNotReady)`. */
export function podStateText(pod: Pick<KubernetesPod, 'phase' | 'ready' | 'reason'>): string {
  if (pod.ready) {
    return `${pod.phase}, ready`;
  }
  if (pod.phase === 'Running') {
    return pod.reason ? `Running: not ready (${pod.reason})` : 'Running: not ready';
  }
  return pod.reason ? `${pod.phase}: ${pod.reason}` : pod.phase;
}

/** `spec.replicas: 1 expected, 3 found`. */
export function driftText(drift: KubernetesDrift): string {
  return `${drift.field}: ${drift.expected} expected, ${drift.actual} found`;
}

/** `Warning FailedScheduling ×3`. */
export function eventHead(event: Pick<KubernetesEvent, 'type' | 'reason' | 'count'>): string {
  return event.count > 1 ? `${event.reason} ×${event.count}` : event.reason;
}

/**
 * Why a failed rollout failed, in the cluster's words: the rollout's message, then a stuck pod's
 * reason and the newest warning, each only when it says something the text so far does not.
 */
export function failureReason(kubernetes: DeploymentKubernetes): string {
  const pod = kubernetes.pods.find((candidate) => !candidate.ready && candidate.reason);
  const warning = kubernetes.events.find((event) => event.type === 'Warning');
  const candidates = [
    { text: kubernetes.rollout?.message ?? '', core: kubernetes.rollout?.message ?? '' },
    { text: pod ? `${pod.name}: ${pod.reason}` : '', core: pod ? afterLabel(pod.reason) : '' },
    { text: warning ? `${warning.reason}: ${warning.message}` : '', core: warning?.message ?? '' }
  ];
  const parts: string[] = [];
  for (const { text, core } of candidates) {
    if (text && !parts.some((part) => part.includes(core))) {
      parts.push(text);
    }
  }
  return parts.join(' · ');
}

/** `Unschedulable: 0/2 nodes…` → `0/2 nodes…`. */
function afterLabel(reason: string): string {
  const colon = reason.indexOf(': ');
  return colon > 0 ? reason.slice(colon + 2) : reason;
}

/**
 * `gpu=true, zone=eu-1` (commas or new lines between pairs) as a node selector, or what to fix.
 * An empty text is no selector.
 */
export function parseKeyValueList(text: string): { values: Record<string, string> } | { error: string } {
  const values: Record<string, string> = {};
  for (const item of text.split(/[,\n]/)) {
    const pair = item.trim();
    if (!pair) {
      continue;
    }
    const equals = pair.indexOf('=');
    if (equals <= 0) {
      return { error: `"${pair}" is not key=value (gpu=true).` };
    }
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (!key || /\s/.test(key)) {
      return { error: `"${pair}": the key is one word (kubernetes.io/arch).` };
    }
    if (key in values) {
      return { error: `"${key}" is given twice.` };
    }
    values[key] = value;
  }
  return { values };
}
