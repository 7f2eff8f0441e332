/**
 * `runlab-server gc` for datasets: file contents no version lists any more (after deletions), chunks
 * no remaining content names, pack files left holding no chunk, and packs mostly unused
 * rewritten with only the chunks still in use.
 *
 * It runs under the database write lock, like the blob gc; a commit checks that its chunks are
 * present inside its own write transaction, so it never loses one between that check and its
 * version. Chunks in packs younger than an hour are kept: they may belong to an upload whose
 * commit has not arrived yet.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/database';
import { chunkProblem, PackReader, type ChunkPacks } from './chunks';
import { packedChunkKeys } from './manifest';

/** Packs younger than this may hold an upload in progress (its commit still to come). */
export const PACK_MIN_AGE_MS = 60 * 60 * 1000;
/** A pack whose live chunks fill less than this share of it is rewritten with only those. */
export const REPACK_BELOW_LIVE_SHARE = 0.5;

export interface ChunkGcReport {
  removedContents: number;
  removedChunks: number;
  removedPacks: { name: string; size: number }[];
  bytesFreed: number;
  /** Unreferenced chunks kept because their pack is younger than PACK_MIN_AGE_MS. */
  keptYoungChunks: number;
}

export function collectChunkGarbage(db: Database, packs: ChunkPacks, now = Date.now()): ChunkGcReport {
  const report: ChunkGcReport = {
    removedContents: 0,
    removedChunks: 0,
    removedPacks: [],
    bytesFreed: 0,
    keptYoungChunks: 0
  };
  const oldEnough = new Map<string, boolean>();
  const isOld = (pack: string): boolean => {
    let old = oldEnough.get(pack);
    if (old === undefined) {
      try {
        old = now - fs.statSync(packs.pathOf(pack)).mtimeMs >= PACK_MIN_AGE_MS;
      } catch {
        old = true; // already gone: its index rows are stale
      }
      oldEnough.set(pack, old);
    }
    return old;
  };
  const emptied: string[] = [];
  db.transaction(() => {
    report.removedContents = db
      .prepare('DELETE FROM dataset_file_contents WHERE hash NOT IN (SELECT content_hash FROM dataset_files)')
      .run().changes;
    const live = new Set<string>();
    for (const packed of db.prepare('SELECT chunks FROM dataset_file_contents').pluck().iterate() as Iterable<Buffer>) {
      for (const [key] of packedChunkKeys(packed)) live.add(key);
    }
    const rows = db.prepare('SELECT hash, pack FROM chunks').all() as { hash: Buffer; pack: string }[];
    const drop = db.prepare('DELETE FROM chunks WHERE hash = ?');
    for (const row of rows) {
      if (live.has(row.hash.toString('latin1'))) continue;
      if (!isOld(row.pack)) {
        report.keptYoungChunks++;
        continue;
      }
      drop.run(row.hash);
      report.removedChunks++;
    }
    const used = new Set(db.prepare('SELECT DISTINCT pack FROM chunks').pluck().all() as string[]);
    for (const pack of packs.names()) if (!used.has(pack) && isOld(pack)) emptied.push(pack);
  }).immediate();
  // Nothing indexes these packs any more: removing them after the transaction is safe.
  for (const pack of emptied) {
    const file = packs.pathOf(pack);
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    fs.rmSync(file, { force: true });
    report.removedPacks.push({ name: pack, size });
    report.bytesFreed += size;
  }
  return report;
}

export interface RepackReport {
  repacked: { from: string; to: string; liveBytes: number; freed: number }[];
  /** Packs with unused bytes left as they are: mostly live, or holding a chunk that fails its check. */
  skipped: { pack: string; why: string }[];
  bytesFreed: number;
  /** Rewritten packs removed from the trash (kept an hour for reads already under way). */
  trashRemoved: number;
}

/**
 * Rewrites packs that are mostly unused chunks (after `collectChunkGarbage`) with only their live
 * chunks, each verified on the way. The index moves to the new pack in one transaction; the old
 * pack goes to the trash, where a read that looked its chunks up earlier still finds them, and is
 * removed by a gc an hour later.
 */
export async function repackSparsePacks(db: Database, packs: ChunkPacks, now = Date.now()): Promise<RepackReport> {
  const report: RepackReport = { repacked: [], skipped: [], bytesFreed: 0, trashRemoved: 0 };
  const live = db.prepare('SELECT pack, SUM(stored_size) AS bytes FROM chunks GROUP BY pack').all() as { pack: string; bytes: number }[];
  const chunksOf = db.prepare('SELECT hash, offset, stored_size, raw_size, codec FROM chunks WHERE pack = ? ORDER BY offset');
  const move = db.prepare('UPDATE chunks SET pack = ?, offset = ? WHERE hash = ? AND pack = ?');
  for (const { pack, bytes } of live) {
    const stat = fs.statSync(packs.pathOf(pack), { throwIfNoEntry: false });
    if (!stat || now - stat.mtimeMs < PACK_MIN_AGE_MS || bytes >= stat.size * REPACK_BELOW_LIVE_SHARE) continue;
    const rows = chunksOf.all(pack) as { hash: Buffer; offset: number; stored_size: number; raw_size: number; codec: number }[];
    const reader = new PackReader(packs);
    let payloads: Buffer[];
    try {
      payloads = rows.map((row) => reader.read(pack, row.offset, row.stored_size));
    } finally {
      reader.close();
    }
    const bad = rows.findIndex((row, i) => chunkProblem(row.hash, row.codec, row.raw_size, payloads[i]) !== null);
    if (bad >= 0) {
      report.skipped.push({ pack, why: `chunk ${rows[bad].hash.toString('hex')} fails its check; run \`runlab-server fsck\`` });
      continue;
    }
    const written = await packs.write(payloads);
    db.transaction(() => rows.forEach((row, i) => move.run(written.pack, written.offsets[i], row.hash, pack))).immediate();
    await fs.promises.mkdir(packs.trashDir, { recursive: true, mode: 0o700 });
    const trashed = packs.trashPathOf(pack);
    await fs.promises.rename(packs.pathOf(pack), trashed);
    await fs.promises.utimes(trashed, new Date(now), new Date(now)); // the hour counts from now
    const newSize = payloads.reduce((sum, payload) => sum + payload.length, 0);
    report.repacked.push({ from: pack, to: written.pack, liveBytes: newSize, freed: stat.size - newSize });
    report.bytesFreed += stat.size - newSize;
  }
  if (fs.existsSync(packs.trashDir)) {
    for (const name of fs.readdirSync(packs.trashDir)) {
      const file = path.join(packs.trashDir, name);
      if (now - fs.statSync(file).mtimeMs < PACK_MIN_AGE_MS) continue;
      fs.rmSync(file, { force: true });
      report.trashRemoved++;
    }
  }
  return report;
}
