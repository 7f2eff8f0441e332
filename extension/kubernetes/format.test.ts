/** What the Kubernetes fields send, and how the cluster's answers read. */
import type { DeploymentKubernetes } from '../../server/src/contract';
import {
  defaultKubernetesValues,
  driftText,
  eventHead,
  failureReason,
  kubernetesRequest,
  missingRightsByResource,
  parseKeyValueList,
  podStateText,
  rolloutCounts
} from './format';

const place = { ...defaultKubernetesValues(), context: 'runlab-test', namespace: 'team-a' };

describe('kubernetesRequest', () => {
  it('sends the defaults (100m / 256Mi, no limits) and only the options chosen', () => {
    expect(kubernetesRequest(place)).toEqual({
      request: {
        context: 'runlab-test',
        namespace: 'team-a',
        backend: 'deployment',
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: {} },
        progressDeadlineSeconds: 300
      }
    });
    const full = kubernetesRequest({
      ...place,
      backend: 'kserve',
      cpuLimit: '2',
      memoryLimit: ' 4Gi ',
      autoscale: true,
      minReplicas: '2',
      maxReplicas: '6',
      targetCpuPercent: '70',
      ingressHost: 'Models.Example.com'
    });
    expect(full).toMatchObject({
      request: {
        backend: 'kserve',
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '2', memory: '4Gi' } },
        autoscale: { minReplicas: 2, maxReplicas: 6, targetCpuPercent: 70 },
        ingress: { host: 'models.example.com', path: '/' }
      }
    });
  });

  it('says what to fix before anything is sent', () => {
    expect(kubernetesRequest({ ...place, namespace: '' })).toEqual({ error: 'Choose a namespace.' });
    expect(kubernetesRequest({ ...place, cpuRequest: '1 core' })).toEqual({
      error: 'CPU request "1 core" is not a Kubernetes quantity: 500m or 2.'
    });
    expect(kubernetesRequest({ ...place, memoryRequest: '' })).toEqual({
      error: 'Memory request is needed: a Kubernetes quantity such as 256Mi or 4Gi.'
    });
    expect(kubernetesRequest({ ...place, autoscale: true, minReplicas: '4', maxReplicas: '2' })).toEqual({
      error: 'Autoscale: the maximum (2) is below the minimum (4).'
    });
    expect(kubernetesRequest({ ...place, ingressHost: 'not a host' })).toEqual({
      error: 'Ingress host "not a host" is not a host name (models.example.com).'
    });
  });
});

describe('how the cluster reads', () => {
  it('groups missing rights by resource, as an admin would grant them', () => {
    const right = (verb: string, resource: string) => ({ verb, resource, namespace: 'default' });
    expect(
      missingRightsByResource([
        right('get', 'secrets'),
        right('create', 'secrets'),
        right('create', 'deployments.apps'),
        right('get', 'secrets')
      ])
    ).toEqual([
      { resource: 'secrets', verbs: 'get, create' },
      { resource: 'deployments.apps', verbs: 'create' }
    ]);
  });

  it('says each pod state, the rollout counts, drift and repeated events in a line', () => {
    expect(podStateText({ phase: 'Running', ready: true, reason: '' })).toBe('Running, ready');
    expect(podStateText({ phase: 'Pending', ready: false, reason: 'Unschedulable' })).toBe('Pending: Unschedulable');
    expect(podStateText({ phase: 'Running', ready: false, reason: '' })).toBe('Running: not ready');
    expect(
      rolloutCounts({ phase: 'progressing', replicas: 3, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, message: '' })
    ).toBe('2 of 3 updated · 1 ready · 1 available');
    expect(driftText({ object: { kind: 'Deployment', name: 'iris' }, field: 'spec.replicas', expected: '1', actual: '3' })).toBe(
      'spec.replicas: 1 expected, 3 found'
    );
    expect(eventHead({ type: 'Warning', reason: 'FailedScheduling', count: 3 })).toBe('FailedScheduling ×3');
    expect(eventHead({ type: 'Normal', reason: 'Scheduled', count: 1 })).toBe('Scheduled');
  });

  it("gives a failed rollout's reason in the cluster's words", () => {
    const kubernetes = {
      rollout: {
        phase: 'failed',
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 0,
        availableReplicas: 0,
        message: 'ProgressDeadlineExceeded'
      },
      pods: [
        { name: 'iris-abc', phase: 'Pending', ready: false, reason: 'Unschedulable: 0/2 nodes are available', revision: 2, node: null }
      ],
      events: [{ type: 'Warning', reason: 'FailedScheduling', message: 'Insufficient cpu', object: 'Pod/iris-abc', count: 4, at: '' }]
    } as unknown as DeploymentKubernetes;
    expect(failureReason(kubernetes)).toBe(
      'ProgressDeadlineExceeded · iris-abc: Unschedulable: 0/2 nodes are available · FailedScheduling: Insufficient cpu'
    );
    // What the rollout's message says already is not said again.
    const said = {
      ...kubernetes,
      rollout: { ...kubernetes.rollout, message: 'revision 2 made no progress — FailedScheduling: 0/2 nodes are available' }
    } as DeploymentKubernetes;
    expect(failureReason({ ...said, events: [] })).toBe('revision 2 made no progress — FailedScheduling: 0/2 nodes are available');
  });
});

describe('parseKeyValueList', () => {
  it('reads key=value pairs, commas or lines apart, and says what is wrong', () => {
    expect(parseKeyValueList('')).toEqual({ values: {} });
    expect(parseKeyValueList('gpu=true, kubernetes.io/arch=amd64\nzone=')).toEqual({
      values: { gpu: 'true', 'kubernetes.io/arch': 'amd64', zone: '' }
    });
    expect(parseKeyValueList('gpu')).toEqual({ error: '"gpu" is not key=value (gpu=true).' });
    expect(parseKeyValueList('gpu=1, gpu=2')).toEqual({ error: '"gpu" is given twice.' });
  });
});
