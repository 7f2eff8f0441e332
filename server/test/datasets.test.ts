import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { decompress } from 'zstd-napi';
import { DatasetManifestResponse } from '../src/contract';
import {
  chunkOf,
  commit,
  fetchChunks,
  fileHash,
  frame,
  manifestFile,
  missingChunks,
  packFiles,
  postChunks,
  randomChunk,
  tempPackFiles,
  textChunk,
  uploadChunks,
  type TestChunk
} from './dataset-helpers';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

let projectCounter = 0;
/** A fresh project name per test, so tests do not see each other's datasets. */
const newProject = (): string => `ds-${++projectCounter}-${Date.now()}`;

test('upload, commit, manifest and fetch round-trip files exactly', async () => {
  const project = newProject();
  const a = [textChunk('alpha'), randomChunk(30_000)];
  const b = [textChunk('bravo', 20_000)];
  const empty: TestChunk[] = [];
  const all = [...a, ...b];
  expect(await missingChunks(server, all)).toEqual(all.map((chunk) => chunk.hash));
  // Mixed codecs in one upload: zstd for text, raw for the random chunk.
  const upload = await postChunks(server, Buffer.concat([frame(a[0], 1), frame(a[1], 0), frame(b[0], 1)]));
  expect(upload.status).toBe(200);
  expect(upload.body.stored).toBe(3);
  expect(upload.body.alreadyPresent).toBe(0);
  // Text compresses: fewer bytes stored than sent uncompressed.
  expect(upload.body.storedBytes).toBeLessThan(a[0].data.length + a[1].data.length + b[0].data.length);
  expect(await missingChunks(server, all)).toEqual([]);

  const files = [
    { path: 'train/b.csv', chunks: b, mode: 0o4755 },
    { path: 'train/a.bin', chunks: a },
    { path: 'EMPTY', chunks: empty }
  ];
  const committed = await commit(server, project, 'iris', files, { message: 'first cut' });
  expect(committed.status).toBe(201);
  const version = committed.body.version;
  expect(committed.body.created).toBe(true);
  expect(version).toMatchObject({
    datasetName: 'iris',
    projectName: project,
    number: 1,
    label: 'v1',
    size: 30_000 + 50_000 + 20_000,
    fileCount: 3,
    message: 'first cut',
    author: 'local-admin',
    producedByRunId: null,
    summary: null
  });
  // The version hash follows the contract: sorted `path\tmode\tsize\thash\n` lines, mode & 0o777.
  const lines = [
    `EMPTY\t420\t0\t${fileHash([])}\n`,
    `train/a.bin\t420\t80000\t${fileHash(a)}\n`,
    `train/b.csv\t493\t20000\t${fileHash(b)}\n`
  ];
  expect(version.hash).toBe(createHash('sha256').update(lines.join('')).digest('hex'));

  const manifest = await server.request('GET', `/api/projects/${project}/datasets/iris/versions/v1/manifest`);
  expect(manifest.status).toBe(200);
  DatasetManifestResponse.parse(manifest.body);
  expect(manifest.body.version).toEqual(version);
  expect(manifest.body.files).toEqual([
    { ...manifestFile(files[2]), hash: fileHash([]) },
    { ...manifestFile(files[1]), hash: fileHash(a) },
    { ...manifestFile(files[0]), mode: 0o755, hash: fileHash(b) }
  ]);

  // Reassemble train/a.bin from fetched chunks: byte for byte the original.
  const fetched = await fetchChunks(
    server,
    manifest.body.files[1].chunks.map(([hash]: [string]) => hash)
  );
  expect(fetched.status).toBe(200);
  const content = Buffer.concat(fetched.frames.map((item) => (item.codec === 1 ? decompress(item.payload) : item.payload)));
  expect(content.equals(Buffer.concat(a.map((chunk) => chunk.data)))).toBe(true);
  expect(fetched.frames.map((item) => [item.hash, item.codec, item.rawSize])).toEqual([
    [a[0].hash, 1, 50_000],
    [a[1].hash, 0, 30_000]
  ]);

  for (const ref of ['v1', '1', 'latest']) {
    const got = await server.request('GET', `/api/projects/${project}/datasets/iris/versions/${ref}`);
    expect(got.body).toEqual(version);
  }
  const dataset = await server.request('GET', `/api/projects/${project}/datasets/iris`);
  expect(dataset.body).toMatchObject({ name: 'iris', projectName: project, versionCount: 1, latest: version });
  const list = await server.request('GET', `/api/projects/${project}/datasets`);
  expect(list.body.datasets.map((item: { name: string }) => item.name)).toEqual(['iris']);
});

test('a new version sharing most chunks uploads and stores only the new ones; summary and diff count the change', async () => {
  const project = newProject();
  const shared = Array.from({ length: 20 }, (_, i) => randomChunk(10_000 + i));
  const v1Files = [
    { path: 'big.bin', chunks: shared.slice(0, 18) },
    { path: 'small.bin', chunks: shared.slice(18) },
    { path: 'gone.txt', chunks: [textChunk('gone', 1_000)] }
  ];
  await uploadChunks(server, [...shared, v1Files[2].chunks[0]]);
  expect((await commit(server, project, 'logs', v1Files)).status).toBe(201);

  // v2: one chunk of big.bin replaced, gone.txt removed, new.txt added, small.bin unchanged.
  const replacement = randomChunk(12_345);
  const added = textChunk('new file', 3_000);
  const bigV2 = [...shared.slice(0, 9), replacement, ...shared.slice(10, 18)];
  const v2Chunks = [...bigV2, ...shared.slice(18), added];
  expect(await missingChunks(server, v2Chunks)).toEqual([replacement.hash, added.hash]);
  // A careless client re-sends everything: only the two new chunks are stored.
  const upload = await uploadChunks(server, v2Chunks);
  expect(upload).toMatchObject({ stored: 2, alreadyPresent: v2Chunks.length - 2 });
  const v2 = await commit(server, project, 'logs', [
    { path: 'big.bin', chunks: bigV2 },
    { path: 'small.bin', chunks: shared.slice(18) },
    { path: 'new.txt', chunks: [added] }
  ]);
  expect(v2.status).toBe(201);
  const bigSize = bigV2.reduce((sum, chunk) => sum + chunk.data.length, 0);
  const expectedSummary = {
    added: 1,
    removed: 1,
    changed: 1,
    unchanged: 1,
    bytesAdded: 3_000,
    bytesRemoved: 1_000,
    bytesChanged: bigSize,
    newChunkBytes: 12_345 + 3_000
  };
  expect(v2.body.version).toMatchObject({ number: 2, summary: expectedSummary });

  const diff = await server.request('GET', `/api/projects/${project}/datasets/logs/diff?from=v1&to=latest`);
  expect(diff.status).toBe(200);
  expect(diff.body.summary).toEqual(expectedSummary);
  expect(diff.body.added).toEqual([{ path: 'new.txt', fromSize: null, toSize: 3_000 }]);
  expect(diff.body.removed).toEqual([{ path: 'gone.txt', fromSize: 1_000, toSize: null }]);
  expect(diff.body.changed).toEqual([
    { path: 'big.bin', fromSize: shared.slice(0, 18).reduce((s, c) => s + c.data.length, 0), toSize: bigSize }
  ]);
  expect(diff.body.truncated).toBe(false);
  const limited = await server.request('GET', `/api/projects/${project}/datasets/logs/diff?from=1&to=2&limit=0`);
  expect(limited.body).toMatchObject({ added: [], removed: [], changed: [], truncated: true, summary: expectedSummary });
  // Backwards: what v1 has that v2 lacks.
  const back = await server.request('GET', `/api/projects/${project}/datasets/logs/diff?from=2&to=1`);
  expect(back.body.summary).toMatchObject({ added: 1, removed: 1, changed: 1, newChunkBytes: shared[9].data.length + 1_000 });

  const versions = await server.request('GET', `/api/projects/${project}/datasets/logs/versions`);
  expect(versions.body.versions.map((version: { number: number }) => version.number)).toEqual([2, 1]);
});

test('an unchanged manifest answers the latest version (created false); so does a retried idempotency key', async () => {
  const project = newProject();
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  const files = [{ path: 'x', chunks: [chunk] }];
  const first = await commit(server, project, 'same', files);
  expect(first.status).toBe(201);
  // File order in the request does not matter, nor does mode beyond 0o777.
  const again = await commit(server, project, 'same', [{ path: 'x', chunks: [chunk], mode: 0o2644 }]);
  expect(again.status).toBe(201);
  expect(again.body).toEqual({ version: first.body.version, created: false });

  const keyed = await commit(server, project, 'keyed', files, { idempotencyKey: 'commit-key-0001' });
  expect(keyed.body.created).toBe(true);
  const other = randomChunk();
  await uploadChunks(server, [other]);
  // The same key with a different manifest is still the retry of the first request.
  const retried = await commit(server, project, 'keyed', [{ path: 'y', chunks: [other] }], { idempotencyKey: 'commit-key-0001' });
  expect(retried.body).toEqual({ version: keyed.body.version, created: false });
  const versions = await server.request('GET', `/api/projects/${project}/datasets/keyed/versions`);
  expect(versions.body.versions).toHaveLength(1);
});

test('bad frames reject the whole upload and store nothing', async () => {
  const good = randomChunk();
  const other = textChunk('other');
  const cases: [string, Buffer, RegExp][] = [
    [
      'hash mismatch',
      Buffer.concat([frame(good), frame(other, 1, { hash: Buffer.alloc(32, 7) })]),
      /chunk 1 \(0707.*does not match its sha256/
    ],
    ['wrong length', Buffer.concat([frame(good), frame(other, 1, { rawSize: 49_999 })]), /chunk 1 .*decompress/],
    ['raw length', frame(good, 0, { rawSize: 19_999 }), /chunk 0 .*raw payload has 20000 bytes/],
    ['too long', frame(good, 0, { rawSize: 2 * 1024 * 1024 }), /chunk 0 .*exceeds the limit of 1048576/],
    [
      'bad codec',
      (() => {
        const bytes = frame(good);
        bytes[32] = 9;
        return bytes;
      })(),
      /chunk 0 .*unknown codec 9/
    ],
    ['truncated payload', frame(good).subarray(0, 1000), /chunk 0 .*truncated payload/],
    ['truncated header', Buffer.concat([frame(good), Buffer.alloc(10)]), /chunk 1 .*truncated frame header/],
    [
      'not zstd',
      (() => {
        const bytes = frame(good, 0);
        bytes[32] = 1;
        return bytes;
      })(),
      /chunk 0 .*zstd/
    ]
  ];
  const packsBefore = packFiles(server.dataDir).length;
  for (const [name, body, message] of cases) {
    const response = await postChunks(server, body);
    expect([name, response.status, response.body.error.code]).toEqual([name, 400, 'invalid_request']);
    expect(response.body.error.message).toMatch(message);
    expect(response.body.error.message).toMatch(/nothing from this upload was stored/);
  }
  expect(await missingChunks(server, [good, other])).toEqual([good.hash, other.hash]);
  expect(packFiles(server.dataDir)).toHaveLength(packsBefore);
  expect(tempPackFiles(server.dataDir)).toEqual([]);
});

test('an upload with no body, or an empty one, is a 400 saying the body is missing', async () => {
  for (const body of [undefined, Buffer.alloc(0)]) {
    const response = await postChunks(server, body);
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.message).toMatch(/The upload has no body: send one or more chunks/);
    expect(response.body.error.details).toEqual([{ path: 'body', message: 'missing: no chunks were sent' }]);
  }
});

test('an upload over 64 MiB is refused with 413', async () => {
  const response = await postChunks(server, Buffer.alloc(64 * 1024 * 1024 + 1));
  expect(response.status).toBe(413);
  expect(response.body.error.message).toMatch(/smaller batches/);
});

test('a commit naming chunks the server lacks is a 409 listing them; nothing is created', async () => {
  const project = newProject();
  const present = randomChunk();
  const absent = [randomChunk(), randomChunk()];
  await uploadChunks(server, [present]);
  const response = await commit(server, project, 'partial', [
    { path: 'a', chunks: [present, absent[0]] },
    { path: 'b', chunks: [absent[1]] }
  ]);
  expectErrorBody(response, 409, 'conflict');
  expect(response.body.error.message).toMatch(/2 chunk\(s\) .* not on the server; upload them first/);
  expect(response.body.error.details).toEqual([
    { path: 'body.files.0.chunks.1', message: `chunk ${absent[0].hash} is not on the server` },
    { path: 'body.files.1.chunks.0', message: `chunk ${absent[1].hash} is not on the server` }
  ]);
  expectErrorBody(await server.request('GET', `/api/projects/${project}/datasets`), 404, 'not_found');
  expect((await server.request('GET', `/api/projects?name=${project}`)).body.projects).toEqual([]);
});

test('manifests with unsafe or duplicate paths, or sizes that do not add up, are rejected with 400', async () => {
  const project = newProject();
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  for (const unsafe of ['../x', '/etc/passwd', 'a/../../b', 'C:/x', 'a\\b', 'a//b']) {
    const response = await commit(server, project, 'paths', [{ path: unsafe, chunks: [chunk] }]);
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details[0].path).toBe('body.files.0.path');
  }
  const duplicate = await commit(server, project, 'paths', [
    { path: 'x', chunks: [chunk] },
    { path: 'x', chunks: [chunk] }
  ]);
  expectErrorBody(duplicate, 400, 'invalid_request');
  expect(duplicate.body.error.details[0]).toEqual({ path: 'body.files.1.path', message: '"x" is listed twice (also at files.0)' });
  const badSize = await server.request('POST', `/api/projects/${project}/datasets/paths/versions`, {
    json: { files: [{ ...manifestFile({ path: 'x', chunks: [chunk] }), size: 5 }] }
  });
  expectErrorBody(badSize, 400, 'invalid_request');
  expect(badSize.body.error.details[0]).toEqual({ path: 'body.files.0.size', message: 'is 5 but the chunks add up to 20000 bytes' });
  const badName = await commit(server, project, 'no@at', [{ path: 'x', chunks: [chunk] }]);
  expectErrorBody(badName, 400, 'invalid_request');
});

test('a manifest holding a file inside another file (`a` and `a/b`) is rejected with 400 naming both', async () => {
  const project = newProject();
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  // The nested paths come first and last: order in the request must not matter. `a!x` and `ab`
  // sort between `a` and `a/b` and are fine, as is `b/a` (a folder named like nothing listed).
  const response = await commit(server, project, 'nested', [
    { path: 'a/b/c.csv', chunks: [chunk] },
    { path: 'a!x', chunks: [chunk] },
    { path: 'ab', chunks: [chunk] },
    { path: 'b/a', chunks: [chunk] },
    { path: 'a', chunks: [chunk] },
    { path: 'a/b', chunks: [chunk] }
  ]);
  expectErrorBody(response, 400, 'invalid_request');
  expect(response.body.error.details).toEqual([
    {
      path: 'body.files.0.path',
      message:
        '"a/b/c.csv" is inside "a", which is listed as a file too (files.4); a path cannot be both a file and a folder: rename or drop one of them'
    },
    {
      path: 'body.files.5.path',
      message:
        '"a/b" is inside "a", which is listed as a file too (files.4); a path cannot be both a file and a folder: rename or drop one of them'
    }
  ]);
  expect(response.body.error.message).toMatch(/^Invalid manifest: body\.files\.0\.path "a\/b\/c\.csv" is inside "a"/);
  expectErrorBody(await server.request('GET', `/api/projects/${project}/datasets/nested`), 404, 'not_found');
  // Without the file `a`, the same folders are fine.
  const fine = await commit(server, project, 'nested', [
    { path: 'a/b/c.csv', chunks: [chunk] },
    { path: 'a!x', chunks: [chunk] },
    { path: 'ab', chunks: [chunk] },
    { path: 'b/a', chunks: [chunk] }
  ]);
  expect(fine.status).toBe(201);
  expect(fine.body.version.fileCount).toBe(4);
});

test('a 100,000-file manifest with files inside another is rejected within the test timeout', async () => {
  const project = newProject();
  const chunk = chunkOf(Buffer.from('tiny'));
  await uploadChunks(server, [chunk]);
  const files = Array.from({ length: 100_000 }, (_, i) => ({ path: `d${i % 100}/e${i % 1000}/f${i}.bin`, chunks: [chunk] }));
  files.push({ path: 'd7/e7', chunks: [chunk] });
  const started = Date.now();
  const response = await commit(server, project, 'many', files);
  expectErrorBody(response, 400, 'invalid_request');
  expect(response.body.error.details).toHaveLength(100);
  expect(response.body.error.details[0]).toEqual({
    path: 'body.files.7.path',
    message:
      '"d7/e7/f7.bin" is inside "d7/e7", which is listed as a file too (files.100000); a path cannot be both a file and a folder: rename or drop one of them'
  });
  // Checking a file's folders costs its path length, not the manifest's size: comparing files
  // pairwise (10^10 pairs here) would run far past the test's timeout.
  process.stdout.write(`100k-file manifest with conflicts rejected in ${Date.now() - started} ms\n`);
});

test('chunk sizes that disagree with the stored chunks are rejected with 400 naming the field; nothing is created', async () => {
  const project = newProject();
  const thirteen = chunkOf(Buffer.from('thirteen byte'));
  const other = randomChunk(1_000);
  const absent = randomChunk(500);
  await uploadChunks(server, [thirteen, other]);
  const post = (files: unknown[]) => server.request('POST', `/api/projects/${project}/datasets/sizes/versions`, { json: { files } });
  // A 13-byte chunk claimed as 3 bytes, in a file whose size adds up to the claim: the version
  // would report 3 bytes for a 13-byte file.
  const claimed = await post([
    manifestFile({ path: 'good.bin', chunks: [other] }),
    {
      path: 'short.txt',
      size: 1_003,
      mode: 0o644,
      chunks: [
        [other.hash, 1_000],
        [thirteen.hash, 3]
      ]
    },
    // A chunk the server lacks cannot be checked yet; the wrong size is answered first.
    manifestFile({ path: 'later.bin', chunks: [absent] })
  ]);
  expectErrorBody(claimed, 400, 'invalid_request');
  expect(claimed.body.error.details).toEqual([
    {
      path: 'body.files.1.chunks.1.1',
      message: `gives chunk ${thirteen.hash} 3 bytes, but it has 13 (its uncompressed length, verified on upload)`
    }
  ]);
  expect(claimed.body.error.message).toMatch(
    /^Invalid manifest: 1 chunk size\(s\) disagree with the chunks on the server, e\.g\. body\.files\.1\.chunks\.1\.1 /
  );
  expect(claimed.body.error.message).toMatch(/give each chunk its uncompressed length/);
  // Too large is as wrong as too small, wherever the chunk is used.
  const larger = await post([
    { path: 'x', size: 20, mode: 0o644, chunks: [[thirteen.hash, 20]] },
    { path: 'y', size: 13, mode: 0o644, chunks: [[thirteen.hash, 13]] },
    { path: 'z', size: 0, mode: 0o644, chunks: [[thirteen.hash, 0]] }
  ]);
  expectErrorBody(larger, 400, 'invalid_request');
  expect(larger.body.error.details.map((detail: { path: string }) => detail.path)).toEqual([
    'body.files.0.chunks.0.1',
    'body.files.2.chunks.0.1'
  ]);
  expectErrorBody(await server.request('GET', `/api/projects/${project}/datasets/sizes`), 404, 'not_found');
  expect((await server.request('GET', `/api/projects?name=${project}`)).body.projects).toEqual([]);

  // The true sizes commit, and the version reports the true bytes.
  const right = await commit(server, project, 'sizes', [{ path: 'short.txt', chunks: [other, thirteen] }]);
  expect(right.status).toBe(201);
  expect(right.body.version.size).toBe(1_013);
});

test('concurrent commits of different manifests become versions 1..10, none lost', async () => {
  const project = newProject();
  const chunks = Array.from({ length: 10 }, () => randomChunk(5_000));
  await uploadChunks(server, chunks);
  const responses = await Promise.all(chunks.map((chunk, i) => commit(server, project, 'race', [{ path: `file-${i}`, chunks: [chunk] }])));
  expect(responses.map((response) => response.status)).toEqual(Array(10).fill(201));
  expect(responses.map((response) => response.body.version.number).sort((x: number, y: number) => x - y)).toEqual([
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10
  ]);
  const versions = await server.request('GET', `/api/projects/${project}/datasets/race/versions`);
  expect(versions.body.versions.map((version: { number: number }) => version.number)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  // Each version holds exactly the file its commit sent.
  for (const response of responses) {
    const { number } = response.body.version;
    const manifest = await server.request('GET', `/api/projects/${project}/datasets/race/versions/${number}/manifest`);
    expect(manifest.body.files).toHaveLength(1);
    expect(manifest.body.version.hash).toBe(response.body.version.hash);
  }
});

test('committing inside a run makes the version its output; the run must exist in the same project', async () => {
  const project = newProject();
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  const run = (await server.request('POST', '/api/runs', { json: { project } })).body;
  const committed = await commit(server, project, 'clean', [{ path: 'x', chunks: [chunk] }], { runId: run.id });
  expect(committed.status).toBe(201);
  expect(committed.body.version.producedByRunId).toBe(run.id);
  const after = (await server.request('GET', `/api/runs/${run.id}`)).body;
  expect(after.outputs).toEqual([{ kind: 'dataset', name: 'clean@v1', digest: committed.body.version.hash }]);

  const unknown = await commit(server, project, 'clean', [{ path: 'y', chunks: [chunk] }], { runId: 'no-such-run' });
  expectErrorBody(unknown, 404, 'not_found');
  const elsewhere = (await server.request('POST', '/api/runs', { json: { project: newProject() } })).body;
  const wrongProject = await commit(server, project, 'clean', [{ path: 'y', chunks: [chunk] }], { runId: elsewhere.id });
  expectErrorBody(wrongProject, 400, 'invalid_request');
  expect(wrongProject.body.error.message).toMatch(/commit the dataset in the run's project/);
});

test('a commit is announced to the project room', async () => {
  const project = newProject();
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  const first = await commit(server, project, 'live', [{ path: 'x', chunks: [chunk] }]);
  const socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'] });
  try {
    await socket.emitWithAck('project:join', { projectId: first.body.version.projectId });
    const received = new Promise<{ version: { number: number } }>((resolve) => socket.once('dataset:committed', resolve));
    const other = randomChunk();
    await uploadChunks(server, [other]);
    const second = await commit(server, project, 'live', [{ path: 'x', chunks: [other] }]);
    expect((await received).version).toEqual(second.body.version);
  } finally {
    socket.close();
  }
});

test('deleting a version: gone, its number never given again, out of provenance, announced; runner tokens may not', async () => {
  const project = newProject();
  const [a, b, c] = [textChunk('del a'), textChunk('del b'), textChunk('del c')];
  await uploadChunks(server, [a, b, c]);
  const v1 = (await commit(server, project, 'table', [{ path: 'x', chunks: [a] }])).body.version;
  const v2 = (await commit(server, project, 'table', [{ path: 'x', chunks: [b] }])).body.version;
  const run = (await server.request('POST', '/api/runs', { json: { project } })).body;
  await server.request('POST', `/api/runs/${run.id}/log`, {
    json: { idempotencyKey: `k-${Date.now()}`, inputs: [{ kind: 'dataset', name: 'table@v2' }] }
  });
  const provenance = async () =>
    (await server.request('GET', `/api/provenance?node=run:${run.id}&direction=upstream`)).body.nodes.map(
      (node: { label: string }) => node.label
    );
  expect(await provenance()).toContain('table@v2');

  const runner = (await server.request('POST', '/api/tokens', { json: { name: `runner-${project}`, scope: 'runner' } })).body.secret;
  const base = `/api/projects/${project}/datasets/table`;
  expectErrorBody(await server.request('DELETE', `${base}/versions/v2`, { token: runner }), 403, 'forbidden');
  expectErrorBody(await server.request('DELETE', `${base}/versions/v9`), 404, 'not_found');

  const socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'] });
  try {
    await socket.emitWithAck('project:join', { projectId: v1.projectId });
    const announced = new Promise((resolve) => socket.once('dataset:deleted', resolve));
    expect((await server.request('DELETE', `${base}/versions/v2`)).status).toBe(204);
    expect(await announced).toEqual({ projectId: v1.projectId, datasetName: 'table', number: 2 });
  } finally {
    socket.close();
  }
  expectErrorBody(await server.request('GET', `${base}/versions/v2`), 404, 'not_found');
  expect((await server.request('GET', `${base}/versions/latest`)).body.id).toBe(v1.id);
  expect((await server.request('GET', base)).body).toMatchObject({ versionCount: 1, latest: { number: 1 } });
  expect(await provenance()).not.toContain('table@v2');
  // The run keeps its record of what it read.
  expect((await server.request('GET', `/api/runs/${run.id}`)).body.inputs.map((io: { name: string }) => io.name)).toEqual(['table@v2']);
  // Content equal to the deleted version is a new version, numbered after it.
  const again = await commit(server, project, 'table', [{ path: 'x', chunks: [b] }]);
  expect(again.body.version).toMatchObject({ number: 3, hash: v2.hash });
  expect((await commit(server, project, 'table', [{ path: 'x', chunks: [c] }])).body.version.number).toBe(4);

  // The whole dataset: gone from the list; its name starts again at v1.
  expect((await server.request('DELETE', base)).status).toBe(204);
  expectErrorBody(await server.request('GET', base), 404, 'not_found');
  expect((await server.request('GET', `/api/projects/${project}/datasets`)).body.datasets).toEqual([]);
  expect((await commit(server, project, 'table', [{ path: 'x', chunks: [a] }])).body.version.number).toBe(1);
});

test('every dataset route needs a token', async () => {
  const routes: [string, string][] = [
    ['POST', '/api/chunks/missing'],
    ['POST', '/api/chunks'],
    ['POST', '/api/chunks/fetch'],
    ['GET', '/api/projects/p/datasets'],
    ['GET', '/api/projects/p/datasets/d'],
    ['GET', '/api/projects/p/datasets/d/versions'],
    ['POST', '/api/projects/p/datasets/d/versions'],
    ['GET', '/api/projects/p/datasets/d/versions/v1'],
    ['GET', '/api/projects/p/datasets/d/versions/v1/manifest'],
    ['GET', '/api/projects/p/datasets/d/diff?from=1&to=2'],
    ['DELETE', '/api/projects/p/datasets/d/versions/v1'],
    ['DELETE', '/api/projects/p/datasets/d'],
    ['GET', '/api/provenance?node=run:x']
  ];
  for (const [method, url] of routes) {
    const response = await server.request(method, url, { token: null, json: method === 'POST' ? { hashes: [] } : undefined });
    expect([method, url, response.status]).toEqual([method, url, 401]);
  }
});

test('every dataset route answers 404 naming the project when the project does not exist', async () => {
  const project = newProject();
  const base = `/api/projects/${project}/datasets`;
  const routes: [string, string][] = [
    ['GET', base],
    ['GET', `${base}/one`],
    ['GET', `${base}/one/versions`],
    ['GET', `${base}/one/versions/v1`],
    ['GET', `${base}/one/versions/latest/manifest`],
    ['GET', `${base}/one/diff?from=1&to=2`],
    ['DELETE', `${base}/one/versions/v1`],
    ['DELETE', `${base}/one`]
  ];
  for (const [method, url] of routes) {
    const response = await server.request(method, url);
    expectErrorBody(response, 404, 'not_found');
    expect([method, url, response.body.error.message]).toEqual([
      method,
      url,
      `Project ${project} not found: check its name (a project is made by its first run or dataset commit)`
    ]);
  }
  // Nothing above created it.
  expect((await server.request('GET', `/api/projects?name=${project}`)).body.projects).toEqual([]);
  // Once it exists, a project without datasets has an empty list.
  expect((await server.request('POST', '/api/runs', { json: { project } })).status).toBe(201);
  expect((await server.request('GET', base)).body).toEqual({ datasets: [] });
});

test('unknown datasets, versions and chunks are 404s', async () => {
  const project = newProject();
  const chunk = randomChunk();
  await uploadChunks(server, [chunk]);
  await commit(server, project, 'one', [{ path: 'x', chunks: [chunk] }]);
  const unknown = await server.request('GET', `/api/projects/${project}/datasets/none`);
  expectErrorBody(unknown, 404, 'not_found');
  expect(unknown.body.error.message).toBe(`Dataset ${project}/none not found`);
  expectErrorBody(await server.request('GET', `/api/projects/${project}/datasets/one/versions/v2`), 404, 'not_found');
  expectErrorBody(await server.request('GET', `/api/projects/${project}/datasets/one/versions/v0`), 400, 'invalid_request');
  const missing = await fetchChunks(server, [chunk.hash, 'ab'.repeat(32)]);
  expect(missing.status).toBe(404);
  expect(missing.body.error.message).toMatch(/1 requested chunk\(s\) are not on the server/);
});

test('a 10,000-file version and a 15,000-chunk file round-trip through the manifest', async () => {
  const project = newProject();
  const pool = Array.from({ length: 300 }, (_, i) => chunkOf(Buffer.from(`chunk ${i} `.repeat(50))));
  await uploadChunks(server, pool);
  const files = Array.from({ length: 10_000 }, (_, i) => ({
    path: `shard-${String(i).padStart(5, '0')}/part.csv`,
    chunks: [pool[i % 300], pool[(i * 7) % 300]]
  }));
  files.push({ path: 'huge.bin', chunks: Array.from({ length: 15_000 }, (_, i) => pool[i % 300]) });
  const started = Date.now();
  const committed = await commit(server, project, 'wide', files);
  expect(committed.status).toBe(201);
  const manifest = await server.request('GET', `/api/projects/${project}/datasets/wide/versions/latest/manifest`);
  expect(manifest.status).toBe(200);
  expect(manifest.body.files).toHaveLength(10_001);
  expect(manifest.body.files[10_000].path).toBe('shard-09999/part.csv');
  const huge = manifest.body.files.find((file: { path: string }) => file.path === 'huge.bin');
  expect(huge.chunks).toHaveLength(15_000);
  expect(huge.chunks[14_999]).toEqual([pool[14_999 % 300].hash, pool[14_999 % 300].data.length]);
  const unchanged = await commit(server, project, 'wide', [...files].reverse());
  expect(unchanged.body.created).toBe(false);
  // A figure for the reader, not a gate (budgets are measured by bench/).
  process.stdout.write(`10k-file commit + manifest + unchanged re-commit: ${Date.now() - started} ms\n`);
});

describe('with its own data directory', () => {
  let root: string;
  let own: TestServer;
  beforeEach(async () => {
    root = makeTempDir();
    own = await startServer({ dataDir: path.join(root, 'data') });
  });
  afterEach(async () => {
    await own.stop();
    removeDir(root);
  });

  test('an interrupted upload leaves nothing visible; a retry stores the chunks', async () => {
    const chunks = [randomChunk(100_000), randomChunk(100_000)];
    const body = Buffer.concat(chunks.map((chunk) => frame(chunk, 0)));
    await new Promise<void>((resolve) => {
      const request = http.request(`${own.url}/api/chunks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${own.adminToken}`, 'content-type': 'application/octet-stream', 'content-length': body.length }
      });
      request.on('error', () => resolve());
      request.write(body.subarray(0, 150_000), () => {
        // Give the server time to receive the bytes, then die mid-body.
        setTimeout(() => {
          request.destroy();
          resolve();
        }, 100);
      });
    });
    expect(await missingChunks(own, chunks)).toEqual(chunks.map((chunk) => chunk.hash));
    expect(packFiles(own.dataDir)).toEqual([]);
    // An interrupted upload is an ordinary event, not a server error.
    expect(own.logs.filter((line) => line.level === 50 || line.msg === 'unhandled error')).toEqual([]);

    // A server killed while writing a pack leaves a temp file: the next start removes it.
    fs.mkdirSync(path.join(own.dataDir, 'chunks', 'tmp'), { recursive: true });
    fs.writeFileSync(path.join(own.dataDir, 'chunks', 'tmp', 'half-written.pack'), body.subarray(0, 1000));
    await own.stop();
    own = await startServer({ dataDir: own.dataDir });
    expect(tempPackFiles(own.dataDir)).toEqual([]);
    expect(await missingChunks(own, chunks)).toEqual(chunks.map((chunk) => chunk.hash));

    const retry = await postChunks(own, body);
    expect(retry.body).toEqual({ stored: 2, alreadyPresent: 0, storedBytes: 200_000 });
    expect(await missingChunks(own, chunks)).toEqual([]);
  });
});
