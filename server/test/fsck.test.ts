/** `runlab-server fsck` (the built CLI, dist/cli.js) against a real server's data directory. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ChunkPacks, PackReader } from '../src/datasets/chunks';
import { checkDatasetStore } from '../src/datasets/fsck';
import { chunkOf, commit, fetchChunks, fileHash, randomChunk, textChunk, uploadChunks } from './dataset-helpers';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
let root: string;
let server: TestServer;

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build -w server\` first`);
});
beforeEach(async () => {
  root = makeTempDir();
  server = await startServer({ dataDir: path.join(root, 'data') });
});
afterEach(async () => {
  await server.stop();
  removeDir(root);
});

function fsck() {
  const result = spawnSync(process.execPath, [CLI, 'fsck', '--data-dir', server.dataDir], { encoding: 'utf8', timeout: 20000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** v1: a.csv + b.bin; v2: a.csv changed, b.bin kept. */
async function twoVersions() {
  const a1 = textChunk('first a');
  const a2 = textChunk('second a');
  const b = randomChunk(40_000);
  await uploadChunks(server, [a1, b]);
  await uploadChunks(server, [a2]);
  await commit(server, 'fsck-test', 'table', [
    { path: 'a.csv', chunks: [a1] },
    { path: 'b.bin', chunks: [b] }
  ]);
  await commit(server, 'fsck-test', 'table', [
    { path: 'a.csv', chunks: [a2] },
    { path: 'b.bin', chunks: [b] }
  ]);
  return { a1, a2, b };
}

function location(hash: string): { pack: string; offset: number; stored_size: number } {
  const db = server.app.db;
  return db.prepare('SELECT pack, offset, stored_size FROM chunks WHERE hash = unhex(?)').get(hash) as {
    pack: string;
    offset: number;
    stored_size: number;
  };
}

const packPath = (pack: string): string => path.join(server.dataDir, 'chunks', 'packs', pack);

test('a clean store passes with its figures', async () => {
  await twoVersions();
  const result = fsck();
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/checked 2\/2 packs, 3\/3 chunks/);
  expect(result.stdout).toMatch(/Checked 3 chunks in 2 packs \(.* stored, 136\.7 KiB uncompressed\) and 2 dataset versions/);
  expect(result.stdout).toMatch(/All good/);
});

test('a flipped byte in a pack: fetch answers 500 data_corrupt and fsck names the chunk and the versions', async () => {
  const { a1, a2, b } = await twoVersions();
  const where = location(b.hash);
  const file = packPath(where.pack);
  const bytes = fs.readFileSync(file);
  bytes[where.offset + 100] ^= 0xff;
  fs.writeFileSync(file, bytes);

  const fetched = await fetchChunks(server, [a1.hash, b.hash]);
  expectErrorBody(
    { ...fetched, headers: new Headers({ 'content-type': 'application/json' }), text: JSON.stringify(fetched.body) },
    500,
    'data_corrupt'
  );
  expect(fetched.body.error.message).toMatch(new RegExp(`chunk ${b.hash} is corrupt .*runlab-server fsck`));
  // The good chunks still come back.
  expect((await fetchChunks(server, [a1.hash, a2.hash])).status).toBe(200);

  const result = fsck();
  expect(result.code).toBe(1);
  expect(result.stdout).toContain(`corrupt chunk ${b.hash} in pack ${where.pack}`);
  expect(result.stdout).toContain('affected dataset version fsck-test/table@v1');
  expect(result.stdout).toContain('affected dataset version fsck-test/table@v2');
  expect(result.stderr).toMatch(
    /1 corrupt and 0 missing chunk\(s\); 2 dataset version\(s\) affected: fsck-test\/table@v1, fsck-test\/table@v2/
  );
});

test('a missing pack makes its chunks corrupt; only the versions using them are named', async () => {
  const { a2 } = await twoVersions();
  const where = location(a2.hash);
  fs.rmSync(packPath(where.pack));
  const result = fsck();
  expect(result.code).toBe(1);
  expect(result.stdout).toContain(`missing pack ${where.pack}`);
  expect(result.stdout).toContain(`corrupt chunk ${a2.hash} in pack ${where.pack}: its pack file is missing`);
  expect(result.stdout).toContain('affected dataset version fsck-test/table@v2');
  expect(result.stdout).not.toContain('table@v1');
  const fetched = await fetchChunks(server, [a2.hash]);
  expect(fetched.status).toBe(500);
  expect(fetched.body.error.code).toBe('data_corrupt');
});

test('fsck --repair drops a corrupt chunk and marks its versions damaged; committing the same files heals them', async () => {
  const { a2, b } = await twoVersions();
  const where = location(b.hash);
  const bytes = fs.readFileSync(packPath(where.pack));
  bytes[where.offset + 10] ^= 0xff;
  fs.writeFileSync(packPath(where.pack), bytes);

  const repaired = spawnSync(process.execPath, [CLI, 'fsck', '--repair', '--data-dir', server.dataDir], {
    encoding: 'utf8',
    timeout: 20000
  });
  expect(repaired.status).toBe(1);
  expect(repaired.stdout).toContain('Repaired the index: dropped 1 corrupt chunk(s); marked 2 version(s) damaged');
  expect(repaired.stderr).toMatch(/marked damaged: commit the same files again/);

  const version = async (ref: string) => (await server.request('GET', `/api/projects/fsck-test/datasets/table/versions/${ref}`)).body;
  expect((await version('v1')).damaged).toBe(true);
  expect((await version('v2')).damaged).toBe(true);
  // The bad bytes are no longer served as "corrupt" on every read: the chunk is gone, and the
  // answer says how to bring it back.
  const fetched = await fetchChunks(server, [b.hash]);
  expect(fetched.status).toBe(404);
  expect(fetched.body.error.message).toMatch(/fsck --repair.*commit the same files again/);

  // Re-committing v2's files: refused until the lost chunk is uploaded, then v2 is whole.
  const v2Files = [
    { path: 'a.csv', chunks: [a2] },
    { path: 'b.bin', chunks: [b] }
  ];
  const refused = await commit(server, 'fsck-test', 'table', v2Files);
  expect(refused.status).toBe(409);
  expect(refused.body.error.details[0].message).toContain(b.hash);
  await uploadChunks(server, [b]);
  const healed = await commit(server, 'fsck-test', 'table', v2Files);
  expect(healed.status).toBe(201); // the route's status for a commit; `created` tells
  expect(healed.body).toMatchObject({ created: false, version: { number: 2, damaged: false } });
  // v1 shared the chunk: it is whole again too, and fsck agrees.
  expect((await version('v1')).damaged).toBe(false);
  expect((await fetchChunks(server, [b.hash])).status).toBe(200);
  const after = fsck();
  expect(after.code).toBe(0);
  expect(after.stdout).toMatch(/All good/);
});

test('fsck reports versions whose manifest sizes disagree with the stored chunks, naming the version and the file', async () => {
  const thirteen = chunkOf(Buffer.from('thirteen byte'));
  const b = randomChunk(40_000);
  const other = randomChunk(1_000);
  await uploadChunks(server, [thirteen, b, other]);
  await commit(server, 'fsck-test', 'table', [
    { path: 'notes/a.txt', chunks: [thirteen] },
    { path: 'b.bin', chunks: [b] }
  ]);
  await commit(server, 'fsck-test', 'table', [
    { path: 'c.bin', chunks: [other] },
    { path: 'b.bin', chunks: [b] }
  ]);
  const packs = new ChunkPacks(path.join(server.dataDir, 'chunks'));
  const db = server.app.db;
  expect(checkDatasetStore(db, packs).wrongSizes).toEqual([]);

  // What a server without the commit-time check accepted: v1 says its 13-byte file has 3 bytes
  // (chunk, file and version sizes all agreeing with each other, not with the chunk).
  const content = db.prepare('SELECT chunks FROM dataset_file_contents WHERE hash = unhex(?)').get(fileHash([thirteen])) as {
    chunks: Buffer;
  };
  const packed = Buffer.from(content.chunks);
  packed.writeUInt32BE(3, 32);
  db.prepare('UPDATE dataset_file_contents SET size = 3, chunks = ? WHERE hash = unhex(?)').run(packed, fileHash([thirteen]));
  const v1 = (db.prepare('SELECT id FROM dataset_versions WHERE number = 1').get() as { id: string }).id;
  db.prepare('UPDATE dataset_versions SET size = size - 10 WHERE id = ?').run(v1);
  // And v2 gives itself a total its files do not add up to.
  const v2 = db.prepare('SELECT id, size FROM dataset_versions WHERE number = 2').get() as { id: string; size: number };
  db.prepare('UPDATE dataset_versions SET size = ? WHERE id = ?').run(v2.size + 1, v2.id);

  const report = checkDatasetStore(db, packs);
  expect(report.wrongSizes).toEqual([
    {
      version: 'fsck-test/table@v1',
      versionId: v1,
      path: 'notes/a.txt',
      problem: `its manifest gives chunk 0 (${thirteen.hash}) 3 bytes, but the stored chunk has 13`
    },
    {
      version: 'fsck-test/table@v2',
      versionId: v2.id,
      path: null,
      problem: `the version gives itself ${v2.size + 1} bytes, but its files add up to ${v2.size}`
    }
  ]);
  // The chunks themselves are fine: nothing to drop, nothing damaged.
  expect(report).toMatchObject({ corrupt: [], missingChunks: [], affectedVersions: [] });
  // The operator's command says so and fails, naming the version and file.
  const cli = fsck();
  expect(cli.code).toBe(1);
  expect(cli.stdout).toContain('wrong sizes in dataset version fsck-test/table@v1 file notes/a.txt');
  expect(cli.stderr).toMatch(/disagree with their chunks.*commit the same files again/s);

  // A file whose size is not its chunks' sum is named in every version holding it.
  db.prepare('UPDATE dataset_versions SET size = size - 1').run();
  db.prepare('UPDATE dataset_file_contents SET size = size - 1 WHERE hash = unhex(?)').run(fileHash([b]));
  const shared = `its manifest gives it 39999 bytes, but its chunks add up to 40000`;
  expect(checkDatasetStore(db, packs).wrongSizes.map(({ version, path, problem }) => [version, path, problem])).toEqual([
    ['fsck-test/table@v1', 'b.bin', shared],
    ['fsck-test/table@v1', 'notes/a.txt', `its manifest gives chunk 0 (${thirteen.hash}) 3 bytes, but the stored chunk has 13`],
    ['fsck-test/table@v2', null, `the version gives itself ${v2.size} bytes, but its files add up to ${v2.size - 1}`],
    ['fsck-test/table@v2', 'b.bin', shared]
  ]);
});

test('runlab-server gc reclaims packs only deleted versions used, keeps young ones, and what remains passes fsck', async () => {
  const [shared, onlyOld, onlyNew, extra] = [randomChunk(50_000), randomChunk(60_000), randomChunk(70_000), randomChunk(80_000)];
  await uploadChunks(server, [shared, onlyOld]);
  await uploadChunks(server, [onlyNew]);
  await uploadChunks(server, [extra]);
  const extraPack = location(extra.hash).pack;
  await commit(server, 'gc-test', 'table', [
    { path: 'a', chunks: [shared, onlyOld] },
    { path: 'b', chunks: [extra] }
  ]);
  await commit(server, 'gc-test', 'table', [{ path: 'a', chunks: [shared, onlyNew] }]);
  expect((await server.request('DELETE', '/api/projects/gc-test/datasets/table/versions/v1')).status).toBe(204);
  const gc = () => spawnSync(process.execPath, [CLI, 'gc', '--data-dir', server.dataDir], { encoding: 'utf8', timeout: 20000 });

  // Packs written in the last hour may belong to a commit still to come: kept.
  const young = gc();
  expect(young.status).toBe(0);
  expect(young.stdout).toMatch(/0 dataset chunk\(s\) no version uses and 0 chunk pack\(s\)/);
  expect(young.stdout).toContain('Kept 2 unused chunk(s) uploaded within the last hour');

  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const pack of fs.readdirSync(path.join(server.dataDir, 'chunks', 'packs'))) fs.utimesSync(packPath(pack), twoHoursAgo, twoHoursAgo);
  const extraPackSize = fs.statSync(packPath(extraPack)).size;
  const before = location(shared.hash);
  const sharedPackSize = fs.statSync(packPath(before.pack)).size;
  const old = gc();
  expect(old.status).toBe(0);
  expect(old.stdout).toContain(`removed chunk pack ${extraPack} (${extraPackSize} bytes)`);
  expect(old.stdout).toMatch(/2 dataset chunk\(s\) no version uses and 1 chunk pack\(s\); rewrote 1 chunk pack\(s\)/);
  expect(fs.existsSync(packPath(extraPack))).toBe(false);
  // onlyOld shared a pack with a chunk v2 still uses, and was most of it: the pack is rewritten
  // with only the live chunk. The old one waits in the trash, where a read that looked the chunk
  // up before the move still finds it.
  const after = location(shared.hash);
  expect(after.pack).not.toBe(before.pack);
  expect(old.stdout).toContain(
    `rewrote chunk pack ${before.pack} as ${after.pack}: kept ${after.stored_size} bytes in use, freed ${sharedPackSize - after.stored_size}`
  );
  const stale = new PackReader(new ChunkPacks(path.join(server.dataDir, 'chunks')));
  try {
    expect(stale.read(before.pack, before.offset, before.stored_size)).toEqual(
      fs.readFileSync(packPath(after.pack)).subarray(after.offset, after.offset + after.stored_size)
    );
  } finally {
    stale.close();
  }
  expect(
    (await server.request('POST', '/api/chunks/missing', { json: { hashes: [shared, onlyOld, onlyNew, extra].map((c) => c.hash) } })).body
      .missing
  ).toEqual([onlyOld.hash, extra.hash]);
  expect((await fetchChunks(server, [shared.hash, onlyNew.hash])).status).toBe(200);
  expect(fsck().code).toBe(0);

  // An hour on, the trash goes.
  const trash = path.join(server.dataDir, 'chunks', 'trash');
  expect(fs.readdirSync(trash)).toEqual([before.pack]);
  fs.utimesSync(path.join(trash, before.pack), twoHoursAgo, twoHoursAgo);
  expect(gc().status).toBe(0);
  expect(fs.readdirSync(trash)).toEqual([]);
});
