import { z } from 'zod';
import { jsonSchemaOf } from '../src/http/openapi';
import { VERSION } from '../src/version';
import { startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

test('health answers without a token, with the package version', async () => {
  const response = await server.request('GET', '/api/health', { token: null });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ status: 'ok', version: VERSION });
  expect(VERSION).toBe(require('../package.json').version);
  expect(response.headers.get('x-request-id')).toBeTruthy();
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
