import { authApi } from '../contract';
import { implement, type Route } from '../http/registry';
import type { AuthService } from './service';

/**
 * Token management. Admin tokens manage every token; a user token lists and revokes itself and
 * the tokens it created, and creates user and runner tokens (see AuthService for the rules).
 */
export function authRoutes(auth: AuthService): Route[] {
  return implement(authApi, {
    whoAmI: ({ principal }) => principal!,
    listTokens: ({ principal }) => ({ tokens: auth.listTokens(principal!) }),
    createToken: ({ body, principal, log }) => {
      const created = auth.createToken(body.name, body.scope, principal!);
      log.info({ tokenId: created.token.id, scope: created.token.scope, createdBy: principal!.tokenId }, 'token created');
      return created;
    },
    revokeToken: ({ params, principal, log }) => {
      auth.revokeToken(params.id, principal!);
      log.info({ tokenId: params.id, revokedBy: principal!.tokenId }, 'token revoked');
      return undefined;
    }
  });
}
