import { RunlabRequestError } from '../request';

/**
 * A sentence saying what went wrong and what to do about it. `api` names the part of the
 * server's API the action needed (`datasets`), for a server too old to have it.
 */
export function describeError(action: string, error: unknown, api: string): string {
  if (error instanceof RunlabRequestError) {
    if (error.status === 0) {
      return `${action}: ${error.message} Check that the Runlab server is running (\`npm start\`).`;
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
