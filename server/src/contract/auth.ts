import { z } from 'zod';
import { IdParams } from './refs';
import { route } from './route';

/**
 * What a token may do:
 * - `admin`: everything a user token can, and managing every token (the local admin token in
 *   `<data dir>/admin-token` is one; `runlab-server token create --scope admin` makes more);
 * - `user`: the API and live connections; lists and revokes only itself and the tokens it created;
 * - `runner`: only runner endpoints (a machine that executes jobs), never user routes;
 * - `deployment`: made by the server for one deployment's serving runtime: that deployment's
 *   spec, its versions' files and its telemetry, nothing else (revoked when it is undeployed).
 */
export const TokenScope = z.enum(['admin', 'user', 'runner', 'deployment']);
export type TokenScope = z.infer<typeof TokenScope>;
/** The scopes a person may create a token with; `deployment` tokens are made by the server only. */
export const IssuableTokenScope = z.enum(['admin', 'user', 'runner']);

export const TokenInfo = z.strictObject({
  id: z.string(),
  name: z.string(),
  scope: TokenScope,
  /** First characters of the secret, so a user can tell tokens apart; never the secret. */
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** Id of the token that created this one through the API; null when made by the CLI or the server. */
  createdBy: z.string().nullable()
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const TokenName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\w .@-]+$/, 'use letters, digits, spaces and . _ - @');

export const CreateTokenRequest = z.strictObject({
  name: TokenName,
  scope: IssuableTokenScope.default('user')
});
export type CreateTokenRequest = z.input<typeof CreateTokenRequest>;

export const CreateTokenResponse = z.strictObject({
  token: TokenInfo,
  /** The secret, shown once; only its hash is stored. */
  secret: z.string()
});
export type CreateTokenResponse = z.infer<typeof CreateTokenResponse>;

export const TokenListResponse = z.strictObject({ tokens: z.array(TokenInfo) });
export type TokenListResponse = z.infer<typeof TokenListResponse>;

/** Who the presented token belongs to: GET /api/auth/whoami. */
export const WhoAmIResponse = z.strictObject({
  tokenId: z.string(),
  name: z.string(),
  scope: TokenScope
});
export type WhoAmIResponse = z.infer<typeof WhoAmIResponse>;

export const authApi = {
  whoAmI: route({
    method: 'get',
    path: '/api/auth/whoami',
    summary: 'Who the presented token belongs to',
    tag: 'auth',
    scope: 'any',
    status: 200,
    response: WhoAmIResponse
  }),
  listTokens: route({
    method: 'get',
    path: '/api/tokens',
    summary: 'List tokens (never their secrets): all of them for an admin, otherwise your own',
    tag: 'auth',
    scope: 'user',
    status: 200,
    response: TokenListResponse
  }),
  createToken: route({
    method: 'post',
    path: '/api/tokens',
    summary: 'Create a token; its secret is shown only in this answer. Only admins create admin tokens',
    tag: 'auth',
    scope: 'user',
    body: CreateTokenRequest,
    status: 201,
    response: CreateTokenResponse
  }),
  revokeToken: route({
    method: 'delete',
    path: '/api/tokens/:id',
    summary: 'Revoke a token: any for an admin, otherwise your own; never the last active admin token',
    tag: 'auth',
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found', 'conflict']
  })
};

/** Live events of auth. */
export interface AuthEvents {
  /** To one socket, just before the server disconnects it because its token was revoked. */
  'auth:revoked': (payload: { code: 'unauthorized'; message: string }) => void;
}
