/**
 * Content-addressed blob store on the local file system: `<dataDir>/blobs/ab/cdef…` named by
 * the sha256 of the content. A blob is streamed to a temp file, fsynced and renamed into place,
 * so a blob that exists is always complete and durable; equal content is stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../http/errors';

const DIGEST = /^[0-9a-f]{64}$/;

/** A blob written to a temp file, not yet visible under its digest. */
export interface StagedBlob {
  digest: string;
  size: number;
  tempFile: string;
}

export class BlobStore {
  /** Temp files live inside the store so the final rename never crosses file systems. */
  readonly tempDir: string;

  constructor(readonly root: string) {
    this.tempDir = path.join(root, 'tmp');
  }

  pathOf(digest: string): string {
    if (!DIGEST.test(digest)) throw new Error(`Not a sha256 digest: ${JSON.stringify(digest)}`);
    return path.join(this.root, digest.slice(0, 2), digest.slice(2));
  }

  /**
   * Streams `source` to a temp file while hashing it, then fsyncs it. More than `maxBytes` is
   * a 413, with the temp file removed. Call commit() to make the blob visible.
   */
  async stage(source: Readable, maxBytes: number): Promise<StagedBlob> {
    await fs.promises.mkdir(this.tempDir, { recursive: true, mode: 0o700 });
    const tempFile = path.join(this.tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new AppError('payload_too_large', `Upload exceeds the limit of ${maxBytes} bytes (RUNLAB_MAX_ARTIFACT_BYTES)`));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      }
    });
    try {
      // flush: the file is fsynced before it is closed, so it is durable when pipeline resolves.
      await pipeline(source, meter, fs.createWriteStream(tempFile, { mode: 0o600, flush: true }));
    } catch (error) {
      await fs.promises.rm(tempFile, { force: true });
      throw error;
    }
    return { digest: hash.digest('hex'), size, tempFile };
  }

  /**
   * Moves a staged blob into place (replacing an identical copy is harmless) and fsyncs the
   * directory so the rename itself survives a crash. Synchronous on purpose: callers run it
   * inside the database transaction that records the reference, so a concurrent `runlab-server gc`
   * (which holds the write lock while it deletes) can never remove a blob between the two.
   */
  commitSync(staged: StagedBlob): void {
    const target = this.pathOf(staged.digest);
    const dir = path.dirname(target);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.renameSync(staged.tempFile, target);
    const handle = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(handle);
    } finally {
      fs.closeSync(handle);
    }
  }

  async discard(staged: StagedBlob): Promise<void> {
    await fs.promises.rm(staged.tempFile, { force: true });
  }

  exists(digest: string): boolean {
    return fs.existsSync(this.pathOf(digest));
  }

  open(digest: string): fs.ReadStream {
    return fs.createReadStream(this.pathOf(digest));
  }

  /** Removes a blob; returns its size in bytes, or 0 when it was not there. */
  removeSync(digest: string): number {
    const file = this.pathOf(digest);
    try {
      const { size } = fs.statSync(file);
      fs.rmSync(file);
      return size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  }

  /** Every stored digest (walks the two-level directory). */
  *digests(): Generator<string> {
    if (!fs.existsSync(this.root)) return;
    for (const prefix of fs.readdirSync(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const rest of fs.readdirSync(path.join(this.root, prefix))) {
        const digest = prefix + rest;
        if (DIGEST.test(digest)) yield digest;
      }
    }
  }
}
