/** Starts the real app on an ephemeral port with a temporary data directory and SQLite file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type RunlabApp, type ServerInfo } from '../src/app';
import { loadConfig, type Config } from '../src/config';
import { ensureDataDir } from '../src/data-dir';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';

export function makeTempDir(prefix = 'runlab-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestServer {
  app: RunlabApp;
  info: ServerInfo;
  url: string;
  dataDir: string;
  adminToken: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  request(method: string, urlPath: string, options?: RequestOptions): Promise<TestResponse>;
  stop(): Promise<void>;
  /** stop() and remove the temporary directory the helper created. */
  destroy(): Promise<void>;
}

export interface RequestOptions {
  token?: string | null;
  json?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function startServer(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<TestServer> {
  const ownedDir = options.dataDir ? undefined : makeTempDir();
  const dataDir = options.dataDir ?? path.join(ownedDir as string, 'data');
  const config: Config = loadConfig({ RUNLAB_PORT: '0', RUNLAB_DATA_DIR: dataDir, RUNLAB_LOG_LEVEL: 'info', ...options.env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      callback();
    }
  });
  const layout = ensureDataDir(dataDir);
  const app = createApp({ config, db: openDatabase(layout.databaseFile), logger: createLogger(config.logLevel, sink) });
  const info = await app.listen();
  const adminToken = fs.readFileSync(layout.adminTokenFile, 'utf8').trim();

  const request = async (method: string, urlPath: string, requestOptions: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...requestOptions.headers };
    const token = requestOptions.token === undefined ? adminToken : requestOptions.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (requestOptions.json !== undefined) {
      body = JSON.stringify(requestOptions.json);
      headers['content-type'] ??= 'application/json';
    } else if (requestOptions.rawBody !== undefined) {
      body = requestOptions.rawBody;
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(info.url + urlPath, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };

  return {
    app,
    info,
    url: info.url,
    dataDir,
    adminToken,
    logs,
    request,
    stop: () => app.close(),
    destroy: async () => {
      await app.close();
      if (ownedDir) removeDir(ownedDir);
    }
  };
}

/** The error body every failure must have, and never a stack trace. */
export function expectErrorBody(response: TestResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  expect(response.body).toEqual({
    error: expect.objectContaining({ code, message: expect.any(String) })
  });
  expect(Object.keys(response.body.error).every((key) => ['code', 'message', 'details'].includes(key))).toBe(true);
  expect(response.text).not.toMatch(/\bat .+\.(js|ts):\d+/);
  expect(response.text).not.toMatch(/node_modules|Error:/);
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The server package's version, as package.json states it (what the server and CLI must report). */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}
