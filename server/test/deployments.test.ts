/**
 * Deployments on the `local` target against a real server, real SQLite and the real serving
 * runtime (`.venv/bin/python -m runlab serve-model --deployment …`): deploy → ready, a request
 * answered through the endpoint, a SIGKILLed runtime restarted, a canary picked up without a
 * restart, promote / roll back / undeploy with their conflicts, what a deployment token reaches
 * (only its own deployment's spec, files and telemetry), telemetry turned into stats, lineage
 * model version → deployment, and live deployments started again by a restarted server.
 *
 * The model is a real scikit-learn model written by `runlab.models.flavors.save_model` and
 * uploaded as a run's artifacts, as `runlab.model(...)` does. A runtime's token secret is never
 * stored or answered by the server; the tests read it where the runtime gets it: the
 * RUNLAB_TOKEN of its process (/proc/<pid>/environ, Linux).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import type { Deployment, ModelVersion, ProvenanceGraph, Run, ServingSpec } from '../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';
import { logVersion, PYTHON, saveModel, type SavedModel } from './model-helpers';

jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every deployment log of the test servers, quoted when a wait times out. */
const logDirs = new Set<string>();

function deploymentLogs(): string {
  return [...logDirs]
    .flatMap((dir) =>
      fs.existsSync(dir)
        ? fs
            .readdirSync(dir)
            .filter((file) => file.endsWith('.log'))
            .map((file) => path.join(dir, file))
        : []
    )
    .map((file) => `${file}:\n${fs.readFileSync(file, 'utf8').split('\n').slice(-40).join('\n')}`)
    .join('\n');
}

async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 60_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as T;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; deployment logs:\n${deploymentLogs()}`);
    }
    await sleep(50);
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let tmp: string;
let model: SavedModel;
let server: TestServer;
/** churn v1, v2, v3 (three trainings of the same kind of model). */
const versions: ModelVersion[] = [];
const runs: Run[] = [];

const get = async (id: string, on: TestServer = server): Promise<Deployment> => {
  const response = await on.request('GET', `/api/deployments/${id}`);
  expect(response.status).toBe(200);
  return response.body as Deployment;
};

const deploy = async (json: Record<string, unknown>): Promise<Deployment> => {
  const response = await server.request('POST', '/api/deployments', { json });
  expect(response.status).toBe(201);
  return response.body as Deployment;
};

const waitForStatus = (id: string, status: Deployment['status'], revision?: number, on: TestServer = server): Promise<Deployment> =>
  waitFor(
    async () => {
      const deployment = await get(id, on);
      return deployment.status === status && (revision === undefined || deployment.revision === revision) && deployment;
    },
    `deployment ${id} ${status}${revision ? ` on revision ${revision}` : ''}`
  );

const pidFile = (id: string, on: TestServer = server): string => path.join(on.dataDir, 'deployment-logs', `${id}.pid`);
const servingPid = (id: string, on: TestServer = server): number => Number(fs.readFileSync(pidFile(id, on), 'utf8').trim());

/** The runtime's RUNLAB_TOKEN: its deployment token's secret, as the server handed it over. */
function tokenOfRuntime(id: string, on: TestServer = server): string {
  const environ = fs.readFileSync(`/proc/${servingPid(id, on)}/environ`, 'utf8').split('\0');
  const entry = environ.find((line) => line.startsWith('RUNLAB_TOKEN='));
  if (!entry) throw new Error('the serving process has no RUNLAB_TOKEN');
  return entry.slice('RUNLAB_TOKEN='.length);
}

async function runtimeStatus(endpoint: string): Promise<{ revision: number; ready: boolean; slots: { role: string; version: number }[] }> {
  const response = await fetch(`${endpoint}/runlab/status`);
  return (await response.json()) as { revision: number; ready: boolean; slots: { role: string; version: number }[] };
}

beforeAll(async () => {
  tmp = makeTempDir('runlab-deployments-');
  // Saved before the server starts: a synchronous child process would stall its event loop.
  const saved = [1, 2, 3].map((seed) => saveModel(tmp, seed));
  model = saved[0];
  server = await startServer({
    dataDir: path.join(tmp, 'data'),
    env: { RUNLAB_SERVING_PYTHON: PYTHON, RUNLAB_SERVING_POLL_SECONDS: '0.5' }
  });
  logDirs.add(path.join(server.dataDir, 'deployment-logs'));
  for (const each of saved) {
    const logged = await logVersion(server, each);
    versions.push(logged.version);
    runs.push(logged.run);
  }
});

afterAll(async () => {
  await server?.stop();
  removeDir(tmp);
});

describe('deploy, serve, restart, change, undeploy (the real serving runtime)', () => {
  let deployment: Deployment;
  const updates: Deployment[] = [];

  test('deploy → ready: the endpoint answers a prediction', async () => {
    const socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'], reconnection: false });
    socket.on('deployment:updated', (update: Deployment) => updates.push(update));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    try {
      const started = Date.now();
      deployment = await deploy({ model: 'churn', version: 'v1' });
      expect(deployment).toMatchObject({
        name: 'churn',
        target: 'local',
        status: 'deploying',
        requestedRef: 'churn@v1',
        replicas: 1,
        revision: 1,
        slots: [{ role: 'stable', modelVersionId: versions[0].id, modelName: 'churn', version: 1, percent: 100 }],
        createdBy: 'local-admin',
        stats: null
      });
      expect(deployment.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(deployment.history.map((event) => event.kind)).toEqual(['deployed']);
      expect(deployment.history[0].message).toContain('churn v1');

      const ready = await waitForStatus(deployment.id, 'ready');
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(`deploy → ready (local target, real runtime): ${seconds.toFixed(2)} s\n`);
      expect(ready.readyReplicas).toBe(1);
      expect(ready.statusMessage).toBe('');
      expect(ready.history.map((event) => event.kind)).toEqual(['ready', 'deployed']);
      expect(ready.history[0]).toMatchObject({ revision: 1, actor: 'runlab', message: expect.stringMatching(/^ready in \d+\.\d s/) });

      const { columns, data } = model.inputExample;
      const answer = await fetch(`${deployment.endpoint}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns, data } })
      });
      expect(answer.status).toBe(200);
      const { predictions } = (await answer.json()) as { predictions: unknown[] };
      expect(predictions).toHaveLength(data.length);
      expect(predictions.every((value) => value === 0 || value === 1)).toBe(true);

      // Browsers heard the progress: deploying, then ready.
      await waitFor(
        () => updates.some((update) => update.id === deployment.id && update.status === 'ready'),
        'a deployment:updated event with ready'
      );
      expect(updates.find((update) => update.id === deployment.id)?.status).toBe('deploying');
    } finally {
      socket.close();
    }
  });

  test('a second live deployment with the same name is refused', async () => {
    const response = await server.request('POST', '/api/deployments', { json: { model: 'churn', version: '2' } });
    expectErrorBody(response, 409, 'conflict');
    expect(response.body.error.message).toContain('"churn" is live');
  });

  test('a SIGKILLed serving process is restarted and ready again', async () => {
    const pid = servingPid(deployment.id);
    process.kill(pid, 'SIGKILL');
    const restarted = await waitFor(async () => {
      const current = await get(deployment.id);
      return current.history.some((event) => event.kind === 'restarted') && current;
    }, 'a restarted event');
    expect(restarted.history.find((event) => event.kind === 'restarted')?.message).toMatch(
      /the serving process exited \(signal SIGKILL\); restarted in 0\.5 s/
    );
    const killedAt = Date.now();
    const ready = await waitFor(async () => {
      const current = await get(deployment.id);
      return current.status === 'ready' && fs.existsSync(pidFile(deployment.id)) && servingPid(deployment.id) !== pid && current;
    }, 'ready again after the kill');
    process.stdout.write(`SIGKILL → ready again: ${((Date.now() - killedAt) / 1000).toFixed(2)} s (after the restart event)\n`);
    expect(isAlive(pid)).toBe(false);
    expect(ready.revision).toBe(1);
    // Still one ready event for revision 1: the restart is its own event.
    expect(ready.history.filter((event) => event.kind === 'ready')).toHaveLength(1);
    expect((await runtimeStatus(ready.endpoint as string)).ready).toBe(true);
  });

  test('a canary is picked up by the running runtime, without a restart', async () => {
    const pid = servingPid(deployment.id);
    const response = await server.request('POST', `/api/deployments/${deployment.id}/traffic`, {
      json: { second: { mode: 'canary', version: 'v2', percent: 10 }, reason: 'try v2' }
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'deploying',
      revision: 2,
      slots: [
        { role: 'stable', version: 1, percent: 90 },
        { role: 'canary', version: 2, percent: 10, modelVersionId: versions[1].id }
      ]
    });
    expect(response.body.history[0]).toMatchObject({
      kind: 'split_changed',
      revision: 2,
      actor: 'local-admin',
      message: 'canary churn v2 at 10%: try v2'
    });
    const ready = await waitForStatus(deployment.id, 'ready', 2);
    expect(ready.history.filter((event) => event.kind === 'ready').map((event) => event.revision)).toEqual([2, 1]);
    const status = await runtimeStatus(ready.endpoint as string);
    expect(status.revision).toBe(2);
    expect(status.slots.map((slot) => [slot.role, slot.version])).toEqual([
      ['stable', 1],
      ['canary', 2]
    ]);
    expect(servingPid(deployment.id)).toBe(pid);
  });

  test('undeploy: the process is gone, the port is free, the token revoked', async () => {
    const pid = servingPid(deployment.id);
    const token = tokenOfRuntime(deployment.id);
    const port = Number(new URL(deployment.endpoint as string).port);
    const response = await server.request('DELETE', `/api/deployments/${deployment.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'stopped', readyReplicas: 0 });
    expect(response.body.history[0]).toMatchObject({ kind: 'undeployed', actor: 'local-admin' });
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(pidFile(deployment.id))).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    expectErrorBody(await server.request('GET', `/api/deployments/${deployment.id}/spec`, { token }), 401, 'unauthorized');

    // Undeploying again changes nothing; other changes are refused; the name is free again.
    expect((await server.request('DELETE', `/api/deployments/${deployment.id}`)).body.history).toHaveLength(response.body.history.length);
    expectErrorBody(await server.request('POST', `/api/deployments/${deployment.id}/promote`, { json: {} }), 409, 'conflict');
    const listed = (await server.request('GET', '/api/deployments')).body.deployments as Deployment[];
    expect(listed.map((item) => item.id)).not.toContain(deployment.id);
    const withStopped = (await server.request('GET', '/api/deployments?includeStopped=true')).body.deployments as Deployment[];
    expect(withStopped.find((item) => item.id === deployment.id)?.status).toBe('stopped');
  });
});

describe('changes, access and telemetry', () => {
  let deployment: Deployment;
  let token: string;

  beforeAll(async () => {
    deployment = await deploy({ name: 'churn-ops', model: 'churn', version: '1' });
    await waitFor(() => fs.existsSync(pidFile(deployment.id)), 'the serving process');
    token = tokenOfRuntime(deployment.id);
  });

  afterAll(async () => {
    await server.request('DELETE', `/api/deployments/${deployment.id}`);
  });

  test('the runtime reads only its own deployment, with its own token', async () => {
    const spec = await server.request('GET', `/api/deployments/${deployment.id}/spec`, { token });
    expect(spec.status).toBe(200);
    const body = spec.body as ServingSpec;
    expect(body).toMatchObject({
      deploymentId: deployment.id,
      name: 'churn-ops',
      revision: deployment.revision,
      pollSeconds: 0.5,
      predictionSampleRate: 1,
      predictionLimitPerSecond: 100
    });
    expect(body.slots).toEqual([
      expect.objectContaining({
        role: 'stable',
        modelVersionId: versions[0].id,
        flavor: 'sklearn',
        signature: versions[0].signature,
        files: versions[0].files
      })
    ]);

    const file = await fetch(`${server.url}/api/deployments/${deployment.id}/files?modelVersionId=${versions[0].id}&path=MLmodel`, {
      headers: { authorization: `Bearer ${token}` }
    });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(fs.readFileSync(path.join(model.dir, 'MLmodel')))).toBe(true);
    // A version it does not serve: not there, for this token.
    const other = await server.request('GET', `/api/deployments/${deployment.id}/files?modelVersionId=${versions[1].id}&path=MLmodel`, {
      token
    });
    expectErrorBody(other, 404, 'not_found');

    // Another deployment's routes, user routes, provenance, live events: refused.
    const elsewhere = await server.request('GET', '/api/deployments/some-other-id/spec', { token });
    expectErrorBody(elsewhere, 403, 'forbidden');
    expect(elsewhere.body.error.message).toContain('reaches only its own deployment churn-ops');
    expectErrorBody(await server.request('GET', '/api/deployments', { token }), 403, 'forbidden');
    expectErrorBody(await server.request('GET', `/api/provenance?node=deployment:${deployment.id}`, { token }), 403, 'forbidden');
    const socket = connect(server.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    const refusal = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    socket.close();
    expect(refusal.message).toBe('forbidden');

    // A user (or admin) token does not reach runtime routes, and nobody makes deployment tokens by hand.
    expectErrorBody(await server.request('GET', `/api/deployments/${deployment.id}/spec`), 403, 'forbidden');
    expectErrorBody(await server.request('POST', '/api/tokens', { json: { name: 'stray', scope: 'deployment' } }), 400, 'invalid_request');
  });

  test('traffic, promote and rollback, each a revision with its event; and their conflicts', async () => {
    const post = (action: string, json: unknown) => server.request('POST', `/api/deployments/${deployment.id}/${action}`, { json });
    expectErrorBody(await post('promote', {}), 409, 'conflict');
    expect((await post('promote', {})).body.error.message).toContain('no canary to promote');
    expectErrorBody(await post('rollback', {}), 409, 'conflict');
    expectErrorBody(await post('traffic', { second: { mode: 'canary', version: '1', percent: 10 } }), 409, 'conflict');
    expectErrorBody(await post('traffic', { second: { mode: 'canary', version: '9', percent: 10 } }), 404, 'not_found');

    // v2 as a shadow, then dropped by a rollback.
    let answer = await post('traffic', { second: { mode: 'shadow', version: 'v2', percent: 20 } });
    expect(answer.body).toMatchObject({
      revision: 2,
      slots: [
        { role: 'stable', version: 1, percent: 100 },
        { role: 'shadow', version: 2, percent: 20 }
      ]
    });
    expect((await post('promote', {})).body.error.message).toContain('it has a shadow');
    answer = await post('rollback', { reason: 'shadow answers look wrong' });
    expect(answer.body).toMatchObject({ revision: 3, slots: [{ role: 'stable', version: 1, percent: 100 }] });
    expect(answer.body.history[0]).toMatchObject({
      kind: 'rolled_back',
      message: 'rolled back: dropped shadow churn v2 on a copy of 20% of requests: shadow answers look wrong'
    });

    // v2 as a canary, promoted; v3 as a canary, promoted.
    await post('traffic', { second: { mode: 'canary', version: '2', percent: 25 } });
    answer = await post('promote', {});
    expect(answer.body).toMatchObject({ revision: 5, slots: [{ role: 'stable', version: 2, percent: 100 }] });
    expect(answer.body.history[0]).toMatchObject({ kind: 'promoted', message: 'promoted canary churn v2 to stable (100%), replacing v1' });
    await post('traffic', { second: { mode: 'canary', version: 'latest', percent: 50 } });
    // Changing the share is a new revision; asking for what is there already is none.
    answer = await post('traffic', { second: { mode: 'canary', version: '3', percent: 30 } });
    expect(answer.body).toMatchObject({
      revision: 7,
      slots: [
        { role: 'stable', percent: 70 },
        { role: 'canary', version: 3, percent: 30 }
      ]
    });
    expect((await post('traffic', { second: { mode: 'canary', version: '3', percent: 30 } })).body.revision).toBe(7);
    expect((await post('promote', {})).body.slots).toEqual([expect.objectContaining({ role: 'stable', version: 3, percent: 100 })]);

    // Rolling back goes back through the stable versions: v3 → v2 → v1, then nothing left.
    answer = await post('rollback', {});
    expect(answer.body).toMatchObject({ revision: 9, slots: [{ role: 'stable', version: 2 }] });
    expect(answer.body.history[0].message).toBe('rolled back to churn v2 from v3');
    answer = await post('rollback', {});
    expect(answer.body).toMatchObject({ revision: 10, slots: [{ role: 'stable', version: 1 }] });
    const none = await post('rollback', {});
    expectErrorBody(none, 409, 'conflict');
    expect(none.body.error.message).toContain('nothing to roll back to');

    const history = (await get(deployment.id)).history.filter((event) => event.kind !== 'ready' && event.kind !== 'restarted');
    expect(history.map((event) => [event.kind, event.revision])).toEqual([
      ['rolled_back', 10],
      ['rolled_back', 9],
      ['promoted', 8],
      ['split_changed', 7],
      ['split_changed', 6],
      ['promoted', 5],
      ['split_changed', 4],
      ['rolled_back', 3],
      ['split_changed', 2],
      ['deployed', 1]
    ]);
    // Lists carry the last 20 events; the runtime follows to the latest revision.
    const ready = await waitForStatus(deployment.id, 'ready', 10);
    expect((await runtimeStatus(ready.endpoint as string)).revision).toBe(10);
  });

  test('telemetry of every replica becomes the deployment’s stats; predictions are kept', async () => {
    const stable = versions[0].id;
    const prediction = (requestId: string, at: number) => ({
      requestId,
      role: 'stable',
      modelVersionId: stable,
      at,
      latencyMs: 2.5,
      inputs: { a: [0.1], b: [0.2], c: [0.3], d: [0.4] },
      outputs: { predict: [1] },
      status: 200
    });
    const report = (replica: string, counts: unknown[], latency: number[], predictions: unknown[] = []) =>
      server.request('POST', `/api/deployments/${deployment.id}/telemetry`, {
        token,
        json: { revision: 1, replica, intervalSeconds: 2, counts, latency: { bucketsMs: [1, 5, 10, 50], counts: latency }, predictions }
      });
    const first = await report(
      'test-a',
      [
        { role: 'stable', modelVersionId: stable, status: 200, count: 90 },
        { role: 'stable', modelVersionId: stable, status: 500, count: 5 },
        { role: 'stable', modelVersionId: stable, status: 400, count: 5 }
      ],
      [10, 60, 95, 100, 100],
      [prediction('r1', 1000), prediction('r2', 2000)]
    );
    expect(first.status).toBe(200);
    const current = await get(deployment.id);
    expect(first.body).toEqual({ revision: current.revision, acceptedPredictions: 2 });
    await report(
      'test-b',
      [
        { role: 'stable', modelVersionId: stable, status: 200, count: 100 },
        { role: 'shadow', modelVersionId: versions[1].id, status: 200, count: 50 }
      ],
      [50, 100, 100, 100, 100],
      [prediction('r3', 3000)]
    );

    const { stats } = await get(deployment.id);
    expect(stats).not.toBeNull();
    // 200 requests answered (shadow copies apart), 5 of them 5xx and 5 of them 4xx.
    expect(stats?.requestsByRole).toEqual({ stable: 200, shadow: 50 });
    expect(stats?.errorRate).toBeCloseTo(0.025, 6);
    expect(stats?.clientErrorRate).toBeCloseTo(0.025, 6);
    // Histograms summed: 60 ≤ 1 ms, 160 ≤ 5, 195 ≤ 10, 200 ≤ 50 → p50 in (1, 5], p99 in (10, 50].
    expect(stats?.p50Ms).toBeCloseTo(2.6, 6);
    expect(stats?.p99Ms).toBeCloseTo(34, 6);
    expect(stats?.requestsPerSecond).toBeCloseTo(200 / (stats?.windowSeconds as number), 3);

    const predictions = await server.request('GET', `/api/deployments/${deployment.id}/predictions?limit=2`);
    expect(predictions.status).toBe(200);
    expect(predictions.body.total).toBeGreaterThanOrEqual(3);
    expect(predictions.body.predictions.map((record: { requestId: string }) => record.requestId)).toEqual(['r3', 'r2']);
    expect(predictions.body.predictions[0]).toEqual({ ...prediction('r3', 3000), error: null });
    // Users read predictions; the runtime's token does not.
    expectErrorBody(await server.request('GET', `/api/deployments/${deployment.id}/predictions`, { token }), 403, 'forbidden');
  });

  test('lineage run → model version → deployment; a served model cannot be deleted', async () => {
    const response = await server.request('GET', `/api/provenance?node=deployment:${deployment.id}&direction=upstream`);
    expect(response.status).toBe(200);
    const graph = response.body as ProvenanceGraph;
    const edges = graph.edges.map((edge) => `${edge.from} → ${edge.to}`);
    for (const version of versions) expect(edges).toContain(`model_version:${version.id} → deployment:${deployment.id}`);
    expect(edges).toContain(`run:${runs[0].id} → model_version:${versions[0].id}`);
    const node = graph.nodes.find((item) => item.ref === `deployment:${deployment.id}`);
    expect(node).toMatchObject({
      kind: 'deployment',
      label: 'churn-ops',
      modelName: 'churn',
      versionNumber: 1,
      projectName: 'deploy-demo'
    });
    // Deleting a model a live deployment serves is refused.
    expectErrorBody(await server.request('DELETE', '/api/models/churn'), 409, 'conflict');
  });
});

test('a runtime that keeps crashing at start ends failed, with the end of its log', async () => {
  const dir = makeTempDir('runlab-crashing-');
  const crashing = path.join(dir, 'python');
  fs.writeFileSync(crashing, '#!/bin/sh\necho "runlab serve-model: cannot load the model: out of cheese" >&2\nexit 3\n', { mode: 0o755 });
  const other = await startServer({ dataDir: path.join(dir, 'data'), env: { RUNLAB_SERVING_PYTHON: crashing } });
  try {
    const run = (await other.request('POST', '/api/runs', { json: { project: 'p', name: 'train' } })).body as Run;
    await fetch(`${other.url}/api/runs/${run.id}/artifacts?path=m/MLmodel`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${other.adminToken}`, 'content-type': 'application/octet-stream' },
      body: 'flavors: {}\n'
    });
    expect(
      (await other.request('POST', '/api/models/broken/versions', { json: { runId: run.id, artifactPath: 'm', flavor: 'sklearn' } })).status
    ).toBe(201);
    const created = (await other.request('POST', '/api/deployments', { json: { model: 'broken' } })).body as Deployment;
    const failed = await waitForStatus(created.id, 'failed', undefined, other);
    expect(failed.statusMessage).toMatch(/exited 5 times in a row before it was ready \(last: exit code 3\)/);
    expect(failed.statusMessage).toContain('out of cheese');
    expect(failed.history.filter((event) => event.kind === 'restarted').map((event) => event.message)).toEqual([
      'the serving process exited (exit code 3); restarted in 4 s',
      'the serving process exited (exit code 3); restarted in 2 s',
      'the serving process exited (exit code 3); restarted in 1 s',
      'the serving process exited (exit code 3); restarted in 0.5 s'
    ]);
    expect(failed.history[0].kind).toBe('failed');
  } finally {
    await other.stop();
    removeDir(dir);
  }
});

test('a restarted server starts its live deployments again, with a fresh token', async () => {
  const deployment = await deploy({ name: 'churn-restart', model: 'churn', version: 'latest' });
  await waitForStatus(deployment.id, 'ready');
  const oldToken = tokenOfRuntime(deployment.id);
  const oldPid = servingPid(deployment.id);
  await server.stop();
  expect(isAlive(oldPid)).toBe(false);
  server = await startServer({
    dataDir: server.dataDir,
    env: { RUNLAB_SERVING_PYTHON: PYTHON, RUNLAB_SERVING_POLL_SECONDS: '0.5' }
  });
  const ready = await waitForStatus(deployment.id, 'ready');
  expect(ready.endpoint).toBe(deployment.endpoint);
  expect(ready.history.some((event) => event.kind === 'restarted' && event.message.includes('companion server started again'))).toBe(true);
  expectErrorBody(await server.request('GET', `/api/deployments/${deployment.id}/spec`, { token: oldToken }), 401, 'unauthorized');
  expect((await server.request('GET', `/api/deployments/${deployment.id}/spec`, { token: tokenOfRuntime(deployment.id) })).status).toBe(
    200
  );
  await server.request('DELETE', `/api/deployments/${deployment.id}`);
});
