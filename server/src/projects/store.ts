/** SQL for projects. The head commit is not stored: the git repository is its source of truth. */
import type { Database } from '../db/database';

export interface ProjectRecord {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

interface ProjectRow {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

const toRecord = (row: ProjectRow): ProjectRecord => ({
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: row.created_at,
  updatedAt: row.updated_at
});

/** True when SQLite refused a write because of a UNIQUE constraint (a duplicate name). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class ProjectStore {
  constructor(private readonly db: Database) {}

  insert(project: ProjectRecord): void {
    this.db
      .prepare(
        `INSERT INTO projects (id, name, description, created_at, updated_at)
         VALUES (@id, @name, @description, @createdAt, @updatedAt)`
      )
      .run(project);
  }

  list(filter: { name?: string } = {}): ProjectRecord[] {
    const rows =
      filter.name === undefined
        ? this.db.prepare('SELECT * FROM projects ORDER BY name').all()
        : this.db.prepare('SELECT * FROM projects WHERE name = ?').all(filter.name);
    return (rows as ProjectRow[]).map(toRecord);
  }

  findById(id: string): ProjectRecord | undefined {
    const row = this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id) as ProjectRow | undefined;
    return row && toRecord(row);
  }

  findByName(name: string): ProjectRecord | undefined {
    const row = this.db.prepare('SELECT * FROM projects WHERE name = ?').get(name) as ProjectRow | undefined;
    return row && toRecord(row);
  }

  update(project: ProjectRecord): void {
    this.db.prepare('UPDATE projects SET name = @name, description = @description, updated_at = @updatedAt WHERE id = @id').run(project);
  }

  /** Returns false when there was no such project. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM projects WHERE id = ?').run(id).changes > 0;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM projects').get() as { n: number }).n;
  }
}
