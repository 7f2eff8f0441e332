/**
 * The contract declares every route once; the server and the OpenAPI document follow from it
 * (the extension's route table is checked in extension/rest/routes.test.ts).
 */
import express from 'express';
import { z } from 'zod';
import { api, route, type RouteContract } from '../src/contract';
import { buildOpenApiDocument } from '../src/http/openapi';
import { implement, mountRoutes } from '../src/http/registry';
import { startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

const contractOperations = Object.entries(api).flatMap(([feature, group]) =>
  Object.entries(group as Record<string, RouteContract>).map(([operationId, contract]) => ({ feature, operationId, contract }))
);

test('every contract operation is served once, as declared, and the server serves nothing else', () => {
  const served = server.app.routes.map((mounted) => `${mounted.operationId} ${mounted.method} ${mounted.path} ${mounted.scope}`);
  const declared = contractOperations.map(
    ({ operationId, contract }) => `${operationId} ${contract.method} ${contract.path} ${contract.scope}`
  );
  expect(served).toEqual(declared);
  expect(new Set(contractOperations.map(({ operationId }) => operationId)).size).toBe(contractOperations.length);
  // Each feature's operations carry the feature's tag (the OpenAPI grouping), except the document itself.
  for (const { feature, operationId, contract } of contractOperations) {
    if (operationId !== 'getOpenApiDocument') expect(`${operationId}: ${contract.tag}`).toBe(`${operationId}: ${feature}`);
  }
});

test('a new route is one contract entry and one handler: it is mounted, validated and documented', async () => {
  // What adding a route to a feature takes: the declaration (in the feature's contract module)…
  const pingApi = {
    getPing: route({
      method: 'get',
      path: '/api/ping/:name',
      summary: 'Answer a name',
      tag: 'ping',
      scope: 'public',
      params: z.strictObject({ name: z.string().regex(/^[a-z]+$/) }),
      status: 200,
      response: z.strictObject({ pong: z.string() })
    })
  };
  // …and its handler (in the feature's routes.ts), typed from the declaration.
  const pingRoutes = implement(pingApi, { getPing: ({ params }) => ({ pong: params.name }) });

  const router = express.Router();
  mountRoutes(router, pingRoutes, {
    authenticate: () => {
      throw new Error('public routes are not authenticated');
    },
    jsonBody: express.json(),
    largeJsonBody: express.json()
  });
  const app = express().use(router);
  app.use(((error, _req, res, _next) => res.status(error.status ?? 500).json({ code: error.code })) as express.ErrorRequestHandler);
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listening.once('listening', resolve));
  try {
    const base = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
    expect(await (await fetch(`${base}/api/ping/ada`)).json()).toEqual({ pong: 'ada' });
    const refused = await fetch(`${base}/api/ping/ADA`);
    expect(refused.status).toBe(400);
  } finally {
    listening.close();
  }
  const document = buildOpenApiDocument(pingRoutes, '0.0.0') as { paths: Record<string, Record<string, { operationId: string }>> };
  expect(document.paths['/api/ping/{name}'].get.operationId).toBe('getPing');
});
