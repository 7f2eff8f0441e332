/**
 * Deployments on the `kubernetes` target against a real control plane (kube-apiserver, etcd,
 * controller-manager, scheduler; KWOK nodes), a real companion server and real SQLite: the
 * objects written (checked as the cluster's administrator sees them), the rollout followed to
 * Available, a rollout that cannot be scheduled failed in the cluster's words and rolled back,
 * canary → promote → roll back as new revisions, drift after a restart and Reconcile, missing
 * rights and an unreachable API server refused before anything is created, and undeploy leaving
 * nothing behind.
 *
 * KWOK runs no containers. Where a test needs what runs in a pod (the model answering), it acts
 * as the kubelet: it reads the pod from the API server and starts its command with its
 * environment (the token from the Secret) as a local process (plane.ts runPod).
 */
import type { V1Deployment, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import type { Deployment, ModelVersion } from '../../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from '../helpers';
import { logVersion, saveModel, type SavedModel } from '../model-helpers';
import {
  adminClient,
  CONTEXT,
  createNamespace,
  managedObjects,
  planeFromEnv,
  runPod,
  UNREACHABLE_CONTEXT,
  VIEWER_CONTEXT,
  waitFor,
  type PodProcess
} from './plane';

const plane = planeFromEnv();
const NAMESPACE = 'deploy-tests';
let tmp: string;
let server: TestServer;
let saved: SavedModel[];
const versions: ModelVersion[] = [];
const podProcesses: PodProcess[] = [];

const serverEnv = (): Record<string, string> => ({ RUNLAB_KUBECONFIG: plane.kubeconfig, RUNLAB_SERVING_POLL_SECONDS: '0.5' });

const get = async (id: string, on: TestServer = server): Promise<Deployment> => {
  const response = await on.request('GET', `/api/deployments/${id}`);
  expect(response.status).toBe(200);
  return response.body as Deployment;
};

const waitForDeployment = (
  id: string,
  what: string,
  check: (d: Deployment) => boolean,
  on: TestServer = server,
  timeoutMs = 60_000
): Promise<Deployment> =>
  waitFor(
    async () => {
      const deployment = await get(id, on);
      return check(deployment) && deployment;
    },
    what,
    timeoutMs
  );

const kubernetesDeploy = (name: string, extra: Record<string, unknown> = {}, kubernetes: Record<string, unknown> = {}) =>
  server.request('POST', '/api/deployments', {
    json: {
      name,
      model: 'churn',
      version: 'v1',
      target: 'kubernetes',
      kubernetes: { context: CONTEXT, namespace: NAMESPACE, ...kubernetes },
      ...extra
    }
  });

async function readDeployment(name: string): Promise<V1Deployment> {
  return adminClient(plane)
    .config.makeApiClient((await import('@kubernetes/client-node')).AppsV1Api)
    .readNamespacedDeployment({ name, namespace: NAMESPACE });
}

async function podsOf(id: string): Promise<V1Pod[]> {
  const list = await adminClient(plane).core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `runlab.dev/deployment=${id}` });
  return list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
}

beforeAll(async () => {
  tmp = makeTempDir('runlab-kube-deployments-');
  saved = [1, 2].map((seed) => saveModel(tmp, seed));
  await createNamespace(plane, NAMESPACE);
  server = await startServer({ dataDir: path.join(tmp, 'data'), env: serverEnv() });
  for (const each of saved) versions.push((await logVersion(server, each)).version);
});

afterAll(async () => {
  for (const pod of podProcesses) await pod.stop();
  await server?.stop();
  removeDir(tmp);
});

describe('the kubernetes target', () => {
  let deployment: Deployment;

  test('the Deploy dialog’s contexts, namespaces and access check come from the kubeconfig and the cluster', async () => {
    const contexts = await server.request('GET', '/api/kubernetes/contexts');
    expect(contexts.status).toBe(200);
    expect(contexts.body.source).toBe(plane.kubeconfig);
    expect(contexts.body.contexts.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining([CONTEXT, VIEWER_CONTEXT]));
    expect(contexts.body.contexts.find((c: { name: string }) => c.name === CONTEXT)).toMatchObject({ server: plane.server, current: true });

    const namespaces = await server.request('GET', `/api/kubernetes/contexts/${CONTEXT}/namespaces`);
    expect(namespaces.body.namespaces).toEqual(expect.arrayContaining(['default', NAMESPACE]));

    const allowed = await server.request('POST', '/api/kubernetes/access', { json: { context: CONTEXT, namespace: NAMESPACE } });
    expect(allowed.body).toMatchObject({ allowed: true, missing: [], kserveAvailable: true });
    const viewer = await server.request('POST', '/api/kubernetes/access', { json: { context: VIEWER_CONTEXT, namespace: NAMESPACE } });
    expect(viewer.body.allowed).toBe(false);
    expect(viewer.body.missing).toEqual(expect.arrayContaining([{ verb: 'create', resource: 'deployments.apps', namespace: NAMESPACE }]));
    expect(viewer.body.message).toContain('may not');

    const missing = await server.request('GET', '/api/kubernetes/contexts/nope/namespaces');
    expectErrorBody(missing, 404, 'not_found');
    expect(missing.body.error.message).toContain(CONTEXT);
  });

  test('deploy: objects as specified, rollout streamed to Available, the model answers through the pod’s process', async () => {
    const socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'] });
    const updates: Deployment[] = [];
    socket.on('deployment:updated', (update: Deployment) => updates.push(update));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    try {
      const started = Date.now();
      const response = await kubernetesDeploy(
        'churn',
        { replicas: 2 },
        { resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '512Mi' } }, progressDeadlineSeconds: 8 }
      );
      expect(response.status).toBe(201);
      deployment = response.body as Deployment;
      expect(deployment).toMatchObject({
        target: 'kubernetes',
        status: 'deploying',
        endpoint: `http://churn.${NAMESPACE}.svc.cluster.local`,
        replicas: 2,
        kubernetes: {
          context: CONTEXT,
          namespace: NAMESPACE,
          backend: 'deployment',
          objects: [
            { kind: 'Secret', name: 'churn-runlab-token' },
            { kind: 'Deployment', name: 'churn' },
            { kind: 'Service', name: 'churn' }
          ]
        }
      });

      const ready = await waitForDeployment(deployment.id, 'the deployment ready', (d) => d.status === 'ready');
      process.stdout.write(`deploy → ready (kubernetes target, 2 replicas): ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
      expect(ready.readyReplicas).toBe(2);
      expect(ready.kubernetes?.rollout).toMatchObject({ phase: 'complete', replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
      expect(ready.kubernetes?.pods).toHaveLength(2);
      expect(ready.kubernetes?.pods.every((pod) => pod.ready && pod.phase === 'Running' && pod.revision === 1 && pod.node)).toBe(true);
      expect(ready.kubernetes?.events.some((event) => event.reason === 'ScalingReplicaSet')).toBe(true);
      expect(ready.history.map((event) => event.kind)).toEqual(['ready', 'deployed']);
      // Browsers saw the rollout: a deploying update with Kubernetes state before the ready one.
      await waitFor(() => updates.some((u) => u.id === deployment.id && u.status === 'ready'), 'a ready deployment:updated event');
      expect(updates.some((u) => u.id === deployment.id && u.status === 'deploying')).toBe(true);
      expect(updates.some((u) => u.id === deployment.id && u.kubernetes?.rollout !== null)).toBe(true);
    } finally {
      socket.close();
    }

    // The objects, as `kubectl get -o yaml` shows them.
    const object = await readDeployment('churn');
    expect(object.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'runlab', 'runlab.dev/deployment': deployment.id });
    expect(object.metadata?.managedFields?.some((field) => field.manager === 'runlab' && field.operation === 'Apply')).toBe(true);
    expect(object.spec?.replicas).toBe(2);
    const container = object.spec?.template.spec?.containers[0];
    expect(container?.image).toMatch(/^runlab-serving:/);
    expect(container?.command).toEqual(['python', '-m', 'runlab', 'serve-model']);
    expect(container?.args).toEqual(expect.arrayContaining(['--deployment', deployment.id, '--server', server.url, '--port', '8080']));
    expect(container?.env).toEqual(
      expect.arrayContaining([
        { name: 'RUNLAB_TOKEN', valueFrom: { secretKeyRef: { name: 'churn-runlab-token', key: 'token' } } },
        { name: 'RUNLAB_DEPLOYMENT_REVISION', value: '1' }
      ])
    );
    expect(container?.resources).toEqual({ requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(container?.readinessProbe?.httpGet?.path).toBe('/v2/health/ready');
    expect(container?.livenessProbe?.httpGet?.path).toBe('/v2/health/live');
    const service = (await adminClient(plane).core.readNamespacedService({ name: 'churn', namespace: NAMESPACE })) as V1Service;
    expect(service.spec?.selector).toEqual({ 'runlab.dev/deployment': deployment.id });
    expect(service.spec?.ports?.[0]).toMatchObject({ port: 80, targetPort: 8080 });
    const secret = (await adminClient(plane).core.readNamespacedSecret({ name: 'churn-runlab-token', namespace: NAMESPACE })) as V1Secret;
    const token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    // The Secret's token is the deployment's: read-only, its own deployment only.
    expect((await server.request('GET', `/api/deployments/${deployment.id}/spec`, { token })).status).toBe(200);
    const runs = await server.request('GET', '/api/runs', { token });
    expectErrorBody(runs, 403, 'forbidden');
    expect(runs.body.error.message).toContain('"deployment-churn"');

    // The kubelet stand-in runs one pod's container; the model answers through it.
    const [pod] = await podsOf(deployment.id);
    const running = await runPod(plane, pod);
    podProcesses.push(running);
    const endpoint = `http://127.0.0.1:${running.port}`;
    await waitFor(
      async () => (await fetch(`${endpoint}/v2/health/ready`).catch(() => null))?.status === 200,
      `the pod's runtime ready (${running.output()})`
    );
    const { columns, data } = saved[0].inputExample;
    const answer = await fetch(`${endpoint}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns, data } })
    });
    expect(answer.status).toBe(200);
    const { predictions } = (await answer.json()) as { predictions: unknown[] };
    expect(predictions).toHaveLength(data.length);
    await running.stop();
  });

  test('a rollout that cannot be scheduled fails in the cluster’s words, and Roll back brings the last ready revision back', async () => {
    const response = await server.request('PATCH', `/api/deployments/${deployment.id}`, {
      json: { resources: { requests: { cpu: '64', memory: '128Mi' }, limits: {} }, reason: 'more cpu' }
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ revision: 2, status: 'deploying' });
    const failed = await waitForDeployment(deployment.id, 'the rollout of revision 2 failed', (d) => d.status === 'failed', server, 90_000);
    expect(failed.statusMessage).toContain('revision 2 failed');
    expect(failed.statusMessage).toMatch(/Insufficient cpu|ProgressDeadlineExceeded|has timed out progressing/);
    expect(failed.kubernetes?.rollout?.phase).toBe('failed');
    expect(failed.kubernetes?.events.some((e) => e.reason === 'FailedScheduling' && e.message.includes('Insufficient cpu'))).toBe(true);
    expect(failed.kubernetes?.pods.some((pod) => pod.revision === 2 && !pod.ready && pod.reason.includes('Insufficient cpu'))).toBe(true);
    // The old revision kept serving: maxUnavailable 0. (Waited for: on a loaded machine the pod
    // watch can report the new pods' state before it has re-listed the old ones.)
    const serving = await waitForDeployment(
      deployment.id,
      'both revision-1 pods ready while revision 2 fails',
      (d) => d.kubernetes?.pods.filter((pod) => pod.revision === 1 && pod.ready).length === 2,
      server,
      30_000
    );
    expect(serving.status).toBe('failed');
    expect(failed.history[0]).toMatchObject({ kind: 'failed', revision: 2 });

    const rolledBack = await server.request('POST', `/api/deployments/${deployment.id}/rollback`, { json: { reason: 'too big' } });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body.revision).toBe(3);
    expect(rolledBack.body.history[0].message).toContain('rolled back to revision 1');
    const ready = await waitForDeployment(deployment.id, 'ready on revision 3', (d) => d.status === 'ready' && d.revision === 3);
    expect(ready.kubernetes?.pods.every((pod) => pod.revision === 3)).toBe(true);
    const object = await readDeployment('churn');
    expect(object.spec?.template.spec?.containers[0].resources?.requests).toEqual({ cpu: '250m', memory: '128Mi' });
  });

  test('canary 10% → promote → roll back: new revisions in the objects and the history', async () => {
    const canary = await server.request('POST', `/api/deployments/${deployment.id}/traffic`, {
      json: { second: { mode: 'canary', version: 'v2', percent: 10 }, reason: 'try v2' }
    });
    expect(canary.status).toBe(200);
    const withCanary = await waitForDeployment(deployment.id, 'ready with the canary', (d) => d.status === 'ready' && d.revision === 4);
    expect(withCanary.slots.map((slot) => [slot.role, slot.version, slot.percent])).toEqual([
      ['stable', 1, 90],
      ['canary', 2, 10]
    ]);
    let object = await readDeployment('churn');
    expect(object.metadata?.annotations?.['runlab.dev/versions']).toBe('stable=churn:v1@90%,canary=churn:v2@10%');
    expect(object.spec?.template.metadata?.labels?.['runlab.dev/revision']).toBe('4');

    // A pod of revision 4 serves both versions side by side: its spec is revision 4's.
    const [pod] = await podsOf(deployment.id);
    const secret = await adminClient(plane).core.readNamespacedSecret({ name: 'churn-runlab-token', namespace: NAMESPACE });
    const token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    const spec = await server.request(
      'GET',
      `/api/deployments/${deployment.id}/spec?revision=${pod.metadata?.labels?.['runlab.dev/revision']}`,
      { token }
    );
    expect(spec.body.slots.map((slot: { role: string; version: number }) => [slot.role, slot.version])).toEqual([
      ['stable', 1],
      ['canary', 2]
    ]);
    const old = await server.request('GET', `/api/deployments/${deployment.id}/spec?revision=1`, { token });
    expect(old.body.slots.map((slot: { role: string }) => slot.role)).toEqual(['stable']);
    expectErrorBody(await server.request('GET', `/api/deployments/${deployment.id}/spec?revision=99`, { token }), 404, 'not_found');

    const promoted = await server.request('POST', `/api/deployments/${deployment.id}/promote`, { json: { reason: 'v2 is better' } });
    expect(promoted.status).toBe(200);
    await waitForDeployment(deployment.id, 'ready after promote', (d) => d.status === 'ready' && d.revision === 5);
    object = await readDeployment('churn');
    expect(object.metadata?.annotations?.['runlab.dev/versions']).toBe('stable=churn:v2@100%');

    const back = await server.request('POST', `/api/deployments/${deployment.id}/rollback`, { json: { reason: 'v2 regressed' } });
    expect(back.status).toBe(200);
    const final = await waitForDeployment(deployment.id, 'ready after roll back', (d) => d.status === 'ready' && d.revision === 6);
    object = await readDeployment('churn');
    expect(object.metadata?.annotations?.['runlab.dev/versions']).toBe('stable=churn:v1@100%');
    expect(final.history.map((e) => e.kind).filter((k) => ['split_changed', 'promoted', 'rolled_back'].includes(k))).toEqual([
      'rolled_back',
      'promoted',
      'split_changed',
      'rolled_back'
    ]);
  });

  test('after a companion-server restart the deployment is read from the cluster; a hand edit shows as drift until Reconcile', async () => {
    const port = String(server.info.port);
    await server.stop();
    // While the server is away, someone scales by hand.
    const { config } = adminClient(plane);
    const apps = config.makeApiClient((await import('@kubernetes/client-node')).AppsV1Api);
    await apps.patchNamespacedDeployment(
      { name: 'churn', namespace: NAMESPACE, body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] },
      // JSON patch
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/json-patch+json')
    );
    // The same port: the pods' --server URL stays right (a restart elsewhere would be drift too).
    server = await startServer({ dataDir: path.join(tmp, 'data'), env: { ...serverEnv(), RUNLAB_PORT: port } });
    const drifted = await waitForDeployment(deployment.id, 'drift shown', (d) => (d.kubernetes?.drift.length ?? 0) > 0);
    expect(drifted.kubernetes?.drift).toEqual([
      { object: { kind: 'Deployment', name: 'churn' }, field: 'spec.replicas', expected: '2', actual: '3' }
    ]);
    expect(drifted.history.some((e) => e.kind === 'restarted' && e.message.includes('reading the objects'))).toBe(true);
    await waitForDeployment(deployment.id, 'a drifted event', (d) =>
      d.history.some((e) => e.kind === 'drifted' && e.message.includes('spec.replicas'))
    );
    // Nothing was written on restart: the hand edit is still there.
    expect((await readDeployment('churn')).spec?.replicas).toBe(3);

    const reconciled = await server.request('POST', `/api/deployments/${deployment.id}/reconcile`, {
      json: { reason: 'undo the hand edit' }
    });
    expect(reconciled.status).toBe(200);
    expect(reconciled.body.history.some((e: { kind: string }) => e.kind === 'reconciled')).toBe(true);
    await waitFor(async () => (await readDeployment('churn')).spec?.replicas === 2, 'replicas back to 2');
    const clean = await waitForDeployment(
      deployment.id,
      'no drift, ready',
      (d) => d.kubernetes?.drift.length === 0 && d.status === 'ready'
    );
    expect(clean.kubernetes?.pods).toHaveLength(2);
  });

  test('undeploy removes every object Runlab created, and nothing else', async () => {
    const { core } = adminClient(plane);
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'not-runlabs' }, data: { a: 'b' } } });
    const response = await server.request('DELETE', `/api/deployments/${deployment.id}`);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('stopped');
    expect(response.body.history[0].message).toContain('removed Secret churn-runlab-token, Deployment churn, Service churn');
    for (const [apiVersion, kind] of [
      ['apps/v1', 'Deployment'],
      ['v1', 'Service'],
      ['v1', 'Secret']
    ]) {
      expect(await managedObjects(plane, apiVersion, kind, NAMESPACE)).toEqual([]);
    }
    await waitFor(async () => (await managedObjects(plane, 'v1', 'Pod', NAMESPACE)).length === 0, 'the pods gone');
    await waitFor(async () => (await managedObjects(plane, 'apps/v1', 'ReplicaSet', NAMESPACE)).length === 0, 'the ReplicaSets gone');
    expect((await core.readNamespacedConfigMap({ name: 'not-runlabs', namespace: NAMESPACE })).data).toEqual({ a: 'b' });
  });
});

describe('refusals before anything is created', () => {
  const nothingCreated = async (name: string): Promise<void> => {
    const list = await server.request('GET', '/api/deployments?includeStopped=true');
    expect(list.body.deployments.some((d: Deployment) => d.name === name)).toBe(false);
    for (const [apiVersion, kind] of [
      ['apps/v1', 'Deployment'],
      ['v1', 'Service'],
      ['v1', 'Secret']
    ]) {
      expect((await managedObjects(plane, apiVersion, kind, NAMESPACE)).filter((o) => o.metadata?.name?.startsWith(name))).toEqual([]);
    }
  };

  test('a read-only user gets a 403 naming the verb and resource', async () => {
    const response = await server.request('POST', '/api/deployments', {
      json: { name: 'viewer-try', model: 'churn', target: 'kubernetes', kubernetes: { context: VIEWER_CONTEXT, namespace: NAMESPACE } }
    });
    expectErrorBody(response, 403, 'forbidden');
    expect(response.body.error.message).toMatch(/may not .*create.* deployments\.apps/);
    expect(response.body.error.message).toContain('secrets');
    expect(response.body.error.message).toContain('Nothing was created');
    await nothingCreated('viewer-try');
  });

  test('an unreachable API server is a clear 503', async () => {
    const response = await server.request('POST', '/api/deployments', {
      json: { name: 'nowhere', model: 'churn', target: 'kubernetes', kubernetes: { context: UNREACHABLE_CONTEXT, namespace: NAMESPACE } }
    });
    expectErrorBody(response, 503, 'unavailable');
    expect(response.body.error.message).toContain('does not answer');
    expect(response.body.error.message).toContain(UNREACHABLE_CONTEXT);
    await nothingCreated('nowhere');
  });

  test('bad Kubernetes settings are refused with the field named', async () => {
    const noContext = await server.request('POST', '/api/deployments', { json: { name: 'x', model: 'churn', target: 'kubernetes' } });
    expectErrorBody(noContext, 400, 'invalid_request');
    expect(JSON.stringify(noContext.body.error.details)).toContain('kubernetes');
    const badCpu = await kubernetesDeploy('x', {}, { resources: { requests: { cpu: 'lots' } } });
    expectErrorBody(badCpu, 400, 'invalid_request');
    expect(JSON.stringify(badCpu.body.error.details)).toContain('quantity');
    const badNamespace = await kubernetesDeploy('x', {}, { namespace: 'Not_A_Name' });
    expectErrorBody(badNamespace, 400, 'invalid_request');
    const unknownContext = await kubernetesDeploy('x', {}, { context: 'nope' });
    expectErrorBody(unknownContext, 404, 'not_found');
  });
});

describe('the KServe backend', () => {
  test('an InferenceService with canaryTrafficPercent, removed on undeploy', async () => {
    const created = await kubernetesDeploy('churn-kserve', {}, { backend: 'kserve' });
    expect(created.status).toBe(201);
    const id = (created.body as Deployment).id;
    expect(created.body.kubernetes.objects).toEqual([
      { kind: 'Secret', name: 'churn-kserve-runlab-token' },
      { kind: 'InferenceService', name: 'churn-kserve' }
    ]);
    const canary = await server.request('POST', `/api/deployments/${id}/traffic`, {
      json: { second: { mode: 'canary', version: 'v2', percent: 10 } }
    });
    expect(canary.status).toBe(200);
    const [isvc] = (await managedObjects(plane, 'serving.kserve.io/v1beta1', 'InferenceService', NAMESPACE)) as (V1Deployment & {
      spec: { predictor: { canaryTrafficPercent?: number; containers: { env: { name: string; value?: string }[] }[] } };
    })[];
    expect(isvc.spec.predictor.canaryTrafficPercent).toBe(10);
    expect(isvc.spec.predictor.containers[0].env).toEqual(expect.arrayContaining([{ name: 'RUNLAB_DEPLOYMENT_REVISION', value: '2' }]));
    const promoted = await server.request('POST', `/api/deployments/${id}/promote`, { json: {} });
    expect(promoted.status).toBe(200);
    const [after] = (await managedObjects(plane, 'serving.kserve.io/v1beta1', 'InferenceService', NAMESPACE)) as unknown as {
      spec: { predictor: { canaryTrafficPercent?: number } };
    }[];
    expect(after.spec.predictor.canaryTrafficPercent).toBeUndefined();
    expect((await server.request('DELETE', `/api/deployments/${id}`)).status).toBe(200);
    expect(await managedObjects(plane, 'serving.kserve.io/v1beta1', 'InferenceService', NAMESPACE)).toEqual([]);
  });
});
