/**
 * The route registry: each HTTP route is declared once in the contract (method, path, schemas,
 * scope) and implemented here by operationId. The same declaration mounts validation and
 * authentication on express and produces the OpenAPI document, so the document cannot drift
 * from what the server actually accepts.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IRoute, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { ParsedPart, RouteContract, RouteGroup, RouteResponse, RouteScope, RunnerAccess, TokenScope } from '../contract';
import { requireScope } from '../auth/middleware';
import type { Logger } from '../logger';
import { AppError } from './errors';
import { validatePart } from './validate';

export type { RouteScope };

export interface Principal {
  tokenId: string;
  name: string;
  scope: TokenScope;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The authenticated caller; null only on public routes. */
  principal: Principal | null;
  log: Logger;
  /** The express request; routes with `rawBody` read the upload from it as a stream. */
  request: Request;
}

/** What a `rawResponse` route answers: bytes streamed with their media type. */
export class RawReply {
  constructor(
    readonly body: Readable,
    /** A media type, or a file extension (`.png`) looked up the way express does. */
    readonly type: string,
    readonly size?: number,
    readonly headers: Record<string, string> = {}
  ) {}
}

/** The handler of a contract route: its context is typed by the route's schemas. */
export type Handler<C extends RouteContract> = (
  context: RouteContext<ParsedPart<C, 'params'>, ParsedPart<C, 'query'>, ParsedPart<C, 'body'>>
) => Promise<RouteResponse<C> | RawReply> | RouteResponse<C> | RawReply;

/** A mounted route: its contract, its operationId and its handler. */
export interface Route extends RouteContract {
  operationId: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handle(context: RouteContext<any, any, any>): unknown;
}

/**
 * Implements a feature's contract routes: one handler per operationId, checked by the compiler
 * (a route without a handler, or a handler without a route, does not compile).
 */
export function implement<G extends RouteGroup>(group: G, handlers: { [K in keyof G]: Handler<G[K]> }): Route[] {
  return Object.entries(group).map(([operationId, contract]) => ({
    ...contract,
    operationId,
    handle: handlers[operationId] as Route['handle']
  }));
}

/**
 * A route outside the contract: MLflow's REST API, which MLflow's own reference describes and
 * Runlab only answers (mlflow/routes.ts). Every Runlab route is declared in the contract.
 */
export function defineRoute<C extends RouteContract & { operationId: string }>(spec: C & { handle: Handler<C> }): Route {
  return spec as Route;
}

/** Resolves the bearer token of a request for a route's scope, or throws 401/403. */
export type Authenticator = (request: Request, scope: Exclude<RouteScope, 'public'>) => Principal;

/**
 * Decides a request of a route declaring `runnerAccess` (runners/access.ts): throws 403 when a
 * runner token may not reach it, 409 when it names a superseded attempt. `principal` is any
 * scope: a request naming an attempt is checked whoever sends it.
 */
export type RunnerAccessCheck = (access: RunnerAccess, request: Request, principal: Principal) => void;

export interface MountOptions {
  authenticate: Authenticator;
  /** Required when a route declares runnerAccess. */
  runnerAccess?: RunnerAccessCheck;
  /** JSON body parsers with the normal and the large size limit. */
  jsonBody: RequestHandler;
  largeJsonBody: RequestHandler;
}

const PRINCIPAL = Symbol('principal');

/**
 * Mounts each route as: authenticate → parse the JSON body (only routes that take one, with
 * their limit) → validate → handle. Authenticating first means nobody without a token can make
 * the server parse a large body; raw-body routes stream the request untouched.
 *
 * Each path is one express route, mounted where the path first appears (so a literal path such
 * as /api/runs/compare still comes before /api/runs/:id), and it answers any method it was not
 * declared with 405 and an `Allow` header.
 */
export function mountRoutes(router: Router, routes: readonly Route[], options: MountOptions): void {
  const paths = new Map<string, { handlers: IRoute; methods: Route['method'][] }>();
  for (const route of routes) {
    let mounted = paths.get(route.path);
    if (!mounted) {
      mounted = { handlers: router.route(route.path), methods: [] };
      paths.set(route.path, mounted);
    }
    mounted.methods.push(route.method);
    const authenticate = (req: Request, _res: Response, next: NextFunction): void => {
      (req as unknown as Record<symbol, Principal | null>)[PRINCIPAL] = route.scope === 'public' ? null : authorize(route, req, options);
      next();
    };
    const parsers = route.body ? [route.largeBody ? options.largeJsonBody : options.jsonBody] : [];
    mounted.handlers[route.method](authenticate, ...parsers, async (req: Request, res: Response) => {
      const principal = (req as unknown as Record<symbol, Principal | null>)[PRINCIPAL];
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
      if (route.runnerAccess === 'runBody' && principal) options.runnerAccess?.('runBody', req, principal);
      const log = (req as { log?: Logger }).log as Logger;
      const result = await route.handle({ params, query, body, principal, log, request: req });
      if (result instanceof RawReply) {
        res.status(route.status);
        res.type(result.type);
        if (result.size !== undefined) res.setHeader('Content-Length', String(result.size));
        for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        await pipeline(result.body, res);
        return;
      }
      if (route.status === 204) {
        res.status(204).end();
        return;
      }
      // Checking answers against the contract turns a server bug into a loud 500, not bad data.
      const payload = route.response && route.checkResponse !== false ? route.response.parse(result) : result;
      res.status(route.status).json(payload);
    });
  }
  for (const { handlers, methods } of paths.values()) {
    const allow = allowedMethods(methods);
    handlers.all((req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Allow', allow);
      next(new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}; it takes ${allow}`));
    });
  }
}

/**
 * The caller of a non-public route. Runner tokens reach runner routes, and other routes only
 * where the route declares runnerAccess and the runners feature allows it for this request.
 */
function authorize(route: Route, req: Request, options: MountOptions): Principal {
  const scope = route.scope as Exclude<RouteScope, 'public'>;
  if (scope === 'runner') return options.authenticate(req, scope);
  const principal = options.authenticate(req, 'any');
  if (route.runnerAccess) {
    if (!options.runnerAccess) throw new Error(`Route ${route.operationId} declares runnerAccess but no checker was mounted`);
    // `runBody` names the run in the JSON body: checked once the body is parsed (mountRoutes).
    if (route.runnerAccess !== 'runBody') options.runnerAccess(route.runnerAccess, req, principal);
    if (principal.scope === 'runner') return principal;
  } else if (principal.scope === 'runner') {
    throw new AppError(
      'forbidden',
      `A runner token reaches only runner endpoints and the run and datasets of the job it runs; "${principal.name}" cannot ${req.method} ${req.path}`
    );
  }
  if (principal.scope === 'deployment' && scope !== 'deployment') {
    throw new AppError(
      'forbidden',
      `A deployment token reaches only its deployment's spec, files and telemetry; "${principal.name}" cannot ${req.method} ${req.path}`
    );
  }
  requireScope(principal, scope);
  return principal;
}

/** The `Allow` header of a path: its methods, HEAD with GET (express answers it), and OPTIONS (CORS). */
function allowedMethods(methods: readonly Route['method'][]): string {
  const taken = new Set<string>(methods);
  if (taken.has('get')) taken.add('head');
  taken.add('options');
  return ['get', 'head', 'post', 'put', 'patch', 'delete', 'options']
    .filter((method) => taken.has(method))
    .map((method) => method.toUpperCase())
    .join(', ');
}
