/** Runner pools: what Add runner pool sends, and the list live on its events in any order. */
import { Signal } from '@lumino/signaling';
import type { RunnerPool } from '../../server/src/contract';
import type { IRunlabConnection } from '../tokens';
import { defaultPoolValues, poolPodsText, poolRequest, RunnerPoolsModel } from './pools';

type Handler = (payload: unknown) => void;

function pool(name: string, extra: Partial<RunnerPool> = {}): RunnerPool {
  return {
    id: `id-${name}`,
    name,
    kind: 'kubernetes',
    context: 'runlab-test',
    namespace: 'default',
    image: 'ghcr.io/runlab/runner:1',
    labels: [],
    resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: {} },
    nodeSelector: {},
    maxParallel: 4,
    status: 'ok',
    statusMessage: '',
    pods: [],
    createdAt: '2026-01-01T00:00:00Z',
    createdBy: 'admin',
    ...extra
  };
}

const pod = (phase: string) => ({
  jobName: `j-${phase}`,
  podName: null,
  phase,
  reason: '',
  runnerId: 'r',
  runlabJobId: 'job',
  createdAt: ''
});

describe('poolRequest', () => {
  it('sends the pool with its labels, resources, node selector and cap', () => {
    const values = {
      ...defaultPoolValues(),
      name: 'gpu-pool',
      context: 'runlab-test',
      namespace: 'team-a',
      labels: 'gpu, bigmem',
      nodeSelector: 'gpu=true',
      maxParallel: '2'
    };
    expect(poolRequest(values)).toEqual({
      request: {
        name: 'gpu-pool',
        kind: 'kubernetes',
        context: 'runlab-test',
        namespace: 'team-a',
        labels: ['gpu', 'bigmem'],
        resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: {} },
        nodeSelector: { gpu: 'true' },
        maxParallel: 2
      }
    });
    expect(poolRequest({ ...values, image: ' my/image:2 ' })).toMatchObject({ request: { image: 'my/image:2' } });
  });

  it('says what to fix', () => {
    const values = { ...defaultPoolValues(), name: 'pool', context: 'c', namespace: 'default' };
    expect(poolRequest({ ...values, name: 'GPU pool' })).toEqual({
      error: '"GPU pool" is not a Kubernetes name: lower-case letters, digits and - (gpu-pool).'
    });
    expect(poolRequest({ ...values, nodeSelector: 'gpu' })).toEqual({ error: 'Node selector: "gpu" is not key=value (gpu=true).' });
    expect(poolRequest({ ...values, maxParallel: '0' })).toEqual({ error: 'Max parallel pods is a whole number from 1 to 256.' });
  });
});

describe('RunnerPoolsModel', () => {
  it('loads on connect, follows runner_pool:updated/removed, and a late update never brings a removed pool back', async () => {
    const handlers = new Map<string, Handler[]>();
    const connection = {
      state: { status: 'connected' },
      stateChanged: new Signal<object, unknown>({}),
      api: { runnerPools: { listRunnerPools: async () => ({ pools: [pool('b')] }) } },
      on: (name: string, handler: Handler) => {
        handlers.set(name, [...(handlers.get(name) ?? []), handler]);
        return { dispose: () => undefined, isDisposed: false };
      }
    } as unknown as IRunlabConnection;
    const emit = (name: string, payload: unknown) => (handlers.get(name) ?? []).forEach((handler) => handler(payload));
    const model = new RunnerPoolsModel(connection);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(model.pools.map((p) => p.name)).toEqual(['b']);
    emit('runner_pool:updated', pool('a', { pods: [pod('Running'), pod('Pending')] }));
    expect(model.pools.map((p) => p.name)).toEqual(['a', 'b']);
    expect(poolPodsText(model.pools[0])).toBe('1 of 4 running, 1 pending');
    emit('runner_pool:removed', { id: 'id-a' });
    emit('runner_pool:updated', pool('a'));
    expect(model.pools.map((p) => p.name)).toEqual(['b']);
  });
});
