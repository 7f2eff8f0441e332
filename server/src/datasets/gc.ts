/**
 * `runlab gc` for datasets: file contents no version lists any more (after deletions), chunks
 * no remaining content names, and pack files left holding no chunk.
 *
 * It runs under the database write lock, like the blob gc; a commit checks that its chunks are
 * present inside its own write transaction, so it never loses one between that check and its
 * version. Chunks in packs younger than an hour are kept: they may belong to an upload whose
 * commit has not arrived yet.
 */
import fs from 'node:fs';
import type { Database } from '../db/database';
import type { ChunkPacks } from './chunks';
import { packedChunkKeys } from './manifest';

/** Packs younger than this may hold an upload in progress (its commit still to come). */
export const PACK_MIN_AGE_MS = 60 * 60 * 1000;

export interface ChunkGcReport {
  removedContents: number;
  removedChunks: number;
  removedPacks: { name: string; size: number }[];
  bytesFreed: number;
  /** Stored bytes of removed chunks inside packs that still hold live ones (not reclaimed). */
  bytesLeftInSharedPacks: number;
  /** Unreferenced chunks kept because their pack is younger than PACK_MIN_AGE_MS. */
  keptYoungChunks: number;
}

export function collectChunkGarbage(db: Database, packs: ChunkPacks, now = Date.now()): ChunkGcReport {
  const report: ChunkGcReport = {
    removedContents: 0,
    removedChunks: 0,
    removedPacks: [],
    bytesFreed: 0,
    bytesLeftInSharedPacks: 0,
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
    report.removedContents = db.prepare('DELETE FROM dataset_file_contents WHERE hash NOT IN (SELECT content_hash FROM dataset_files)').run().changes;
    const live = new Set<string>();
    for (const packed of db.prepare('SELECT chunks FROM dataset_file_contents').pluck().iterate() as Iterable<Buffer>) {
      for (const [key] of packedChunkKeys(packed)) live.add(key);
    }
    const rows = db.prepare('SELECT hash, pack, stored_size FROM chunks').all() as { hash: Buffer; pack: string; stored_size: number }[];
    const drop = db.prepare('DELETE FROM chunks WHERE hash = ?');
    const droppedBytes = new Map<string, number>();
    for (const row of rows) {
      if (live.has(row.hash.toString('latin1'))) continue;
      if (!isOld(row.pack)) {
        report.keptYoungChunks++;
        continue;
      }
      drop.run(row.hash);
      report.removedChunks++;
      droppedBytes.set(row.pack, (droppedBytes.get(row.pack) ?? 0) + row.stored_size);
    }
    const used = new Set(db.prepare('SELECT DISTINCT pack FROM chunks').pluck().all() as string[]);
    for (const [pack, bytes] of droppedBytes) if (used.has(pack)) report.bytesLeftInSharedPacks += bytes;
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
