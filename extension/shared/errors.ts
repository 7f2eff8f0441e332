import { RunlabRequestError } from '../request';

/**
 * A sentence saying what went wrong and what to do about it. `api` names the part of the
 * server's API the action needed (`datasets`), for a server too old to have it.
 */
export function describeError(action: string, error: unknown, api: string): string {
  if (error instanceof RunlabRequestError) {
    if (error.status === 0) {
      // Which server is unreachable, and what brings it back, depends on the connection: the
      // Runlab panel says it for the state the user is in (connection/messages.ts).
      return `${action}: ${error.message} The Runlab panel (Runlab → Show Panel) says which server is configured and what to do.`;
    }
    if (error.status === 404 && error.message.startsWith('No route')) {
      return `${action}: this Runlab server has no ${api} API. Upgrade the server to the same version as the extension.`;
    }
    if (error.status === 401 || error.status === 403) {
      return `${action}: the server rejected the token. Sign in again (Runlab → Sign In).`;
    }
  }
  return `${action}: ${(error as Error).message}`;
}
