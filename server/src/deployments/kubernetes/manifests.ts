/**
 * The Kubernetes objects of a deployment, as Runlab wants them (pure: no cluster calls, so the
 * unit tests read exactly what is applied):
 * - a Secret with the deployment-scoped, read-only token the runtime fetches its model with
 *   (the model is never baked into the image);
 * - a Deployment whose pods run the serving runtime (`python -m runlab serve-model`), pinned to
 *   one revision (RUNLAB_DEPLOYMENT_REVISION), so every change of versions, split, replicas or
 *   resources is a new pod template: a Kubernetes rolling update, with its progress, its
 *   deadline and its rollback. Each pod serves the revision's versions side by side and splits
 *   the traffic itself (the runtime's router), so the split is exact without a service mesh;
 * - a Service in front of it, and optionally a HorizontalPodAutoscaler and an Ingress;
 * - or, for the `kserve` backend, one KServe InferenceService with `canaryTrafficPercent`.
 *
 * Everything is labelled (app.kubernetes.io/managed-by=runlab, runlab.dev/deployment=<id>) so
 * Runlab finds its objects after a restart and `kubectl get all -l app.kubernetes.io/managed-by=runlab`
 * lists them.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubernetesObjectRef } from '../../contract';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../kubernetes/clusters';
import { containerResources } from '../../kubernetes/resources';
import type { DeploymentRecord, KubernetesConfig } from '../store';

export const DEPLOYMENT_LABEL = 'runlab.dev/deployment';
export const REVISION_ANNOTATION = 'runlab.dev/revision';
export const VERSIONS_ANNOTATION = 'runlab.dev/versions';
export const SERVING_PORT = 8080;
export const TOKEN_KEY = 'token';

export interface ManifestSettings {
  image: string;
  /** The URL pods reach the companion server at. */
  serverUrl: string;
}

export const secretName = (name: string): string => `${name}-runlab-token`;

export function labelsOf(record: DeploymentRecord): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    'app.kubernetes.io/name': record.name,
    'app.kubernetes.io/component': 'serving',
    [DEPLOYMENT_LABEL]: record.id
  };
}

function kubeOf(record: DeploymentRecord): KubernetesConfig {
  if (!record.kubernetes) throw new Error(`deployment ${record.id} is not on Kubernetes`);
  return record.kubernetes;
}

/** The endpoint clients use: the Ingress's host, else the Service's cluster DNS name. */
export function kubernetesEndpoint(name: string, kube: Pick<KubernetesConfig, 'namespace' | 'ingress'>): string {
  if (kube.ingress) return `http://${kube.ingress.host}${kube.ingress.path === '/' ? '' : kube.ingress.path}`;
  return `http://${name}.${kube.namespace}.svc.cluster.local`;
}

const versionsText = (record: DeploymentRecord): string =>
  record.slots.map((slot) => `${slot.role}=${slot.modelName}:v${slot.version}@${slot.percent}%`).join(',');

/** The serving container: the runtime pinned to the record's revision, its token from the Secret. */
export function servingContainer(record: DeploymentRecord, settings: ManifestSettings, name = 'serving'): Record<string, unknown> {
  const kube = kubeOf(record);
  const probe = (path: string, periodSeconds: number): Record<string, unknown> => ({
    httpGet: { path, port: SERVING_PORT },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold: 3
  });
  return {
    name,
    image: settings.image,
    command: ['python', '-m', 'runlab', 'serve-model'],
    args: [
      '--deployment',
      record.id,
      '--server',
      settings.serverUrl,
      '--host',
      '0.0.0.0',
      '--port',
      String(SERVING_PORT),
      '--workers',
      '1'
    ],
    env: [
      { name: 'RUNLAB_TOKEN', valueFrom: { secretKeyRef: { name: secretName(record.name), key: TOKEN_KEY } } },
      { name: 'RUNLAB_DEPLOYMENT_REVISION', value: String(record.revision) },
      { name: 'PYTHONUNBUFFERED', value: '1' }
    ],
    ports: [{ name: 'http', containerPort: SERVING_PORT, protocol: 'TCP' }],
    // Open Inference Protocol health endpoints of the runtime.
    readinessProbe: probe('/v2/health/ready', 5),
    livenessProbe: { ...probe('/v2/health/live', 10), initialDelaySeconds: 10 },
    resources: containerResources(kube.resources)
  };
}

export function secretManifest(record: DeploymentRecord, tokenSecret: string): KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(record.name), namespace: kubeOf(record).namespace, labels: labelsOf(record) },
    type: 'Opaque',
    // `data`, not `stringData`: server-side apply owns what it writes, and stringData is write-only.
    data: { [TOKEN_KEY]: Buffer.from(tokenSecret, 'utf8').toString('base64') }
  };
}

export function deploymentManifest(record: DeploymentRecord, settings: ManifestSettings): KubernetesObject & Record<string, unknown> {
  const kube = kubeOf(record);
  const labels = labelsOf(record);
  const annotations = { [REVISION_ANNOTATION]: String(record.revision), [VERSIONS_ANNOTATION]: versionsText(record) };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: record.name, namespace: kube.namespace, labels, annotations },
    spec: {
      // With an autoscaler, the HPA owns replicas (a server-side apply without the field leaves it alone).
      ...(kube.autoscale ? {} : { replicas: record.replicas }),
      selector: { matchLabels: { [DEPLOYMENT_LABEL]: record.id } },
      progressDeadlineSeconds: kube.progressDeadlineSeconds,
      revisionHistoryLimit: 5,
      // A new revision's pods come up before old ones go: a rollout that cannot progress keeps
      // the old revision serving.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...labels, [REVISION_ANNOTATION]: String(record.revision) }, annotations },
        spec: { containers: [servingContainer(record, settings)], terminationGracePeriodSeconds: 30 }
      }
    }
  };
}

export function serviceManifest(record: DeploymentRecord): KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: record.name, namespace: kubeOf(record).namespace, labels: labelsOf(record) },
    spec: {
      type: 'ClusterIP',
      selector: { [DEPLOYMENT_LABEL]: record.id },
      ports: [{ name: 'http', port: 80, targetPort: SERVING_PORT, protocol: 'TCP' }]
    }
  };
}

export function autoscalerManifest(record: DeploymentRecord): (KubernetesObject & Record<string, unknown>) | null {
  const kube = kubeOf(record);
  if (!kube.autoscale) return null;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: record.name, namespace: kube.namespace, labels: labelsOf(record) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: record.name },
      minReplicas: kube.autoscale.minReplicas,
      maxReplicas: kube.autoscale.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: kube.autoscale.targetCpuPercent } }
        }
      ]
    }
  };
}

export function ingressManifest(record: DeploymentRecord): (KubernetesObject & Record<string, unknown>) | null {
  const kube = kubeOf(record);
  if (!kube.ingress) return null;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: record.name, namespace: kube.namespace, labels: labelsOf(record) },
    spec: {
      ...(kube.ingress.className ? { ingressClassName: kube.ingress.className } : {}),
      rules: [
        {
          host: kube.ingress.host,
          http: {
            paths: [{ path: kube.ingress.path, pathType: 'Prefix', backend: { service: { name: record.name, port: { number: 80 } } } }]
          }
        }
      ]
    }
  };
}

/**
 * KServe: one InferenceService whose predictor is the serving runtime pinned to the revision.
 * With a canary, KServe itself sends `canaryTrafficPercent` of requests to the newest predictor
 * revision (the canary) and the rest to the last one that was ready.
 */
export function inferenceServiceManifest(record: DeploymentRecord, settings: ManifestSettings): KubernetesObject & Record<string, unknown> {
  const kube = kubeOf(record);
  const canary = record.slots.find((slot) => slot.role === 'canary');
  const annotations = { [REVISION_ANNOTATION]: String(record.revision), [VERSIONS_ANNOTATION]: versionsText(record) };
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: record.name, namespace: kube.namespace, labels: labelsOf(record), annotations },
    spec: {
      predictor: {
        minReplicas: kube.autoscale?.minReplicas ?? record.replicas,
        maxReplicas: kube.autoscale?.maxReplicas ?? record.replicas,
        ...(canary ? { canaryTrafficPercent: Math.round(canary.percent) } : {}),
        containers: [servingContainer(record, settings, 'kserve-container')]
      }
    }
  };
}

/** Every object of the deployment, in the order they are applied (the Secret before the pods that read it). */
export function manifestsOf(
  record: DeploymentRecord,
  settings: ManifestSettings,
  tokenSecret: string | null
): (KubernetesObject & Record<string, unknown>)[] {
  const kube = kubeOf(record);
  const secret = tokenSecret === null ? [] : [secretManifest(record, tokenSecret)];
  if (kube.backend === 'kserve') return [...secret, inferenceServiceManifest(record, settings)];
  return [
    ...secret,
    deploymentManifest(record, settings),
    serviceManifest(record),
    ...[autoscalerManifest(record), ingressManifest(record)].filter((m): m is KubernetesObject & Record<string, unknown> => m !== null)
  ];
}

/** The objects a deployment has (for undeploy), whether or not their manifests are at hand. */
export function objectRefsOf(record: DeploymentRecord): KubernetesObjectRef[] {
  return manifestsOf(record, { image: '', serverUrl: '' }, '').map((m) => ({ kind: m.kind ?? '', name: m.metadata?.name ?? '' }));
}

/** apiVersion of each kind Runlab writes. */
export const API_VERSION_OF: Record<string, string> = {
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  Ingress: 'networking.k8s.io/v1',
  InferenceService: 'serving.kserve.io/v1beta1'
};
