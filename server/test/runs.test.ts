import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CompareResponse, type Run } from '../src/contract';
import { expectErrorBody, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

let keyCounter = 0;
const nextKey = (): string => `batch-${++keyCounter}-${Date.now()}`;

async function createRun(body: Record<string, unknown> = {}): Promise<Run> {
  const response = await server.request('POST', '/api/runs', { json: { project: 'runs-test', ...body } });
  expect(response.status).toBe(201);
  return response.body;
}

async function log(runId: string, body: Record<string, unknown>, idempotencyKey = nextKey()) {
  return server.request('POST', `/api/runs/${runId}/log`, { json: { idempotencyKey, ...body } });
}

/** Every file under the blob store, except upload temp files. */
function blobFiles(): string[] {
  const root = path.join(server.dataDir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((prefix) => prefix !== 'tmp')
    .flatMap((prefix) => fs.readdirSync(path.join(root, prefix)).map((rest) => prefix + rest))
    .sort();
}

function rowCounts(runId: string): Record<string, number> {
  const db = server.app.db;
  const count = (sql: string): number => (db.prepare(sql).get(runId) as { n: number }).n;
  return {
    runs: count('SELECT COUNT(*) AS n FROM runs WHERE id = ?'),
    params: count('SELECT COUNT(*) AS n FROM run_params WHERE run_id = ?'),
    tags: count('SELECT COUNT(*) AS n FROM run_tags WHERE run_id = ?'),
    io: count('SELECT COUNT(*) AS n FROM run_io WHERE run_id = ?'),
    summaries: count('SELECT COUNT(*) AS n FROM metric_summaries WHERE run_id = ?'),
    blocks: count('SELECT COUNT(*) AS n FROM metric_blocks WHERE series_id IN (SELECT id FROM metric_summaries WHERE run_id = ?)'),
    batches: count('SELECT COUNT(*) AS n FROM run_log_batches WHERE run_id = ?'),
    artifacts: count('SELECT COUNT(*) AS n FROM artifacts WHERE run_id = ?'),
    orphanBlocks: (
      db.prepare('SELECT COUNT(*) AS n FROM metric_blocks WHERE series_id NOT IN (SELECT id FROM metric_summaries)').get() as { n: number }
    ).n
  };
}

test('create (project made on first use, generated name), get, rename, end, fail', async () => {
  const run = await createRun({ params: { lr: '0.1' }, tags: { team: 'vision' }, notebookPath: 'demo.ipynb' });
  expect(run).toMatchObject({
    projectName: 'runs-test',
    name: expect.stringMatching(/^run-\d+$/),
    status: 'running',
    params: { lr: '0.1' },
    tags: { team: 'vision' },
    notebookPath: 'demo.ipynb',
    source: { kind: 'api', cell: null },
    endedAt: null,
    snapshot: null,
    metrics: {},
    artifacts: []
  });
  const projects = await server.request('GET', '/api/projects?name=runs-test');
  expect(projects.body.projects[0].id).toBe(run.projectId);
  const second = await createRun();
  expect(Number(second.name.slice(4))).toBe(Number(run.name.slice(4)) + 1);

  const started = await createRun({
    name: 'fixed',
    startedAt: '2024-01-02T03:04:05Z',
    environment: { python: '3.12.1', platform: 'linux', hostname: 'box', packages: { numpy: '2.0.0' } }
  });
  expect(started.startedAt).toBe('2024-01-02T03:04:05.000Z');
  expect((await server.request('GET', `/api/runs/${started.id}`)).body.environment.packages).toEqual({ numpy: '2.0.0' });

  const renamed = await server.request('PATCH', `/api/runs/${run.id}`, { json: { name: 'baseline' } });
  expect(renamed.body).toMatchObject({ name: 'baseline', status: 'running', endedAt: null });
  const ended = await server.request('PATCH', `/api/runs/${run.id}`, { json: { status: 'finished' } });
  expect(ended.body.endedAt).toEqual(expect.any(String));
  const failed = await server.request('PATCH', `/api/runs/${second.id}`, {
    json: { status: 'failed', endedAt: '2024-05-01T00:00:00Z', error: { message: 'boom', traceback: 'Traceback…\nValueError: boom' } }
  });
  expect(failed.body).toMatchObject({
    status: 'failed',
    endedAt: '2024-05-01T00:00:00.000Z',
    error: { message: 'boom', traceback: 'Traceback…\nValueError: boom' }
  });
  expect((await server.request('GET', `/api/runs/${second.id}`)).body.error.message).toBe('boom');
  expectErrorBody(await server.request('GET', '/api/runs/nope'), 404, 'not_found');
  expectErrorBody(await server.request('PATCH', '/api/runs/nope', { json: { name: 'x' } }), 404, 'not_found');
});

test('a retried batch (same idempotency key) is stored once', async () => {
  const run = await createRun();
  const body = {
    metrics: [
      { key: 'loss', value: 1 },
      { key: 'loss', value: 0.5 }
    ],
    params: { seed: '1' }
  };
  expect((await log(run.id, body, 'retry-key-1')).body).toEqual({ stored: 2, duplicate: false });
  expect((await log(run.id, body, 'retry-key-1')).body).toEqual({ stored: 0, duplicate: true });
  const history = await server.request('GET', `/api/runs/${run.id}/metrics/loss`);
  expect(history.body.points.map((point: { step: number; value: number }) => [point.step, point.value])).toEqual([
    [0, 1],
    [1, 0.5]
  ]);
  expect((await server.request('GET', `/api/runs/${run.id}`)).body.metrics.loss.count).toBe(2);
});

test('omitted steps continue from the latest; non-increasing steps are stored in order; summaries follow', async () => {
  const run = await createRun();
  await log(run.id, {
    metrics: [
      { key: 'acc', value: 0.5 },
      { key: 'acc', value: 0.6 },
      { key: 'acc', value: 0.7, step: 10 }
    ]
  });
  await log(run.id, { metrics: [{ key: 'acc', value: 0.9 }] }); // step 11
  await log(run.id, {
    metrics: [
      { key: 'acc', value: 0.1, step: 3, timestamp: 5 },
      { key: 'acc', value: 0.2, step: 3, timestamp: 5 }
    ]
  });
  const history = await server.request('GET', `/api/runs/${run.id}/metrics/acc`);
  expect(history.body.points.map((point: { step: number; value: number }) => [point.step, point.value])).toEqual([
    [0, 0.5],
    [1, 0.6],
    [3, 0.1],
    [3, 0.2],
    [10, 0.7],
    [11, 0.9]
  ]);
  expect(history.body).toMatchObject({ total: 6, downsampled: false });
  const summary = (await server.request('GET', `/api/runs/${run.id}`)).body.metrics.acc;
  expect(summary).toMatchObject({ latest: 0.9, step: 11, min: 0.1, max: 0.9, count: 6 });
  // Range zoom on an out-of-order series.
  const zoom = await server.request('GET', `/api/runs/${run.id}/metrics/acc?minStep=1&maxStep=3`);
  expect(zoom.body.points.map((point: { value: number }) => point.value)).toEqual([0.6, 0.1, 0.2]);
});

test('metric columns: stored like point objects, mixed with them, retried once; bad columns are 400 with paths', async () => {
  const run = await createRun();
  const columns = {
    keys: ['loss', 'acc'],
    keyIndex: [0, 1, 0, 1, 0],
    values: [1, 0.5, 0.8, 0.6, 0.7],
    steps: [0, 0, 1, 1, null],
    timestamps: [1000, 1000, 2000, 2000, 3000]
  };
  const body = { metrics: [{ key: 'lr', value: 0.1, step: 0 }], metricColumns: columns };
  expect((await log(run.id, body, 'columns-key-1')).body).toEqual({ stored: 6, duplicate: false });
  expect((await log(run.id, body, 'columns-key-1')).body).toEqual({ stored: 0, duplicate: true });
  const loss = await server.request('GET', `/api/runs/${run.id}/metrics/loss`);
  expect(loss.body.points).toEqual([
    { step: 0, value: 1, timestamp: 1000 },
    { step: 1, value: 0.8, timestamp: 2000 },
    { step: 2, value: 0.7, timestamp: 3000 }
  ]);
  const stored = (await server.request('GET', `/api/runs/${run.id}`)).body.metrics;
  expect(stored.acc).toMatchObject({ latest: 0.6, step: 1, count: 2 });
  expect(stored.lr).toMatchObject({ latest: 0.1, count: 1 });
  expect(stored.loss).toMatchObject({ latest: 0.7, min: 0.7, max: 1, count: 3 });

  const bad = async (change: Record<string, unknown>, path: string) => {
    const response = await log(run.id, { metricColumns: { ...columns, ...change } });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details[0].path).toBe(path);
  };
  await bad({ values: [1, 2] }, 'body.metricColumns.values');
  await bad({ keyIndex: [0, 1, 2, 1, 0] }, 'body.metricColumns.keyIndex.2');
  await bad({ keyIndex: [0, 1, 0.5, 1, 0] }, 'body.metricColumns.keyIndex.2');
  await bad({ steps: [0, -1, 1, 1, null] }, 'body.metricColumns.steps.1');
  await bad({ timestamps: [1000, 1000, 2000, 2000, 1.5] }, 'body.metricColumns.timestamps.4');
  await bad({ values: [1, 'x', 0.8, 0.6, 0.7] }, 'body.metricColumns.values.1');
  await bad({ keys: ['bad\nkey', 'acc'] }, 'body.metricColumns.keys.0');
  expect((await server.request('GET', `/api/runs/${run.id}`)).body.metrics.loss.count).toBe(3);
});

test('params are write-once: same value again is fine, another value is 409 and the batch changes nothing', async () => {
  const run = await createRun({ params: { lr: '0.1' } });
  expect((await log(run.id, { params: { lr: '0.1', epochs: '3' } })).status).toBe(200);
  const conflict = await log(run.id, { params: { lr: '0.2' }, metrics: [{ key: 'x', value: 1 }], tags: { t: 'v' } });
  expectErrorBody(conflict, 409, 'conflict');
  expect(conflict.body.error.details).toEqual([{ path: 'body.params.lr', message: expect.stringContaining('lr') }]);
  const after = (await server.request('GET', `/api/runs/${run.id}`)).body;
  expect(after.params).toEqual({ lr: '0.1', epochs: '3' });
  expect(after.metrics).toEqual({});
  expect(after.tags).toEqual({});
});

test('a long series is downsampled from block envelopes: the extremes survive, totals are exact', async () => {
  const run = await createRun();
  const length = 300_000;
  for (let offset = 0; offset < length; offset += 50_000) {
    const metrics = Array.from({ length: 50_000 }, (_, index) => {
      const step = offset + index;
      return { key: 'long', value: step === 123_457 ? 1000 : step === 200_001 ? -1000 : Math.sin(step / 1000), step };
    });
    expect((await log(run.id, { metrics })).status).toBe(200);
  }
  const full = (await server.request('GET', `/api/runs/${run.id}/metrics/long?maxPoints=1000`)).body;
  expect(full).toMatchObject({ total: length, downsampled: true });
  expect(full.points.length).toBeLessThanOrEqual(1000);
  expect(full.points[0].step).toBe(0);
  expect(full.points.at(-1).step).toBe(length - 1);
  const values = full.points.map((point: { value: number }) => point.value);
  expect(Math.max(...values)).toBe(1000);
  expect(Math.min(...values)).toBe(-1000);
  // A wide zoom cutting blocks in the middle still counts exactly.
  const wide = (await server.request('GET', `/api/runs/${run.id}/metrics/long?maxPoints=500&minStep=1500&maxStep=250499`)).body;
  expect(wide).toMatchObject({ total: 249_000, downsampled: true });
  expect(wide.points[0].step).toBe(1500);
  expect(wide.points.at(-1).step).toBe(250_499);
});

test('history downsamples to maxPoints keeping first and last; a zoomed range comes at full resolution', async () => {
  const run = await createRun();
  const metrics = Array.from({ length: 5000 }, (_, step) => ({
    key: 'train/loss',
    value: Math.sin(step / 100) + (step === 2500 ? 10 : 0),
    step
  }));
  expect((await log(run.id, { metrics })).body.stored).toBe(5000);
  const key = encodeURIComponent('train/loss');
  const full = await server.request('GET', `/api/runs/${run.id}/metrics/${key}?maxPoints=500`);
  expect(full.status).toBe(200);
  expect(full.body).toMatchObject({ key: 'train/loss', total: 5000, downsampled: true });
  expect(full.body.points.length).toBeLessThanOrEqual(500);
  expect(full.body.points[0].step).toBe(0);
  expect(full.body.points.at(-1).step).toBe(4999);
  expect(full.body.points.some((point: { step: number }) => point.step === 2500)).toBe(true); // the spike survives
  const zoom = await server.request('GET', `/api/runs/${run.id}/metrics/${key}?maxPoints=500&minStep=1000&maxStep=1399`);
  expect(zoom.body).toMatchObject({ total: 400, downsampled: false });
  expect(zoom.body.points.map((point: { step: number }) => point.step)).toEqual(Array.from({ length: 400 }, (_, index) => 1000 + index));
  expectErrorBody(await server.request('GET', `/api/runs/${run.id}/metrics/nothing`), 404, 'not_found');
});

test('list: filters, sorts, pagination and total', async () => {
  const project = `list-${Date.now()}`;
  const made: Run[] = [];
  for (let index = 0; index < 6; index++) {
    const response = await server.request('POST', '/api/runs', {
      json: {
        project,
        name: `r${index}`,
        params: { lr: String([0.1, 0.01, 0.001, 0.1, 0.5, 2][index]), kind: index % 2 ? 'odd' : 'even' },
        tags: { team: index < 3 ? 'a' : 'b' },
        notebookPath: index === 0 ? 'one.ipynb' : 'other.ipynb'
      }
    });
    made.push(response.body);
    await log(response.body.id, {
      metrics: [
        { key: 'acc', value: index / 10 },
        { key: 'acc', value: index / 10 + 0.05 }
      ]
    });
  }
  await server.request('PATCH', `/api/runs/${made[5].id}`, { json: { status: 'finished' } });
  const list = async (query: string) => (await server.request('GET', `/api/runs?project=${project}&${query}`)).body;
  const names = (body: { runs: Run[] }) => body.runs.map((run) => run.name);

  const all = await list('');
  expect(all.total).toBe(6);
  expect(all.runs[0]).toMatchObject({
    environment: null,
    artifacts: [],
    params: expect.any(Object),
    metrics: { acc: expect.objectContaining({ latest: expect.any(Number), count: 2 }) }
  });
  expect(names(await list('sort=metrics.acc:desc'))).toEqual(['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
  expect(names(await list('sort=metrics.acc:asc&limit=2&offset=1'))).toEqual(['r1', 'r2']);
  expect((await list('sort=metrics.acc:asc&limit=2&offset=1')).total).toBe(6);
  expect(names(await list('sort=name:asc&filter=metrics.acc>=0.35'))).toEqual(['r3', 'r4', 'r5']);
  expect(names(await list(`sort=name&filter=${encodeURIComponent('params.lr=0.1')}`))).toEqual(['r0', 'r3']);
  expect(names(await list(`sort=name&filter=${encodeURIComponent('params.lr>0.05')}`))).toEqual(['r0', 'r3', 'r4', 'r5']);
  expect(
    names(await list(`sort=name&filter=${encodeURIComponent('tags.team!=a')}&filter=${encodeURIComponent('params.kind=odd')}`))
  ).toEqual(['r3', 'r5']);
  expect(names(await list('sort=params.lr:desc'))).toEqual(['r5', 'r4', 'r3', 'r0', 'r1', 'r2']); // ties: newest first
  // Tags sort like params (the runs table sorts any column): b's runs first, then a's, ties newest first.
  expect(names(await list('sort=tags.team:desc'))).toEqual(['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
  expect(names(await list('sort=tags.team:asc'))).toEqual(['r2', 'r1', 'r0', 'r5', 'r4', 'r3']);
  expect(names(await list('status=finished'))).toEqual(['r5']);
  expect(names(await list('notebookPath=one.ipynb'))).toEqual(['r0']);
  expect((await list('sort=metrics.missing:desc')).total).toBe(6);
  // Runs without the sort metric come after those with it, across pages.
  await server.request('POST', '/api/runs', { json: { project, name: 'no-metrics' } });
  expect(names(await list('sort=metrics.acc:asc&limit=3&offset=5'))).toEqual(['r5', 'no-metrics']);
  expect(names(await list('sort=metrics.acc:desc&limit=2&offset=6'))).toEqual(['no-metrics']);
  expect((await list('sort=metrics.acc:desc&limit=2&offset=6')).total).toBe(7);
});

test('compare: runs with every metric series; unknown ids are 404; bad id lists are 400', async () => {
  const a = await createRun();
  const b = await createRun();
  await log(a.id, { metrics: Array.from({ length: 50 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step })) });
  await log(b.id, {
    metrics: [
      { key: 'loss', value: 2 },
      { key: 'acc', value: 0.5 }
    ]
  });
  const compared = await server.request('GET', `/api/runs/compare?ids=${a.id},${b.id}&maxPoints=10`);
  expect(compared.status).toBe(200);
  expect(compared.body.runs.map((run: Run) => run.id)).toEqual([a.id, b.id]);
  // Columns, not point objects: steps[i] and values[i] are one point.
  expect(compared.body.series.loss[a.id].steps).toHaveLength(10);
  expect(compared.body.series.loss[a.id].values).toHaveLength(10);
  expect(compared.body.series.loss[a.id].steps[0]).toBe(0);
  expect(compared.body.series.loss[a.id].values[0]).toBe(1);
  expect(compared.body.series.loss[a.id].steps[9]).toBe(49);
  expect(compared.body.series.loss[b.id]).toEqual({ steps: [0], values: [2] });
  expect(compared.body.series.acc).toEqual({ [b.id]: { steps: [0], values: [0.5] } });
  expect(CompareResponse.safeParse(compared.body).success).toBe(true);
  expectErrorBody(await server.request('GET', `/api/runs/compare?ids=${a.id},missing`), 404, 'not_found');
  const one = await server.request('GET', `/api/runs/compare?ids=${a.id}`);
  expectErrorBody(one, 400, 'invalid_request');
  expect(one.body.error.details[0].path).toBe('query.ids');
});

test('artifacts: upload streams to the blob store, download returns the bytes, equal content is stored once', async () => {
  const run = await createRun();
  const other = await createRun();
  const before = blobFiles().length;
  const upload = (runId: string, artifactPath: string, body: string | Buffer) =>
    fetch(`${server.url}/api/runs/${runId}/artifacts?path=${encodeURIComponent(artifactPath)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
      body
    });
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
  const first = await upload(run.id, 'plots/roc.png', png);
  expect(first.status).toBe(201);
  const artifact = await first.json();
  expect(artifact).toEqual({
    path: 'plots/roc.png',
    size: 8,
    digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    createdAt: expect.any(String)
  });
  expect((await upload(other.id, 'copy.png', png)).status).toBe(201);
  expect(blobFiles().length).toBe(before + 1);

  const download = await fetch(`${server.url}/api/runs/${run.id}/artifacts?path=plots/roc.png`, {
    headers: { authorization: `Bearer ${server.adminToken}` }
  });
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await download.arrayBuffer())).toEqual(png);
  const text = await upload(run.id, 'notes', 'hello');
  expect(text.status).toBe(201);
  const raw = await fetch(`${server.url}/api/runs/${run.id}/artifacts?path=notes`, {
    headers: { authorization: `Bearer ${server.adminToken}` }
  });
  expect(raw.headers.get('content-type')).toBe('application/octet-stream');
  expect(await raw.text()).toBe('hello');
  expect((await server.request('GET', `/api/runs/${run.id}`)).body.artifacts.map((item: { path: string }) => item.path)).toEqual([
    'notes',
    'plots/roc.png'
  ]);
  expectErrorBody(await server.request('GET', `/api/runs/${run.id}/artifacts?path=missing.txt`), 404, 'not_found');

  for (const bad of ['../escape', '/etc/passwd', 'a/../../b', 'a\\b', 'a//b', 'a/', 'nul\0byte', 'C:/x']) {
    const response = await upload(run.id, bad, 'x');
    const body = (await response.json()) as { error: { code: string; details: { path: string }[] } };
    expect(response.status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.details[0].path).toBe('query.path');
  }
  expectErrorBody(await server.request('GET', `/api/runs/${run.id}/artifacts?path=..%2Fx`), 400, 'invalid_request');
});

test('an upload over RUNLAB_MAX_ARTIFACT_BYTES is 413 and leaves no blob or temp file', async () => {
  const small = await startServer({ env: { RUNLAB_MAX_ARTIFACT_BYTES: '1000' } });
  try {
    const run = (await small.request('POST', '/api/runs', { json: { project: 'limits' } })).body;
    const response = await fetch(`${small.url}/api/runs/${run.id}/artifacts?path=big.bin`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${small.adminToken}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(5000, 1)
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    const blobs = path.join(small.dataDir, 'blobs');
    const leftovers = fs.existsSync(blobs) ? fs.readdirSync(blobs).flatMap((entry) => fs.readdirSync(path.join(blobs, entry))) : [];
    expect(leftovers).toEqual([]);
  } finally {
    await small.destroy();
  }
});

test('delete removes every row of the run and blobs nothing else uses', async () => {
  const run = await createRun({ params: { a: '1' }, tags: { b: '2' } });
  const keeper = await createRun();
  await log(run.id, {
    metrics: Array.from({ length: 3000 }, (_, step) => ({ key: 'm', value: step })),
    inputs: [{ kind: 'dataset', name: 'iris@v1' }],
    outputs: [{ kind: 'path', name: 'model.pkl' }]
  });
  const put = (runId: string, artifactPath: string, content: string) =>
    fetch(`${server.url}/api/runs/${runId}/artifacts?path=${artifactPath}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}` },
      body: content
    });
  await put(run.id, 'only-mine.txt', `unique ${Date.now()}`);
  await put(run.id, 'shared.txt', 'shared content');
  await put(keeper.id, 'shared.txt', 'shared content');
  const blobsBefore = blobFiles();
  expect(rowCounts(run.id)).toMatchObject({ runs: 1, params: 1, tags: 1, io: 2, summaries: 1, blocks: 3, batches: 1, artifacts: 2 });

  expect((await server.request('DELETE', `/api/runs/${run.id}`)).status).toBe(204);
  expect(rowCounts(run.id)).toEqual({
    runs: 0,
    params: 0,
    tags: 0,
    io: 0,
    summaries: 0,
    blocks: 0,
    batches: 0,
    artifacts: 0,
    orphanBlocks: 0
  });
  const blobsAfter = blobFiles();
  expect(blobsBefore.length - blobsAfter.length).toBe(1); // the unique one went, the shared one stayed
  const shared = await fetch(`${server.url}/api/runs/${keeper.id}/artifacts?path=shared.txt`, {
    headers: { authorization: `Bearer ${server.adminToken}` }
  });
  expect(await shared.text()).toBe('shared content');
  expectErrorBody(await server.request('DELETE', `/api/runs/${run.id}`), 404, 'not_found');
});

test('runlab-server gc removes unreferenced blobs and old temp files, and reports bytes freed', async () => {
  const stray = 'f'.repeat(64);
  const strayFile = path.join(server.dataDir, 'blobs', 'ff', stray.slice(2));
  fs.mkdirSync(path.dirname(strayFile), { recursive: true });
  fs.writeFileSync(strayFile, 'orphan!');
  const tempDir = path.join(server.dataDir, 'blobs', 'tmp');
  fs.mkdirSync(tempDir, { recursive: true });
  fs.writeFileSync(path.join(tempDir, 'old-upload'), '12345');
  const hourAgo = new Date(Date.now() - 2 * 3600 * 1000);
  fs.utimesSync(path.join(tempDir, 'old-upload'), hourAgo, hourAgo);
  fs.writeFileSync(path.join(tempDir, 'fresh-upload'), 'x');
  const referenced = blobFiles().filter((digest) => digest !== stray);

  const cli = path.join(__dirname, '..', 'dist', 'cli.js');
  const result = spawnSync(process.execPath, [cli, 'gc', '--data-dir', server.dataDir], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  expect(result.stdout).toContain(`removed blob ${stray} (7 bytes)`);
  expect(result.stdout).toContain('removed temp file old-upload (5 bytes)');
  expect(result.stdout).toMatch(/freed 12 bytes/);
  expect(blobFiles()).toEqual(referenced);
  expect(fs.readdirSync(tempDir)).toEqual(['fresh-upload']);
});

test('bad input on the run routes is 400 with field paths', async () => {
  const run = await createRun();
  const cases: [string, string, unknown, string][] = [
    ['POST', '/api/runs', { project: 'x', owner: 'me' }, 'body.owner'],
    ['POST', '/api/runs', { project: '../x' }, 'body.project'],
    ['POST', '/api/runs', { project: 'x', params: { lr: 0.1 } }, 'body.params.lr'],
    ['POST', '/api/runs', { project: 'x', startedAt: 'yesterday' }, 'body.startedAt'],
    ['PATCH', `/api/runs/${run.id}`, { status: 'done' }, 'body.status'],
    ['PATCH', `/api/runs/${run.id}`, { endedAt: 5 }, 'body.endedAt'],
    ['POST', `/api/runs/${run.id}/log`, { metrics: [] }, 'body.idempotencyKey'],
    ['POST', `/api/runs/${run.id}/log`, { idempotencyKey: 'abcdefgh', metrics: [{ key: 'a', value: 'x' }] }, 'body.metrics.0.value'],
    ['POST', `/api/runs/${run.id}/log`, { idempotencyKey: 'abcdefgh', metrics: [{ key: 'a', value: 1, step: -1 }] }, 'body.metrics.0.step'],
    ['POST', `/api/runs/${run.id}/log`, { idempotencyKey: 'abcdefgh', metrics: [{ key: 'bad key!', value: 1 }] }, 'body.metrics.0.key'],
    ['POST', `/api/runs/${run.id}/log`, { idempotencyKey: 'abcdefgh', extra: 1 }, 'body.extra']
  ];
  for (const [method, url, json, field] of cases) {
    const response = await server.request(method, url, { json });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  }
  const queries: [string, string][] = [
    ['/api/runs?limit=0', 'query.limit'],
    ['/api/runs?owner=me', 'query.owner'],
    ['/api/runs?status=done', 'query.status'],
    ['/api/runs?filter=acc>1', 'query.filter'],
    [`/api/runs?filter=${encodeURIComponent('metrics.acc>high')}`, 'query.filter'],
    [`/api/runs?filter=params.a=1&filter=${encodeURIComponent('nope')}`, 'query.filter.1'],
    ['/api/runs?sort=color', 'query.sort'],
    [`/api/runs/${run.id}/metrics/loss?maxPoints=1`, 'query.maxPoints'],
    [`/api/runs/${run.id}/metrics/loss?minStep=abc`, 'query.minStep']
  ];
  for (const [url, field] of queries) {
    const response = await server.request('GET', url);
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  }
  // Nothing was logged by any of the rejected batches.
  expect((await server.request('GET', `/api/runs/${run.id}`)).body.metrics).toEqual({});
});

test('runner tokens are forbidden on run routes', async () => {
  const runner = await server.request('POST', '/api/tokens', { json: { name: 'runner-runs', scope: 'runner' } });
  const token = runner.body.secret;
  expectErrorBody(await server.request('GET', '/api/runs', { token }), 403, 'forbidden');
  expectErrorBody(await server.request('POST', '/api/runs', { token, json: { project: 'x' } }), 403, 'forbidden');
  expectErrorBody(await server.request('GET', '/api/runs', { token: null }), 401, 'unauthorized');
});

test('a retried create with the same idempotency key answers with the run it made, not a second one', async () => {
  const key = `create-${Date.now()}`;
  const body = { project: 'create-retry', name: 'once', params: { lr: '0.1' }, idempotencyKey: key };
  const [first, second] = await Promise.all([
    server.request('POST', '/api/runs', { json: body }),
    server.request('POST', '/api/runs', { json: body })
  ]);
  const third = await server.request('POST', '/api/runs', { json: body });
  expect([first.status, second.status, third.status]).toEqual([201, 201, 201]);
  expect(second.body.id).toBe(first.body.id);
  expect(third.body.id).toBe(first.body.id);
  const listed = await server.request('GET', '/api/runs?project=create-retry');
  expect(listed.body.total).toBe(1);
  // A different key is a different run.
  const other = await createRun({ project: 'create-retry', idempotencyKey: `${key}-other` });
  expect(other.id).not.toBe(first.body.id);
});

test('runs grouped by a param or tag: count, mean and sample standard deviation per group, filters applied', async () => {
  const project = 'group-test';
  const accs: Record<string, number[]> = { a: [0.5, 0.7, 0.9], b: [0.2, 0.4] };
  for (const [team, values] of Object.entries(accs)) {
    for (const [seed, acc] of values.entries()) {
      const run = await createRun({ project, params: { seed: String(seed) }, tags: { team } });
      expect((await log(run.id, { metrics: [{ key: 'acc', value: acc }] })).status).toBe(200);
    }
  }
  const nan = await createRun({ project, tags: { team: 'b' } });
  await log(nan.id, { metrics: [{ key: 'acc', value: 'NaN' }] });
  await createRun({ project });
  const groups = async (query: string) => server.request('GET', `/api/runs/groups?project=${project}&${query}`);

  const byTeam = (await groups('by=tags.team&metric=acc&metric=missing')).body;
  expect(byTeam.total).toBe(7);
  expect(byTeam.groups.map((group: { value: string | null; count: number }) => [group.value, group.count])).toEqual([
    ['a', 3],
    ['b', 3],
    [null, 1]
  ]);
  const [a, b] = byTeam.groups;
  expect(a.metrics.acc.count).toBe(3);
  expect(a.metrics.acc.mean).toBeCloseTo(0.7, 12);
  expect(a.metrics.acc.sd).toBeCloseTo(0.2, 12); // sample sd of 0.5, 0.7, 0.9
  expect(b.metrics.acc).toMatchObject({ count: 2, min: 0.2, max: 0.4 }); // the NaN is left out
  expect(b.metrics.acc.sd).toBeCloseTo(Math.SQRT2 / 10, 12);
  expect(a.metrics.missing).toEqual({ count: 0, mean: null, sd: null, min: null, max: null });

  const filtered = (await groups(`by=params.seed&metric=acc&filter=${encodeURIComponent('tags.team=a')}`)).body;
  expect(filtered.total).toBe(3);
  expect(filtered.groups.map((group: { value: string }) => group.value)).toEqual(['0', '1', '2']);
  expect(filtered.groups[0].metrics.acc).toMatchObject({ count: 1, mean: 0.5, sd: null });

  const bad = await groups('by=seed');
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toContain('query.by');
  expect((await groups(`by=params.seed&filter=${encodeURIComponent('metrics.acc>high')}`)).status).toBe(400);
});
