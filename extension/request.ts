/**
 * The one request helper: every call to the companion server goes through it, so the token,
 * base URL, JSON handling, timeouts and error shape are handled in one place.
 */
import type { ErrorResponse, FieldProblem } from '../server/src/contract';

export class RunlabRequestError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached at all. */
    readonly status: number,
    /** The contract's error code, or `unreachable` / `timeout` / `bad_response`. */
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = []
  ) {
    super(message);
    this.name = 'RunlabRequestError';
  }
}

export interface IRequestTarget {
  serverUrl: string;
  token: string;
}

export const DEFAULT_TIMEOUT_MS = 5000;

export function apiUrl(serverUrl: string, path: string): string {
  return serverUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : '/' + path);
}

/**
 * Sends one request to the companion server and answers its JSON (`answer: 'blob'`: its bytes).
 * Call sites use the typed client (api/), which names the operation and builds the path.
 */
export async function requestAPI<T>(
  target: IRequestTarget,
  path: string,
  init: RequestInit = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
  answer: 'json' | 'blob' = 'json'
): Promise<T> {
  const headers = new Headers(init.headers);
  if (target.token) {
    headers.set('Authorization', `Bearer ${target.token}`);
  }
  if (init.body !== undefined && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json');
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  try {
    response = await fetch(apiUrl(target.serverUrl, path), {
      ...init,
      headers,
      signal: controller.signal
    });
  } catch (error) {
    const timedOut = controller.signal.aborted;
    throw new RunlabRequestError(
      0,
      timedOut ? 'timeout' : 'unreachable',
      timedOut
        ? `The Runlab server at ${target.serverUrl} did not answer within ${timeoutMs / 1000} s.`
        : `Cannot reach the Runlab server at ${target.serverUrl}.`
    );
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) {
    return undefined as T;
  }
  if (answer === 'blob' && response.ok) {
    return (await response.blob()) as T;
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new RunlabRequestError(
      response.status,
      'bad_response',
      `The server at ${target.serverUrl} answered with something that is not JSON (HTTP ${response.status}). Is it a Runlab server?`
    );
  }
  if (!response.ok) {
    const error = (body as ErrorResponse | undefined)?.error;
    throw new RunlabRequestError(
      response.status,
      error?.code ?? 'bad_response',
      error?.message ?? `HTTP ${response.status}`,
      error?.details ?? []
    );
  }
  return body as T;
}
