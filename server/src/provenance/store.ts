/** SQL for provenance: the edges between node refs (the nodes are their features' rows). */
import type { Database, Statement } from 'better-sqlite3';

const IN_REFS = 'IN (SELECT value FROM json_each(?))';

export class ProvenanceStore {
  private readonly statements: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      link: prepare('INSERT OR IGNORE INTO provenance_edges (from_ref, to_ref, project_id, created_at) VALUES (?, ?, ?, ?)'),
      edgesTo: prepare(`SELECT from_ref, to_ref FROM provenance_edges WHERE to_ref ${IN_REFS} ORDER BY created_at, from_ref`).raw(),
      edgesFrom: prepare(`SELECT from_ref, to_ref FROM provenance_edges WHERE from_ref ${IN_REFS} ORDER BY created_at, to_ref`).raw()
    };
  }

  /** Records that `from` was used to make `to` (once). */
  link(projectId: string, from: string, to: string, at: string): void {
    this.statements.link.run(from, to, projectId, at);
  }

  /** Edges [from, to] ending at any of `refs`. */
  edgesTo(refs: readonly string[]): [string, string][] {
    return this.statements.edgesTo.all(JSON.stringify(refs)) as [string, string][];
  }

  /** Edges [from, to] starting at any of `refs`. */
  edgesFrom(refs: readonly string[]): [string, string][] {
    return this.statements.edgesFrom.all(JSON.stringify(refs)) as [string, string][];
  }
}
