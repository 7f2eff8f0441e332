/**
 * Retrain with the real app: a deployed version without a run is refused (409), and the whole
 * loop on a real local runner (`.venv/bin/python -m runlab runner start`): a notebook job trains
 * and logs model `retrained` v1 from dataset `measurements` v1; v1 is deployed; the dataset gets
 * a v2; "Retrain" re-runs the job's snapshot with measurements v2, the run logs v2, and v2 is
 * proposed as a 10% canary of the same deployment, with the lineage deployment → … → deployment.
 * The deployments' runtime is /bin/false: the canary is a change of the deployment's spec, which
 * needs no serving process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Alert, Deployment, Job, ModelVersion, ProvenanceGraph, Retrain } from '../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';
import { PYTHON } from './model-helpers';

jest.setTimeout(240_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const PYTHON_DIR = path.resolve(__dirname, '..', '..', 'python');

let tmp: string;
let server: TestServer;
let runner: ChildProcess | undefined;
let runnerLog = '';

async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 120_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as T;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; runner log:\n${runnerLog.slice(-4000)}`);
    }
    await sleep(100);
  }
}

beforeAll(async () => {
  tmp = makeTempDir();
  server = await startServer({
    env: { RUNLAB_SERVING_PYTHON: '/bin/false', RUNLAB_RUNNER_HEARTBEAT_MS: '500', RUNLAB_RUNNER_LEASE_MS: '5000' }
  });
});

afterAll(async () => {
  if (runner && runner.exitCode === null) {
    runner.kill('SIGTERM');
    runner.kill('SIGTERM'); // a second signal: stop at once
    await new Promise((resolve) => runner?.once('exit', resolve));
  }
  await server.destroy();
  removeDir(tmp);
});

test('a deployed version registered without a run cannot be retrained (409)', async () => {
  const staged = await server.app.blobs.stage(Readable.from([Buffer.from('an MLflow model')]), 1024);
  server.app.blobs.commitSync(staged);
  server.app.models.createVersionFromFiles(
    'from-mlflow',
    {
      runId: null,
      artifactPath: 'model',
      files: [{ path: 'MLmodel', size: staged.size, digest: staged.digest }],
      flavor: 'sklearn',
      signature: null,
      inputExample: null,
      requirements: [],
      profile: null,
      description: '',
      tags: {},
      source: 'mlflow'
    },
    'test'
  );
  const deployment = (await server.request('POST', '/api/deployments', { json: { model: 'from-mlflow' } })).body as Deployment;
  const refused = await server.request('POST', `/api/deployments/${deployment.id}/retrain`, { json: {} });
  expectErrorBody(refused, 409, 'conflict');
  expect(refused.body.error.message).toBe(
    'from-mlflow v1 was registered without a run (for example through MLflow without one), so Runlab has no notebook to re-produce it; log the model from a Runlab run to retrain it'
  );
  expect((await server.request('GET', `/api/deployments/${deployment.id}/retrains`)).body).toEqual({ retrains: [] });
  expectErrorBody(await server.request('POST', '/api/deployments/nope/retrain', { json: {} }), 404, 'not_found');
  expectErrorBody(
    await server.request('POST', `/api/deployments/${deployment.id}/retrain`, { json: { canaryPercent: 90 } }),
    400,
    'invalid_request'
  );
});

const pythonEnv = (): NodeJS.ProcessEnv => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RUNLAB_')));
  // The venv first on PATH: the notebook's kernel (kernelspec python3) is the venv's Python too.
  const venvBin = path.dirname(PYTHON);
  return {
    ...env,
    PATH: `${venvBin}${path.delimiter}${env.PATH ?? ''}`,
    VIRTUAL_ENV: path.dirname(venvBin),
    PYTHONPATH: PYTHON_DIR,
    PYTHONUNBUFFERED: '1',
    RUNLAB_DATA_DIR: path.join(tmp, 'client-data')
  };
};

/** Commits `<tmp>/measurements` as the next version of dataset measurements (asynchronously: the server runs in this process). */
async function commitDataset(project: string, value: number): Promise<void> {
  const folder = path.join(tmp, 'measurements');
  fs.mkdirSync(folder, { recursive: true });
  const rows = Array.from({ length: 40 }, (_, index) => `${index % 2 === 0 ? -value - index : value + index},${index % 2}`);
  fs.writeFileSync(path.join(folder, 'values.csv'), `x,y\n${rows.join('\n')}\n`);
  await promisify(execFile)(
    PYTHON,
    ['-c', `import runlab, sys\nprint(runlab.dataset('measurements').commit(sys.argv[1], progress=False).label)`, folder],
    { env: { ...pythonEnv(), RUNLAB_URL: server.url, RUNLAB_TOKEN: server.adminToken, RUNLAB_PROJECT: project }, encoding: 'utf8' }
  );
}

const TRAIN = `import runlab
import numpy as np
from sklearn.linear_model import LogisticRegression
run = runlab.start()  # in a runner job: the job's run
folder = runlab.dataset('measurements').path(progress=False)
table = np.loadtxt(folder / 'values.csv', delimiter=',', skiprows=1)
features, labels = table[:, :1], table[:, 1].astype(int)
logged = runlab.model(LogisticRegression().fit(features, labels), name='retrained', input_example=features[:3])
print('logged', logged)`;

test('the full loop on a real runner: the retrained version is proposed as a canary of the deployment', async () => {
  const project = 'retrain-demo';
  expect((await server.request('POST', '/api/projects', { json: { name: project } })).status).toBe(201);
  await commitDataset(project, 1);

  const added = await server.request('POST', '/api/runners', { json: { name: 'retrainer', labels: ['retrain'] } });
  expect(added.status).toBe(201);
  runner = spawn(
    PYTHON,
    [
      '-m',
      'runlab',
      'runner',
      'start',
      '--server',
      server.url,
      '--token',
      added.body.token,
      '--work-dir',
      path.join(tmp, 'runner-work'),
      '--drain-grace',
      '2'
    ],
    { env: { ...pythonEnv(), RUNLAB_DATA_DIR: path.join(tmp, 'runner-data') }, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  runner.stdout?.on('data', (chunk: Buffer) => (runnerLog += chunk.toString('utf8')));
  runner.stderr?.on('data', (chunk: Buffer) => (runnerLog += chunk.toString('utf8')));
  await waitFor(() => runnerLog.includes('waiting for jobs'), 'the runner to connect', 60_000);

  const notebook = {
    cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: TRAIN }],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };
  const submitted = await server.request('POST', '/api/jobs', {
    json: { project, notebookPath: 'train.ipynb', notebook, labels: ['retrain'], datasets: { measurements: 'v1' } }
  });
  expect(submitted.status).toBe(201);
  const trained = await waitFor(async () => {
    const job = (await server.request('GET', `/api/jobs/${submitted.body.id}`)).body as Job;
    return ['finished', 'failed', 'cancelled', 'timed_out'].includes(job.status) && job;
  }, 'the training job');
  if (trained.status !== 'finished') {
    throw new Error(
      `training job ${trained.status}: ${trained.error}\n${(await server.request('GET', `/api/jobs/${trained.id}/log`)).text.slice(-3000)}`
    );
  }
  const v1 = (await server.request('GET', '/api/models/retrained/versions/1')).body as ModelVersion;
  expect(v1.runId).toBe(trained.runId);

  const deployment = (await server.request('POST', '/api/deployments', { json: { model: 'retrained' } })).body as Deployment;
  await commitDataset(project, 3); // measurements v2: the newest
  const started = await server.request('POST', `/api/deployments/${deployment.id}/retrain`, { json: {} });
  expect(started.status).toBe(201);
  const retrain = started.body as Retrain;
  expect(retrain).toMatchObject({
    deploymentId: deployment.id,
    sourceRunId: trained.runId,
    modelName: 'retrained',
    fromModelVersionId: v1.id,
    datasets: { measurements: 'v2' },
    canaryPercent: 10,
    promote: false,
    newModelVersionId: null
  });
  expect(['queued', 'running']).toContain(retrain.status);

  // One retrain at a time per deployment.
  const second = await server.request('POST', `/api/deployments/${deployment.id}/retrain`, { json: {} });
  expectErrorBody(second, 409, 'conflict');
  expect(second.body.error.message).toContain('has a retrain under way already');

  const done = await waitFor(async () => {
    const [latest] = ((await server.request('GET', `/api/deployments/${deployment.id}/retrains`)).body as { retrains: Retrain[] }).retrains;
    return ['proposed', 'promoted', 'failed', 'cancelled'].includes(latest.status) && latest;
  }, 'the retrain to end');
  expect(done).toMatchObject({ id: retrain.id, status: 'proposed', newVersion: 2, error: null });
  const job = (await server.request('GET', `/api/jobs/${retrain.jobId}`)).body as Job;
  expect(job.datasets).toEqual({ measurements: 'v2' });
  expect(job.rerunOf).toBe(trained.runId);

  const after = (await server.request('GET', `/api/deployments/${deployment.id}`)).body as Deployment;
  expect(after.slots.map((slot) => [slot.role, slot.version, slot.percent])).toEqual([
    ['stable', 1, 90],
    ['canary', 2, 10]
  ]);

  const graph = (await server.request('GET', `/api/provenance?node=${encodeURIComponent(`run:${retrain.runId}`)}&direction=both`))
    .body as ProvenanceGraph;
  const edges = graph.edges.map((edge) => `${edge.from} → ${edge.to}`);
  expect(edges).toEqual(
    expect.arrayContaining([
      `run:${trained.runId} → run:${retrain.runId}`,
      `run:${retrain.runId} → model_version:${done.newModelVersionId}`,
      `model_version:${done.newModelVersionId} → deployment:${deployment.id}`
    ])
  );

  // A rule with action retrain_and_promote: its alert starts a retrain, whose version is promoted.
  const rule = await server.request('POST', '/api/alert-rules', {
    json: { deploymentId: deployment.id, name: 'Drift retrains', kind: 'drift_share', threshold: 0, action: 'retrain_and_promote' }
  });
  expect(rule.status).toBe(201);
  const stable = after.slots[0];
  const drifted = {
    name: 'x',
    role: 'input' as const,
    kind: 'numeric' as const,
    test: 'wasserstein' as const,
    statistic: 0.7,
    pValue: 1e-9,
    adjustedPValue: 1e-9,
    effectSize: 0.7,
    effectThreshold: 0.1,
    psi: 0.5,
    drifted: true,
    rows: 1000,
    missing: 0,
    reason: null
  };
  server.app.alerts.judgeWindow({
    id: 'window-retrain',
    deploymentId: deployment.id,
    modelVersionId: stable.modelVersionId,
    modelName: stable.modelName,
    version: stable.version,
    index: 1,
    startAt: new Date().toISOString(),
    endAt: new Date().toISOString(),
    rows: 1000,
    status: 'judged',
    reason: null,
    driftedShare: 1,
    drifted: true,
    features: [drifted],
    predictions: []
  });
  const alert = await waitFor(async () => {
    const alerts = (await server.request('GET', `/api/alerts?deploymentId=${deployment.id}`)).body.alerts as Alert[];
    return alerts.find((candidate) => candidate.ruleId === rule.body.id && candidate.retrainId !== null);
  }, 'the alert to start a retrain');
  const promoted = await waitFor(async () => {
    const [latest] = ((await server.request('GET', `/api/deployments/${deployment.id}/retrains`)).body as { retrains: Retrain[] }).retrains;
    return latest.id === alert.retrainId && ['proposed', 'promoted', 'failed', 'cancelled'].includes(latest.status) && latest;
  }, 'the alert retrain to end');
  expect(promoted).toMatchObject({
    alertId: alert.id,
    status: 'promoted',
    promote: true,
    newVersion: 3,
    createdBy: 'alert rule Drift retrains'
  });
  const final = (await server.request('GET', `/api/deployments/${deployment.id}`)).body as Deployment;
  expect(final.slots.map((slot) => [slot.role, slot.version, slot.percent])).toEqual([['stable', 3, 100]]);

  const lineage = (await server.request('GET', `/api/provenance?node=${encodeURIComponent(`alert:${alert.id}`)}&direction=both`))
    .body as ProvenanceGraph;
  expect(lineage.nodes.find((node) => node.ref === `alert:${alert.id}`)).toMatchObject({
    kind: 'alert',
    label: 'Drift retrains',
    detail: alert.message
  });
  expect(lineage.edges.map((edge) => `${edge.from} → ${edge.to}`)).toEqual(
    expect.arrayContaining([
      `deployment:${deployment.id} → alert:${alert.id}`,
      `alert:${alert.id} → run:${promoted.runId}`,
      `run:${promoted.runId} → model_version:${promoted.newModelVersionId}`,
      `model_version:${promoted.newModelVersionId} → deployment:${deployment.id}`
    ])
  );
});
