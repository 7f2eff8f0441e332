/** SQL of retrains (migration 19). */
import type { Database } from '../../db/database';
import type { Retrain } from '../../contract';

interface RetrainRow {
  id: string;
  deployment_id: string;
  alert_id: string | null;
  source_run_id: string;
  model_name: string;
  from_model_version_id: string;
  job_id: string;
  run_id: string;
  datasets: string;
  status: Retrain['status'];
  new_model_version_id: string | null;
  new_version: number | null;
  canary_percent: number;
  promote: number;
  error: string | null;
  created_at: string;
  created_by: string;
  finished_at: string | null;
}

const toRetrain = (row: RetrainRow): Retrain => ({
  id: row.id,
  deploymentId: row.deployment_id,
  alertId: row.alert_id,
  sourceRunId: row.source_run_id,
  modelName: row.model_name,
  fromModelVersionId: row.from_model_version_id,
  jobId: row.job_id,
  runId: row.run_id,
  datasets: JSON.parse(row.datasets) as Record<string, string>,
  status: row.status,
  newModelVersionId: row.new_model_version_id,
  newVersion: row.new_version,
  canaryPercent: row.canary_percent,
  promote: row.promote === 1,
  error: row.error,
  createdAt: row.created_at,
  createdBy: row.created_by,
  finishedAt: row.finished_at
});

/** Statuses of a retrain still under way (at most one per deployment). */
export const ACTIVE_RETRAIN = ['queued', 'running'] as const;

export class RetrainStore {
  constructor(private readonly db: Database) {}

  insert(retrain: Retrain): void {
    this.db
      .prepare(
        `INSERT INTO retrains (id, deployment_id, alert_id, source_run_id, model_name, from_model_version_id, job_id, run_id, datasets, status,
           new_model_version_id, new_version, canary_percent, promote, error, created_at, created_by, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        retrain.id,
        retrain.deploymentId,
        retrain.alertId,
        retrain.sourceRunId,
        retrain.modelName,
        retrain.fromModelVersionId,
        retrain.jobId,
        retrain.runId,
        JSON.stringify(retrain.datasets),
        retrain.status,
        retrain.newModelVersionId,
        retrain.newVersion,
        retrain.canaryPercent,
        retrain.promote ? 1 : 0,
        retrain.error,
        retrain.createdAt,
        retrain.createdBy,
        retrain.finishedAt
      );
  }

  update(id: string, changes: Partial<Pick<Retrain, 'status' | 'newModelVersionId' | 'newVersion' | 'error' | 'finishedAt'>>): void {
    const current = this.get(id);
    if (!current) return;
    const next = { ...current, ...changes };
    this.db
      .prepare('UPDATE retrains SET status = ?, new_model_version_id = ?, new_version = ?, error = ?, finished_at = ? WHERE id = ?')
      .run(next.status, next.newModelVersionId, next.newVersion, next.error, next.finishedAt, id);
  }

  get(id: string): Retrain | undefined {
    const row = this.db.prepare('SELECT * FROM retrains WHERE id = ?').get(id) as RetrainRow | undefined;
    return row && toRetrain(row);
  }

  ofDeployment(deploymentId: string): Retrain[] {
    const rows = this.db
      .prepare('SELECT * FROM retrains WHERE deployment_id = ? ORDER BY created_at DESC, rowid DESC')
      .all(deploymentId) as RetrainRow[];
    return rows.map(toRetrain);
  }

  activeOfDeployment(deploymentId: string): Retrain | undefined {
    const row = this.db
      .prepare("SELECT * FROM retrains WHERE deployment_id = ? AND status IN ('queued', 'running') ORDER BY created_at DESC LIMIT 1")
      .get(deploymentId) as RetrainRow | undefined;
    return row && toRetrain(row);
  }

  activeOfJob(jobId: string): Retrain | undefined {
    const row = this.db.prepare("SELECT * FROM retrains WHERE job_id = ? AND status IN ('queued', 'running')").get(jobId) as
      RetrainRow | undefined;
    return row && toRetrain(row);
  }

  activeOfRun(runId: string): Retrain | undefined {
    const row = this.db.prepare("SELECT * FROM retrains WHERE run_id = ? AND status IN ('queued', 'running')").get(runId) as
      RetrainRow | undefined;
    return row && toRetrain(row);
  }
}
