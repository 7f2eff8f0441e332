/**
 * The route registry: each HTTP route is declared once (method, path, schemas, scope, handler).
 * The same declaration mounts validation and authentication on express and produces the
 * OpenAPI document, so the document cannot drift from what the server actually accepts.
 */
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { ErrorCode, TokenScope } from '../contract';
import type { Logger } from '../logger';
import { AppError } from './errors';
import { validatePart } from './validate';

/** Who may call a route: nobody needs a token for `public`; `any` takes user or runner tokens. */
export type RouteScope = 'public' | TokenScope | 'any';

export interface Principal {
  tokenId: string;
  name: string;
  scope: TokenScope;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The authenticated caller; null only on public routes. */
  principal: Principal | null;
  log: Logger;
}

export interface RouteSpec<
  PS extends z.ZodType | undefined,
  QS extends z.ZodType | undefined,
  BS extends z.ZodType | undefined,
  RS extends z.ZodType | undefined
> {
  operationId: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path, e.g. `/api/projects/:id`. */
  path: string;
  summary: string;
  tag: string;
  scope: RouteScope;
  params?: PS;
  query?: QS;
  body?: BS;
  /** Status of a successful answer; 204 answers have no response schema. */
  status: 200 | 201 | 204;
  response?: RS;
  /** Errors this route raises on its own, beyond validation/auth/internal (e.g. not_found). */
  errors?: ErrorCode[];
  handle(context: RouteContext<Out<PS>, Out<QS>, Out<BS>>): Promise<Out<RS>> | Out<RS>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Route = RouteSpec<any, any, any, any>;

/** Identity helper that infers handler argument types from the schemas. */
export function defineRoute<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
  RS extends z.ZodType | undefined = undefined
>(spec: RouteSpec<PS, QS, BS, RS>): Route {
  return spec as Route;
}

/** Resolves the bearer token of a request for a route's scope, or throws 401/403. */
export type Authenticator = (request: Request, scope: Exclude<RouteScope, 'public'>) => Principal;

export function mountRoutes(router: Router, routes: readonly Route[], authenticate: Authenticator): void {
  for (const route of routes) {
    router[route.method](route.path, async (req: Request, res: Response) => {
      const principal = route.scope === 'public' ? null : authenticate(req, route.scope);
      const params = route.params ? validatePart('params', route.params, req.params) : undefined;
      const query = route.query ? validatePart('query', route.query, req.query) : undefined;
      let body: unknown;
      if (route.body) {
        if (req.body === undefined) {
          // express.json() leaves the body undefined when the request is not JSON at all.
          throw new AppError('invalid_request', 'Request body must be JSON: send Content-Type: application/json', [
            { path: 'body', message: 'missing JSON body' }
          ]);
        }
        body = validatePart('body', route.body, req.body);
      }
      const log = (req as { log?: Logger }).log as Logger;
      const result = await route.handle({ params, query, body, principal, log });
      if (route.status === 204) {
        res.status(204).end();
        return;
      }
      // Checking answers against the contract turns a server bug into a loud 500, not bad data.
      const payload = route.response ? route.response.parse(result) : result;
      res.status(route.status).json(payload);
    });
  }
}
