/** SQL of sweeps and their trials (migration 20). */
import type { SweepSpec, SweepStatus, Trial, TrialStatus } from '../contract';
import type { Database } from '../db/database';

export interface SweepRecord {
  id: string;
  projectId: string;
  name: string;
  runId: string;
  notebookPath: string;
  snapshotCommit: string;
  spec: SweepSpec;
  status: SweepStatus;
  error: string | null;
  importance: Record<string, number>;
  createdAt: string;
  createdBy: string;
  finishedAt: string | null;
}

interface SweepRow {
  id: string;
  project_id: string;
  name: string;
  run_id: string;
  notebook_path: string;
  snapshot_commit: string;
  spec: string;
  status: SweepStatus;
  error: string | null;
  importance: string;
  created_at: string;
  created_by: string;
  finished_at: string | null;
}

export interface TrialRecord extends Omit<Trial, 'attempts'> {
  stopRequested: boolean;
}

interface TrialRow {
  id: string;
  sweep_id: string;
  number: number;
  params: string;
  status: TrialStatus;
  value: number | null;
  step: number | null;
  job_id: string | null;
  run_id: string | null;
  stop_requested: number;
  error: string | null;
  created_at: string;
  ended_at: string | null;
}

const toSweep = (row: SweepRow): SweepRecord => ({
  id: row.id,
  projectId: row.project_id,
  name: row.name,
  runId: row.run_id,
  notebookPath: row.notebook_path,
  snapshotCommit: row.snapshot_commit,
  spec: JSON.parse(row.spec) as SweepSpec,
  status: row.status,
  error: row.error,
  importance: JSON.parse(row.importance) as Record<string, number>,
  createdAt: row.created_at,
  createdBy: row.created_by,
  finishedAt: row.finished_at
});

const toTrial = (row: TrialRow): TrialRecord => ({
  id: row.id,
  sweepId: row.sweep_id,
  number: row.number,
  params: JSON.parse(row.params) as Trial['params'],
  status: row.status,
  value: row.value,
  step: row.step,
  jobId: row.job_id,
  runId: row.run_id,
  stopRequested: row.stop_requested === 1,
  error: row.error,
  createdAt: row.created_at,
  endedAt: row.ended_at
});

/** Trial statuses that hold a parallel slot. */
export const ACTIVE_TRIAL: readonly TrialStatus[] = ['queued', 'running'];

export type SweepChanges = Partial<Pick<SweepRecord, 'status' | 'error' | 'importance' | 'finishedAt'>>;
export type TrialChanges = Partial<
  Pick<TrialRecord, 'status' | 'value' | 'step' | 'jobId' | 'runId' | 'stopRequested' | 'error' | 'endedAt'>
>;

const SWEEP_COLUMNS: Record<keyof SweepChanges, string> = {
  status: 'status',
  error: 'error',
  importance: 'importance',
  finishedAt: 'finished_at'
};
const TRIAL_COLUMNS: Record<keyof TrialChanges, string> = {
  status: 'status',
  value: 'value',
  step: 'step',
  jobId: 'job_id',
  runId: 'run_id',
  stopRequested: 'stop_requested',
  error: 'error',
  endedAt: 'ended_at'
};

/** `SET a = ?, b = ?` and its values, JSON and booleans stored as SQLite keeps them. */
function assignments<C extends object>(changes: C, columns: Record<keyof C, string>): { sql: string; values: unknown[] } {
  const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
  return {
    sql: entries.map(([key]) => `${columns[key as keyof C]} = ?`).join(', '),
    values: entries.map(([, value]) =>
      typeof value === 'boolean' ? Number(value) : typeof value === 'object' && value !== null ? JSON.stringify(value) : value
    )
  };
}

export class SweepStore {
  constructor(private readonly db: Database) {}

  insert(sweep: SweepRecord): void {
    this.db
      .prepare(
        `INSERT INTO sweeps (id, project_id, name, run_id, notebook_path, snapshot_commit, spec, status, error, importance, created_at, created_by, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        sweep.id,
        sweep.projectId,
        sweep.name,
        sweep.runId,
        sweep.notebookPath,
        sweep.snapshotCommit,
        JSON.stringify(sweep.spec),
        sweep.status,
        sweep.error,
        JSON.stringify(sweep.importance),
        sweep.createdAt,
        sweep.createdBy,
        sweep.finishedAt
      );
  }

  find(id: string): SweepRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepRow | undefined;
    return row ? toSweep(row) : undefined;
  }

  list(projectId: string | null): SweepRecord[] {
    const rows = (
      projectId === null
        ? this.db.prepare('SELECT * FROM sweeps ORDER BY created_at DESC, id').all()
        : this.db.prepare('SELECT * FROM sweeps WHERE project_id = ? ORDER BY created_at DESC, id').all(projectId)
    ) as SweepRow[];
    return rows.map(toSweep);
  }

  /** Sweeps the server keeps moving: after a restart it picks them up again. */
  running(): SweepRecord[] {
    return (this.db.prepare("SELECT * FROM sweeps WHERE status = 'running' ORDER BY created_at").all() as SweepRow[]).map(toSweep);
  }

  update(id: string, changes: SweepChanges): void {
    const { sql, values } = assignments(changes, SWEEP_COLUMNS);
    if (sql) this.db.prepare(`UPDATE sweeps SET ${sql} WHERE id = ?`).run(...values, id);
  }

  insertTrial(trial: TrialRecord): void {
    this.db
      .prepare(
        `INSERT INTO sweep_trials (id, sweep_id, number, params, status, value, step, job_id, run_id, stop_requested, error, created_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        trial.id,
        trial.sweepId,
        trial.number,
        JSON.stringify(trial.params),
        trial.status,
        trial.value,
        trial.step,
        trial.jobId,
        trial.runId,
        Number(trial.stopRequested),
        trial.error,
        trial.createdAt,
        trial.endedAt
      );
  }

  trials(sweepId: string): TrialRecord[] {
    return (this.db.prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY number').all(sweepId) as TrialRow[]).map(toTrial);
  }

  trial(id: string): TrialRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sweep_trials WHERE id = ?').get(id) as TrialRow | undefined;
    return row ? toTrial(row) : undefined;
  }

  trialOfJob(jobId: string): TrialRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sweep_trials WHERE job_id = ?').get(jobId) as TrialRow | undefined;
    return row ? toTrial(row) : undefined;
  }

  trialOfRun(runId: string): TrialRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sweep_trials WHERE run_id = ?').get(runId) as TrialRow | undefined;
    return row ? toTrial(row) : undefined;
  }

  updateTrial(id: string, changes: TrialChanges): void {
    const { sql, values } = assignments(changes, TRIAL_COLUMNS);
    if (sql) this.db.prepare(`UPDATE sweep_trials SET ${sql} WHERE id = ?`).run(...values, id);
  }
}
