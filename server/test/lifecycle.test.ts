import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS } from '../src/db/migrations';
import { makeTempDir, removeDir, startServer } from './helpers';

let root: string;
beforeEach(() => {
  root = makeTempDir();
});
afterEach(() => removeDir(root));

test('server.json names the real port (mode 0600) and is removed on close', async () => {
  const dataDir = path.join(root, 'data');
  const server = await startServer({ dataDir });
  const file = path.join(dataDir, 'server.json');
  const info = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(info).toEqual({ url: server.url, host: '127.0.0.1', port: server.info.port, pid: process.pid, version: server.info.version });
  expect(info.port).toBeGreaterThan(0);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  await server.stop();
  expect(fs.existsSync(file)).toBe(false);
  await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
});

test('restarting on the same data dir keeps data, re-applies no migration and keeps the admin token', async () => {
  const dataDir = path.join(root, 'data');
  const first = await startServer({ dataDir });
  const created = await first.request('POST', '/api/projects', { json: { name: 'survivor' } });
  expect(created.status).toBe(201);
  await first.stop();

  const second = await startServer({ dataDir });
  try {
    expect(second.adminToken).toBe(first.adminToken);
    expect((await second.request('GET', `/api/projects/${created.body.id}`)).body).toEqual(created.body);
  } finally {
    await second.stop();
  }

  const db = new BetterSqlite3(path.join(dataDir, 'runlab.db'), { readonly: true });
  try {
    const applied = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    expect(applied).toEqual(MIGRATIONS.map(({ version }) => ({ version })));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const localAdmins = db.prepare("SELECT COUNT(*) AS n FROM tokens WHERE name = 'local-admin'").get();
    expect(localAdmins).toEqual({ n: 1 });
  } finally {
    db.close();
  }
});

test('revoking the local admin token rotates it on the next start', async () => {
  const dataDir = path.join(root, 'data');
  const first = await startServer({ dataDir });
  const whoami = await first.request('GET', '/api/auth/whoami');
  // The API refuses to revoke the last admin token, so another admin token comes first.
  await first.request('POST', '/api/tokens', { json: { name: 'standby-admin', scope: 'admin' } });
  expect((await first.request('DELETE', `/api/tokens/${whoami.body.tokenId}`)).status).toBe(204);
  await first.stop();
  const second = await startServer({ dataDir });
  try {
    expect(second.adminToken).not.toBe(first.adminToken);
    expect((await second.request('GET', '/api/auth/whoami')).status).toBe(200);
  } finally {
    await second.stop();
  }
});

test('close lets an in-flight request finish before the database closes', async () => {
  const server = await startServer({ dataDir: path.join(root, 'data') });
  const projects = server.app.projects;
  const original = projects.list.bind(projects);
  let release!: () => void;
  let started!: () => void;
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  projects.list = async (filter) => {
    started();
    await new Promise<void>((resolve) => (release = resolve));
    return original(filter);
  };
  const inFlight = server.request('GET', '/api/projects');
  await handlerStarted;
  let closed = false;
  const closing = server.stop().then(() => (closed = true));
  // New connections are refused at once, while the in-flight one is still being served.
  await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
  expect(closed).toBe(false);
  release();
  const response = await inFlight;
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ projects: [] });
  await closing;
  expect(closed).toBe(true);
});

test('a request that never finishes is cut after the shutdown grace, named in a warning, and server.json is still removed', async () => {
  const server = await startServer({ dataDir: path.join(root, 'data') });
  const projects = server.app.projects;
  let started!: () => void;
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  projects.list = () => {
    started();
    return new Promise(() => undefined); // never answers
  };
  const held = server.request('GET', '/api/projects?name=held');
  await handlerStarted;
  await server.stop();
  // The client's connection was cut, not answered.
  await expect(held).rejects.toThrow('fetch failed');
  const warning = server.logs.find((line) => String(line.msg).includes('still unanswered'));
  expect(warning).toMatchObject({ level: 40, requests: ['GET /api/projects'] });
  expect(fs.existsSync(path.join(root, 'data', 'server.json'))).toBe(false);
}, 30_000);
