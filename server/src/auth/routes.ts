import {
  CreateTokenRequest,
  CreateTokenResponse,
  IdParams,
  TokenListResponse,
  WhoAmIResponse
} from '../contract';
import { defineRoute, type Route } from '../http/registry';
import type { AuthService } from './service';

/**
 * Token management. Admin tokens manage every token; a user token lists and revokes itself and
 * the tokens it created, and creates user and runner tokens (see AuthService for the rules).
 */
export function authRoutes(auth: AuthService): Route[] {
  return [
    defineRoute({
      operationId: 'whoAmI',
      method: 'get',
      path: '/api/auth/whoami',
      summary: 'Who the presented token belongs to',
      tag: 'auth',
      scope: 'any',
      status: 200,
      response: WhoAmIResponse,
      handle: ({ principal }) => principal!
    }),
    defineRoute({
      operationId: 'listTokens',
      method: 'get',
      path: '/api/tokens',
      summary: 'List tokens (never their secrets): all of them for an admin, otherwise your own',
      tag: 'auth',
      scope: 'user',
      status: 200,
      response: TokenListResponse,
      handle: ({ principal }) => ({ tokens: auth.listTokens(principal!) })
    }),
    defineRoute({
      operationId: 'createToken',
      method: 'post',
      path: '/api/tokens',
      summary: 'Create a token; its secret is shown only in this answer. Only admins create admin tokens',
      tag: 'auth',
      scope: 'user',
      body: CreateTokenRequest,
      status: 201,
      response: CreateTokenResponse,
      handle: ({ body, principal, log }) => {
        const created = auth.createToken(body.name, body.scope, principal!);
        log.info({ tokenId: created.token.id, scope: created.token.scope, createdBy: principal!.tokenId }, 'token created');
        return created;
      }
    }),
    defineRoute({
      operationId: 'revokeToken',
      method: 'delete',
      path: '/api/tokens/:id',
      summary: 'Revoke a token: any for an admin, otherwise your own; never the last active admin token',
      tag: 'auth',
      scope: 'user',
      params: IdParams,
      status: 204,
      errors: ['not_found', 'conflict'],
      handle: ({ params, principal, log }) => {
        auth.revokeToken(params.id, principal!);
        log.info({ tokenId: params.id, revokedBy: principal!.tokenId }, 'token revoked');
        return undefined;
      }
    })
  ];
}
