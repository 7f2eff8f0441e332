/**
 * The extension's REST client: one typed method per contract operation, built from the generated
 * route table, so call sites name an operation (`api.runs.getRun({ params: { id } })`) and never
 * build a URL. Requests go through the one request helper (the transport), which adds the token,
 * the timeout and the error shape.
 */
import { routes } from './routes';
import type { ApiClient, IApiTransport } from './types';

interface IRouteEntry {
  readonly method: string;
  readonly path: string;
  /** The answer is bytes (a Blob), not JSON. */
  readonly raw?: boolean;
}

type Input = { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown } | undefined;

/** The path of one call: `:name` segments filled from `params` (encoded), then `query` as a query string. */
export function routePath(route: IRouteEntry, input: Input): string {
  const params = input?.params ?? {};
  const path = route.path.replace(/:([A-Za-z_]\w*)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined || value === null) {
      throw new Error(`${route.method.toUpperCase()} ${route.path} needs the parameter "${name}"`);
    }
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(input?.query ?? {})) {
    if (value === undefined || value === null) {
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      search.append(name, String(item));
    }
  }
  const query = search.toString();
  return query ? `${path}?${query}` : path;
}

/** The client over a transport: the connection's (with its token) or a bare one (the health probe). */
export function createApiClient(transport: IApiTransport): ApiClient {
  const client: Record<string, Record<string, unknown>> = {};
  for (const [feature, operations] of Object.entries(routes as Record<string, Record<string, IRouteEntry>>)) {
    client[feature] = {};
    for (const [operationId, route] of Object.entries(operations)) {
      client[feature][operationId] = (input: Input, options?: { timeoutMs?: number }) => {
        const init: RequestInit = { method: route.method.toUpperCase() };
        if (input?.body !== undefined) {
          init.body = JSON.stringify(input.body);
        }
        return transport.send(routePath(route, input), init, route.raw ? 'blob' : 'json', options?.timeoutMs);
      };
    }
  }
  return client as unknown as ApiClient;
}
