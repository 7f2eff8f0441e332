/**
 * `runlab-server gc`: removes blobs nothing references and temp files left by interrupted uploads.
 * It runs while holding the database write lock, so an upload that records a new reference
 * (and renames its blob into place inside that same transaction) is never interleaved with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/database';
import { referencedBlobs } from './references';
import type { BlobStore } from './store';

/** Temp files younger than this may belong to an upload in progress. */
export const TEMP_FILE_MAX_AGE_MS = 60 * 60 * 1000;

export interface GcReport {
  removedBlobs: { digest: string; size: number }[];
  removedTempFiles: { name: string; size: number }[];
  bytesFreed: number;
}

export function collectGarbage(db: Database, blobs: BlobStore, now = Date.now()): GcReport {
  const report: GcReport = { removedBlobs: [], removedTempFiles: [], bytesFreed: 0 };
  db.transaction(() => {
    const referenced = referencedBlobs(db);
    for (const digest of blobs.digests()) {
      if (referenced.has(digest)) continue;
      const size = blobs.removeSync(digest);
      report.removedBlobs.push({ digest, size });
      report.bytesFreed += size;
    }
  }).immediate();
  if (fs.existsSync(blobs.tempDir)) {
    for (const name of fs.readdirSync(blobs.tempDir)) {
      const file = path.join(blobs.tempDir, name);
      const stat = fs.statSync(file);
      if (now - stat.mtimeMs < TEMP_FILE_MAX_AGE_MS) continue;
      fs.rmSync(file, { force: true });
      report.removedTempFiles.push({ name, size: stat.size });
      report.bytesFreed += stat.size;
    }
  }
  return report;
}
