import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, Project, ServerToClientEvents } from '../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

let server: TestServer;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
const received: { event: string; payload: unknown }[] = [];

beforeAll(async () => {
  server = await startServer();
  socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', resolve);
    socket.on('connect_error', reject);
  });
  for (const event of ['project:created', 'project:updated', 'project:deleted'] as const) {
    socket.on(event, (payload: unknown) => received.push({ event, payload }));
  }
});
afterAll(async () => {
  socket.disconnect();
  await server.destroy();
});

/** Waits until the socket has received an event matching the predicate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- event payloads of any kind; each test checks the one it waits for
function waitForEvent(event: string, matches: (payload: any) => boolean): Promise<any> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const found = received.find((entry) => entry.event === event && matches(entry.payload));
      if (found) resolve(found.payload);
      return Boolean(found);
    };
    if (!check()) {
      socket.onAny(function listener() {
        if (check()) socket.offAny(listener);
      });
    }
  });
}

const git = (args: string[], cwd?: string): string => execFileSync('git', args, { cwd, encoding: 'utf8' });

test('create, get, list, find by name, rename, delete — each announced on the socket', async () => {
  const created = await server.request('POST', '/api/projects', { json: { name: 'iris', description: 'Flower classifier' } });
  expect(created.status).toBe(201);
  const project: Project = created.body;
  expect(project).toMatchObject({ name: 'iris', description: 'Flower classifier' });
  expect(project.headCommit).toMatch(/^[0-9a-f]{40}$/);
  expect(await waitForEvent('project:created', (payload) => payload.id === project.id)).toEqual(project);

  expect((await server.request('GET', `/api/projects/${project.id}`)).body).toEqual(project);
  const list = await server.request('GET', '/api/projects');
  expect(list.body.projects).toContainEqual(project);
  const byName = await server.request('GET', '/api/projects?name=iris');
  expect(byName.body.projects).toEqual([project]);
  expect((await server.request('GET', '/api/projects?name=nope')).body.projects).toEqual([]);

  const renamed = await server.request('PATCH', `/api/projects/${project.id}`, { json: { name: 'iris-v2' } });
  expect(renamed.status).toBe(200);
  expect(renamed.body).toMatchObject({ id: project.id, name: 'iris-v2', description: 'Flower classifier', headCommit: project.headCommit });
  expect(await waitForEvent('project:updated', (payload) => payload.name === 'iris-v2')).toEqual(renamed.body);
  // The repository is keyed by id, so a rename leaves it where it was.
  expect(fs.existsSync(path.join(server.dataDir, 'projects', `${project.id}.git`))).toBe(true);

  const deleted = await server.request('DELETE', `/api/projects/${project.id}`);
  expect(deleted.status).toBe(204);
  expect(await waitForEvent('project:deleted', (payload) => payload.id === project.id)).toEqual({ id: project.id });
  expectErrorBody(await server.request('GET', `/api/projects/${project.id}`), 404, 'not_found');
  expect(fs.existsSync(path.join(server.dataDir, 'projects', `${project.id}.git`))).toBe(false);
  expectErrorBody(await server.request('DELETE', `/api/projects/${project.id}`), 404, 'not_found');
  expectErrorBody(await server.request('PATCH', `/api/projects/${project.id}`, { json: { name: 'x' } }), 404, 'not_found');
});

test('duplicate names are 409 on create and on rename, leaving nothing behind', async () => {
  const first = await server.request('POST', '/api/projects', { json: { name: 'dup' } });
  const second = await server.request('POST', '/api/projects', { json: { name: 'other' } });
  expect(first.status).toBe(201);
  expect(second.status).toBe(201);
  const reposBefore = fs.readdirSync(path.join(server.dataDir, 'projects')).sort();

  expectErrorBody(await server.request('POST', '/api/projects', { json: { name: 'dup' } }), 409, 'conflict');
  expect(fs.readdirSync(path.join(server.dataDir, 'projects')).sort()).toEqual(reposBefore);

  const rename = await server.request('PATCH', `/api/projects/${second.body.id}`, { json: { name: 'dup' } });
  expectErrorBody(rename, 409, 'conflict');
  expect((await server.request('GET', `/api/projects/${second.body.id}`)).body.name).toBe('other');
});

test('when the database insert fails, the new repository is removed', async () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- replaces a private store method to make the insert fail
  const store = (server.app.projects as any).store;
  const original = store.insert;
  store.insert = () => {
    throw Object.assign(new Error('UNIQUE constraint failed: projects.name'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
  };
  const reposBefore = fs.readdirSync(path.join(server.dataDir, 'projects')).sort();
  try {
    expectErrorBody(await server.request('POST', '/api/projects', { json: { name: 'raced' } }), 409, 'conflict');
  } finally {
    store.insert = original;
  }
  expect(fs.readdirSync(path.join(server.dataDir, 'projects')).sort()).toEqual(reposBefore);
  expect(fs.readdirSync(path.join(server.dataDir, 'projects', '.staging'))).toEqual([]);
});

test('the project repository is a bare repo real git can clone, log and fsck', async () => {
  const created = await server.request('POST', '/api/projects', { json: { name: 'gitcheck', description: 'Checked by git' } });
  const repo = path.join(server.dataDir, 'projects', `${created.body.id}.git`);
  expect(git(['rev-parse', '--is-bare-repository'], repo).trim()).toBe('true');
  expect(git(['rev-parse', 'refs/heads/main'], repo).trim()).toBe(created.body.headCommit);
  git(['fsck', '--strict', '--full'], repo);

  const work = makeTempDir('runlab-clone-');
  try {
    git(['clone', '--quiet', repo, path.join(work, 'clone')]);
    const clone = path.join(work, 'clone');
    expect(fs.readFileSync(path.join(clone, 'README.md'), 'utf8')).toBe('# gitcheck\n\nChecked by git\n');
    const log = git(['log', '--format=%H %an <%ae> %s'], clone).trim().split('\n');
    expect(log).toEqual([`${created.body.headCommit} Runlab <runlab@localhost> Create project gitcheck`]);
    expect(git(['rev-parse', '--abbrev-ref', 'HEAD'], clone).trim()).toBe('main');
    git(['fsck', '--strict', '--full'], clone);
  } finally {
    removeDir(work);
  }
});
