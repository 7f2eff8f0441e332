/**
 * Dataset chunks on the wire and on disk. The wire framing (see the contract) is parsed and
 * every chunk verified here — decompressed into a buffer of its declared size and hashed — so
 * upload, fetch and fsck share one definition of "a good chunk".
 *
 * On disk, the new chunks of one upload go into one immutable pack file, payloads back to back
 * exactly as sent (zstd frames stay compressed; raw chunks stay raw: the client only sends raw
 * when compressing did not pay, so the server does not try again). A pack is written to
 * `chunks/tmp`, fsynced, renamed into `chunks/packs` and the directory fsynced; only the index
 * rows inserted afterwards make its chunks present.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DCtx } from 'zstd-napi/binding';
import { CHUNK_FRAME_HEADER_BYTES, ChunkCodec, MAX_CHUNK_BYTES } from '../contract';
import { AppError } from '../http/errors';

/** One framed chunk; `payload` is a view into the request (or pack) buffer. */
export interface ChunkFrame {
  /** 32-byte sha256 of the uncompressed bytes. */
  hash: Buffer;
  codec: number;
  rawSize: number;
  payload: Buffer;
}

let decompressor: DCtx | undefined;
/**
 * Where chunks are decompressed to be hashed: one buffer reused (verification is synchronous),
 * not one allocation per chunk, which left a gigabyte upload ~15% slower and busy collecting.
 */
let scratch: Buffer | undefined;

/**
 * Why a chunk's stored bytes are not the chunk they claim to be, or null when they are.
 * Decompression writes into a buffer of exactly `rawSize` bytes, so a frame that expands to
 * more (a zstd bomb) fails instead of allocating.
 */
export function chunkProblem(hash: Buffer, codec: number, rawSize: number, payload: Buffer): string | null {
  if (rawSize > MAX_CHUNK_BYTES) return `uncompressed length ${rawSize} exceeds the limit of ${MAX_CHUNK_BYTES} bytes`;
  let raw: Buffer;
  if (codec === ChunkCodec.raw) {
    if (payload.length !== rawSize) return `raw payload has ${payload.length} bytes, the header says ${rawSize}`;
    raw = payload;
  } else if (codec === ChunkCodec.zstd) {
    scratch ??= Buffer.allocUnsafe(MAX_CHUNK_BYTES);
    raw = scratch.subarray(0, rawSize);
    let written: number;
    try {
      decompressor ??= new DCtx();
      written = decompressor.decompress(raw, payload);
    } catch (error) {
      return `zstd payload does not decompress to ${rawSize} bytes (${(error as Error).message})`;
    }
    if (written !== rawSize) return `zstd payload decompresses to ${written} bytes, the header says ${rawSize}`;
  } else {
    return `unknown codec ${codec} (0 = raw, 1 = zstd)`;
  }
  if (!createHash('sha256').update(raw).digest().equals(hash)) return 'content does not match its sha256';
  return null;
}

/**
 * Verifying 16 MB of chunks takes ~70 ms here; the event loop gets a turn after about this many
 * bytes, so other requests (the UI's) are not held up behind a big upload.
 */
const VERIFY_SLICE_BYTES = 1 << 20;

/** Parses an upload body into frames, verifying each; any bad frame rejects the whole body (400). */
export async function parseChunkUpload(body: Buffer): Promise<ChunkFrame[]> {
  const frames: ChunkFrame[] = [];
  let offset = 0;
  let sinceTurn = 0;
  while (offset < body.length) {
    if (sinceTurn >= VERIFY_SLICE_BYTES) {
      await new Promise((resolve) => setImmediate(resolve));
      sinceTurn = 0;
    }
    const index = frames.length;
    const reject = (problem: string, hash?: Buffer): never => {
      const named = hash ? `chunk ${index} (${hash.toString('hex')})` : `chunk ${index}`;
      const message = `${named} at byte ${offset}: ${problem}; nothing from this upload was stored`;
      throw new AppError('invalid_request', message, [{ path: `body[${index}]`, message }]);
    };
    if (body.length - offset < CHUNK_FRAME_HEADER_BYTES) reject(`truncated frame header (${body.length - offset} bytes left)`);
    const hash = body.subarray(offset, offset + 32);
    const codec = body[offset + 32];
    const rawSize = body.readUInt32BE(offset + 33);
    const payloadSize = body.readUInt32BE(offset + 37);
    const start = offset + CHUNK_FRAME_HEADER_BYTES;
    if (start + payloadSize > body.length) {
      reject(`truncated payload (${payloadSize} bytes announced, ${body.length - start} present)`, hash);
    }
    const payload = body.subarray(start, start + payloadSize);
    const problem = chunkProblem(hash, codec, rawSize, payload);
    if (problem) reject(problem, hash);
    frames.push({ hash, codec, rawSize, payload });
    offset = start + payloadSize;
    sinceTurn += rawSize;
  }
  return frames;
}

/** The 41-byte frame header of a chunk. */
export function frameHeader(hash: Buffer, codec: number, rawSize: number, payloadSize: number): Buffer {
  const header = Buffer.allocUnsafe(CHUNK_FRAME_HEADER_BYTES);
  hash.copy(header, 0);
  header[32] = codec;
  header.writeUInt32BE(rawSize, 33);
  header.writeUInt32BE(payloadSize, 37);
  return header;
}

/** Reads the whole request body, refusing more than `limit` bytes (413). */
export async function readBody(request: NodeJS.ReadableStream & { headers?: Record<string, unknown> }, limit: number): Promise<Buffer> {
  const tooLarge = (): AppError =>
    new AppError('payload_too_large', `A chunk upload may carry at most ${limit} bytes; send the chunks in smaller batches`);
  const declared = Number(request.headers?.['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of request as AsyncIterable<Buffer>) {
      size += part.length;
      if (size > limit) throw tooLarge();
      parts.push(part);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    // The client went away mid-body: an operational event, and nothing was written.
    throw new AppError('invalid_request', `The upload ended before its last byte (${(error as Error).message}); nothing was stored`);
  }
  return Buffer.concat(parts, size);
}

/** Pack files: immutable files of chunk payloads, named at random. */
export class ChunkPacks {
  readonly packsDir: string;
  /** Inside the store, so the final rename never crosses file systems. */
  readonly tempDir: string;

  /** Packs `runlab-server gc` rewrote, kept a while for reads that looked their chunks up before. */
  readonly trashDir: string;

  constructor(readonly root: string) {
    this.packsDir = path.join(root, 'packs');
    this.tempDir = path.join(root, 'tmp');
    this.trashDir = path.join(root, 'trash');
  }

  pathOf(pack: string): string {
    return path.join(this.packsDir, checkedPackName(pack));
  }

  trashPathOf(pack: string): string {
    return path.join(this.trashDir, checkedPackName(pack));
  }

  /** The pack files on disk. */
  names(): string[] {
    if (!fs.existsSync(this.packsDir)) return [];
    return fs.readdirSync(this.packsDir).filter((name) => name.endsWith('.pack'));
  }

  /**
   * Removes packs left half-written by a server that stopped mid-upload. Only at start-up:
   * then no upload of this server can be in flight.
   */
  sweepTemp(): string[] {
    if (!fs.existsSync(this.tempDir)) return [];
    const removed = fs.readdirSync(this.tempDir);
    for (const name of removed) fs.rmSync(path.join(this.tempDir, name), { force: true });
    return removed;
  }

  /**
   * Writes payloads into a new pack and makes it durable; returns its name and each payload's
   * offset. A failure removes the temp file. The pack holds nothing visible until its chunks'
   * index rows are inserted.
   */
  async write(payloads: readonly Buffer[]): Promise<{ pack: string; offsets: number[] }> {
    await fs.promises.mkdir(this.tempDir, { recursive: true, mode: 0o700 });
    await fs.promises.mkdir(this.packsDir, { recursive: true, mode: 0o700 });
    const pack = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.pack`;
    const tempFile = path.join(this.tempDir, pack);
    const offsets: number[] = [];
    let offset = 0;
    for (const payload of payloads) {
      offsets.push(offset);
      offset += payload.length;
    }
    try {
      const handle = await fs.promises.open(tempFile, 'wx', 0o600);
      try {
        // writev takes at most IOV_MAX (1024) buffers per call on Linux.
        for (let i = 0; i < payloads.length; i += 1024) {
          const batch = payloads.slice(i, i + 1024);
          const { bytesWritten } = await handle.writev(batch);
          const expected = batch.reduce((sum, payload) => sum + payload.length, 0);
          // A short write (a disk filling up) is continued: the next write reports why (ENOSPC).
          let rest = bytesWritten < expected ? Buffer.concat(batch).subarray(bytesWritten) : Buffer.alloc(0);
          while (rest.length > 0) {
            const { bytesWritten: more } = await handle.write(rest);
            rest = rest.subarray(more);
          }
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(tempFile, this.pathOf(pack));
    } catch (error) {
      await fs.promises.rm(tempFile, { force: true });
      throw error;
    }
    await syncDir(this.packsDir);
    return { pack, offsets };
  }

  /** Removes a pack none of whose chunks were indexed (a lost race, a failed insert). */
  async discard(pack: string): Promise<void> {
    await fs.promises.rm(this.pathOf(pack), { force: true });
  }
}

function checkedPackName(pack: string): string {
  if (!/^[0-9a-z-]+\.pack$/.test(pack)) throw new Error(`Not a pack name: ${JSON.stringify(pack)}`);
  return pack;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Reads stored payloads, keeping each pack open for the reader's life; close() when done.
 * Missing packs and short reads throw with the pack named.
 */
export class PackReader {
  private readonly handles = new Map<string, number>();

  constructor(private readonly packs: ChunkPacks) {}

  read(pack: string, offset: number, size: number): Buffer {
    let fd = this.handles.get(pack);
    if (fd === undefined) {
      fd = this.open(pack);
      this.handles.set(pack, fd);
    }
    const buffer = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const read = fs.readSync(fd, buffer, done, size - done, offset + done);
      if (read === 0) throw new Error(`pack ${pack} ends before byte ${offset + size}`);
      done += read;
    }
    return buffer;
  }

  close(): void {
    for (const fd of this.handles.values()) fs.closeSync(fd);
    this.handles.clear();
  }

  /** A pack `runlab-server gc` rewrote since its chunks were looked up is read from the trash. */
  private open(pack: string): number {
    try {
      return fs.openSync(this.packs.pathOf(pack), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      try {
        return fs.openSync(this.packs.trashPathOf(pack), 'r');
      } catch {
        throw error;
      }
    }
  }
}
