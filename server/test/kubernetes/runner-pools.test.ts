/**
 * Runner pools of kind `kubernetes` against a real control plane (kube-apiserver, etcd,
 * controller-manager, scheduler; KWOK nodes), a real companion server and real SQLite: a queued
 * notebook job becomes a Kubernetes Job with the pool's spec (checked as the cluster's
 * administrator sees it), the real Runlab runner agent runs it in one-shot mode and its run
 * finishes; a pod deleted while its job runs is a lost runner at once (the attempt lost, the job
 * queued again, a new Job started for it); missing rights and an unreachable API server are
 * refused before anything is created; a pod no node can hold stays Pending with the scheduler's
 * reason shown among the pool's pods.
 *
 * KWOK runs no containers. Where a test needs what runs in a pod (the runner agent), it acts as
 * the kubelet: it reads the pod from the API server and starts its command
 * (`runlab runner start --once …` → this checkout's .venv python -m runlab …) with its
 * environment (RUNLAB_URL, and RUNLAB_TOKEN from the Secret) as a local process (plane.ts
 * runPod), and stops that process when the test deletes the pod.
 */
import type { KubernetesObject, V1Job, V1Pod, V1Secret } from '@kubernetes/client-node';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, Job, Run, Runner, RunnerPool, ServerToClientEvents } from '../../src/contract';
import path from 'node:path';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from '../helpers';
import {
  adminClient,
  CONTEXT,
  createNamespace,
  planeFromEnv,
  runPod,
  UNREACHABLE_CONTEXT,
  VIEWER_CONTEXT,
  waitFor,
  type PodProcess
} from './plane';

const plane = planeFromEnv();
const NAMESPACE = 'pools';
const IMAGE = 'registry.example.com/ml/runlab-runner:test';
let server: TestServer;
const podProcesses: PodProcess[] = [];

function notebook(source: string) {
  return {
    cells: [
      { cell_type: 'code', metadata: { tags: ['parameters'] }, source: 'epochs = 1', outputs: [], execution_count: null, id: 'p' },
      { cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null, id: 'c' }
    ],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };
}

async function submit(source: string, extra: Record<string, unknown> = {}, on: TestServer = server): Promise<Job> {
  const response = await on.request('POST', '/api/jobs', {
    json: { project: 'pools', notebookPath: 'train.ipynb', notebook: notebook(source), ...extra }
  });
  expect(response.status).toBe(201);
  return response.body as Job;
}

const getJob = async (id: string, on: TestServer = server): Promise<Job> => (await on.request('GET', `/api/jobs/${id}`)).body as Job;
const pools = async (): Promise<RunnerPool[]> => ((await server.request('GET', '/api/runner-pools')).body as { pools: RunnerPool[] }).pools;

/** The Kubernetes Jobs started for a Runlab job, as the administrator lists them. */
async function kubeJobsFor(runlabJobId: string): Promise<V1Job[]> {
  const list = await adminClient(plane).objects.list(
    'batch/v1',
    'Job',
    NAMESPACE,
    undefined,
    undefined,
    undefined,
    undefined,
    `app.kubernetes.io/managed-by=runlab,runlab.dev/job=${runlabJobId}`
  );
  return list.items as V1Job[];
}

async function podOf(jobName: string): Promise<V1Pod | undefined> {
  const list = await adminClient(plane).core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `job-name=${jobName}` });
  return list.items.find((pod) => !pod.metadata?.deletionTimestamp);
}

/** Acts as the kubelet for the Job's pod once the cluster has scheduled it. */
async function runJobPod(jobName: string): Promise<{ pod: V1Pod; process: PodProcess }> {
  const pod = await waitFor(async () => {
    const found = await podOf(jobName);
    return found?.status?.phase === 'Running' && found;
  }, `the pod of Job ${jobName} running`);
  const process = await runPod(plane, pod);
  podProcesses.push(process);
  return { pod, process };
}

const createPool = (body: Record<string, unknown>) =>
  server.request('POST', '/api/runner-pools', { json: { context: CONTEXT, namespace: NAMESPACE, ...body } });

beforeAll(async () => {
  await createNamespace(plane, NAMESPACE);
  server = await startServer({ env: { RUNLAB_KUBECONFIG: plane.kubeconfig, RUNLAB_RUNNER_IMAGE: IMAGE } });
});

afterAll(async () => {
  for (const process of podProcesses) await process.stop();
  await server?.destroy();
});

describe('a runner pool of kind kubernetes', () => {
  let pool: RunnerPool;

  test('a queued notebook job becomes a Kubernetes Job whose pod runs the agent once; the run finishes', async () => {
    const queued = await submit('print("hello from the pool", epochs)');
    expect(queued.status).toBe('queued');

    const created = await createPool({
      name: 'cpu',
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
      nodeSelector: { type: 'kwok' },
      maxParallel: 2
    });
    expect(created.status).toBe(201);
    pool = created.body as RunnerPool;
    expect(pool).toMatchObject({ name: 'cpu', kind: 'kubernetes', image: IMAGE, labels: [], maxParallel: 2, status: 'ok' });

    const [kubeJob] = await waitFor(async () => {
      const found = await kubeJobsFor(queued.id);
      return found.length > 0 && found;
    }, 'the Kubernetes Job of the queued job');
    const jobName = kubeJob.metadata?.name ?? '';
    expect(jobName).toMatch(/^runlab-cpu-[a-z0-9]{6}$/);
    const labels = kubeJob.metadata?.labels ?? {};
    expect(labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'runlab',
      'app.kubernetes.io/name': 'cpu',
      'runlab.dev/pool': pool.id,
      'runlab.dev/job': queued.id
    });
    expect(kubeJob.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 300 });
    const podSpec = kubeJob.spec?.template.spec;
    expect(podSpec?.restartPolicy).toBe('Never');
    expect(podSpec?.nodeSelector).toEqual({ type: 'kwok' });
    const container = podSpec?.containers[0];
    expect(container).toMatchObject({
      name: 'runner',
      image: IMAGE,
      command: ['runlab', 'runner', 'start', '--once', '--idle-timeout', '300'],
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } }
    });
    expect(container?.env?.map((variable) => variable.name)).toEqual(['RUNLAB_URL', 'RUNLAB_TOKEN', 'RUNLAB_RUNNER_ONCE']);
    expect(container?.env?.find((variable) => variable.name === 'RUNLAB_URL')?.value).toBe(server.url);
    const tokenRef = container?.env?.find((variable) => variable.name === 'RUNLAB_TOKEN')?.valueFrom?.secretKeyRef;
    expect(tokenRef).toEqual({ name: `${jobName}-token`, key: 'token' });

    // The Secret holds a runner token for this one runner, and goes with its Job.
    const secret: V1Secret = await adminClient(plane).core.readNamespacedSecret({ name: `${jobName}-token`, namespace: NAMESPACE });
    expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name: jobName, uid: kubeJob.metadata?.uid })]);
    const token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    expect(token).toMatch(/^rl_r_/);
    const runnerId = labels['runlab.dev/runner'];
    const runner = (await server.request('GET', `/api/runners/${runnerId}`)).body as Runner;
    expect(runner).toMatchObject({ name: jobName.replace(/^runlab-/, ''), poolId: pool.id, maxJobs: 1, labels: [] });

    const { process } = await runJobPod(jobName);
    const finished = await waitFor(
      async () => {
        const job = await getJob(queued.id);
        return (job.status === 'finished' || job.status === 'failed') && job;
      },
      'the job to finish on the pod',
      120_000
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nagent output:\n${process.output()}`);
    });
    expect(finished).toMatchObject({ status: 'finished', runnerName: runner.name, attemptCount: 1 });
    const run = (await server.request('GET', `/api/runs/${queued.runId}`)).body as Run;
    expect(run.status).toBe('finished');
    expect(run.artifacts.map((artifact) => artifact.path)).toContain('executed.ipynb');
    expect((await server.request('GET', `/api/jobs/${queued.id}/log`)).text).toContain('hello from the pool 1');

    // One job, then the agent exits; its runner is retired and its token no longer works.
    await waitFor(() => process.child.exitCode !== null, 'the one-shot agent to exit', 30_000);
    expect(process.child.exitCode).toBe(0);
    await waitFor(async () => (await server.request('GET', `/api/runners/${runnerId}`)).status === 404, 'the pool runner to be retired');
    expectErrorBody(await server.request('GET', `/api/runs/${queued.runId}`, { token }), 401, 'unauthorized');
  });

  test('a pod deleted while its job runs is a lost runner at once: the attempt is lost, the job queued again on a new Job', async () => {
    const queued = await submit('import time\nprint("sleeping", flush=True)\ntime.sleep(120)');
    const [first] = await waitFor(async () => {
      const found = await kubeJobsFor(queued.id);
      return found.length > 0 && found;
    }, 'the Kubernetes Job of the long job');
    const { pod, process } = await runJobPod(first.metadata?.name ?? '');
    await waitFor(async () => {
      const job = await getJob(queued.id);
      return job.status === 'running' && job.progress?.state === 'running' && job;
    }, 'the long job to be running its notebook');

    const deletedAt = Date.now();
    await adminClient(plane).core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace: NAMESPACE });
    await process.stop();

    const requeued = await waitFor(async () => {
      const job = await getJob(queued.id);
      return job.status === 'queued' && job.attempts[0]?.status === 'lost' && job;
    }, 'the job to be queued again with its attempt lost');
    // Well within the 30 s lease: the pod's deletion, not a silent runner, ended the attempt.
    expect(Date.now() - deletedAt).toBeLessThan(15_000);
    expect(requeued.attempts[0].error).toMatch(/was lost: its pod .* was deleted/);
    expect(requeued.attemptCount).toBe(1);

    const second = await waitFor(async () => {
      const found = (await kubeJobsFor(queued.id)).filter((job) => job.metadata?.name !== first.metadata?.name);
      return found[0];
    }, 'a new Kubernetes Job for the requeued job');
    expect(second.metadata?.labels?.['runlab.dev/runner']).not.toBe(first.metadata?.labels?.['runlab.dev/runner']);
    expect((await server.request('GET', `/api/runners/${first.metadata?.labels?.['runlab.dev/runner']}`)).status).toBe(404);

    // Cancelled while its new pod waits: the pod has nothing to run, and its Job is deleted.
    expect((await server.request('POST', `/api/jobs/${queued.id}/cancel`)).status).toBe(200);
    await waitFor(
      async () => !(await kubeJobsFor(queued.id)).some((job) => job.metadata?.name === second.metadata?.name),
      'the Job of the cancelled job to be deleted'
    );
  });

  test('a context that may only read is refused (403 naming what it lacks), an unreachable one is 503; nothing is created', async () => {
    const readOnly = await server.request('POST', '/api/runner-pools', {
      json: { name: 'viewer', context: VIEWER_CONTEXT, namespace: NAMESPACE }
    });
    expectErrorBody(readOnly, 403, 'forbidden');
    expect(readOnly.body.error.message).toMatch(/may not .*create.* jobs\.batch/);
    expect(readOnly.body.error.message).toMatch(/create.* secrets/);
    expect(readOnly.body.error.message).toMatch(/Nothing was created/);

    const unreachable = await server.request('POST', '/api/runner-pools', {
      json: { name: 'nowhere', context: UNREACHABLE_CONTEXT, namespace: NAMESPACE }
    });
    expectErrorBody(unreachable, 503, 'unavailable');
    expect(unreachable.body.error.message).toMatch(/does not answer/);

    const taken = await createPool({ name: 'cpu' });
    expectErrorBody(taken, 409, 'conflict');
    expect((await pools()).map((p) => p.name)).toEqual(['cpu']);
  });

  test('a pod no node can hold stays Pending with the scheduler’s reason; removing the pool deletes its Jobs', async () => {
    const browser: Socket<ServerToClientEvents, ClientToServerEvents> = connect(server.url, {
      auth: { token: server.adminToken },
      transports: ['websocket'],
      reconnection: false
    });
    await new Promise<void>((resolve) => browser.once('connect', () => resolve()));
    const updates: RunnerPool[] = [];
    const removed: string[] = [];
    browser.on('runner_pool:updated', (update) => updates.push(update));
    browser.on('runner_pool:removed', ({ id }) => removed.push(id));

    const created = await createPool({ name: 'huge', labels: ['huge'], resources: { requests: { cpu: '32' } }, maxParallel: 1 });
    expect(created.status).toBe(201);
    const huge = created.body as RunnerPool;
    const queued = await submit('print(1)', { labels: ['huge'] });

    const pending = await waitFor(async () => {
      const listed = (await pools()).find((p) => p.id === huge.id);
      return listed?.pods.find((pod) => pod.runlabJobId === queued.id && /Insufficient cpu/.test(pod.reason));
    }, 'the huge pod to be unschedulable');
    expect(pending).toMatchObject({ phase: 'Pending', runlabJobId: queued.id });
    expect(pending.reason).toMatch(/^Unschedulable: 0\/2 nodes are available: 2 Insufficient cpu/);
    expect(pending.podName).toMatch(new RegExp(`^${pending.jobName}-`));
    // Browsers hear it live.
    await waitFor(
      () => updates.some((update) => update.id === huge.id && update.pods.some((pod) => /Insufficient cpu/.test(pod.reason))),
      'runner_pool:updated with the unschedulable pod',
      5000
    );
    // maxParallel 1: a second huge job waits for the first's pod, with none of its own.
    const second = await submit('print(2)', { labels: ['huge'] });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await kubeJobsFor(second.id)).toEqual([]);
    // The unlabelled pool does not take jobs that need the label.
    expect((await pools()).find((p) => p.name === 'cpu')?.pods.some((pod) => pod.runlabJobId === second.id)).toBe(false);

    expect((await server.request('DELETE', `/api/runner-pools/${huge.id}`)).status).toBe(204);
    expect((await pools()).map((p) => p.name)).toEqual(['cpu']);
    await waitFor(() => removed.includes(huge.id), 'runner_pool:removed', 5000);
    browser.disconnect();
    await waitFor(async () => (await kubeJobsFor(queued.id)).length === 0, 'the removed pool’s Job to be deleted');
    const left = (await adminClient(plane).objects.list('v1', 'Secret', NAMESPACE)).items as KubernetesObject[];
    await waitFor(
      async () =>
        !((await adminClient(plane).objects.list('v1', 'Secret', NAMESPACE)).items as KubernetesObject[]).some(
          (secret) => secret.metadata?.labels?.['runlab.dev/pool'] === huge.id
        ),
      `the removed pool’s Secrets to go with their Jobs (${left.length} Secrets now)`
    );
    expect((await getJob(queued.id)).status).toBe('queued');
    for (const job of [queued, second]) await server.request('POST', `/api/jobs/${job.id}/cancel`);
  });

  test('after a restart, a runner whose Job went away while the server was down is lost, and its job gets a new Job', async () => {
    const dir = makeTempDir();
    const env = { RUNLAB_KUBECONFIG: plane.kubeconfig, RUNLAB_RUNNER_IMAGE: IMAGE };
    let before: TestServer | undefined = await startServer({ dataDir: path.join(dir, 'data'), env });
    let after: TestServer | undefined;
    try {
      expect(
        (await before.request('POST', '/api/runner-pools', { json: { name: 'again', context: CONTEXT, namespace: NAMESPACE } })).status
      ).toBe(201);
      const queued = await submit('print(1)', {}, before);
      const [first] = await waitFor(async () => {
        const found = await kubeJobsFor(queued.id);
        return found.length > 0 && found;
      }, 'the Kubernetes Job before the restart');
      await before.stop();
      before = undefined;
      await adminClient(plane).objects.delete(
        { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: first.metadata?.name, namespace: NAMESPACE } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background'
      );
      await waitFor(async () => (await kubeJobsFor(queued.id)).length === 0, 'the Job to be gone while the server is down');

      after = await startServer({ dataDir: path.join(dir, 'data'), env });
      const second = await waitFor(async () => (await kubeJobsFor(queued.id))[0], 'a new Kubernetes Job after the restart');
      expect(second.metadata?.name).not.toBe(first.metadata?.name);
      const oldRunner = first.metadata?.labels?.['runlab.dev/runner'];
      expect((await after.request('GET', `/api/runners/${oldRunner}`)).status).toBe(404);
      expect((await getJob(queued.id, after)).status).toBe('queued');
      await after.request('POST', `/api/jobs/${queued.id}/cancel`);
      await waitFor(async () => (await kubeJobsFor(queued.id)).length === 0, 'the cancelled job’s Job to be deleted');
    } finally {
      await before?.stop();
      await after?.stop();
      removeDir(dir);
    }
  });
});
