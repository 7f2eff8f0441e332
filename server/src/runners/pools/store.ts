/**
 * SQL for runner pools (migration 17). The runners a pool starts are ordinary rows of `runners`
 * (pool_id, reserved_job_id): runners/store.ts reads and writes those.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { KubernetesResources } from '../../contract';

export interface RunnerPoolRecord {
  id: string;
  name: string;
  kind: 'kubernetes';
  context: string;
  namespace: string;
  /** null: the server's RUNLAB_RUNNER_IMAGE. */
  image: string | null;
  labels: string[];
  resources: KubernetesResources;
  nodeSelector: Record<string, string>;
  maxParallel: number;
  createdAt: string;
  createdBy: string;
}

interface RunnerPoolRow {
  id: string;
  name: string;
  kind: 'kubernetes';
  context: string;
  namespace: string;
  image: string | null;
  labels: string;
  resources: string;
  node_selector: string;
  max_parallel: number;
  created_at: string;
  created_by: string;
}

const toPool = (row: RunnerPoolRow): RunnerPoolRecord => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  context: row.context,
  namespace: row.namespace,
  image: row.image,
  labels: JSON.parse(row.labels) as string[],
  resources: JSON.parse(row.resources) as KubernetesResources,
  nodeSelector: JSON.parse(row.node_selector) as Record<string, string>,
  maxParallel: row.max_parallel,
  createdAt: row.created_at,
  createdBy: row.created_by
});

export class RunnerPoolStore {
  private readonly statements: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      insert: prepare(`INSERT INTO runner_pools (id, name, kind, context, namespace, image, labels, resources, node_selector, max_parallel,
          created_at, created_by)
        VALUES (@id, @name, @kind, @context, @namespace, @image, @labels, @resources, @nodeSelector, @maxParallel, @createdAt, @createdBy)`),
      find: prepare('SELECT * FROM runner_pools WHERE id = ?'),
      findByName: prepare('SELECT * FROM runner_pools WHERE name = ?'),
      list: prepare('SELECT * FROM runner_pools ORDER BY created_at, id'),
      remove: prepare('DELETE FROM runner_pools WHERE id = ?')
    };
  }

  insert(pool: RunnerPoolRecord): void {
    this.statements.insert.run({
      ...pool,
      labels: JSON.stringify(pool.labels),
      resources: JSON.stringify(pool.resources),
      nodeSelector: JSON.stringify(pool.nodeSelector)
    });
  }

  find(id: string): RunnerPoolRecord | undefined {
    const row = this.statements.find.get(id) as RunnerPoolRow | undefined;
    return row && toPool(row);
  }

  findByName(name: string): RunnerPoolRecord | undefined {
    const row = this.statements.findByName.get(name) as RunnerPoolRow | undefined;
    return row && toPool(row);
  }

  list(): RunnerPoolRecord[] {
    return (this.statements.list.all() as RunnerPoolRow[]).map(toPool);
  }

  remove(id: string): boolean {
    return this.statements.remove.run(id).changes > 0;
  }
}
