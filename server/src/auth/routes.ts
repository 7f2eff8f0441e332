import {
  CreateTokenRequest,
  CreateTokenResponse,
  IdParams,
  TokenListResponse,
  WhoAmIResponse
} from '../contract';
import { defineRoute, type Route } from '../http/registry';
import type { AuthService } from './service';

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
      summary: 'List tokens (never their secrets)',
      tag: 'auth',
      scope: 'user',
      status: 200,
      response: TokenListResponse,
      handle: () => ({ tokens: auth.listTokens() })
    }),
    defineRoute({
      operationId: 'createToken',
      method: 'post',
      path: '/api/tokens',
      summary: 'Create a token; its secret is shown only in this answer',
      tag: 'auth',
      scope: 'user',
      body: CreateTokenRequest,
      status: 201,
      response: CreateTokenResponse,
      handle: ({ body, log }) => {
        const created = auth.createToken(body.name, body.scope);
        log.info({ tokenId: created.token.id, scope: created.token.scope }, 'token created');
        return created;
      }
    }),
    defineRoute({
      operationId: 'revokeToken',
      method: 'delete',
      path: '/api/tokens/:id',
      summary: 'Revoke a token',
      tag: 'auth',
      scope: 'user',
      params: IdParams,
      status: 204,
      errors: ['not_found'],
      handle: ({ params, log }) => {
        auth.revokeToken(params.id);
        log.info({ tokenId: params.id }, 'token revoked');
        return undefined;
      }
    })
  ];
}
