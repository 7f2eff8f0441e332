/** SQL for artifacts: the files stored with runs, one row per (run, path), content in the blob store. */
import type { Database, Statement } from 'better-sqlite3';
import type { Artifact } from '../contract';

interface ArtifactRow {
  path: string;
  size: number;
  digest: string;
  created_at: string;
}

const toArtifact = (row: ArtifactRow): Artifact => ({ path: row.path, size: row.size, digest: row.digest, createdAt: row.created_at });

export class ArtifactStore {
  private readonly statements: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      artifacts: prepare('SELECT path, size, digest, created_at FROM artifacts WHERE run_id = ? ORDER BY path'),
      artifact: prepare('SELECT path, size, digest, created_at FROM artifacts WHERE run_id = ? AND path = ?'),
      withProject: prepare(`SELECT a.path, a.size, a.digest, a.created_at, p.name AS project_name
        FROM artifacts a JOIN runs r ON r.id = a.run_id JOIN projects p ON p.id = r.project_id
        WHERE a.run_id = ? AND a.path = ?`),
      digests: prepare('SELECT DISTINCT digest FROM artifacts WHERE run_id = ?'),
      upsert: prepare(`INSERT INTO artifacts (run_id, path, digest, size, created_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (run_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size, created_at = excluded.created_at`)
    };
  }

  /** A run's artifacts, by path. */
  artifacts(runId: string): Artifact[] {
    return (this.statements.artifacts.all(runId) as ArtifactRow[]).map(toArtifact);
  }

  artifact(runId: string, path: string): Artifact | undefined {
    const row = this.statements.artifact.get(runId, path) as ArtifactRow | undefined;
    return row && toArtifact(row);
  }

  /** An artifact with the name of its run's project (for provenance nodes). */
  artifactWithProject(runId: string, path: string): (Artifact & { projectName: string }) | undefined {
    const row = this.statements.withProject.get(runId, path) as (ArtifactRow & { project_name: string }) | undefined;
    return row && { ...toArtifact(row), projectName: row.project_name };
  }

  /** The blobs a run's artifacts use. */
  digests(runId: string): string[] {
    return (this.statements.digests.all(runId) as { digest: string }[]).map((row) => row.digest);
  }

  /** Stores the artifact at its path, replacing the row of an earlier one there. */
  upsert(runId: string, artifact: Artifact): void {
    this.statements.upsert.run(runId, artifact.path, artifact.digest, artifact.size, artifact.createdAt);
  }
}
