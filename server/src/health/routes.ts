import { HealthResponse } from '../contract';
import { defineRoute, type Route } from '../http/registry';

/** Public: the extension and the start script probe it before they have a token. */
export function healthRoutes(version: string): Route[] {
  return [
    defineRoute({
      operationId: 'getHealth',
      method: 'get',
      path: '/api/health',
      summary: 'Liveness and server version',
      tag: 'health',
      scope: 'public',
      status: 200,
      response: HealthResponse,
      handle: () => ({ status: 'ok' as const, version })
    })
  ];
}
