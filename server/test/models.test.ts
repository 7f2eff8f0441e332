/**
 * The model registry against a real server and SQLite: versions made from a run's artifacts,
 * immutability, version selectors, aliases with their history and rollback, concurrent alias
 * moves, lineage and provenance, and what a runner token may log. The runner agent is a
 * lightweight socket.io simulation, as in runners.test.ts (it accepts the offer, runs nothing).
 */
import { io as connect, type Socket } from 'socket.io-client';
import {
  AliasMove,
  Model,
  ModelVersion,
  ProvenanceGraph,
  type Job,
  type JobOffer,
  type Run,
  type RunnerClientEvents,
  type RunnerServerEvents,
  type ServerToClientEvents
} from '../src/contract';
import { commit, randomChunk, uploadChunks } from './dataset-helpers';
import { expectErrorBody, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

const until = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for events');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

let keyCounter = 0;
const key = (): string => `models-${++keyCounter}-${Date.now()}`;

const SIGNATURE = {
  inputs: [
    { name: 'age', kind: 'column', datatype: 'FP64', shape: [-1], required: true },
    { name: 'plan', kind: 'column', datatype: 'BYTES', shape: [-1], required: true }
  ],
  outputs: [{ name: null, kind: 'tensor', datatype: 'INT64', shape: [-1], required: true }]
};

async function createRun(project: string, name = 'train'): Promise<Run> {
  const response = await server.request('POST', '/api/runs', { json: { project, name } });
  expect(response.status).toBe(201);
  return response.body as Run;
}

async function putArtifact(runId: string, path: string, content: string | Buffer): Promise<void> {
  const response = await fetch(`${server.url}/api/runs/${runId}/artifacts?path=${encodeURIComponent(path)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
    body: content
  });
  expect(response.status).toBe(201);
}

/** A run holding an MLflow-style model directory at `models/<name>/`. */
async function runWithModel(project: string, name: string, pickled = `pickled ${name} ${key()}`): Promise<Run> {
  const run = await createRun(project);
  await putArtifact(run.id, `models/${name}/MLmodel`, 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n');
  await putArtifact(run.id, `models/${name}/model.pkl`, pickled);
  await putArtifact(run.id, `models/${name}/requirements.txt`, 'scikit-learn==1.5.2\n');
  await putArtifact(run.id, 'notes.txt', 'not part of the model');
  return run;
}

function createVersion(name: string, runId: string, extra: Record<string, unknown> = {}, token?: string) {
  return server.request('POST', `/api/models/${name}/versions`, {
    token,
    json: {
      runId,
      artifactPath: `models/${name}`,
      flavor: 'sklearn',
      signature: SIGNATURE,
      inputExample: { columns: ['age', 'plan'], data: [[42, 'pro']] },
      requirements: ['scikit-learn==1.5.2'],
      ...extra
    }
  });
}

async function logVersion(name: string, project = `p-${name}`): Promise<ModelVersion> {
  const run = await runWithModel(project, name);
  const response = await createVersion(name, run.id);
  expect(response.status).toBe(201);
  return ModelVersion.parse(response.body);
}

async function download(name: string, selector: string, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}/api/models/${name}/versions/${selector}/files?path=${encodeURIComponent(path)}`, {
    headers: { authorization: `Bearer ${server.adminToken}` }
  });
  return { status: response.status, text: await response.text() };
}

const setAlias = (name: string, alias: string, body: Record<string, unknown>) =>
  server.request('PUT', `/api/models/${name}/aliases/${alias}`, { json: body });

async function history(name: string, alias?: string): Promise<AliasMove[]> {
  const response = await server.request('GET', `/api/models/${name}/alias-history${alias ? `?alias=${alias}` : ''}`);
  expect(response.status).toBe(200);
  return (response.body as { moves: unknown[] }).moves.map((move) => AliasMove.parse(move));
}

test('a version is made from the run artifacts under artifactPath, with its lineage', async () => {
  const project = 'churn-project';
  const run = await runWithModel(project, 'churn', 'pickled bytes v1');
  const logged = await server.request('POST', `/api/runs/${run.id}/log`, {
    json: {
      idempotencyKey: key(),
      metrics: [
        { key: 'auc', value: 0.71, step: 0 },
        { key: 'auc', value: 0.83, step: 1 }
      ]
    }
  });
  expect(logged.status).toBe(200);
  const response = await createVersion('churn', run.id, { description: 'first', tags: { team: 'growth' } });
  expect(response.status).toBe(201);
  const version = ModelVersion.parse(response.body);
  expect(version).toMatchObject({
    modelName: 'churn',
    version: 1,
    flavor: 'sklearn',
    source: 'runlab',
    description: 'first',
    tags: { team: 'growth' },
    runId: run.id,
    runName: 'train',
    projectName: project,
    runMetrics: { auc: 0.83 },
    signature: SIGNATURE,
    inputExample: { columns: ['age', 'plan'], data: [[42, 'pro']] },
    requirements: ['scikit-learn==1.5.2'],
    hasProfile: false,
    aliases: [],
    createdBy: expect.any(String)
  });
  expect(version.files.map((file) => file.path)).toEqual(['MLmodel', 'model.pkl', 'requirements.txt']);
  expect(version.sizeBytes).toBe(version.files.reduce((total, file) => total + file.size, 0));

  const model = Model.parse((await server.request('GET', '/api/models/churn')).body);
  expect(model).toMatchObject({ name: 'churn', versionCount: 1, latestVersion: 1, aliases: {}, projects: [project] });
  const listed = (await server.request('GET', `/api/models?project=${project}`)).body as { models: Model[] };
  expect(listed.models.map((item) => item.name)).toEqual(['churn']);
  expect(((await server.request('GET', '/api/models?project=nobody')).body as { models: Model[] }).models).toEqual([]);

  expect(await download('churn', '1', 'model.pkl')).toEqual({ status: 200, text: 'pickled bytes v1' });
  const missingFile = await server.request('GET', '/api/models/churn/versions/1/files?path=nope.bin');
  expectErrorBody(missingFile, 404, 'not_found');
  expect(missingFile.body.error.message).toBe('Model churn v1 has no file nope.bin; its files are: MLmodel, model.pkl, requirements.txt');
});

test('a version never changes: PATCH takes only description and tags, and the run overwriting its artifact changes nothing', async () => {
  const run = await runWithModel('immutable', 'frozen', 'original bytes');
  const version = ModelVersion.parse((await createVersion('frozen', run.id)).body);
  await putArtifact(run.id, 'models/frozen/model.pkl', 'overwritten bytes');
  expect(await download('frozen', 'v1', 'model.pkl')).toEqual({ status: 200, text: 'original bytes' });
  const again = ModelVersion.parse((await server.request('GET', '/api/models/frozen/versions/1')).body);
  expect(again.files).toEqual(version.files);

  const refused = await server.request('PATCH', '/api/models/frozen/versions/1', { json: { flavor: 'onnx' } });
  expectErrorBody(refused, 400, 'invalid_request');
  const patched = await server.request('PATCH', '/api/models/frozen/versions/1', {
    json: { description: 'better words', tags: { a: 'b' } }
  });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ description: 'better words', tags: { a: 'b' }, flavor: 'sklearn', files: version.files });

  // Deleting the run leaves the version and its bytes; the lineage says the run is gone.
  expect((await server.request('DELETE', `/api/runs/${run.id}`)).status).toBe(204);
  const orphan = ModelVersion.parse((await server.request('GET', '/api/models/frozen/versions/latest')).body);
  expect(orphan).toMatchObject({ runId: null, runName: null, projectName: 'immutable' });
  expect(await download('frozen', 'latest', 'model.pkl')).toEqual({ status: 200, text: 'original bytes' });
});

test('versions are numbered 1, 2, 3 even when created at once, and selectors pick 3, v3, latest or an alias', async () => {
  const runs = await Promise.all([1, 2, 3, 4].map(() => runWithModel('numbers', 'counted')));
  const created = await Promise.all(runs.map((run) => createVersion('counted', run.id)));
  expect(created.map((response) => response.status)).toEqual([201, 201, 201, 201]);
  expect(created.map((response) => response.body.version).sort()).toEqual([1, 2, 3, 4]);

  const listed = (await server.request('GET', '/api/models/counted/versions')).body as { versions: ModelVersion[] };
  expect(listed.versions.map((version) => version.version)).toEqual([4, 3, 2, 1]);
  expect((await server.request('GET', '/api/models/counted/versions/3')).body.version).toBe(3);
  expect((await server.request('GET', '/api/models/counted/versions/v2')).body.version).toBe(2);
  expect((await server.request('GET', '/api/models/counted/versions/latest')).body.version).toBe(4);
  expect((await setAlias('counted', 'staging', { version: 2 })).status).toBe(200);
  const byAlias = ModelVersion.parse((await server.request('GET', '/api/models/counted/versions/staging')).body);
  expect(byAlias).toMatchObject({ version: 2, aliases: ['staging'] });

  const noAlias = await server.request('GET', '/api/models/counted/versions/production');
  expectErrorBody(noAlias, 404, 'not_found');
  expect(noAlias.body.error.message).toBe('Model counted has no alias production; its aliases are: staging');
  const noVersion = await server.request('GET', '/api/models/counted/versions/v9');
  expectErrorBody(noVersion, 404, 'not_found');
  expect(noVersion.body.error.message).toBe('Model counted has no version 9; its versions are v1 to v4');
  const noModel = await server.request('GET', '/api/models/nothing/versions/1');
  expectErrorBody(noModel, 404, 'not_found');
  expect(noModel.body.error.message).toMatch(/^Model nothing not found/);
  const zero = await server.request('GET', '/api/models/counted/versions/v0');
  expectErrorBody(zero, 404, 'not_found');
  expect(zero.body.error.message).toBe('Model counted has no version 0; its versions are v1 to v4');
  expectErrorBody(await server.request('GET', '/api/models/counted/versions/0'), 400, 'invalid_request');
  expectErrorBody(await setAlias('counted', 'v3', { version: 1 }), 400, 'invalid_request');
  expectErrorBody(await setAlias('counted', 'latest', { version: 1 }), 400, 'invalid_request');
});

test('creating a version needs the run and its artifacts; models can be registered, described and are unique', async () => {
  const run = await runWithModel('errors', 'present');
  const noRun = await createVersion('present', 'no-such-run');
  expectErrorBody(noRun, 404, 'not_found');
  expect(noRun.body.error.message).toBe('Run no-such-run not found');
  const noFiles = await createVersion('present', run.id, { artifactPath: 'models/elsewhere' });
  expectErrorBody(noFiles, 404, 'not_found');
  expect(noFiles.body.error.message).toMatch(/^Run .+ has no artifacts under models\/elsewhere\//);
  // Nothing was half-made: the model does not exist either.
  expectErrorBody(await server.request('GET', '/api/models/present'), 404, 'not_found');
  expectErrorBody(await createVersion('present', run.id, { artifactPath: '../up' }), 400, 'invalid_request');
  expectErrorBody(await createVersion('bad name!', run.id), 400, 'invalid_request');

  const registered = await server.request('POST', '/api/models', { json: { name: 'registered', description: 'empty so far' } });
  expect(registered.status).toBe(201);
  expect(registered.body).toMatchObject({ name: 'registered', versionCount: 0, latestVersion: null, description: 'empty so far' });
  expectErrorBody(await server.request('POST', '/api/models', { json: { name: 'registered' } }), 409, 'conflict');
  const latest = await server.request('GET', '/api/models/registered/versions/latest');
  expectErrorBody(latest, 404, 'not_found');
  expect(latest.body.error.message).toBe('Model registered has no versions yet, so it has no latest version');
  const updated = await server.request('PATCH', '/api/models/registered', { json: { tags: { owner: 'ml' } } });
  expect(updated.body).toMatchObject({ description: 'empty so far', tags: { owner: 'ml' } });
  expectErrorBody(await server.request('GET', '/api/models/registered/versions/latest/profile'), 404, 'not_found');
});

test('a version with a reference profile serves it', async () => {
  const run = await runWithModel('profiles', 'profiled');
  const profile = {
    rows: 3,
    features: [
      {
        name: 'plan',
        kind: 'categorical',
        count: 3,
        missing: 0,
        numeric: null,
        categorical: { counts: { pro: 2, free: 1 }, other: 0, distinct: 2 }
      }
    ],
    predictions: []
  };
  const created = await createVersion('profiled', run.id, { profile });
  expect(created.body.hasProfile).toBe(true);
  expect((await server.request('GET', '/api/models/profiled/versions/1/profile')).body).toEqual(profile);
});

test('aliases move with a history (who, when, from, to, why) and roll back to their previous holder', async () => {
  for (let index = 0; index < 3; index++) await logVersion('promoted');
  const first = await setAlias('promoted', 'production', { version: 1, reason: 'first release' });
  expect(first.status).toBe(200);
  expect(AliasMove.parse(first.body)).toMatchObject({
    alias: 'production',
    fromVersion: null,
    toVersion: 1,
    action: 'set',
    reason: 'first release'
  });
  // The first move made the alias: nothing to roll back to.
  const nothingBefore = await server.request('POST', '/api/models/promoted/aliases/production/rollback', { json: {} });
  expectErrorBody(nothingBefore, 409, 'conflict');
  expect(nothingBefore.body.error.message).toMatch(/has no earlier version to roll back to: it was created pointing at v1/);

  await setAlias('promoted', 'production', { version: 3, reason: 'better auc' });
  // Setting it where it already points records nothing.
  await setAlias('promoted', 'production', { version: 3 });
  await setAlias('promoted', 'staging', { version: 2 });
  const model = Model.parse((await server.request('GET', '/api/models/promoted')).body);
  expect(model.aliases).toEqual({ production: 3, staging: 2 });

  const rolledBack = await server.request('POST', '/api/models/promoted/aliases/production/rollback', {
    json: { reason: 'latency regression' }
  });
  expect(rolledBack.status).toBe(200);
  expect(rolledBack.body).toMatchObject({ fromVersion: 3, toVersion: 1, action: 'rollback', reason: 'latency regression' });
  expect((await server.request('GET', '/api/models/promoted/versions/production')).body.version).toBe(1);

  const removed = await server.request('DELETE', '/api/models/promoted/aliases/staging?reason=retired');
  expect(removed.status).toBe(200);
  expect(removed.body).toMatchObject({ alias: 'staging', fromVersion: 2, toVersion: null, action: 'removed', reason: 'retired' });
  const notThere = await server.request('DELETE', '/api/models/promoted/aliases/staging');
  expectErrorBody(notThere, 404, 'not_found');
  expect(notThere.body.error.message).toBe('Model promoted has no alias staging; its aliases are: production');
  // A removal is undone by a rollback too.
  expect((await server.request('POST', '/api/models/promoted/aliases/staging/rollback', { json: {} })).body).toMatchObject({
    fromVersion: null,
    toVersion: 2,
    action: 'rollback'
  });
  expectErrorBody(await server.request('POST', '/api/models/promoted/aliases/canary/rollback', { json: {} }), 404, 'not_found');
  expectErrorBody(await setAlias('promoted', 'production', { version: 7 }), 404, 'not_found');

  const moves = await history('promoted');
  expect(moves.map((move) => [move.alias, move.action, move.fromVersion, move.toVersion])).toEqual([
    ['staging', 'rollback', null, 2],
    ['staging', 'removed', 2, null],
    ['production', 'rollback', 3, 1],
    ['staging', 'set', null, 2],
    ['production', 'set', 1, 3],
    ['production', 'set', null, 1]
  ]);
  expect(moves.every((move) => move.movedBy.length > 0 && !Number.isNaN(Date.parse(move.movedAt)))).toBe(true);
  expect((await history('promoted', 'production')).map((move) => move.toVersion)).toEqual([1, 3, 1]);
  const version3 = ModelVersion.parse((await server.request('GET', '/api/models/promoted/versions/3')).body);
  expect(version3.aliases).toEqual([]);
});

test('concurrent moves expecting the same holder: exactly one wins, the others get 409, the history stays consistent', async () => {
  for (let index = 0; index < 4; index++) await logVersion('raced');
  expect((await setAlias('raced', 'production', { version: 1, expectedVersion: null })).status).toBe(200);
  expectErrorBody(await setAlias('raced', 'production', { version: 2, expectedVersion: null }), 409, 'conflict');

  const racers = await Promise.all([2, 3, 4].map((version) => setAlias('raced', 'production', { version, expectedVersion: 1 })));
  const winners = racers.filter((response) => response.status === 200);
  expect(winners).toHaveLength(1);
  for (const loser of racers.filter((response) => response.status !== 200)) {
    expectErrorBody(loser, 409, 'conflict');
    expect(loser.body.error.message).toMatch(/points at v\d, but the move expected it to point at v1: someone moved it meanwhile/);
  }
  const winner = winners[0].body.toVersion as number;
  expect((await server.request('GET', '/api/models/raced')).body.aliases).toEqual({ production: winner });
  const moves = await history('raced', 'production');
  expect(moves.map((move) => [move.fromVersion, move.toVersion])).toEqual([
    [1, winner],
    [null, 1]
  ]);
});

test('provenance: dataset version → run → model version', async () => {
  const project = 'lineage';
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  expect((await commit(server, project, 'customers', [{ path: 'customers.csv', chunks: [chunk] }])).status).toBe(201);
  const run = await runWithModel(project, 'traced');
  const logged = await server.request('POST', `/api/runs/${run.id}/log`, {
    json: { idempotencyKey: key(), inputs: [{ kind: 'dataset', name: 'customers@v1' }] }
  });
  expect(logged.status).toBe(200);
  const version = ModelVersion.parse((await createVersion('traced', run.id)).body);
  expect(version.datasetVersions).toEqual([{ id: expect.any(String), ref: 'customers@v1' }]);

  const response = await server.request(
    'GET',
    `/api/provenance?${new URLSearchParams({ node: `model_version:${version.id}`, direction: 'upstream' })}`
  );
  expect(response.status).toBe(200);
  const graph = ProvenanceGraph.parse(response.body);
  expect(graph.nodes.find((node) => node.kind === 'model_version')).toMatchObject({
    label: 'traced v1',
    modelName: 'traced',
    runId: run.id,
    projectName: project,
    versionNumber: 1,
    detail: expect.stringMatching(/^sklearn, \d+ B$/)
  });
  const label = new Map(graph.nodes.map((node) => [node.ref, node.label]));
  expect(graph.edges.map((edge) => `${label.get(edge.from)} -> ${label.get(edge.to)}`).sort()).toEqual([
    'customers@v1 -> train',
    'train -> traced v1'
  ]);
});

test('deleting a model is refused while a deployment serves it, and otherwise removes its versions', async () => {
  await logVersion('doomed');
  let deployed: boolean | string = 'churn-prod';
  const { id } = server.app.db.prepare("SELECT id FROM models WHERE name = 'doomed'").get() as { id: string };
  server.app.models.setDeployedCheck((modelId) => (modelId === id ? deployed : false));
  const refused = await server.request('DELETE', '/api/models/doomed');
  expectErrorBody(refused, 409, 'conflict');
  expect(refused.body.error.message).toBe(
    'Model doomed cannot be deleted: deployment churn-prod serves one of its versions; undeploy it first'
  );
  deployed = false;
  expect((await server.request('DELETE', '/api/models/doomed')).status).toBe(204);
  expectErrorBody(await server.request('GET', '/api/models/doomed'), 404, 'not_found');
  expect(server.app.db.prepare('SELECT COUNT(*) AS n FROM model_versions WHERE model_id NOT IN (SELECT id FROM models)').get()).toEqual({
    n: 0
  });
  server.app.models.setDeployedCheck(() => false);
});

test('createVersionFromFiles and onVersionCreated serve the other features', async () => {
  const run = await runWithModel('from-files', 'mirrored');
  const created: ModelVersion[] = [];
  server.app.models.onVersionCreated((version) => created.push(version));
  const artifacts = ((await server.request('GET', `/api/runs/${run.id}`)).body as Run).artifacts.filter((artifact) =>
    artifact.path.startsWith('models/mirrored/')
  );
  const version = server.app.models.createVersionFromFiles(
    'mirrored',
    {
      runId: run.id,
      artifactPath: 'models/mirrored',
      files: artifacts.map((artifact) => ({
        path: artifact.path.slice('models/mirrored/'.length),
        size: artifact.size,
        digest: artifact.digest
      })),
      flavor: 'sklearn',
      signature: null,
      inputExample: null,
      requirements: [],
      profile: null,
      description: '',
      tags: {},
      source: 'mlflow'
    },
    'mlflow-client'
  );
  expect(version).toMatchObject({ modelName: 'mirrored', version: 1, source: 'mlflow', createdBy: 'mlflow-client' });
  expect(created.map((item) => item.id)).toEqual([version.id]);
  expect(server.app.models.versionById(version.id).files).toEqual(version.files);
  const { stream, size } = server.app.models.openFile(version.id, 'model.pkl');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).length).toBe(size);
  expect(() => server.app.models.openFile(version.id, 'absent')).toThrow(/has no file absent/);
  expect(() => server.app.models.versionById('nope')).toThrow(/Model version nope not found/);
});

test('signed-in browsers hear versions created, aliases moved and models updated', async () => {
  const socket: Socket<ServerToClientEvents> = connect(server.url, {
    auth: { token: server.adminToken },
    reconnection: false,
    transports: ['websocket']
  });
  const heard: string[] = [];
  socket.on('model:version-created', (version) => heard.push(`created ${version.modelName} v${version.version}`));
  socket.on('model:alias-moved', (move) => heard.push(`moved ${move.alias} -> v${move.toVersion}`));
  socket.on('model:updated', (model) => heard.push(`updated ${model.name} ${JSON.stringify(model.aliases)}`));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  try {
    await logVersion('heard');
    await setAlias('heard', 'production', { version: 1 });
    await until(() => heard.length >= 4);
    expect(heard).toEqual(['created heard v1', 'updated heard {}', 'moved production -> v1', 'updated heard {"production":1}']);
  } finally {
    socket.disconnect();
  }
});

// ------------------------------------------------------------------------------------------
// runner tokens

type AgentSocket = Socket<RunnerServerEvents, RunnerClientEvents>;

const NOTEBOOK = {
  cells: [{ cell_type: 'code', metadata: {}, source: 'print(1)', outputs: [], execution_count: null, id: 'c' }],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5
};

/** A runner agent that accepts one offer (so its job runs) and does nothing else. */
async function runnerHoldingJob(project: string): Promise<{ token: string; job: Job; offer: JobOffer; socket: AgentSocket }> {
  const added = await server.request('POST', '/api/runners', { json: { name: `runner-${key()}`.slice(0, 60) } });
  expect(added.status).toBe(201);
  const token = added.body.token as string;
  const submitted = await server.request('POST', '/api/jobs', { json: { project, notebookPath: 'train.ipynb', notebook: NOTEBOOK } });
  expect(submitted.status).toBe(201);
  const socket: AgentSocket = connect(`${server.url}/runners`, { auth: { token }, transports: ['websocket'], reconnection: false });
  const offered = new Promise<JobOffer>((resolve) =>
    socket.on('job:offer', (offer, ack) => {
      ack({ accepted: true });
      resolve(offer);
    })
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const hello = await socket.emitWithAck('runner:hello', {
    capacity: { cpus: 2, memoryBytes: 1024 ** 3, gpus: [], os: 'Linux', python: '3.12.1' },
    maxJobs: 1,
    version: 'test',
    labels: [],
    attempts: []
  });
  expect(hello.ok).toBe(true);
  const offer = await offered;
  return { token, job: submitted.body as Job, offer, socket };
}

test("a runner token logs a version from its job's run, and not from another run (403)", async () => {
  const { token, job, offer, socket } = await runnerHoldingJob('runner-models');
  try {
    for (const file of ['MLmodel', 'model.pkl']) {
      const response = await fetch(`${server.url}/api/runs/${job.runId}/artifacts?path=models/job-model/${file}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'X-Runlab-Attempt': offer.attemptId },
        body: `${file} bytes`
      });
      expect(response.status).toBe(201);
    }
    const allowed = await createVersion('job-model', job.runId, {}, token);
    expect(allowed.status).toBe(201);
    expect(allowed.body).toMatchObject({ runId: job.runId, projectName: 'runner-models', version: 1 });

    const other = await runWithModel('runner-models', 'job-model');
    const refused = await createVersion('job-model', other.id, {}, token);
    expectErrorBody(refused, 403, 'forbidden');
    expect(refused.body.error.message).toMatch(new RegExp(`cannot reach run ${other.id}`));
    // While it runs a job it reads the registry (runlab.load_model in the notebook), and changes nothing else.
    const read = await server.request('GET', '/api/models/job-model/versions/1', { token });
    expect(read.status).toBe(200);
    const file = await fetch(`${server.url}/api/models/job-model/versions/1/files?path=${encodeURIComponent(read.body.files[0].path)}`, {
      headers: { Authorization: `Bearer ${token}` }
    });
    expect(file.status).toBe(200);
    expectErrorBody(await server.request('PATCH', '/api/models/job-model', { token, json: { description: 'x' } }), 403, 'forbidden');
    expectErrorBody(
      await server.request('PUT', '/api/models/job-model/aliases/production', { token, json: { version: 1 } }),
      403,
      'forbidden'
    );
  } finally {
    await socket.emitWithAck('job:complete', {
      attemptId: offer.attemptId,
      status: 'finished',
      error: null,
      failedCell: null,
      durationS: 1
    });
    socket.disconnect();
  }
  // Its job over, the runner token logs no more versions from that run.
  const after = await createVersion('job-model', job.runId, {}, token);
  expectErrorBody(after, 403, 'forbidden');
  expect(after.body.error.message).toMatch(/it runs no job now/);
  const readAfter = await server.request('GET', '/api/models/job-model/versions/1', { token });
  expectErrorBody(readAfter, 403, 'forbidden');
  expect(readAfter.body.error.message).toMatch(/cannot reach the model registry: .*it runs no job now/);
});
