/** Chunks, frames and manifests as a dataset client builds them, for the dataset tests. */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compress } from 'zstd-napi';
import type { TestServer } from './helpers';

export interface TestChunk {
  hash: string;
  data: Buffer;
}

export const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

export function chunkOf(data: Buffer): TestChunk {
  return { hash: sha256(data).toString('hex'), data };
}

/** Random (incompressible) content. */
export const randomChunk = (size = 20_000): TestChunk => chunkOf(randomBytes(size));

/** Compressible content, different for each seed. */
export const textChunk = (seed: string, size = 50_000): TestChunk =>
  chunkOf(Buffer.from(`${seed} `.repeat(Math.ceil(size / (seed.length + 1))).slice(0, size)));

/** One frame of the upload body: zstd by default, raw on request. */
export function frame(chunk: TestChunk, codec: 0 | 1 = 1, overrides: { rawSize?: number; hash?: Buffer } = {}): Buffer {
  const payload = codec === 1 ? compress(chunk.data) : chunk.data;
  const header = Buffer.alloc(41);
  (overrides.hash ?? Buffer.from(chunk.hash, 'hex')).copy(header, 0);
  header[32] = codec;
  header.writeUInt32BE(overrides.rawSize ?? chunk.data.length, 33);
  header.writeUInt32BE(payload.length, 37);
  return Buffer.concat([header, payload]);
}

export async function postChunks(server: TestServer, body: Buffer | undefined, token: string | null = server.adminToken) {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}/api/chunks`, { method: 'POST', headers, body });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as any };
}

export async function uploadChunks(server: TestServer, chunks: readonly TestChunk[], codec: 0 | 1 = 1) {
  const response = await postChunks(server, Buffer.concat(chunks.map((chunk) => frame(chunk, codec))));
  expect(response.status).toBe(200);
  return response.body as { stored: number; alreadyPresent: number; storedBytes: number };
}

export async function missingChunks(server: TestServer, chunks: readonly TestChunk[]): Promise<string[]> {
  const response = await server.request('POST', '/api/chunks/missing', { json: { hashes: chunks.map((chunk) => chunk.hash) } });
  expect(response.status).toBe(200);
  return response.body.missing;
}

/** Fetches chunks and parses the framed answer. */
export async function fetchChunks(server: TestServer, hashes: readonly string[]) {
  const response = await fetch(`${server.url}/api/chunks/fetch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hashes })
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) return { status: response.status, body: JSON.parse(bytes.toString('utf8')), frames: [] };
  const frames: { hash: string; codec: number; rawSize: number; payload: Buffer }[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const payloadSize = bytes.readUInt32BE(offset + 37);
    frames.push({
      hash: bytes.toString('hex', offset, offset + 32),
      codec: bytes[offset + 32],
      rawSize: bytes.readUInt32BE(offset + 33),
      payload: bytes.subarray(offset + 41, offset + 41 + payloadSize)
    });
    offset += 41 + payloadSize;
  }
  return { status: response.status, body: undefined, frames };
}

export interface TestFile {
  path: string;
  mode?: number;
  chunks: readonly TestChunk[];
}

export const manifestFile = (file: TestFile) => ({
  path: file.path,
  size: file.chunks.reduce((sum, chunk) => sum + chunk.data.length, 0),
  mode: file.mode ?? 0o644,
  chunks: file.chunks.map((chunk) => [chunk.hash, chunk.data.length])
});

export async function commit(
  server: TestServer,
  project: string,
  dataset: string,
  files: readonly TestFile[],
  extra: Record<string, unknown> = {}
) {
  return server.request('POST', `/api/projects/${project}/datasets/${dataset}/versions`, {
    json: { files: files.map(manifestFile), ...extra }
  });
}

/** A file's content hash as the contract defines it: sha256 of its chunks' binary digests. */
export const fileHash = (chunks: readonly TestChunk[]): string =>
  sha256(Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.hash, 'hex')))).toString('hex');

/** Every pack file on disk. */
export function packFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'chunks', 'packs');
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)) : [];
}

export function tempPackFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'chunks', 'tmp');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}
