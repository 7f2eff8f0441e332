import fs from 'node:fs';
import path from 'node:path';
import { expectErrorBody, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { RUNLAB_MAX_BODY_BYTES: '2048' } });
});
afterAll(() => server.destroy());

/** Nothing half-written: no project row and no repository (nor staging leftovers) on disk. */
function expectNothingWritten(): void {
  expect(server.app.projects).toBeDefined();
  const projectsDir = path.join(server.dataDir, 'projects');
  const entries = fs.existsSync(projectsDir) ? fs.readdirSync(projectsDir).filter((name) => name !== '.staging') : [];
  expect(entries).toEqual([]);
  const staging = path.join(projectsDir, '.staging');
  expect(fs.existsSync(staging) ? fs.readdirSync(staging) : []).toEqual([]);
}

async function projectCount(): Promise<number> {
  return (await server.request('GET', '/api/projects')).body.projects.length;
}

test('malformed JSON is 400 invalid_json', async () => {
  const response = await server.request('POST', '/api/projects', { rawBody: '{"name": "iris",' });
  expectErrorBody(response, 400, 'invalid_json');
  expect(await projectCount()).toBe(0);
  expectNothingWritten();
});

test('wrong types are 400 invalid_request naming the field', async () => {
  const response = await server.request('POST', '/api/projects', { json: { name: 42, description: ['x'] } });
  expectErrorBody(response, 400, 'invalid_request');
  expect(response.body.error.details).toEqual(
    expect.arrayContaining([
      { path: 'body.name', message: expect.stringMatching(/expected string/) },
      { path: 'body.description', message: expect.stringMatching(/expected string/) }
    ])
  );
  expect(await projectCount()).toBe(0);
  expectNothingWritten();
});

test('unknown fields are 400 with the field path', async () => {
  const response = await server.request('POST', '/api/projects', { json: { name: 'iris', owner: 'me' } });
  expectErrorBody(response, 400, 'invalid_request');
  expect(response.body.error.details).toEqual([{ path: 'body.owner', message: expect.any(String) }]);
  expect(await projectCount()).toBe(0);
  expectNothingWritten();
});

test('a name breaking the contract rules is rejected', async () => {
  const response = await server.request('POST', '/api/projects', { json: { name: '../escape' } });
  expectErrorBody(response, 400, 'invalid_request');
  expect(response.body.error.details[0].path).toBe('body.name');
  expectNothingWritten();
});

test('a non-object JSON body and a missing body are rejected', async () => {
  expectErrorBody(await server.request('POST', '/api/projects', { rawBody: '"iris"' }), 400, 'invalid_json');
  const array = await server.request('POST', '/api/projects', { json: [1] });
  expectErrorBody(array, 400, 'invalid_request');
  expect(array.body.error.details[0].path).toBe('body');
  const missing = await server.request('POST', '/api/projects', { rawBody: 'name=iris', headers: { 'content-type': 'text/plain' } });
  expectErrorBody(missing, 400, 'invalid_request');
  expectNothingWritten();
});

test('a body over RUNLAB_MAX_BODY_BYTES is 413', async () => {
  const response = await server.request('POST', '/api/projects', {
    json: { name: 'big', description: 'x'.repeat(4096) }
  });
  expectErrorBody(response, 413, 'payload_too_large');
  expect(await projectCount()).toBe(0);
  expectNothingWritten();
});

test('unknown query parameters and PATCH fields are rejected too', async () => {
  const query = await server.request('GET', '/api/projects?owner=me');
  expectErrorBody(query, 400, 'invalid_request');
  expect(query.body.error.details).toEqual([{ path: 'query.owner', message: expect.any(String) }]);

  const created = await server.request('POST', '/api/projects', { json: { name: 'patch-me' } });
  expect(created.status).toBe(201);
  const patch = await server.request('PATCH', `/api/projects/${created.body.id}`, { json: { name: 'new', headCommit: 'x' } });
  expectErrorBody(patch, 400, 'invalid_request');
  expect(patch.body.error.details).toEqual([{ path: 'body.headCommit', message: expect.any(String) }]);
  const unchanged = await server.request('GET', `/api/projects/${created.body.id}`);
  expect(unchanged.body.name).toBe('patch-me');
  expect((await server.request('DELETE', `/api/projects/${created.body.id}`)).status).toBe(204);
});

test('unknown routes are JSON 404s', async () => {
  const response = await server.request('GET', '/api/nothing-here');
  expectErrorBody(response, 404, 'not_found');
  expectErrorBody(await server.request('GET', '/not-api', { token: null }), 404, 'not_found');
});

test('a method a known path does not take is a JSON 405 listing the methods it does take', async () => {
  const projects = await server.request('PUT', '/api/projects', { json: { name: 'nope' } });
  expectErrorBody(projects, 405, 'method_not_allowed');
  expect(projects.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
  expect(await projectCount()).toBe(0);

  // A path with parameters answers 405 whether or not the object exists, and before any auth.
  const put = await server.request('PUT', '/api/runs/no-such-run', { token: null });
  expectErrorBody(put, 405, 'method_not_allowed');
  expect(put.headers.get('allow')).toBe('GET, HEAD, PATCH, DELETE, OPTIONS');
  expect(put.body.error.message).toContain('PUT');

  // A literal path keeps its own methods instead of falling through to the parameter route.
  const compare = await server.request('DELETE', '/api/runs/compare');
  expectErrorBody(compare, 405, 'method_not_allowed');
  expect(compare.headers.get('allow')).toBe('GET, HEAD, OPTIONS');

  const postOnly = await server.request('GET', '/api/chunks/missing');
  expectErrorBody(postOnly, 405, 'method_not_allowed');
  expect(postOnly.headers.get('allow')).toBe('POST, OPTIONS');

  // Declared methods are unaffected; HEAD follows GET.
  expect((await server.request('HEAD', '/api/projects')).status).toBe(200);
  expect((await server.request('GET', '/api/runs/compare?ids=a,b')).status).toBe(404);
});

test('an unexpected failure is a generic 500 without a stack trace, logged with its details', async () => {
  const projects = server.app.projects;
  const original = projects.list;
  projects.list = async () => {
    throw new Error('database exploded at /secret/path.ts:12');
  };
  try {
    const response = await server.request('GET', '/api/projects');
    expectErrorBody(response, 500, 'internal');
    expect(response.text).not.toContain('exploded');
    expect(response.body.error.message).toContain(response.headers.get('x-request-id'));
    expect(server.logs).toContainEqual(
      expect.objectContaining({ msg: 'unhandled error', err: expect.objectContaining({ message: expect.stringContaining('exploded') }) })
    );
  } finally {
    projects.list = original;
  }
});
