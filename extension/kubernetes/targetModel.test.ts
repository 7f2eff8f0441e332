/** The context/namespace/access-check model against a fake server, including answers that arrive late. */
import type { AccessCheckResponse } from '../../server/src/contract';
import { RunlabRequestError } from '../request';
import type { IRunlabConnection } from '../tokens';
import { KubernetesTargetModel } from './targetModel';

interface IDeferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): IDeferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

const context = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  cluster: 'c',
  server: 'https://127.0.0.1:6443',
  user: 'u',
  namespace: 'default',
  current: false,
  ...extra
});

const allowed = (message = 'ok'): AccessCheckResponse => ({ allowed: true, missing: [], message, kserveAvailable: false });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each fake takes the input its operation takes.
function fakeConnection(kubernetes: Record<string, (...args: any[]) => Promise<unknown>>): IRunlabConnection {
  return { api: { kubernetes } } as unknown as IRunlabConnection;
}

describe('KubernetesTargetModel', () => {
  it('starts on the current context and its own namespace, then checks the rights there', async () => {
    const asked: unknown[] = [];
    const connection = fakeConnection({
      listKubernetesContexts: async () => ({
        contexts: [context('dev'), context('prod', { current: true, namespace: 'team-a' })],
        source: '/home/u/.kube/config',
        message: ''
      }),
      listKubernetesNamespaces: async ({ params }: { params: { context: string } }) => ({
        namespaces: params.context === 'prod' ? ['default', 'team-a'] : ['default']
      }),
      checkKubernetesAccess: async ({ body }: { body: unknown }) => {
        asked.push(body);
        return allowed();
      }
    });
    const place = { context: '', namespace: '' };
    const target = new KubernetesTargetModel(connection, 'deployment', place);
    await target.start({ autoscale: true });
    expect(place).toEqual({ context: 'prod', namespace: 'team-a' });
    expect(target.allowed).toBe(true);
    expect(asked).toEqual([
      { context: 'prod', namespace: 'team-a', purpose: 'deployment', autoscale: true, ingress: false, kserve: false }
    ]);
    // Another context without that namespace: its default one, checked again.
    await target.setContext('dev');
    expect(place).toEqual({ context: 'dev', namespace: 'default' });
    expect(asked).toHaveLength(2);
    // Options that add no rights to check ask nothing; ones that do, ask again.
    await target.setOptions({ autoscale: true });
    expect(asked).toHaveLength(2);
    await target.setOptions({ autoscale: true, ingress: true });
    expect(asked).toHaveLength(3);
  });

  it('says why there are no contexts, in the server’s words', async () => {
    const target = new KubernetesTargetModel(
      fakeConnection({
        listKubernetesContexts: async () => ({ contexts: [], source: null, message: 'No kubeconfig: set RUNLAB_KUBECONFIG.' })
      }),
      'runnerPool',
      { context: '', namespace: '' }
    );
    await target.start();
    expect(target.contexts).toEqual([]);
    expect(target.contextsMessage).toBe('No kubeconfig: set RUNLAB_KUBECONFIG.');
    expect(target.allowed).toBe(false);
  });

  it('never lets a late answer for a place the user left decide, and shows an unreachable cluster as the server says it', async () => {
    const slow = deferred<AccessCheckResponse>();
    const connection = fakeConnection({
      listKubernetesContexts: async () => ({ contexts: [context('a', { current: true }), context('b')], source: 'x', message: '' }),
      listKubernetesNamespaces: async () => ({ namespaces: ['default', 'other'] }),
      checkKubernetesAccess: async ({ body }: { body: { namespace: string; context: string } }) => {
        if (body.context === 'b') {
          throw new RunlabRequestError(503, 'unavailable', 'The Kubernetes API server of context "b" does not answer.');
        }
        return body.namespace === 'default'
          ? slow.promise
          : {
              allowed: false,
              missing: [{ verb: 'create', resource: 'secrets', namespace: 'other' }],
              message: 'no',
              kserveAvailable: false
            };
      }
    });
    const place = { context: '', namespace: '' };
    const target = new KubernetesTargetModel(connection, 'deployment', place);
    const starting = target.start();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(target.checking).toBe(true);
    await target.setNamespace('other');
    expect(target.access?.allowed).toBe(false);
    slow.resolve(allowed('late'));
    await starting;
    expect(target.access?.message).toBe('no');
    expect(target.allowed).toBe(false);

    await target.setContext('b');
    expect(target.error).toBe('The Kubernetes API server of context "b" does not answer.');
    expect(target.allowed).toBe(false);
  });
});
