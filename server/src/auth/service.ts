/** Tokens: creation, listing, revocation and authentication of presented secrets. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CreateTokenResponse, TokenInfo, TokenScope } from '../contract';
import { AppError, notFound } from '../http/errors';
import type { Principal } from '../http/registry';
import type { TokenRecord, TokenStore } from './store';

export const LOCAL_ADMIN_TOKEN_NAME = 'local-admin';
export const ADMIN_TOKEN_FILE = 'admin-token';

const SECRET_PREFIX: Record<TokenScope, string> = { admin: 'rl_a_', user: 'rl_u_', runner: 'rl_r_', deployment: 'rl_d_' };
/** How much of a secret is kept in clear, enough to tell tokens apart in a list. */
const VISIBLE_PREFIX_LENGTH = 10;

/**
 * The machine's operator: the `runlab-server token` CLI and the server itself, which work on the data
 * directory directly. It may do anything with tokens, so a locked-out API can always be repaired.
 */
export const OPERATOR = 'operator';
/** Who asks for a token operation: a token presented to the API, or the operator. */
export type TokenActor = Principal | typeof OPERATOR;

const isAdmin = (actor: TokenActor): boolean => actor === OPERATOR || actor.scope === 'admin';

const CREATE_ADMIN_HINT = 'npx runlab-server token create --name <name> --scope admin';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toInfo({ secretHash: _hash, ...info }: TokenRecord): TokenInfo {
  return info;
}

/** lastUsedAt is advisory ("used in the last minute"): written at most this often per token. */
const MARK_USED_EVERY_MS = 60_000;

export class AuthService {
  private readonly revokedListeners = new Set<(tokenId: string) => void>();
  /** token id → when this process last wrote its lastUsedAt (ms). */
  private readonly markedAt = new Map<string, number>();

  constructor(
    private readonly store: TokenStore,
    private readonly now: () => Date = () => new Date()
  ) {}

  /** Calls `listener` with the id of each token revoked through this service; returns an unsubscribe. */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /**
   * Whether a token is still usable. Also sees revocations written by another process (the
   * `runlab-server token revoke` CLI writes the database directly).
   */
  isActive(tokenId: string): boolean {
    const token = this.store.findById(tokenId);
    return token !== undefined && !token.revokedAt;
  }

  /**
   * Creates a token. Admins (and the operator) create any scope; a user token creates user and
   * runner tokens (a runner token registers a machine), which it then owns.
   */
  createToken(name: string, scope: TokenScope, actor: TokenActor): CreateTokenResponse {
    if (actor !== OPERATOR) {
      if (actor.scope === 'runner') {
        throw new AppError('forbidden', `A runner token cannot create tokens; "${actor.name}" has scope runner`);
      }
      if (scope === 'deployment') {
        throw new AppError(
          'forbidden',
          "Deployment tokens are made by the server for each deployment's serving runtime; deploy a model instead"
        );
      }
      if (scope === 'admin' && !isAdmin(actor)) {
        throw new AppError(
          'forbidden',
          `Only an admin token can create admin tokens; "${actor.name}" has scope ${actor.scope}. ` +
            `Ask an admin, or run \`${CREATE_ADMIN_HINT}\` on the server's machine`
        );
      }
    }
    // 32 random bytes: unguessable, so a fast hash (SHA-256) is enough to store it safely.
    const secret = SECRET_PREFIX[scope] + randomBytes(32).toString('base64url');
    const record: TokenRecord = {
      id: randomUUID(),
      name,
      scope,
      prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH),
      secretHash: hashSecret(secret),
      createdAt: this.now().toISOString(),
      lastUsedAt: null,
      revokedAt: null,
      createdBy: actor === OPERATOR ? null : actor.tokenId
    };
    this.store.insert(record);
    return { token: toInfo(record), secret };
  }

  /** Every token for admins; for a user token, itself and the tokens it created (transitively). */
  listTokens(actor: TokenActor): TokenInfo[] {
    const tokens = isAdmin(actor) ? this.store.list() : this.store.listOwnedBy((actor as Principal).tokenId);
    return tokens.map(toInfo);
  }

  /** Active admin tokens; when none is left, only the operator can manage tokens. */
  countActiveAdmins(): number {
    return this.store.countActive('admin');
  }

  /**
   * Revokes a token (idempotent); the returned info carries the revocation time. A user token
   * revokes only what it lists (403 otherwise); nobody but the operator may revoke the last
   * active admin token (409), so the API cannot lock itself out of token management.
   */
  revokeToken(id: string, actor: TokenActor): TokenInfo {
    const revoked = this.store.inTransaction(() => {
      const token = this.store.findById(id);
      if (!token) throw notFound(`Token ${id}`);
      if (actor !== OPERATOR) {
        if (!isAdmin(actor) && !this.store.listOwnedBy(actor.tokenId).some((owned) => owned.id === id)) {
          throw new AppError(
            'forbidden',
            `Token "${actor.name}" may revoke only itself and the tokens it created; token ${id} is not one of them. ` +
              `Ask an admin to revoke it (\`npx runlab-server token revoke ${id}\` on the server's machine)`
          );
        }
        if (token.scope === 'admin' && !token.revokedAt && this.store.countActive('admin') <= 1) {
          throw new AppError(
            'conflict',
            `Token "${token.name}" is the last active admin token; without it nobody could manage tokens through the API. ` +
              `Create another admin token first (POST /api/tokens with "scope": "admin", or \`${CREATE_ADMIN_HINT}\` on the ` +
              "server's machine), then revoke this one"
          );
        }
      }
      this.store.revoke(id, this.now().toISOString());
      return this.store.findById(id) as TokenRecord;
    });
    for (const listener of this.revokedListeners) listener(id);
    return toInfo(revoked);
  }

  /** Finds the active token for a secret and records its use; 401 otherwise. */
  authenticate(secret: string): Principal {
    const token = this.store.findBySecretHash(hashSecret(secret));
    if (!token) {
      throw new AppError('unauthorized', 'Invalid token: it is not known to this server; check it or create a new one');
    }
    if (token.revokedAt) {
      throw new AppError(
        'unauthorized',
        `Token "${token.name}" was revoked at ${token.revokedAt}; create a new one with \`runlab-server token create\``
      );
    }
    const now = this.now();
    const marked = this.markedAt.get(token.id);
    if (marked === undefined || now.getTime() - marked >= MARK_USED_EVERY_MS) {
      // A write (a WAL commit) on every request would cost more than the rest of authenticating.
      this.store.markUsed(token.id, now.toISOString());
      this.markedAt.set(token.id, now.getTime());
    }
    return { tokenId: token.id, name: token.name, scope: token.scope };
  }

  /**
   * Makes sure `<dataDir>/admin-token` holds the secret of an active local-admin token, so the
   * machine's owner (and `npm start`) always has a working credential. Creating one happens on
   * first start, and again after the old one was revoked — revoking it is how to rotate it (with
   * `runlab-server token revoke`, or through the API once another admin token exists).
   * Returns 'created' when a new token was written, 'upgraded' when the existing one, a user
   * token from before the admin scope existed, was given scope admin.
   */
  ensureLocalAdminToken(dataDir: string): 'created' | 'upgraded' | undefined {
    const file = path.join(dataDir, ADMIN_TOKEN_FILE);
    if (fs.existsSync(file)) {
      const existing = this.store.findBySecretHash(hashSecret(fs.readFileSync(file, 'utf8').trim()));
      if (existing && !existing.revokedAt) {
        // Written by a Runlab from before the admin scope (schema migration 9), when it was a user token.
        if (existing.scope === 'user' && existing.name === LOCAL_ADMIN_TOKEN_NAME) {
          this.store.setScope(existing.id, 'admin');
          return 'upgraded';
        }
        return undefined;
      }
    }
    const { secret } = this.createToken(LOCAL_ADMIN_TOKEN_NAME, 'admin', OPERATOR);
    // Write then rename, so a reader never sees a half-written file; 0600 keeps it private.
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${secret}\n`, { mode: 0o600 });
    fs.chmodSync(temporary, 0o600);
    fs.renameSync(temporary, file);
    return 'created';
  }
}
