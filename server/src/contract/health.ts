import { z } from 'zod';
import { route } from './route';

export const HealthResponse = z.strictObject({
  status: z.literal('ok'),
  /** The companion server's version; the extension warns when it differs from its own. */
  version: z.string(),
  /**
   * Who this server is, stable for its data directory whatever address it answers on: clients
   * key their caches by it (32 lowercase hex digits).
   */
  serverId: z.string().regex(/^[0-9a-f]{32}$/)
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const healthApi = {
  getHome: route({
    method: 'get',
    path: '/',
    summary: "What this server is, for a browser (and the run links MLflow's client prints): an HTML page",
    tag: 'health',
    scope: 'public',
    rawResponse: { description: 'An HTML page', mediaType: 'text/html' },
    status: 200
  }),
  getHealth: route({
    method: 'get',
    path: '/api/health',
    summary: 'Liveness and server version',
    tag: 'health',
    scope: 'public',
    status: 200,
    response: HealthResponse
  }),
  getOpenApiDocument: route({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This API, as an OpenAPI 3.1 document',
    tag: 'meta',
    scope: 'any',
    status: 200,
    response: z.record(z.string(), z.unknown())
  })
};
