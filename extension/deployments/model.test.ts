/** The deployments list against a fake connection, live updates in any order, and what the dialogs send. */
import { Signal } from '@lumino/signaling';
import type { Deployment } from '../../server/src/contract';
import type { IRunlabConnection } from '../tokens';
import { defaultKubernetesValues } from '../kubernetes/format';
import { deployRequest, IDeployValues, splitRequest } from './deployRequest';
import { applyDeploymentUpdate, DeploymentsModel } from './model';

type Handler = (payload: unknown) => void;

function deployment(name: string, extra: Partial<Deployment> = {}): Deployment {
  return {
    id: `id-${name}`,
    name,
    target: 'local',
    status: 'deploying',
    statusMessage: '',
    endpoint: null,
    requestedRef: `${name}@latest`,
    replicas: 1,
    readyReplicas: 0,
    revision: 1,
    slots: [{ role: 'stable', modelVersionId: 'mv1', modelName: name, version: 1, percent: 100 }],
    stats: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    createdBy: 'admin',
    history: [],
    kubernetes: null,
    ...extra
  };
}

function fakeConnection(api: Record<string, (...args: unknown[]) => Promise<unknown>>) {
  const handlers = new Map<string, Handler[]>();
  const connection = {
    state: { status: 'connected' },
    stateChanged: new Signal<object, unknown>({}),
    api: { deployments: api },
    on: (name: string, handler: Handler) => {
      handlers.set(name, [...(handlers.get(name) ?? []), handler]);
      return { dispose: () => undefined, isDisposed: false };
    }
  } as unknown as IRunlabConnection;
  const emit = (name: string, payload: unknown) => (handlers.get(name) ?? []).forEach((handler) => handler(payload));
  return { connection, emit };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('deployment updates', () => {
  it('replaces by id, newest first, and never lets an older copy win', () => {
    const ready = deployment('iris', { status: 'ready', revision: 2, updatedAt: '2026-01-01T00:00:05Z' });
    const list = applyDeploymentUpdate([deployment('churn', { createdAt: '2025-12-31T00:00:00Z' })], ready);
    expect(list.map((d) => d.name)).toEqual(['iris', 'churn']);
    // The create answer (revision 1, deploying) arriving after the ready event changes nothing.
    expect(applyDeploymentUpdate(list, deployment('iris'))[0].status).toBe('ready');
    expect(applyDeploymentUpdate(list, deployment('iris', { status: 'stopped', revision: 3 })).map((d) => d.name)).toEqual(['churn']);
  });

  it('DeploymentsModel loads on connect, follows deployment:updated, and keeps a stopped one known by id', async () => {
    const { connection, emit } = fakeConnection({
      listDeployments: async () => ({ deployments: [deployment('iris')] }),
      deleteDeployment: async () => deployment('iris', { status: 'stopped', revision: 2 })
    });
    const model = new DeploymentsModel(connection);
    await settle();
    expect(model.deployments.map((d) => d.status)).toEqual(['deploying']);
    emit('deployment:updated', deployment('iris', { status: 'ready', readyReplicas: 1, updatedAt: '2026-01-01T00:00:03Z' }));
    expect(model.deployment('id-iris')?.status).toBe('ready');
    await model.undeploy('id-iris');
    expect(model.deployments).toEqual([]);
    expect(model.deployment('id-iris')?.status).toBe('stopped');
  });
});

const values = (extra: Partial<IDeployValues> = {}): IDeployValues => ({
  model: 'iris',
  version: 'latest',
  addTo: '',
  name: '',
  target: 'local',
  replicas: '1',
  mode: 'none',
  secondVersion: '',
  percent: '10',
  kubernetes: defaultKubernetesValues(),
  ...extra
});

describe('what Deploy model sends', () => {
  it('creates a deployment, with a canary when asked', () => {
    expect(deployRequest(values())).toEqual({
      kind: 'create',
      request: { model: 'iris', version: 'latest', target: 'local', replicas: 1 }
    });
    expect(deployRequest(values({ version: 'v1', mode: 'canary', secondVersion: 'v2', name: 'iris-prod', replicas: '2' }))).toEqual({
      kind: 'create',
      request: {
        model: 'iris',
        version: 'v1',
        target: 'local',
        replicas: 2,
        name: 'iris-prod',
        second: { mode: 'canary', version: 'v2', percent: 10 }
      }
    });
  });

  it('adds the version to a live deployment as its canary or shadow', () => {
    expect(deployRequest(values({ version: 'v2', addTo: 'id-iris', mode: 'shadow', percent: '25' }))).toEqual({
      kind: 'traffic',
      id: 'id-iris',
      second: { mode: 'shadow', version: 'v2', percent: 25 }
    });
  });

  it('says what to fix', () => {
    expect(deployRequest(values({ replicas: '0' }))).toEqual({ error: 'Replicas is a whole number from 1 to 16.' });
    expect(deployRequest(values({ mode: 'canary', percent: '100' }))).toEqual({ error: 'The percentage is a number from 0.1 to 99.9.' });
    expect(deployRequest(values({ version: 'v2', mode: 'canary', secondVersion: 'v2' }))).toEqual({
      error: 'Choose a second version other than v2 for the canary.'
    });
  });

  it('sends where and how for the Kubernetes target, and says what to fix there', () => {
    const kubernetes = { ...defaultKubernetesValues(), context: 'runlab-test', namespace: 'team-a' };
    expect(deployRequest(values({ target: 'kubernetes', replicas: '2', kubernetes }))).toEqual({
      kind: 'create',
      request: {
        model: 'iris',
        version: 'latest',
        target: 'kubernetes',
        replicas: 2,
        kubernetes: {
          context: 'runlab-test',
          namespace: 'team-a',
          backend: 'deployment',
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: {} },
          progressDeadlineSeconds: 300
        }
      }
    });
    expect(deployRequest(values({ target: 'kubernetes', kubernetes: { ...kubernetes, context: '' } }))).toEqual({
      error: 'Choose a Kubernetes context.'
    });
    // A local deployment never carries the Kubernetes fields, whatever the form still holds.
    expect(deployRequest(values({ kubernetes }))).toEqual({
      kind: 'create',
      request: { model: 'iris', version: 'latest', target: 'local', replicas: 1 }
    });
  });

  it('Change split sends the new share, or drops the second version', () => {
    expect(splitRequest({ mode: 'canary', secondVersion: 'v4', percent: '50' }, 'half')).toEqual({
      second: { mode: 'canary', version: 'v4', percent: 50 },
      reason: 'half'
    });
    expect(splitRequest({ mode: 'none', secondVersion: '', percent: '' }, '')).toEqual({ second: null, reason: '' });
    expect(splitRequest({ mode: 'shadow', secondVersion: '', percent: '5' }, '')).toEqual({ error: 'Choose the shadow version.' });
  });
});
