/** SQL for provenance: edges between node refs, and the run and artifact nodes they name. */
import type { Database, Statement } from 'better-sqlite3';

export interface RunNodeRow {
  id: string;
  name: string;
  status: string;
  started_at: string;
  project_name: string;
}

export interface ArtifactNodeRow {
  run_id: string;
  path: string;
  size: number;
  created_at: string;
  project_name: string;
}

const IN_REFS = 'IN (SELECT value FROM json_each(?))';

export class ProvenanceStore {
  private readonly statements: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      link: prepare('INSERT OR IGNORE INTO provenance_edges (from_ref, to_ref, project_id, created_at) VALUES (?, ?, ?, ?)'),
      edgesTo: prepare(`SELECT from_ref, to_ref FROM provenance_edges WHERE to_ref ${IN_REFS} ORDER BY created_at, from_ref`).raw(),
      edgesFrom: prepare(`SELECT from_ref, to_ref FROM provenance_edges WHERE from_ref ${IN_REFS} ORDER BY created_at, to_ref`).raw(),
      runs: prepare(`SELECT r.id, r.name, r.status, r.started_at, p.name AS project_name
        FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id ${IN_REFS}`),
      artifact: prepare(`SELECT a.run_id, a.path, a.size, a.created_at, p.name AS project_name
        FROM artifacts a JOIN runs r ON r.id = a.run_id JOIN projects p ON p.id = r.project_id
        WHERE a.run_id = ? AND a.path = ?`)
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

  runs(ids: readonly string[]): RunNodeRow[] {
    return this.statements.runs.all(JSON.stringify(ids)) as RunNodeRow[];
  }

  artifact(runId: string, path: string): ArtifactNodeRow | undefined {
    return this.statements.artifact.get(runId, path) as ArtifactNodeRow | undefined;
  }
}
