/**
 * Monitoring's SQL (migration 18): prediction blocks and the request index into them, feedback
 * labels, drift windows, per-deployment settings and per-minute traffic counters.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DriftWindow, MonitoringSettings } from '../contract';

export interface BlockRow {
  id: number;
  deployment_id: string;
  model_version_id: string;
  role: string;
  first_at: number;
  last_at: number;
  received_at: number;
  rows: number;
  requests: number;
}

export interface RequestRow {
  block_id: number;
  row_offset: number;
  row_count: number;
  at: number;
}

export interface WindowEnd {
  index: number;
  endBlock: number;
  endRow: number;
  endAt: string;
}

export interface NewBlock {
  deploymentId: string;
  modelVersionId: string;
  role: string;
  firstAt: number;
  lastAt: number;
  receivedAt: number;
  rows: number;
  requests: { id: string; offset: number; rows: number; at: number }[];
  data: Buffer;
}

export interface LabelRow {
  deploymentId: string;
  requestId: string;
  labels: string;
  at: number;
  receivedAt: number;
  metric: 'accuracy' | 'rmse';
  rows: number;
  correct: number;
  squaredError: number;
}

export interface TrafficRow {
  minute: number;
  requests: number;
  server_errors: number;
  client_errors: number;
  latency: string;
}

export interface AccuracyRow {
  hour: number;
  metric: 'accuracy' | 'rmse';
  rows: number;
  correct: number;
  squared_error: number;
}

export class MonitoringStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      insertBlock: prepare(
        `INSERT INTO prediction_blocks (deployment_id, model_version_id, role, first_at, last_at, received_at, rows, requests, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
      ),
      // A request id logged twice (a retried report) keeps its first logging.
      insertRequest: prepare(
        `INSERT OR IGNORE INTO prediction_requests (deployment_id, request_id, block_id, row_offset, row_count, at) VALUES (?, ?, ?, ?, ?, ?)`
      ),
      blockData: prepare('SELECT data FROM prediction_blocks WHERE id = ?').pluck(),
      blocksAfter: prepare(
        `SELECT id, deployment_id, model_version_id, role, first_at, last_at, received_at, rows, requests FROM prediction_blocks
         WHERE deployment_id = ? AND model_version_id = ? AND id > ? AND id <= ? ORDER BY id`
      ),
      newestBlocks: prepare(
        `SELECT id, deployment_id, model_version_id, role, first_at, last_at, received_at, rows, requests FROM prediction_blocks
         WHERE deployment_id = ? AND id < ? ORDER BY id DESC LIMIT 64`
      ),
      totals: prepare(
        'SELECT COALESCE(SUM(rows), 0) AS rows, COALESCE(SUM(requests), 0) AS requests FROM prediction_blocks WHERE deployment_id = ?'
      ),
      streams: prepare('SELECT DISTINCT deployment_id, model_version_id FROM prediction_blocks'),
      blockBytes: prepare(
        'SELECT COALESCE(SUM(LENGTH(data)), 0) AS bytes, COALESCE(SUM(rows), 0) AS rows FROM prediction_blocks WHERE deployment_id = ?'
      ),
      request: prepare('SELECT block_id, row_offset, row_count, at FROM prediction_requests WHERE deployment_id = ? AND request_id = ?'),
      insertWindow: prepare(
        `INSERT INTO drift_windows (id, deployment_id, model_version_id, idx, start_at, end_at, rows, status, end_block, end_row, result)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      ),
      lastWindow: prepare(
        `SELECT idx, end_block, end_row, end_at FROM drift_windows WHERE deployment_id = ? AND model_version_id = ? ORDER BY idx DESC LIMIT 1`
      ),
      windows: prepare('SELECT result FROM drift_windows WHERE deployment_id = ? ORDER BY rowid DESC LIMIT ?').pluck(),
      windowsOfVersion: prepare(
        'SELECT result FROM drift_windows WHERE deployment_id = ? AND model_version_id = ? ORDER BY rowid DESC LIMIT ?'
      ).pluck(),
      windowsSince: prepare('SELECT result FROM drift_windows WHERE deployment_id = ? AND end_at >= ? ORDER BY rowid').pluck(),
      window: prepare('SELECT result FROM drift_windows WHERE deployment_id = ? AND id = ?').pluck(),
      // A window's rows start where the previous window of its stream ended.
      windowBounds: prepare(
        `SELECT w.model_version_id, w.end_block, w.end_row,
           (SELECT p.end_block FROM drift_windows p WHERE p.deployment_id = w.deployment_id AND p.model_version_id = w.model_version_id AND p.idx = w.idx - 1) AS start_block,
           (SELECT p.end_row FROM drift_windows p WHERE p.deployment_id = w.deployment_id AND p.model_version_id = w.model_version_id AND p.idx = w.idx - 1) AS start_row
         FROM drift_windows w WHERE w.deployment_id = ? AND w.id = ?`
      ),
      newestJudged: prepare(
        "SELECT result FROM drift_windows WHERE deployment_id = ? AND status = 'judged' ORDER BY rowid DESC LIMIT 1"
      ).pluck(),
      settings: prepare('SELECT settings FROM monitoring_settings WHERE deployment_id = ?').pluck(),
      putSettings: prepare(
        'INSERT INTO monitoring_settings (deployment_id, settings) VALUES (?, ?) ON CONFLICT (deployment_id) DO UPDATE SET settings = excluded.settings'
      ),
      traffic: prepare(
        'SELECT requests, server_errors, client_errors, latency FROM deployment_traffic WHERE deployment_id = ? AND minute = ?'
      ),
      putTraffic: prepare(
        `INSERT INTO deployment_traffic (deployment_id, minute, requests, server_errors, client_errors, latency) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (deployment_id, minute) DO UPDATE SET requests = excluded.requests, server_errors = excluded.server_errors,
           client_errors = excluded.client_errors, latency = excluded.latency`
      ),
      trafficSince: prepare(
        'SELECT minute, requests, server_errors, client_errors, latency FROM deployment_traffic WHERE deployment_id = ? AND minute >= ? ORDER BY minute'
      ),
      putLabel: prepare(
        `INSERT INTO prediction_labels (deployment_id, request_id, labels, at, received_at, metric, rows, correct, squared_error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (deployment_id, request_id) DO UPDATE SET labels = excluded.labels, received_at = excluded.received_at,
           metric = excluded.metric, rows = excluded.rows, correct = excluded.correct, squared_error = excluded.squared_error`
      ),
      accuracyByHour: prepare(
        `SELECT (at / 3600000) * 3600000 AS hour, metric, SUM(rows) AS rows, SUM(correct) AS correct, SUM(squared_error) AS squared_error
         FROM prediction_labels WHERE deployment_id = ? AND at >= ? GROUP BY hour, metric ORDER BY hour`
      ),
      accuracySince: prepare(
        `SELECT 0 AS hour, metric, SUM(rows) AS rows, SUM(correct) AS correct, SUM(squared_error) AS squared_error
         FROM prediction_labels WHERE deployment_id = ? AND at >= ? GROUP BY metric`
      ),
      labelledRows: prepare('SELECT COALESCE(SUM(rows), 0) FROM prediction_labels WHERE deployment_id = ?').pluck(),
      pruneBlocks: prepare('DELETE FROM prediction_blocks WHERE received_at < ?'),
      // Requests expire with their blocks (a request is received no earlier than it was made).
      pruneRequests: prepare('DELETE FROM prediction_requests WHERE at < ?'),
      pruneLabels: prepare('DELETE FROM prediction_labels WHERE received_at < ?'),
      pruneTraffic: prepare('DELETE FROM deployment_traffic WHERE minute < ?'),
      pruneOldLogs: prepare('DELETE FROM prediction_logs WHERE at < ?')
    };
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** Stores a block and indexes its requests; returns the block's id. */
  insertBlock(block: NewBlock): number {
    const { lastInsertRowid } = this.statements.insertBlock.run(
      block.deploymentId,
      block.modelVersionId,
      block.role,
      block.firstAt,
      block.lastAt,
      block.receivedAt,
      block.rows,
      block.requests.length,
      block.data
    );
    const id = Number(lastInsertRowid);
    const insert = this.statements.insertRequest;
    for (const request of block.requests) insert.run(block.deploymentId, request.id, id, request.offset, request.rows, request.at);
    return id;
  }

  blockData(id: number): Buffer | undefined {
    return this.statements.blockData.get(id) as Buffer | undefined;
  }

  /** Blocks of one stream with ids in (afterId, upToId], oldest first (metadata only). */
  blocksAfter(deploymentId: string, modelVersionId: string, afterId: number, upToId = Number.MAX_SAFE_INTEGER): BlockRow[] {
    return this.statements.blocksAfter.all(deploymentId, modelVersionId, afterId, upToId) as BlockRow[];
  }

  /** Up to 64 blocks of a deployment older than `beforeId`, newest first. */
  newestBlocks(deploymentId: string, beforeId = Number.MAX_SAFE_INTEGER): BlockRow[] {
    return this.statements.newestBlocks.all(deploymentId, beforeId) as BlockRow[];
  }

  totals(deploymentId: string): { rows: number; requests: number } {
    return this.statements.totals.get(deploymentId) as { rows: number; requests: number };
  }

  /** Every (deployment, model version) that has logged rows. */
  streams(): { deployment_id: string; model_version_id: string }[] {
    return this.statements.streams.all() as { deployment_id: string; model_version_id: string }[];
  }

  blockBytes(deploymentId: string): { bytes: number; rows: number } {
    return this.statements.blockBytes.get(deploymentId) as { bytes: number; rows: number };
  }

  request(deploymentId: string, requestId: string): RequestRow | undefined {
    return this.statements.request.get(deploymentId, requestId) as RequestRow | undefined;
  }

  insertWindow(window: DriftWindow, endBlock: number, endRow: number): void {
    this.statements.insertWindow.run(
      window.id,
      window.deploymentId,
      window.modelVersionId,
      window.index,
      window.startAt,
      window.endAt,
      window.rows,
      window.status,
      endBlock,
      endRow,
      JSON.stringify(window)
    );
  }

  lastWindow(deploymentId: string, modelVersionId: string): WindowEnd | null {
    const row = this.statements.lastWindow.get(deploymentId, modelVersionId) as
      { idx: number; end_block: number; end_row: number; end_at: string } | undefined;
    return row ? { index: row.idx, endBlock: row.end_block, endRow: row.end_row, endAt: row.end_at } : null;
  }

  windows(deploymentId: string, limit: number, modelVersionId?: string): DriftWindow[] {
    const rows = modelVersionId
      ? this.statements.windowsOfVersion.all(deploymentId, modelVersionId, limit)
      : this.statements.windows.all(deploymentId, limit);
    return (rows as string[]).map((text) => JSON.parse(text) as DriftWindow);
  }

  windowsSince(deploymentId: string, sinceIso: string): DriftWindow[] {
    return (this.statements.windowsSince.all(deploymentId, sinceIso) as string[]).map((text) => JSON.parse(text) as DriftWindow);
  }

  window(deploymentId: string, id: string): DriftWindow | null {
    const text = this.statements.window.get(deploymentId, id) as string | undefined;
    return text ? (JSON.parse(text) as DriftWindow) : null;
  }

  windowBounds(
    deploymentId: string,
    id: string
  ): { modelVersionId: string; start: { block: number; row: number }; end: { block: number; row: number } } | null {
    const row = this.statements.windowBounds.get(deploymentId, id) as
      { model_version_id: string; end_block: number; end_row: number; start_block: number | null; start_row: number | null } | undefined;
    if (!row) return null;
    return {
      modelVersionId: row.model_version_id,
      start: { block: row.start_block ?? 0, row: row.start_row ?? 0 },
      end: { block: row.end_block, row: row.end_row }
    };
  }

  newestJudgedWindow(deploymentId: string): DriftWindow | null {
    const text = this.statements.newestJudged.get(deploymentId) as string | undefined;
    return text ? (JSON.parse(text) as DriftWindow) : null;
  }

  settings(deploymentId: string): MonitoringSettings | null {
    const text = this.statements.settings.get(deploymentId) as string | undefined;
    return text ? (JSON.parse(text) as MonitoringSettings) : null;
  }

  putSettings(deploymentId: string, settings: MonitoringSettings): void {
    this.statements.putSettings.run(deploymentId, JSON.stringify(settings));
  }

  traffic(deploymentId: string, minute: number): TrafficRow | undefined {
    const row = this.statements.traffic.get(deploymentId, minute) as Omit<TrafficRow, 'minute'> | undefined;
    return row ? { minute, ...row } : undefined;
  }

  putTraffic(deploymentId: string, row: TrafficRow): void {
    this.statements.putTraffic.run(deploymentId, row.minute, row.requests, row.server_errors, row.client_errors, row.latency);
  }

  trafficSince(deploymentId: string, sinceMinute: number): TrafficRow[] {
    return this.statements.trafficSince.all(deploymentId, sinceMinute) as TrafficRow[];
  }

  putLabel(label: LabelRow): void {
    this.statements.putLabel.run(
      label.deploymentId,
      label.requestId,
      label.labels,
      label.at,
      label.receivedAt,
      label.metric,
      label.rows,
      label.correct,
      label.squaredError
    );
  }

  accuracyByHour(deploymentId: string, sinceMs: number): AccuracyRow[] {
    return this.statements.accuracyByHour.all(deploymentId, sinceMs) as AccuracyRow[];
  }

  accuracySince(deploymentId: string, sinceMs: number): AccuracyRow[] {
    return this.statements.accuracySince.all(deploymentId, sinceMs) as AccuracyRow[];
  }

  labelledRows(deploymentId: string): number {
    return this.statements.labelledRows.get(deploymentId) as number;
  }

  /** Deletes logged predictions, labels and traffic older than `cutoffMs`; returns the blocks deleted. */
  prune(cutoffMs: number): number {
    return this.transaction(() => {
      const { changes } = this.statements.pruneBlocks.run(cutoffMs);
      this.statements.pruneRequests.run(cutoffMs);
      this.statements.pruneLabels.run(cutoffMs);
      this.statements.pruneTraffic.run(cutoffMs);
      this.statements.pruneOldLogs.run(cutoffMs);
      return changes;
    });
  }
}
