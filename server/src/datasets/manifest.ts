/**
 * Manifests: content hashes of files and versions, the packed form of a file's chunk list, and
 * what changed between two versions. Pure functions, no storage.
 */
import { createHash } from 'node:crypto';
import type { ChunkRef, DatasetDiffFile, DatasetDiffSummary } from '../contract';

/** How a version is named across projects: `project/name@v3`. */
export const versionRef = (project: string, dataset: string, number: number): string => `${project}/${dataset}@v${number}`;

/** Bytes per chunk in a packed chunk list: 32-byte sha256, then the uncompressed size (uint32 BE). */
const PACKED_CHUNK_BYTES = 36;

/** A file's content hash: sha256 of its chunks' binary digests concatenated in order. */
export function fileContentHash(packed: Buffer): Buffer {
  const hash = createHash('sha256');
  for (let at = 0; at < packed.length; at += PACKED_CHUNK_BYTES) hash.update(packed.subarray(at, at + 32));
  return hash.digest();
}

export function packChunks(chunks: readonly ChunkRef[]): Buffer {
  const packed = Buffer.allocUnsafe(chunks.length * PACKED_CHUNK_BYTES);
  for (let i = 0; i < chunks.length; i++) {
    const at = i * PACKED_CHUNK_BYTES;
    packed.write(chunks[i][0], at, 32, 'hex');
    packed.writeUInt32BE(chunks[i][1], at + 32);
  }
  return packed;
}

export function unpackChunks(packed: Buffer): ChunkRef[] {
  const chunks: ChunkRef[] = new Array(packed.length / PACKED_CHUNK_BYTES);
  for (let i = 0; i < chunks.length; i++) {
    const at = i * PACKED_CHUNK_BYTES;
    chunks[i] = [packed.toString('hex', at, at + 32), packed.readUInt32BE(at + 32)];
  }
  return chunks;
}

/** Each chunk's binary digest (as a latin1 string key, cheap to put in a Set) and size. */
export function* packedChunkKeys(packed: Buffer): Generator<[string, number]> {
  for (let at = 0; at < packed.length; at += PACKED_CHUNK_BYTES) {
    yield [packed.toString('latin1', at, at + 32), packed.readUInt32BE(at + 32)];
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Compares paths by their UTF-8 bytes (code point order), as SQLite and Python sort them. */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals code point order unless a surrogate pair is involved.
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The shortest folder of `path` that `files` also lists as a file (`a` for `a/b/c`), if any: a
 * manifest holding both can never be written out. One lookup per `/`, so checking a whole
 * manifest costs its total path length, however many files it has.
 */
export function enclosingFile(path: string, files: ReadonlyMap<string, unknown>): string | undefined {
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    const folder = path.slice(0, slash);
    if (files.has(folder)) return folder;
  }
  return undefined;
}

export interface ManifestLine {
  path: string;
  mode: number;
  size: number;
  /** Hex content hash. */
  hash: string;
}

/**
 * A version's hash: sha256 of `path\tmode\tsize\thash\n` lines sorted by path, mode & 0o777 in
 * decimal. `lines` must already be sorted with comparePaths.
 */
export function versionHash(lines: readonly ManifestLine[]): string {
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line.path}\t${line.mode & 0o777}\t${line.size}\t${line.hash}\n`);
  return hash.digest('hex');
}

/** A file as a diff sees it: its content hash (hex) and size. */
export interface DiffEntry {
  hash: string;
  size: number;
}

export interface ManifestDiff {
  summary: Omit<DatasetDiffSummary, 'newChunkBytes'>;
  added: DatasetDiffFile[];
  removed: DatasetDiffFile[];
  changed: DatasetDiffFile[];
}

/**
 * Files added, removed and changed from `from` to `to` (by path; a mode-only change counts as
 * unchanged content), each list sorted by path. newChunkBytes is the caller's: it needs chunks.
 */
export function diffManifests(from: ReadonlyMap<string, DiffEntry>, to: ReadonlyMap<string, DiffEntry>): ManifestDiff {
  const summary = { added: 0, removed: 0, changed: 0, unchanged: 0, bytesAdded: 0, bytesRemoved: 0, bytesChanged: 0 };
  const added: DatasetDiffFile[] = [];
  const removed: DatasetDiffFile[] = [];
  const changed: DatasetDiffFile[] = [];
  for (const [path, entry] of to) {
    const before = from.get(path);
    if (!before) {
      summary.added++;
      summary.bytesAdded += entry.size;
      added.push({ path, fromSize: null, toSize: entry.size });
    } else if (before.hash !== entry.hash) {
      summary.changed++;
      summary.bytesChanged += entry.size;
      changed.push({ path, fromSize: before.size, toSize: entry.size });
    } else {
      summary.unchanged++;
    }
  }
  for (const [path, entry] of from) {
    if (to.has(path)) continue;
    summary.removed++;
    summary.bytesRemoved += entry.size;
    removed.push({ path, fromSize: entry.size, toSize: null });
  }
  const byPath = (a: DatasetDiffFile, b: DatasetDiffFile): number => comparePaths(a.path, b.path);
  return { summary, added: added.sort(byPath), removed: removed.sort(byPath), changed: changed.sort(byPath) };
}
