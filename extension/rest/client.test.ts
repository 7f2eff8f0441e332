/** The typed REST client through the real request helper, against a real companion server. */
import { startServer, type TestServer } from '../../server/test/helpers';
import { requestAPI, RunlabRequestError } from '../request';
import { createApiClient, routePath } from './client';
import type { ApiClient } from './types';

let server: TestServer;
let api: ApiClient;

beforeAll(async () => {
  server = await startServer();
  const target = { serverUrl: server.url, token: server.adminToken };
  api = createApiClient({ send: (path, init, answer, timeoutMs) => requestAPI(target, path, init, timeoutMs, answer) });
});
afterAll(() => server.destroy());

test('paths fill and encode their parameters, and queries skip what is not given', () => {
  const route = { method: 'get', path: '/api/projects/:project/datasets/:name/diff' };
  expect(routePath(route, { params: { project: 'a b', name: 'x/y' }, query: { from: 'v1', to: undefined, limit: 5 } })).toBe(
    '/api/projects/a%20b/datasets/x%2Fy/diff?from=v1&limit=5'
  );
  expect(() => routePath(route, { params: { project: 'p' } })).toThrow('needs the parameter "name"');
});

test('calls name operations: bodies, queries and answers are the contract types', async () => {
  expect((await api.health.getHealth()).status).toBe('ok');
  const project = await api.projects.createProject({ body: { name: 'client-test' } });
  expect(project.name).toBe('client-test');
  const run = await api.runs.createRun({ body: { project: 'client-test', name: 'first', params: { lr: '0.1' } } });
  await api.runs.logToRun({
    params: { id: run.id },
    body: { idempotencyKey: 'client-test-1', metrics: [{ key: 'loss', value: 0.5, step: 1 }] }
  });
  const listed = await api.runs.listRuns({ query: { project: 'client-test', limit: 10, filter: 'params.lr=0.1' } });
  expect(listed.runs.map((listedRun) => listedRun.id)).toEqual([run.id]);
  const history = await api.runs.getMetricHistory({ params: { id: run.id, key: 'loss' }, query: { maxPoints: 100 } });
  expect(history.points.map((point) => point.value)).toEqual([0.5]);
  await api.runs.deleteRun({ params: { id: run.id } });
  await expect(api.runs.getRun({ params: { id: run.id } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
});

test('a route that answers bytes gives a Blob; a refused call gives the server error', async () => {
  const run = await api.runs.createRun({ body: { project: 'client-test' } });
  const upload = await fetch(`${server.url}/api/runs/${run.id}/artifacts?path=notes.txt`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/octet-stream' },
    body: 'hello'
  });
  expect(upload.status).toBe(201);
  const content = await api.runs.downloadArtifact({ params: { id: run.id }, query: { path: 'notes.txt' } });
  expect(await content.text()).toBe('hello');
  const refused = api.runs.downloadArtifact({ params: { id: run.id }, query: { path: '../etc/passwd' } });
  await expect(refused).rejects.toBeInstanceOf(RunlabRequestError);
  await expect(refused).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
});
