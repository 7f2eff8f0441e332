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

const SECRET_PREFIX: Record<TokenScope, string> = { user: 'rl_u_', runner: 'rl_r_' };
/** How much of a secret is kept in clear, enough to tell tokens apart in a list. */
const VISIBLE_PREFIX_LENGTH = 10;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toInfo({ secretHash: _hash, ...info }: TokenRecord): TokenInfo {
  return info;
}

export class AuthService {
  private readonly revokedListeners = new Set<(tokenId: string) => void>();

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
   * `runlab token revoke` CLI writes the database directly).
   */
  isActive(tokenId: string): boolean {
    const token = this.store.findById(tokenId);
    return token !== undefined && !token.revokedAt;
  }

  createToken(name: string, scope: TokenScope): CreateTokenResponse {
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
      revokedAt: null
    };
    this.store.insert(record);
    return { token: toInfo(record), secret };
  }

  listTokens(): TokenInfo[] {
    return this.store.list().map(toInfo);
  }

  /** Revokes a token (idempotent); the returned info carries the revocation time. */
  revokeToken(id: string): TokenInfo {
    if (!this.store.findById(id)) throw notFound(`Token ${id}`);
    this.store.revoke(id, this.now().toISOString());
    for (const listener of this.revokedListeners) listener(id);
    return toInfo(this.store.findById(id) as TokenRecord);
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
        `Token "${token.name}" was revoked at ${token.revokedAt}; create a new one with \`runlab token create\``
      );
    }
    this.store.markUsed(token.id, this.now().toISOString());
    return { tokenId: token.id, name: token.name, scope: token.scope };
  }

  /**
   * Makes sure `<dataDir>/admin-token` holds the secret of an active local-admin token, so the
   * machine's owner (and `npm start`) always has a working credential. Creating one happens on
   * first start, and again after the old one was revoked — revoking it is how to rotate it.
   * Returns true when a new token was written.
   */
  ensureLocalAdminToken(dataDir: string): boolean {
    const file = path.join(dataDir, ADMIN_TOKEN_FILE);
    if (fs.existsSync(file)) {
      const existing = this.store.findBySecretHash(hashSecret(fs.readFileSync(file, 'utf8').trim()));
      if (existing && !existing.revokedAt) return false;
    }
    const { secret } = this.createToken(LOCAL_ADMIN_TOKEN_NAME, 'user');
    // Write then rename, so a reader never sees a half-written file; 0600 keeps it private.
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${secret}\n`, { mode: 0o600 });
    fs.chmodSync(temporary, 0o600);
    fs.renameSync(temporary, file);
    return true;
  }
}
