/** Bearer-token authentication for HTTP routes (the registry calls it for each non-public route). */
import type { Request } from 'express';
import type { TokenScope } from '../contract';
import { AppError } from '../http/errors';
import type { Authenticator, Principal, RouteScope } from '../http/registry';
import type { AuthService } from './service';

/** Whether a token of scope `held` may use something meant for `needed`: admin includes user. */
export function scopeAllows(held: TokenScope, needed: Exclude<RouteScope, 'public'>): boolean {
  if (needed === 'any' || needed === held) return true;
  return needed === 'user' && held === 'admin';
}

/** Checks that a principal may use something meant for `scope`; 403 otherwise. */
export function requireScope(principal: Principal, scope: Exclude<RouteScope, 'public'>): void {
  if (!scopeAllows(principal.scope, scope)) {
    const needed = scope === 'user' ? 'user or admin' : scope;
    throw new AppError('forbidden', `This needs a ${needed} token; the presented token "${principal.name}" has scope ${principal.scope}`);
  }
}

export function createAuthenticator(auth: AuthService): Authenticator {
  return (req: Request, scope) => {
    const header = req.headers.authorization;
    if (!header) {
      throw new AppError(
        'unauthorized',
        'Missing bearer token: send Authorization: Bearer <token> (the local admin token is in <data dir>/admin-token)'
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new AppError('unauthorized', 'Malformed Authorization header: expected "Bearer <token>"');
    }
    const principal = auth.authenticate(match[1]);
    requireScope(principal, scope);
    return principal;
  };
}
