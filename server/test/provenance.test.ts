import { io as connect } from 'socket.io-client';
import { ProvenanceGraph } from '../src/contract';
import type { Database } from '../src/db/database';
import { AppError } from '../src/http/errors';
import { commit, randomChunk, uploadChunks } from './dataset-helpers';
import { expectErrorBody, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

let keyCounter = 0;
const key = (): string => `provenance-${++keyCounter}-${Date.now()}`;

async function createRun(project: string, name: string): Promise<string> {
  const response = await server.request('POST', '/api/runs', { json: { project, name } });
  expect(response.status).toBe(201);
  return response.body.id;
}

async function logInputs(runId: string, inputs: { kind: string; name: string }[]): Promise<void> {
  const response = await server.request('POST', `/api/runs/${runId}/log`, { json: { idempotencyKey: key(), inputs } });
  expect(response.status).toBe(200);
}

async function graph(node: string, direction: string, depth?: number): Promise<ProvenanceGraph> {
  const query = new URLSearchParams({ node, direction, ...(depth ? { depth: String(depth) } : {}) });
  const response = await server.request('GET', `/api/provenance?${query}`);
  expect(response.status).toBe(200);
  return ProvenanceGraph.parse(response.body);
}

const labels = (result: ProvenanceGraph): string[] => result.nodes.map((node) => node.label).sort();
const edgeLabels = (result: ProvenanceGraph): string[] => {
  const label = new Map(result.nodes.map((node) => [node.ref, node.label]));
  return result.edges.map((edge) => `${label.get(edge.from)} -> ${label.get(edge.to)}`).sort();
};

/** raw@v1 → prepare (input raw@v1) → clean@v1 (committed in prepare) → train (input clean@v1) → model.pkl */
async function buildChain(project: string) {
  const rawChunk = randomChunk();
  const cleanChunk = randomChunk();
  await uploadChunks(server, [rawChunk, cleanChunk]);
  const raw = (await commit(server, project, 'raw', [{ path: 'data.csv', chunks: [rawChunk] }])).body.version;
  const prepare = await createRun(project, 'prepare');
  await logInputs(prepare, [{ kind: 'dataset', name: 'raw@v1' }]);
  const clean = (await commit(server, project, 'clean', [{ path: 'data.csv', chunks: [cleanChunk] }], { runId: prepare })).body.version;
  const train = await createRun(project, 'train');
  // `name@N` works as well as `name@vN`; an unknown dataset stays a plain input without an edge.
  await logInputs(train, [
    { kind: 'dataset', name: 'clean@1' },
    { kind: 'dataset', name: 'nope@v1' }
  ]);
  const artifact = await fetch(`${server.url}/api/runs/${train}/artifacts?path=model.pkl`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from('pickled model')
  });
  expect(artifact.status).toBe(201);
  return { raw, clean, prepare, train, model: `artifact:${train}/model.pkl` };
}

test('a chain dataset → run → dataset → run → artifact, queried upstream, downstream and both ways', async () => {
  const chain = await buildChain('provenance-chain');
  const full = ['clean@v1', 'model.pkl', 'prepare', 'raw@v1', 'train'];
  const allEdges = ['clean@v1 -> train', 'prepare -> clean@v1', 'raw@v1 -> prepare', 'train -> model.pkl'];

  const upstream = await graph(chain.model, 'upstream');
  expect(upstream.root).toBe(chain.model);
  expect(upstream.nodes[0].ref).toBe(chain.model);
  expect(labels(upstream)).toEqual(full);
  expect(edgeLabels(upstream)).toEqual(allEdges);
  expect(upstream.truncated).toBe(false);
  expect(upstream.nodes.find((node) => node.kind === 'artifact')).toMatchObject({
    artifactPath: 'model.pkl',
    runId: chain.train,
    projectName: 'provenance-chain',
    detail: '13 B'
  });
  expect(upstream.nodes.find((node) => node.label === 'raw@v1')).toMatchObject({
    kind: 'dataset_version',
    ref: `dataset_version:${chain.raw.id}`,
    datasetName: 'raw',
    versionNumber: 1,
    detail: '1 file, 19.5 KiB'
  });
  expect(upstream.nodes.find((node) => node.label === 'train')).toMatchObject({ kind: 'run', runId: chain.train, detail: 'running' });

  const downstream = await graph(`dataset_version:${chain.raw.id}`, 'downstream');
  expect(labels(downstream)).toEqual(full);
  expect(edgeLabels(downstream)).toEqual(allEdges);

  const middle = await graph(`run:${chain.prepare}`, 'both');
  expect(labels(middle)).toEqual(full);
  expect(edgeLabels(middle)).toEqual(allEdges);
  expect(labels(await graph(`run:${chain.prepare}`, 'upstream'))).toEqual(['prepare', 'raw@v1']);

  const shallow = await graph(chain.model, 'upstream', 2);
  expect(labels(shallow)).toEqual(['clean@v1', 'model.pkl', 'train']);

  // The unresolvable input is still recorded on the run.
  const train = (await server.request('GET', `/api/runs/${chain.train}`)).body;
  expect(train.inputs.map((io: { name: string }) => io.name)).toEqual(['clean@1', 'nope@v1']);
});

test('deleting a run removes its edges and those of its artifacts', async () => {
  const chain = await buildChain('provenance-delete');
  expect((await server.request('DELETE', `/api/runs/${chain.train}`)).status).toBe(204);
  const fromClean = await graph(`dataset_version:${chain.clean.id}`, 'both');
  expect(labels(fromClean)).toEqual(['clean@v1', 'prepare', 'raw@v1']);
  const db = server.app.db;
  const left = db
    .prepare('SELECT COUNT(*) AS n FROM provenance_edges WHERE from_ref LIKE ? OR to_ref LIKE ?')
    .get(`%${chain.train}%`, `%${chain.train}%`) as { n: number };
  expect(left.n).toBe(0);
  expectErrorBody(await server.request('GET', `/api/provenance?node=${encodeURIComponent(chain.model)}`), 404, 'not_found');
  expectErrorBody(await server.request('GET', `/api/provenance?node=run:${chain.train}`), 404, 'not_found');
});

test('a graph stops at 500 nodes and says it was truncated', async () => {
  const project = 'provenance-wide';
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  const version = (await commit(server, project, 'popular', [{ path: 'x', chunks: [chunk] }])).body.version;
  // 520 runs read the version; made through the service to keep the test quick.
  for (let i = 0; i < 520; i++) {
    const run = await server.app.runs.create({
      project,
      params: {},
      tags: {},
      notebookPath: null,
      source: { kind: 'api', cell: null },
      environment: null,
      frontendId: null,
      moduleFiles: []
    });
    server.app.runs.log(run.id, {
      params: {},
      tags: {},
      metrics: [],
      inputs: [{ kind: 'dataset', name: 'popular@v1', digest: null }],
      outputs: []
    });
  }
  const result = await graph(`dataset_version:${version.id}`, 'downstream');
  expect(result.truncated).toBe(true);
  expect(result.nodes).toHaveLength(500);
  expect(result.edges).toHaveLength(499);
  const refs = new Set(result.nodes.map((node) => node.ref));
  expect(result.edges.every((edge) => refs.has(edge.from) && refs.has(edge.to))).toBe(true);
});

test('bad node refs are 400s; unknown nodes 404s', async () => {
  expectErrorBody(await server.request('GET', '/api/provenance?node=model:x'), 400, 'invalid_request');
  expectErrorBody(await server.request('GET', '/api/provenance?node=run:x&depth=0'), 400, 'invalid_request');
  expectErrorBody(await server.request('GET', '/api/provenance?node=dataset_version:nope'), 404, 'not_found');
  expectErrorBody(await server.request('GET', '/api/provenance?node=artifact:nope'), 404, 'not_found');
});

/** The app's own connection, to look at rows and the schema directly. */
const database = (): Database => server.app.db;

async function uploadArtifact(runId: string, artifactPath: string, content: string): Promise<Response> {
  return fetch(`${server.url}/api/runs/${runId}/artifacts?path=${encodeURIComponent(artifactPath)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from(content)
  });
}

test('the runs feature links each uploaded artifact to its run, with no SQL trigger left doing it', async () => {
  const db = database();
  const trigger = db
    .prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name = 'provenance_artifact_stored'")
    .get() as { n: number };
  expect(trigger.n).toBe(0);
  const run = await createRun('provenance-artifacts', 'fit');
  expect((await uploadArtifact(run, 'models/model.pkl', 'first')).status).toBe(201);
  // Replacing the artifact keeps its one edge.
  expect((await uploadArtifact(run, 'models/model.pkl', 'second version')).status).toBe(201);
  const fromRun = await graph(`run:${run}`, 'downstream');
  expect(labels(fromRun)).toEqual(['fit', 'models/model.pkl']);
  expect(edgeLabels(fromRun)).toEqual(['fit -> models/model.pkl']);
  expect(fromRun.nodes.find((node) => node.kind === 'artifact')).toMatchObject({ ref: `artifact:${run}/models/model.pkl`, detail: '14 B' });
  const toArtifact = await graph(`artifact:${run}/models/model.pkl`, 'upstream');
  expect(edgeLabels(toArtifact)).toEqual(['fit -> models/model.pkl']);
  const rows = db.prepare('SELECT from_ref, to_ref FROM provenance_edges WHERE to_ref LIKE ?').all(`artifact:${run}/%`);
  expect(rows).toEqual([{ from_ref: `run:${run}`, to_ref: `artifact:${run}/models/model.pkl` }]);
});

test('an artifact and its edge are stored together or not at all', async () => {
  const run = await createRun('provenance-artifacts', 'refused');
  // A later hook failing rolls back the artifact row and the edge the provenance hook just added.
  server.app.runs.onArtifactStored((_run, artifact) => {
    if (artifact.path === 'refused.bin') throw new AppError('conflict', 'refused by the test hook');
  });
  expect((await uploadArtifact(run, 'refused.bin', 'never stored')).status).toBe(409);
  expect((await server.request('GET', `/api/runs/${run}`)).body.artifacts).toEqual([]);
  expectErrorBody(
    await server.request('GET', `/api/provenance?node=${encodeURIComponent(`artifact:${run}/refused.bin`)}`),
    404,
    'not_found'
  );
  const db = database();
  expect(db.prepare('SELECT COUNT(*) AS n FROM provenance_edges WHERE from_ref = ?').get(`run:${run}`)).toEqual({ n: 0 });
  // Other paths of the same run are stored and linked as usual.
  expect((await uploadArtifact(run, 'kept.bin', 'kept')).status).toBe(201);
  expect(edgeLabels(await graph(`run:${run}`, 'downstream'))).toEqual(['refused -> kept.bin']);
});

test("a run's dataset output is announced by the runs feature once the commit is in", async () => {
  const project = 'provenance-announce';
  const run = await createRun(project, 'writer');
  const projectId = (await server.request('GET', `/api/runs/${run}`)).body.projectId;
  const [first, second] = [randomChunk(), randomChunk()];
  await uploadChunks(server, [first, second]);
  const socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'] });
  try {
    await socket.emitWithAck('project:join', { projectId });
    const updates: { id: string; outputs: { name: string }[] }[] = [];
    socket.on('run:updated', (updated) => updates.push(updated));
    const next = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => (updates.length >= count ? resolve() : setTimeout(check, 10));
        check();
      });
    expect((await commit(server, project, 'out', [{ path: 'x', chunks: [first] }], { runId: run })).body.created).toBe(true);
    await next(1);
    expect(updates[0]).toMatchObject({ id: run, outputs: [{ name: 'out@v1' }] });
    // Committing the same content again still records (and announces) the run's output.
    expect((await commit(server, project, 'out', [{ path: 'x', chunks: [first] }], { runId: run })).body.created).toBe(false);
    await next(2);
    expect(updates[1]).toMatchObject({ id: run, outputs: [{ name: 'out@v1' }] });
    expect((await commit(server, project, 'out', [{ path: 'x', chunks: [second] }], { runId: run })).body.created).toBe(true);
    await next(3);
    expect(updates[2].outputs.map((io) => io.name)).toEqual(['out@v1', 'out@v2']);
  } finally {
    socket.close();
  }
});
