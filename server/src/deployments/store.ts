/**
 * SQL for deployments (migration 15): the deployment rows (slots as JSON), their append-only
 * events, the model versions each has served, and the sampled prediction logs. The rules live
 * in deployments/service.ts; this file only reads and writes rows.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { z } from 'zod';
import type {
  DeploymentEventKind as DeploymentEventKindSchema,
  DeploymentSlot,
  DeploymentStatus,
  DeploymentTarget,
  KubernetesAutoscale,
  KubernetesBackend,
  KubernetesIngress,
  KubernetesObjectRef,
  KubernetesResources,
  PredictionRecord,
  SlotRole
} from '../contract';

export type DeploymentEventKind = z.infer<typeof DeploymentEventKindSchema>;

/** What a revision of a Kubernetes deployment ran with: a rollback after a failed rollout goes back to it. */
export interface KubernetesRevision {
  replicas: number;
  resources: KubernetesResources;
}

/** A Kubernetes deployment's place and settings, stored as the row's target_config. */
export interface KubernetesConfig {
  context: string;
  namespace: string;
  backend: z.infer<typeof KubernetesBackend>;
  resources: KubernetesResources;
  autoscale: z.infer<typeof KubernetesAutoscale> | null;
  ingress: z.infer<typeof KubernetesIngress> | null;
  progressDeadlineSeconds: number;
  /** Every object Runlab created for it: undeploy removes exactly these. */
  objects: KubernetesObjectRef[];
  /** Replicas and resources by revision (as text keys: JSON). */
  revisions: Record<string, KubernetesRevision>;
}

export interface DeploymentRecord {
  id: string;
  name: string;
  target: DeploymentTarget;
  status: DeploymentStatus;
  statusMessage: string;
  endpoint: string | null;
  /** Local target: the port its runtime listens on, kept across restarts. */
  port: number | null;
  requestedRef: string;
  replicas: number;
  revision: number;
  slots: DeploymentSlot[];
  /** The deployment token its runtime presents now (local: a new one after every server start). */
  tokenId: string | null;
  /** Kubernetes target only. */
  kubernetes: KubernetesConfig | null;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

export interface DeploymentEventRecord {
  id: number;
  kind: DeploymentEventKind;
  revision: number;
  message: string;
  slots: DeploymentSlot[];
  actor: string;
  at: string;
}

interface DeploymentRow {
  id: string;
  name: string;
  target: DeploymentTarget;
  status: DeploymentStatus;
  status_message: string;
  endpoint: string | null;
  port: number | null;
  requested_ref: string;
  replicas: number;
  revision: number;
  slots: string;
  token_id: string | null;
  target_config: string;
  created_at: string;
  updated_at: string;
  created_by: string;
}

interface EventRow {
  id: number;
  deployment_id: string;
  kind: DeploymentEventKind;
  revision: number;
  message: string;
  slots: string;
  actor: string;
  at: string;
}

const toRecord = (row: DeploymentRow): DeploymentRecord => ({
  id: row.id,
  name: row.name,
  target: row.target,
  status: row.status,
  statusMessage: row.status_message,
  endpoint: row.endpoint,
  port: row.port,
  requestedRef: row.requested_ref,
  replicas: row.replicas,
  revision: row.revision,
  slots: JSON.parse(row.slots) as DeploymentSlot[],
  tokenId: row.token_id,
  kubernetes: row.target === 'kubernetes' ? (JSON.parse(row.target_config) as KubernetesConfig) : null,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  createdBy: row.created_by
});

const toEvent = (row: EventRow): DeploymentEventRecord => ({
  id: row.id,
  kind: row.kind,
  revision: row.revision,
  message: row.message,
  slots: JSON.parse(row.slots) as DeploymentSlot[],
  actor: row.actor,
  at: row.at
});

/** What changes with a new revision or a status: the columns a service update may set. */
export interface DeploymentChanges {
  status?: DeploymentStatus;
  statusMessage?: string;
  revision?: number;
  slots?: DeploymentSlot[];
  tokenId?: string | null;
  endpoint?: string | null;
  replicas?: number;
  kubernetes?: KubernetesConfig;
}

const COLUMN_OF: Record<keyof DeploymentChanges, string> = {
  status: 'status',
  statusMessage: 'status_message',
  revision: 'revision',
  slots: 'slots',
  tokenId: 'token_id',
  endpoint: 'endpoint',
  replicas: 'replicas',
  kubernetes: 'target_config'
};

/** True when SQLite refused a write because of a UNIQUE constraint (a live deployment's name). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class DeploymentStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      insert: prepare(
        `INSERT INTO deployments (id, name, target, status, status_message, endpoint, port, requested_ref, replicas, revision, slots,
           token_id, target_config, created_at, updated_at, created_by)
         VALUES (@id, @name, @target, @status, @statusMessage, @endpoint, @port, @requestedRef, @replicas, @revision, @slots,
           @tokenId, @targetConfig, @createdAt, @updatedAt, @createdBy)`
      ),
      byId: prepare('SELECT * FROM deployments WHERE id = ?'),
      remove: prepare('DELETE FROM deployments WHERE id = ?'),
      liveByName: prepare("SELECT * FROM deployments WHERE name = ? AND status <> 'stopped'"),
      byToken: prepare('SELECT * FROM deployments WHERE token_id = ?'),
      list: prepare('SELECT * FROM deployments ORDER BY created_at DESC, id'),
      live: prepare("SELECT * FROM deployments WHERE status <> 'stopped' ORDER BY created_at, id"),
      livePorts: prepare("SELECT port FROM deployments WHERE status <> 'stopped' AND port IS NOT NULL").pluck(),
      insertEvent: prepare(
        `INSERT INTO deployment_events (deployment_id, kind, revision, message, slots, actor, at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`
      ),
      events: prepare('SELECT * FROM deployment_events WHERE deployment_id = ? ORDER BY id DESC LIMIT ?'),
      eventsAscending: prepare('SELECT * FROM deployment_events WHERE deployment_id = ? ORDER BY id'),
      hasEvent: prepare('SELECT 1 FROM deployment_events WHERE deployment_id = ? AND kind = ? AND revision = ? LIMIT 1').pluck(),
      recordVersion: prepare('INSERT OR IGNORE INTO deployment_versions (deployment_id, version_id) VALUES (?, ?)'),
      // A live deployment serving (now) any version of the model: deleting the model is refused then.
      modelServed: prepare(
        `SELECT 1 FROM deployments d, json_each(d.slots) slot
           JOIN model_versions v ON v.id = json_extract(slot.value, '$.modelVersionId')
         WHERE d.status <> 'stopped' AND v.model_id = ? LIMIT 1`
      ).pluck(),
      // The project a provenance edge from the version belongs to: its run's, else the one its name recorded.
      versionProject: prepare(
        `SELECT COALESCE((SELECT r.project_id FROM runs r WHERE r.id = v.run_id), (SELECT p.id FROM projects p WHERE p.name = v.project_name))
         FROM model_versions v WHERE v.id = ?`
      ).pluck(),
      insertPrediction: prepare(
        `INSERT INTO prediction_logs (deployment_id, request_id, role, version_id, at, latency_ms, status, record)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
      ),
      predictions: prepare('SELECT record FROM prediction_logs WHERE deployment_id = ? ORDER BY id DESC LIMIT ?').pluck(),
      predictionCount: prepare('SELECT COUNT(*) FROM prediction_logs WHERE deployment_id = ?').pluck()
    };
  }

  inTransaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  insert(record: DeploymentRecord): void {
    const { kubernetes, ...rest } = record;
    this.statements.insert.run({ ...rest, slots: JSON.stringify(record.slots), targetConfig: JSON.stringify(kubernetes ?? {}) });
  }

  /** Forgets a deployment that never came to be (its objects could not be written). */
  remove(id: string): void {
    this.statements.remove.run(id);
  }

  findById(id: string): DeploymentRecord | undefined {
    const row = this.statements.byId.get(id) as DeploymentRow | undefined;
    return row && toRecord(row);
  }

  findLiveByName(name: string): DeploymentRecord | undefined {
    const row = this.statements.liveByName.get(name) as DeploymentRow | undefined;
    return row && toRecord(row);
  }

  findByToken(tokenId: string): DeploymentRecord | undefined {
    const row = this.statements.byToken.get(tokenId) as DeploymentRow | undefined;
    return row && toRecord(row);
  }

  /** Newest first. */
  list(): DeploymentRecord[] {
    return (this.statements.list.all() as DeploymentRow[]).map(toRecord);
  }

  /** Every deployment not stopped, oldest first. */
  listLive(): DeploymentRecord[] {
    return (this.statements.live.all() as DeploymentRow[]).map(toRecord);
  }

  livePorts(): number[] {
    return this.statements.livePorts.all() as number[];
  }

  update(id: string, changes: DeploymentChanges, at: string): void {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined) as [keyof DeploymentChanges, unknown][];
    const assignments = entries.map(([key]) => `${COLUMN_OF[key]} = ?`);
    const values = entries.map(([key, value]) => (key === 'slots' || key === 'kubernetes' ? JSON.stringify(value) : value));
    this.db.prepare(`UPDATE deployments SET ${[...assignments, 'updated_at = ?'].join(', ')} WHERE id = ?`).run(...values, at, id);
  }

  insertEvent(deploymentId: string, event: Omit<DeploymentEventRecord, 'id'>): number {
    const { kind, revision, message, slots, actor, at } = event;
    return Number(this.statements.insertEvent.run(deploymentId, kind, revision, message, JSON.stringify(slots), actor, at).lastInsertRowid);
  }

  /** Newest first, at most `limit`. */
  events(deploymentId: string, limit = -1): DeploymentEventRecord[] {
    return (this.statements.events.all(deploymentId, limit) as EventRow[]).map(toEvent);
  }

  /** Oldest first, all of them. */
  eventsInOrder(deploymentId: string): DeploymentEventRecord[] {
    return (this.statements.eventsAscending.all(deploymentId) as EventRow[]).map(toEvent);
  }

  hasEvent(deploymentId: string, kind: DeploymentEventKind, revision: number): boolean {
    return this.statements.hasEvent.get(deploymentId, kind, revision) !== undefined;
  }

  recordVersions(deploymentId: string, versionIds: readonly string[]): void {
    for (const versionId of versionIds) this.statements.recordVersion.run(deploymentId, versionId);
  }

  isModelServed(modelId: string): boolean {
    return this.statements.modelServed.get(modelId) !== undefined;
  }

  /** The project id a provenance edge from this version goes in; null when it has none. */
  projectOfVersion(versionId: string): string | null {
    return (this.statements.versionProject.get(versionId) as string | null | undefined) ?? null;
  }

  insertPredictions(deploymentId: string, records: readonly PredictionRecord[]): void {
    this.db.transaction(() => {
      for (const record of records) {
        this.statements.insertPrediction.run(
          deploymentId,
          record.requestId,
          record.role satisfies SlotRole,
          record.modelVersionId,
          record.at,
          record.latencyMs,
          record.status,
          JSON.stringify(record)
        );
      }
    })();
  }

  /** Newest first. */
  predictions(deploymentId: string, limit: number): PredictionRecord[] {
    return (this.statements.predictions.all(deploymentId, limit) as string[]).map((text) => JSON.parse(text) as PredictionRecord);
  }

  predictionCount(deploymentId: string): number {
    return this.statements.predictionCount.get(deploymentId) as number;
  }
}
