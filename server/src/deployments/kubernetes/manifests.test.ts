import type { DeploymentRecord, KubernetesConfig } from '../store';
import { kubernetesEndpoint, manifestsOf, objectRefsOf } from './manifests';

const kubernetes: KubernetesConfig = {
  context: 'prod',
  namespace: 'ml',
  backend: 'deployment',
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
  autoscale: null,
  ingress: null,
  progressDeadlineSeconds: 120,
  objects: [],
  revisions: {}
};

const record = (overrides: Partial<KubernetesConfig> = {}): DeploymentRecord => ({
  id: 'dep-1',
  name: 'churn',
  target: 'kubernetes',
  status: 'deploying',
  statusMessage: '',
  endpoint: null,
  port: null,
  requestedRef: 'churn@v1',
  replicas: 3,
  revision: 4,
  slots: [
    { role: 'stable', modelVersionId: 'v1', modelName: 'churn', version: 1, percent: 90 },
    { role: 'canary', modelVersionId: 'v2', modelName: 'churn', version: 2, percent: 10 }
  ],
  tokenId: 't',
  kubernetes: { ...kubernetes, ...overrides },
  createdAt: '',
  updatedAt: '',
  createdBy: 'ada'
});
const settings = { image: 'registry.example.com/runlab-serving:1.0', serverUrl: 'http://runlab.tools.svc:8765' };
type Manifest = Record<string, unknown> & { kind: string; spec: Record<string, unknown> };

describe('Kubernetes deployment manifests', () => {
  test('Secret, Deployment pinned to the revision, Service; the Secret only when a token is given', () => {
    const [secret, deployment, service] = manifestsOf(record(), settings, 'secret-token') as Manifest[];
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'churn-runlab-token', namespace: 'ml' } });
    expect(Buffer.from((secret.data as { token: string }).token, 'base64').toString()).toBe('secret-token');
    expect(deployment.spec).toMatchObject({
      replicas: 3,
      progressDeadlineSeconds: 120,
      selector: { matchLabels: { 'runlab.dev/deployment': 'dep-1' } },
      strategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
    });
    const template = deployment.spec.template as {
      metadata: { labels: Record<string, string> };
      spec: { containers: Record<string, unknown>[] };
    };
    expect(template.metadata.labels['runlab.dev/revision']).toBe('4');
    expect(template.spec.containers[0]).toMatchObject({
      image: settings.image,
      args: ['--deployment', 'dep-1', '--server', settings.serverUrl, '--host', '0.0.0.0', '--port', '8080', '--workers', '1'],
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } }
    });
    expect(service.spec).toMatchObject({ selector: { 'runlab.dev/deployment': 'dep-1' }, ports: [{ port: 80, targetPort: 8080 }] });
    expect(manifestsOf(record(), settings, null).map((m) => m.kind)).toEqual(['Deployment', 'Service']);
    expect(kubernetesEndpoint('churn', record().kubernetes as KubernetesConfig)).toBe('http://churn.ml.svc.cluster.local');
  });

  test('an autoscaler owns replicas; an Ingress routes its host to the Service and becomes the endpoint', () => {
    const r = record({
      autoscale: { minReplicas: 2, maxReplicas: 8, targetCpuPercent: 70 },
      ingress: { host: 'models.example.com', path: '/churn', className: 'nginx' }
    });
    const manifests = manifestsOf(r, settings, 'x') as Manifest[];
    expect(manifests.map((m) => m.kind)).toEqual(['Secret', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'Ingress']);
    expect(manifests[1].spec.replicas).toBeUndefined();
    expect(manifests[3].spec).toMatchObject({ minReplicas: 2, maxReplicas: 8, scaleTargetRef: { kind: 'Deployment', name: 'churn' } });
    expect(manifests[4].spec).toMatchObject({
      ingressClassName: 'nginx',
      rules: [
        { host: 'models.example.com', http: { paths: [{ path: '/churn', backend: { service: { name: 'churn', port: { number: 80 } } } }] } }
      ]
    });
    expect(kubernetesEndpoint('churn', r.kubernetes as KubernetesConfig)).toBe('http://models.example.com/churn');
    expect(objectRefsOf(r).map((o) => `${o.kind}/${o.name}`)).toEqual([
      'Secret/churn-runlab-token',
      'Deployment/churn',
      'Service/churn',
      'HorizontalPodAutoscaler/churn',
      'Ingress/churn'
    ]);
  });

  test('KServe: one InferenceService with the canary share as canaryTrafficPercent', () => {
    const [, isvc] = manifestsOf(record({ backend: 'kserve' }), settings, 'x') as Manifest[];
    expect(isvc.kind).toBe('InferenceService');
    expect(isvc.spec.predictor).toMatchObject({ canaryTrafficPercent: 10, minReplicas: 3, maxReplicas: 3 });
  });
});
