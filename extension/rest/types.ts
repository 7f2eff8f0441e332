/**
 * Types of the extension's REST client, derived from the contract's route declarations
 * (server/src/contract): what each operation takes and answers. Type-only: no zod code
 * reaches the browser bundle.
 */
import type { Api, RouteResponse, SentPart } from '../../server/src/contract';

/** One row of the generated route table: an operation's method and path, as the contract has them. */
type RouteEntry<C> = C extends { method: infer M; path: infer P }
  ? { readonly method: M; readonly path: P } & (C extends { rawResponse: object } ? { readonly raw: true } : { readonly raw?: never })
  : never;

/** The shape of the generated route table: every operation of every feature. */
export type RouteTable = {
  readonly [F in keyof Api]: { readonly [O in keyof Api[F]]: RouteEntry<Api[F][O]> };
};

type Part = 'params' | 'query' | 'body';

/** Query values travel as text; a number may stand for its digits (`limit: 50`). */
type QueryInput<Q> = { [K in keyof Q]: NonNullable<Q[K]> extends string ? Q[K] | number : Q[K] };

/** What a call sends: `params` and `body` when the route has them, `query` (optional) when it takes one. */
export type CallInput<C> = {
  [K in Exclude<Part, 'query'> as SentPart<C, K> extends undefined ? never : K]: SentPart<C, K>;
} & { [K in 'query' as SentPart<C, K> extends undefined ? never : K]?: QueryInput<SentPart<C, K>> };

/** What a call answers: the JSON response, a Blob for routes that answer bytes, nothing for 204. */
export type CallOutput<C> = C extends { rawResponse: object } ? Blob : RouteResponse<C>;

export interface ICallOptions {
  /** Abandon the request after this long (default: the request helper's). */
  timeoutMs?: number;
}

/** One operation: `api.runs.getRun({ params: { id } })`. Routes with nothing to send take no input. */
export type Call<C> = keyof CallInput<C> extends never
  ? (input?: Record<string, never>, options?: ICallOptions) => Promise<CallOutput<C>>
  : (input: CallInput<C>, options?: ICallOptions) => Promise<CallOutput<C>>;

/** The typed client: one method per operation, grouped by feature, named by operationId. */
export type ApiClient = {
  readonly [F in keyof Api]: { readonly [O in keyof Api[F]]: Call<Api[F][O]> };
};

/** What the client needs from the request helper: send one request, answer JSON or bytes. */
export interface IApiTransport {
  send(path: string, init: RequestInit, answer: 'json' | 'blob', timeoutMs?: number): Promise<unknown>;
}
