import path from 'node:path';
import { z } from 'zod';
import { CompareQuery, RELATIVE_PATH_PATTERN, relativePathProblem, SnapshotPath } from '../src/contract';
import { jsonSchemaOf } from '../src/http/openapi';
import { parseFilters, parseSort } from '../src/runs/filters';
import { VERSION } from '../src/version';
import { makeTempDir, packageVersion, removeDir, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

test('health answers without a token, with the package version', async () => {
  const response = await server.request('GET', '/api/health', { token: null });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ status: 'ok', version: VERSION, serverId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(VERSION).toBe(packageVersion());
  expect(response.headers.get('x-request-id')).toBeTruthy();
});

test("a server's identity stays with its data directory, whatever port it listens on", async () => {
  const first = (await server.request('GET', '/api/health', { token: null })).body.serverId;
  const dataDir = path.join(makeTempDir(), 'data');
  const other = await startServer({ dataDir });
  const otherId = (await other.request('GET', '/api/health', { token: null })).body.serverId;
  const otherPort = other.info.port;
  await other.stop();
  const again = await startServer({ dataDir });
  try {
    expect(again.info.port).not.toBe(otherPort);
    expect((await again.request('GET', '/api/health', { token: null })).body.serverId).toBe(otherId);
    expect(otherId).not.toBe(first);
  } finally {
    await again.stop();
    removeDir(path.dirname(dataDir));
  }
});

test('the OpenAPI document lists every registered route with its schemas', async () => {
  const response = await server.request('GET', '/api/openapi.json');
  expect(response.status).toBe(200);
  const document = response.body;
  expect(document.openapi).toBe('3.1.0');
  expect(document.info.version).toBe(VERSION);
  const routes = server.app.routes;
  expect(routes.length).toBeGreaterThanOrEqual(11);
  const operationCount = Object.values(document.paths as Record<string, object>).reduce(
    (sum, operations) => sum + Object.keys(operations).length,
    0
  );
  expect(operationCount).toBe(routes.length);
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const operation = document.paths[path]?.[route.method];
    expect(operation).toBeDefined();
    expect(operation.operationId).toBe(route.operationId);
    expect(operation.security).toEqual(route.scope === 'public' ? [] : [{ bearerToken: [] }]);
    if (route.body) {
      expect(operation.requestBody.content['application/json'].schema).toEqual(jsonSchemaOf(route.body, 'input'));
    } else if (route.rawBody) {
      // Uploads are raw bytes, documented as such.
      expect(operation.requestBody.content).toEqual({
        'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } }
      });
    } else {
      expect(operation.requestBody).toBeUndefined();
    }
    const success = operation.responses[String(route.status)];
    expect(success).toBeDefined();
    if (route.response) {
      expect(success.content['application/json'].schema).toEqual(jsonSchemaOf(route.response, 'output'));
    }
    for (const name of Object.keys((route.params as z.ZodObject | undefined)?.shape ?? {})) {
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name, in: 'path', required: true }));
    }
    if (route.scope !== 'public') {
      expect(operation.responses['401'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/ErrorResponse'
      });
    }
  }
  // Spot-check that the schemas carry the contract's constraints, not just shapes.
  const createProject = document.paths['/api/projects'].post.requestBody.content['application/json'].schema;
  expect(createProject.additionalProperties).toBe(false);
  expect(createProject.required).toEqual(['name']);
  expect(createProject.properties.name.pattern).toBeDefined();
  expect(document.paths['/api/projects'].get.parameters).toContainEqual(
    expect.objectContaining({ name: 'name', in: 'query', required: false })
  );
  expect(document.paths['/api/projects'].post.responses['409']).toBeDefined();
  expect(document.components.schemas.ErrorResponse.properties.error).toBeDefined();
});

/** Every string of up to `maxLength` characters drawn from `alphabet`. */
function* stringsOver(alphabet: readonly string[], maxLength: number): Generator<string> {
  let current = [''];
  yield '';
  for (let length = 1; length <= maxLength; length++) {
    current = current.flatMap((prefix) => alphabet.map((character) => prefix + character));
    yield* current;
  }
}

/** Whether the server refuses a value (any thrown error is the 400 it becomes). */
function refuses(parse: () => unknown): boolean {
  try {
    parse();
    return false;
  } catch {
    return true;
  }
}

describe('the document states the rules the server checks in code', () => {
  let document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const parameter = (path: string, method: string, name: string) =>
    document.paths[path][method].parameters.find((candidate: { name: string }) => candidate.name === name);
  beforeAll(async () => {
    document = (await server.request('GET', '/api/openapi.json')).body;
  });

  test('relative paths: the pattern accepts exactly what the server accepts', () => {
    const upload = parameter('/api/runs/{id}/artifacts', 'put', 'path');
    expect(upload.schema).toMatchObject({ pattern: RELATIVE_PATH_PATTERN, minLength: 1, maxLength: 1000 });
    expect(upload.description).toMatch(/\.\./);
    const pattern = new RegExp(RELATIVE_PATH_PATTERN);
    // Every path of up to 6 characters over the characters the rules are about.
    const disagreements: string[] = [];
    let checked = 0;
    for (const value of stringsOver(['a', '.', '/', '\\', '\0', 'C', ':'], 6)) {
      if (value === '') continue;
      if (pattern.test(value) !== (relativePathProblem(value) === null)) disagreements.push(value);
      checked++;
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBeGreaterThan(100_000);

    const snapshot = document.paths['/api/runs/{id}/snapshot'].post.requestBody.content['application/json'].schema;
    expect(snapshot.description).toMatch(/twice/);
    const snapshotPath = new RegExp(snapshot.properties.notebookPath.pattern);
    expect(snapshot.properties.notebookPath.pattern).toBe(jsonSchemaOf(SnapshotPath, 'input').pattern);
    for (const refused of ['.git', 'a/.GIT/config', '.Git/x']) expect(snapshotPath.test(refused)).toBe(false);
    for (const allowed of ['nb.ipynb', 'a/.gitignore', 'git/.gitx', 'a/b.git']) expect(snapshotPath.test(allowed)).toBe(true);
  });

  test('run filters: the grammar is a pattern that agrees with the server', () => {
    const filter = parameter('/api/runs', 'get', 'filter');
    expect(filter.description).toMatch(/Repeat/);
    expect(filter).toMatchObject({ style: 'form', explode: true });
    const [single, list] = filter.schema.anyOf;
    expect(list.items.pattern).toBe(single.pattern);
    expect(single.description).toMatch(/params\.<key><op><value>/);
    const pattern = new RegExp(single.pattern);
    const fields = ['params.', 'tags.', 'metrics.', 'param.', ''];
    const keys = [
      ...['lr', 'train/loss', 'a b', ' ', ' a', 'a!', 'k'.repeat(250), 'k'.repeat(251), `${'k'.repeat(250)}  `, 'é', ''],
      ...['/a', 'a/', 'a//b', '.', '..', '...', 'a/./b', 'a/../b', '.a/..b', 'a /b', 'a/ ', 'a/ /b', 'x:y', 'a\tb']
    ];
    const operators = ['=', '!=', '>', '>=', '<', '<=', ' = ', '=='];
    const values = ['0.1', ' 3 ', '-1e-4', "'2'", '"1.5"', "' 4 '", 'adam', '', '1e400', '.5', '5.', '=1'];
    const disagreements: string[] = [];
    let allowed = 0;
    for (const field of fields) {
      for (const key of keys) {
        for (const operator of operators) {
          for (const value of values) {
            const text = `${field}${key}${operator}${value}`;
            if (pattern.test(text)) allowed++;
            if (pattern.test(text) === refuses(() => parseFilters(text))) disagreements.push(text);
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(allowed).toBeGreaterThan(1000);
  });

  test('run sort orders: a pattern the server agrees with', () => {
    const sort = parameter('/api/runs', 'get', 'sort');
    const pattern = new RegExp(sort.schema.pattern);
    expect(sort.schema.default).toBe('startedAt:desc');
    expect(sort.description).toMatch(/metrics\.<key>/);
    const fields = ['startedAt', 'name', 'status', 'tags.x', 'size', '', 'metrics.', 'params.'];
    const keys = ['acc', 'a:b', 'a:asc', ' ', 'a ', 'a/b', '/a', 'a/', 'a/ ', '..', 'a/./b', '...', 'k'.repeat(250), 'k'.repeat(251)];
    const disagreements: string[] = [];
    for (const field of [...fields, ...keys.flatMap((key) => [`metrics.${key}`, `params.${key}`])]) {
      for (const suffix of ['', ':asc', ':desc', ':up', ' ', ':asc:desc', ' :asc']) {
        const text = `${field}${suffix}`;
        if (pattern.test(text) === refuses(() => parseSort(text))) disagreements.push(text);
      }
    }
    expect(disagreements).toEqual([]);
  });

  test('compare ids: 2 to 100 distinct ids, as a pattern', () => {
    const ids = parameter('/api/runs/compare', 'get', 'ids');
    expect(ids.description).toMatch(/distinct/);
    const pattern = new RegExp(ids.schema.pattern);
    const accepted = (text: string) => CompareQuery.safeParse({ ids: text }).success;
    const many = (count: number) => Array.from({ length: count }, (_, i) => `run-${i}`).join(',');
    for (const text of ['a,b', 'a,b,c', many(100), 'x'.repeat(100) + ',y']) {
      expect([text, pattern.test(text), accepted(text)]).toEqual([text, true, true]);
    }
    for (const text of ['a', 'a,a', many(101), '', ',']) {
      expect([text, pattern.test(text), accepted(text)]).toEqual([text, false, false]);
    }
    // The server also takes repeats and empty entries; the document keeps to the plain form.
    for (const text of ['a,b,a', 'a,,b']) expect([text, pattern.test(text), accepted(text)]).toEqual([text, false, true]);
  });

  test('numbers in query strings are integers with their ranges, read from digits only', async () => {
    expect(parameter('/api/runs', 'get', 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 10000 });
    expect(parameter('/api/runs', 'get', 'offset').schema).toMatchObject({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    for (const name of ['minStep', 'maxStep']) {
      expect(parameter('/api/runs/{id}/metrics/{key}', 'get', name).schema).toMatchObject({
        type: 'integer',
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER
      });
    }
    expect(parameter('/api/provenance', 'get', 'depth').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 50 });
    // '' and '0x10' are numbers to Number(), not the integers the document promises.
    for (const offset of ['', ' ', '0x10', '1e2', '1.5']) {
      const response = await server.request('GET', `/api/runs?offset=${encodeURIComponent(offset)}`);
      expect([offset, response.status]).toEqual([offset, 400]);
    }
    expect((await server.request('GET', '/api/runs?offset=0&limit=5')).status).toBe(200);
  });

  test('JSON bodies state their size limit, and 405 is among the error codes', () => {
    const createProject = document.paths['/api/projects'].post.requestBody;
    expect(createProject.description).toMatch(/RUNLAB_MAX_BODY_BYTES/);
    const logBatch = document.paths['/api/runs/{id}/log'].post.requestBody;
    expect(logBatch.description).toMatch(/RUNLAB_MAX_LARGE_BODY_BYTES/);
    expect(document.components.schemas.ErrorResponse.properties.error.properties.code.enum).toContain('method_not_allowed');
    const commit = document.paths['/api/projects/{project}/datasets/{name}/versions'].post.requestBody.content['application/json'].schema;
    expect(commit.description).toMatch(/sum of its chunk sizes/);
  });
});

test('CORS: local origins on any port and preflight are allowed; foreign origins are not', async () => {
  const preflight = await fetch(`${server.url}/api/projects`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://localhost:8888',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type'
    }
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8888');
  expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
  expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

  const local = await server.request('GET', '/api/health', { headers: { origin: 'http://127.0.0.1:9999' } });
  expect(local.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:9999');

  const foreign = await server.request('GET', '/api/health', { headers: { origin: 'https://evil.example' } });
  expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
});

test('RUNLAB_ALLOWED_ORIGINS adds origins', async () => {
  const other = await startServer({ env: { RUNLAB_ALLOWED_ORIGINS: 'https://lab.example.org' } });
  try {
    const allowed = await other.request('GET', '/api/health', { headers: { origin: 'https://lab.example.org' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://lab.example.org');
    const denied = await other.request('GET', '/api/health', { headers: { origin: 'https://other.example.org' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await other.destroy();
  }
});

test('the listening log line carries the URL', () => {
  expect(server.logs).toContainEqual(expect.objectContaining({ msg: 'listening', url: server.url }));
});

test('each JSON body states its byte limit as the running server enforces it', async () => {
  const document = (await server.request('GET', '/api/openapi.json')).body;
  const log = JSON.stringify(document.paths['/api/runs/{id}/log'].post.requestBody);
  const project = JSON.stringify(document.paths['/api/projects'].post.requestBody);
  expect(log).toContain('67108864');
  expect(project).toContain('1048576');
});

test("the server's address shows a page saying what it is, and a run link's id, in a browser", async () => {
  const response = await fetch(`${server.url}/`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  const html = await response.text();
  expect(html).toContain('<h1>Runlab companion server</h1>');
  expect(html).toContain(`Version ${VERSION}`);
  expect(html).toContain('Open Run by Id');
  // The run id of an MLflow link (`/#/experiments/1/runs/<id>`) is read from the fragment, which never reaches the server.
  expect(html).toContain('#\\/experiments\\/');
  expect((await server.request('GET', '/api/openapi.json')).body.paths['/'].get.responses['200'].content).toHaveProperty('text/html');
  expect((await fetch(`${server.url}/`, { method: 'POST' })).status).toBe(405);
});
