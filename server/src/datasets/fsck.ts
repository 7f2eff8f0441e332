/**
 * `runlab-server fsck` for datasets: reads every stored chunk back (decompress, length, sha256), checks
 * every pack the index names exists, and that every chunk a version's files name is indexed;
 * then names the dataset versions a bad or missing chunk affects. It also checks the sizes a
 * version's manifest gives (each chunk's, each file's, the version's) against the stored chunks.
 *
 * `--repair` drops the bad chunks from the index, so they count as missing: a client committing
 * the same content uploads them again (which heals the versions using them), and reads answer
 * "not on the server, commit again" instead of failing on the same bad bytes every time.
 */
import fs from 'node:fs';
import type { Database } from '../db/database';
import { chunkProblem, type ChunkPacks } from './chunks';
import { comparePaths, packedChunkKeys, versionRef } from './manifest';

export interface FsckProgress {
  packsChecked: number;
  packsTotal: number;
  chunksChecked: number;
  chunksTotal: number;
  bytesChecked: number;
  bytesTotal: number;
}

export interface FsckReport extends FsckProgress {
  /** Uncompressed bytes of the chunks checked. */
  rawBytesChecked: number;
  versionsChecked: number;
  /** Indexed chunks whose stored bytes are wrong or gone. */
  corrupt: { hash: string; pack: string; problem: string }[];
  /** Packs the index names that are not on disk. */
  missingPacks: string[];
  /** Chunks named by dataset files that the index does not hold. */
  missingChunks: string[];
  /** `project/name@vN` of every version with a corrupt or missing chunk, sorted. */
  affectedVersions: string[];
  /** Their ids, in the same order. */
  affectedVersionIds: string[];
  /**
   * Files (path null: the version as a whole) whose manifest sizes disagree with the stored
   * chunks, sorted by version then path. Not repairable by re-uploading: the chunks are fine,
   * the version's record of them is not.
   */
  wrongSizes: WrongSize[];
}

export interface WrongSize {
  /** `project/name@vN` */
  version: string;
  versionId: string;
  path: string | null;
  problem: string;
}

interface ChunkRow {
  hash: Buffer;
  offset: number;
  stored_size: number;
  raw_size: number;
  codec: number;
}

export function checkDatasetStore(db: Database, packs: ChunkPacks, onProgress: (progress: FsckProgress) => void = () => {}): FsckReport {
  const packRows = db
    .prepare('SELECT pack, COUNT(*) AS chunks, SUM(stored_size) AS bytes FROM chunks GROUP BY pack ORDER BY pack')
    .all() as { pack: string; chunks: number; bytes: number }[];
  const report: FsckReport = {
    packsChecked: 0,
    packsTotal: packRows.length,
    chunksChecked: 0,
    chunksTotal: packRows.reduce((sum, row) => sum + row.chunks, 0),
    bytesChecked: 0,
    bytesTotal: packRows.reduce((sum, row) => sum + row.bytes, 0),
    rawBytesChecked: 0,
    versionsChecked: 0,
    corrupt: [],
    missingPacks: [],
    missingChunks: [],
    affectedVersions: [],
    affectedVersionIds: [],
    wrongSizes: []
  };
  /** Binary digests (latin1 keys) of chunks that cannot be read back correctly. */
  const bad = new Set<string>();
  /** Indexed chunks' uncompressed sizes, by binary digest (latin1 key). */
  const indexed = new Map<string, number>();
  const chunksOfPack = db.prepare('SELECT hash, offset, stored_size, raw_size, codec FROM chunks WHERE pack = ? ORDER BY offset');
  for (const { pack } of packRows) {
    let content: Buffer | undefined;
    let unreadable: string | undefined;
    try {
      content = fs.readFileSync(packs.pathOf(pack));
    } catch (error) {
      unreadable =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'its pack file is missing'
          : `its pack file cannot be read (${(error as Error).message})`;
      report.missingPacks.push(pack);
    }
    for (const row of chunksOfPack.iterate(pack) as Iterable<ChunkRow>) {
      const key = row.hash.toString('latin1');
      indexed.set(key, row.raw_size);
      let problem = unreadable ?? null;
      if (content) {
        problem =
          row.offset + row.stored_size > content.length
            ? `the pack ends at byte ${content.length}, before the chunk's end (${row.offset + row.stored_size})`
            : chunkProblem(row.hash, row.codec, row.raw_size, content.subarray(row.offset, row.offset + row.stored_size));
      }
      if (problem) {
        bad.add(key);
        report.corrupt.push({ hash: row.hash.toString('hex'), pack, problem });
      }
      report.chunksChecked++;
      report.bytesChecked += row.stored_size;
      report.rawBytesChecked += row.raw_size;
    }
    report.packsChecked++;
    onProgress(report);
  }

  // Which file contents name a bad or unindexed chunk, or give sizes the chunks do not have;
  // then which versions hold them.
  const affectedContents: string[] = [];
  const missing = new Set<string>();
  /** Content hash (hex) → what is wrong with its sizes. */
  const wrongContentSizes = new Map<string, string>();
  const contents = db.prepare('SELECT hash, size, chunks FROM dataset_file_contents').raw();
  for (const [hash, size, chunks] of contents.iterate() as Iterable<[Buffer, number, Buffer]>) {
    let affected = false;
    let chunkBytes = 0;
    let wrongChunk: string | undefined;
    let index = 0;
    for (const [key, chunkSize] of packedChunkKeys(chunks)) {
      chunkBytes += chunkSize;
      const stored = indexed.get(key);
      if (stored === undefined) {
        missing.add(key);
        affected = true;
      } else if (bad.has(key)) {
        affected = true;
      }
      if (stored !== undefined && stored !== chunkSize && wrongChunk === undefined) {
        const hex = Buffer.from(key, 'latin1').toString('hex');
        wrongChunk = `its manifest gives chunk ${index} (${hex}) ${chunkSize} bytes, but the stored chunk has ${stored}`;
      }
      index++;
    }
    if (affected) affectedContents.push(hash.toString('hex'));
    const wrongTotal = chunkBytes !== size ? `its manifest gives it ${size} bytes, but its chunks add up to ${chunkBytes}` : undefined;
    const problem = [wrongTotal, wrongChunk].filter(Boolean).join('; ');
    if (problem) wrongContentSizes.set(hash.toString('hex'), problem);
  }
  report.missingChunks = [...missing].map((key) => Buffer.from(key, 'latin1').toString('hex')).sort();
  report.versionsChecked = (db.prepare('SELECT COUNT(*) AS n FROM dataset_versions').get() as { n: number }).n;
  if (affectedContents.length > 0) {
    const rows = db
      .prepare(
        `SELECT DISTINCT v.id, p.name AS project, d.name AS dataset, v.number
         FROM dataset_files f JOIN dataset_versions v ON v.id = f.version_id
         JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id
         WHERE f.content_hash IN (SELECT unhex(value) FROM json_each(?))
         ORDER BY p.name, d.name, v.number`
      )
      .all(JSON.stringify(affectedContents)) as { id: string; project: string; dataset: string; number: number }[];
    report.affectedVersions = rows.map((row) => versionRef(row.project, row.dataset, row.number));
    report.affectedVersionIds = rows.map((row) => row.id);
  }
  report.wrongSizes = wrongSizes(db, wrongContentSizes);
  return report;
}

/** The files holding these contents, and the versions whose size is not their files' sum. */
function wrongSizes(db: Database, wrongContentSizes: ReadonlyMap<string, string>): WrongSize[] {
  const found: (WrongSize & { row: VersionRow })[] = [];
  const add = (row: VersionRow, path: string | null, problem: string): void => {
    found.push({ version: versionRef(row.project, row.dataset, row.number), versionId: row.id, path, problem, row });
  };
  if (wrongContentSizes.size > 0) {
    const files = db
      .prepare(
        `SELECT v.id, p.name AS project, d.name AS dataset, v.number, f.path, lower(hex(f.content_hash)) AS content
         FROM dataset_files f JOIN dataset_versions v ON v.id = f.version_id
         JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id
         WHERE f.content_hash IN (SELECT unhex(value) FROM json_each(?))`
      )
      .all(JSON.stringify([...wrongContentSizes.keys()])) as (VersionRow & { path: string; content: string })[];
    for (const row of files) add(row, row.path, wrongContentSizes.get(row.content) as string);
  }
  const versions = db
    .prepare(
      `SELECT v.id, p.name AS project, d.name AS dataset, v.number, v.size, COALESCE(SUM(c.size), 0) AS files_size
       FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id
       LEFT JOIN dataset_files f ON f.version_id = v.id LEFT JOIN dataset_file_contents c ON c.hash = f.content_hash
       GROUP BY v.id HAVING v.size != files_size`
    )
    .all() as (VersionRow & { size: number; files_size: number })[];
  for (const row of versions) add(row, null, `the version gives itself ${row.size} bytes, but its files add up to ${row.files_size}`);
  // As affectedVersions are: by project, dataset and number; a version's own problem first.
  const order = (a: (typeof found)[number], b: (typeof found)[number]): number =>
    comparePaths(a.row.project, b.row.project) ||
    comparePaths(a.row.dataset, b.row.dataset) ||
    a.row.number - b.row.number ||
    comparePaths(a.path ?? '', b.path ?? '');
  return found.sort(order).map(({ version, versionId, path, problem }) => ({ version, versionId, path, problem }));
}

interface VersionRow {
  id: string;
  project: string;
  dataset: string;
  number: number;
}

/**
 * Drops the report's corrupt chunks from the index and marks exactly the affected versions
 * damaged (earlier marks that no longer apply are cleared), in one transaction.
 */
export function repairDatasetStore(db: Database, report: FsckReport, at = new Date()): void {
  const drop = db.prepare('DELETE FROM chunks WHERE hash = unhex(?)');
  const mark = db.prepare('INSERT INTO dataset_damaged_versions (version_id, marked_at) VALUES (?, ?)');
  db.transaction(() => {
    for (const chunk of report.corrupt) drop.run(chunk.hash);
    db.prepare('DELETE FROM dataset_damaged_versions').run();
    for (const id of report.affectedVersionIds) mark.run(id, at.toISOString());
  })();
}
