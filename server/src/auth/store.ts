/** SQL for tokens. Only the SHA-256 hash of a secret is ever stored. */
import type { Database } from '../db/database';
import type { TokenInfo, TokenScope } from '../contract';

export interface TokenRecord extends TokenInfo {
  secretHash: string;
}

interface TokenRow {
  id: string;
  name: string;
  scope: TokenScope;
  secret_hash: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  created_by: string | null;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    createdBy: row.created_by
  };
}

export class TokenStore {
  private readonly bySecretHash;
  private readonly markUsedStatement;

  constructor(private readonly db: Database) {
    // Prepared once: every authenticated request looks its token up.
    this.bySecretHash = db.prepare('SELECT * FROM tokens WHERE secret_hash = ?');
    this.markUsedStatement = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  }

  insert(token: TokenRecord): void {
    this.db
      .prepare(
        `INSERT INTO tokens (id, name, scope, secret_hash, prefix, created_at, last_used_at, revoked_at, created_by)
         VALUES (@id, @name, @scope, @secretHash, @prefix, @createdAt, @lastUsedAt, @revokedAt, @createdBy)`
      )
      .run(token);
  }

  list(): TokenRecord[] {
    return (this.db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all() as TokenRow[]).map(toRecord);
  }

  /** A token and every token created from it, directly or through tokens it created. */
  listOwnedBy(tokenId: string): TokenRecord[] {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE owned (id) AS (
           SELECT ?
           UNION
           SELECT tokens.id FROM tokens JOIN owned ON tokens.created_by = owned.id
         )
         SELECT tokens.* FROM tokens JOIN owned USING (id) ORDER BY created_at, id`
      )
      .all(tokenId) as TokenRow[];
    return rows.map(toRecord);
  }

  findById(id: string): TokenRecord | undefined {
    const row = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row && toRecord(row);
  }

  findBySecretHash(secretHash: string): TokenRecord | undefined {
    const row = this.bySecretHash.get(secretHash) as TokenRow | undefined;
    return row && toRecord(row);
  }

  countActive(scope: TokenScope): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM tokens WHERE scope = ? AND revoked_at IS NULL').get(scope) as {
      n: number;
    };
    return row.n;
  }

  markUsed(id: string, at: string): void {
    this.markUsedStatement.run(at, id);
  }

  setScope(id: string, scope: TokenScope): void {
    this.db.prepare('UPDATE tokens SET scope = ? WHERE id = ?').run(scope, id);
  }

  /** Sets revoked_at once; revoking again keeps the first time. */
  revoke(id: string, at: string): void {
    this.db.prepare('UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id);
  }

  /**
   * Runs `work` in one write transaction (BEGIN IMMEDIATE), so a check and the write it allows
   * cannot interleave with another process (the CLI) writing the same table.
   */
  inTransaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }
}
