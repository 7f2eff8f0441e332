/**
 * How the contract declares a REST route: everything about it but its handler. The server
 * implements each route by its operationId (http/registry.ts `implement`), the OpenAPI document
 * is generated from these declarations, and the extension's typed client is derived from them
 * (extension/rest/), so a route is written down once.
 */
import type { z } from 'zod';
import type { TokenScope } from './auth';
import type { ErrorCode } from './errors';

/**
 * Who may call a route: nobody needs a token for `public`; `any` takes every token; `user` takes
 * user and admin tokens; `admin` and `runner` take only their own scope.
 */
export type RouteScope = 'public' | TokenScope | 'any';

/**
 * What of another feature's route a runner token may reach while it holds a job's current
 * attempt (runners/access.ts decides): `run` — the job's run (`:id`), no other run;
 * `runBody` — the same for a run named by the JSON body's `runId` (a model version logged from it);
 * `projectDatasets` — the datasets of the job's project (`:project`), to load the versions the
 * notebook uses and commit the ones it makes, as the notebook would run anywhere else;
 * `datasetChunks` — chunk transfers (content-addressed), while it holds a job; `registryRead` —
 * reading the model registry (versions and their files, for `runlab.load_model`), while it holds
 * a job; never moving an alias or changing a model; `always` — nothing
 * to protect (who am I, the API document). Without it, a runner token is refused (403) on every
 * route whose scope is not `runner`.
 */
export type RunnerAccess = 'run' | 'runBody' | 'projectDatasets' | 'datasetChunks' | 'registryRead' | 'always';

export type RouteMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContract {
  method: RouteMethod;
  /** Express-style path, e.g. `/api/projects/:id`. */
  path: string;
  summary: string;
  /** The feature it belongs to: groups operations in the OpenAPI document. */
  tag: string;
  scope: RouteScope;
  /** A runner token may use this route for what it runs (see RunnerAccess). */
  runnerAccess?: RunnerAccess;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /**
   * The JSON body may be large (metric batches, notebook snapshots): parsed with the large
   * limit (RUNLAB_MAX_LARGE_BODY_BYTES) instead of RUNLAB_MAX_BODY_BYTES.
   */
  largeBody?: boolean;
  /**
   * The request body is raw bytes (`application/octet-stream`), streamed by the handler instead
   * of going through the JSON parser; documented as such in OpenAPI.
   */
  rawBody?: { description: string; /** Largest body accepted (413 past it). */ maxBytes?: number };
  /** The answer is bytes, not JSON (`application/octet-stream` unless `mediaType` says otherwise). */
  rawResponse?: { description: string; mediaType?: string };
  /** Status of a successful answer; 204 answers have no response schema. */
  status: 200 | 201 | 204;
  response?: z.ZodType;
  /**
   * false skips checking the answer against `response` (it is still documented by it). Only for
   * answers too large to check cheaply that the server builds from typed data itself (compare).
   */
  checkResponse?: false;
  /** Errors this route raises on its own, beyond validation/auth/internal (e.g. not_found). */
  errors?: readonly ErrorCode[];
}

/** A feature's routes, keyed by operationId, in the order they are mounted. */
export type RouteGroup = Record<string, RouteContract>;

/** Declares a route, keeping its literal method, path and schema types for handlers and clients. */
export function route<const T extends RouteContract>(contract: T): T {
  return contract;
}

/** The parsed (server-side) type of a route's params, query or body; undefined when it has none. */
export type ParsedPart<C, K extends 'params' | 'query' | 'body'> = C extends { [P in K]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined;

/** What a client sends as a route's params, query or body (before defaults and transforms). */
export type SentPart<C, K extends 'params' | 'query' | 'body'> = C extends { [P in K]: infer S extends z.ZodType } ? z.input<S> : undefined;

/** The JSON answer of a route, or undefined for 204 and raw answers. */
export type RouteResponse<C> = C extends { response: infer S extends z.ZodType } ? z.output<S> : undefined;
