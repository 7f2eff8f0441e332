import { healthApi } from '../contract';
import { implement, type Route } from '../http/registry';
import { homePage } from './home';

/**
 * The health check is public: the extension and the start script probe it before they have a
 * token. The OpenAPI document is built from every route, this one included, once they are all known.
 */
export function healthRoutes(version: string, serverId: string, openApiDocument: () => Record<string, unknown>): Route[] {
  return implement(healthApi, {
    getHome: homePage(version),
    getHealth: () => ({ status: 'ok' as const, version, serverId }),
    getOpenApiDocument: () => openApiDocument()
  });
}
