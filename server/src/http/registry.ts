/**
 * The route registry: each HTTP route is declared once (method, path, schemas, scope, handler).
 * The same declaration mounts validation and authentication on express and produces the
 * OpenAPI document, so the document cannot drift from what the server actually accepts.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IRoute, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { ErrorCode, TokenScope } from '../contract';
import type { Logger } from '../logger';
import { AppError } from './errors';
import { validatePart } from './validate';

/**
 * Who may call a route: nobody needs a token for `public`; `any` takes every token; `user` takes
 * user and admin tokens; `admin` and `runner` take only their own scope (auth/middleware.ts).
 */
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
  /**
   * The JSON body may be large (metric batches, notebook snapshots): parsed with the large
   * limit (RUNLAB_MAX_LARGE_BODY_BYTES) instead of RUNLAB_MAX_BODY_BYTES.
   */
  largeBody?: boolean;
  /**
   * The request body is raw bytes (`application/octet-stream`), streamed by the handler from
   * `context.request` instead of going through the JSON parser; documented as such in OpenAPI.
   */
  rawBody?: { description: string };
  /** The answer is bytes (a RawReply), not JSON. */
  rawResponse?: { description: string };
  /** Status of a successful answer; 204 answers have no response schema. */
  status: 200 | 201 | 204;
  response?: RS;
  /**
   * false skips checking the answer against `response` (it is still documented by it). Only for
   * answers too large to check cheaply that the server builds from typed data itself (compare).
   */
  checkResponse?: false;
  /** Errors this route raises on its own, beyond validation/auth/internal (e.g. not_found). */
  errors?: ErrorCode[];
  handle(context: RouteContext<Out<PS>, Out<QS>, Out<BS>>): Promise<Out<RS> | RawReply> | Out<RS> | RawReply;
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

export interface MountOptions {
  authenticate: Authenticator;
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
      (req as unknown as Record<symbol, Principal | null>)[PRINCIPAL] =
        route.scope === 'public' ? null : options.authenticate(req, route.scope);
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
