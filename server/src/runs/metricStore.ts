/**
 * SQL for metric series: one summary row per (run, key), which doubles as the series, and the
 * series' points in blocks of up to BLOCK_CAPACITY (runs/series.ts has the block codec).
 */
import type { Database, Statement } from 'better-sqlite3';
import { toMetricValue, type MetricSummary } from '../contract';
import type { RunDetailsStore } from './detailsStore';

/** A metric series' summary row, as ingest needs it. */
export interface SeriesState {
  id: number;
  key: string;
  latest: number;
  step: number;
  latestTimestamp: number;
  min: number;
  max: number;
  count: number;
  updatedAt: string;
  inOrder: boolean;
}

interface SummaryRow {
  id: number;
  run_id: string;
  key: string;
  latest: number;
  /** 1 when the latest value is NaN, which SQLite cannot store as a REAL (latest is then 0). */
  latest_is_nan: number;
  step: number;
  latest_timestamp: number;
  min: number;
  max: number;
  count: number;
  updated_at: string;
  in_order: number;
}

const toSeriesState = (row: SummaryRow): SeriesState => ({
  id: row.id,
  key: row.key,
  latest: row.latest_is_nan === 1 ? NaN : row.latest,
  step: row.step,
  latestTimestamp: row.latest_timestamp,
  min: row.min,
  max: row.max,
  count: row.count,
  updatedAt: row.updated_at,
  inOrder: row.in_order === 1
});

export const toSummary = (state: Pick<SeriesState, 'latest' | 'step' | 'min' | 'max' | 'count' | 'updatedAt'>): MetricSummary => ({
  latest: toMetricValue(state.latest),
  step: state.step,
  // ±Infinity until a finite value arrives: NaN and ±Infinity stay out of min/max.
  min: Number.isFinite(state.min) ? state.min : null,
  max: Number.isFinite(state.max) ? state.max : null,
  count: state.count,
  updatedAt: state.updatedAt
});

export interface StoredBlock {
  blockNo: number;
  count: number;
  points: Buffer;
}

export class MetricStore {
  private readonly statements: Record<string, Statement>;

  constructor(
    db: Database,
    /** Summaries are part of run details: saving one forgets the run's cached details. */
    private readonly details: RunDetailsStore
  ) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      seriesOfRun: prepare('SELECT * FROM metric_summaries WHERE run_id = ?'),
      // Blocks go with their series (ON DELETE CASCADE).
      deleteSeriesOfRun: prepare('DELETE FROM metric_summaries WHERE run_id = ?'),
      series: prepare('SELECT * FROM metric_summaries WHERE run_id = ? AND key = ?'),
      insertSummary:
        prepare(`INSERT INTO metric_summaries (run_id, key, latest, latest_is_nan, step, latest_timestamp, min, max, count, updated_at, in_order)
        VALUES (@runId, @key, @latest, @latestIsNan, @step, @latestTimestamp, @min, @max, @count, @updatedAt, @inOrder) RETURNING id`),
      updateSummary:
        prepare(`UPDATE metric_summaries SET latest = @latest, latest_is_nan = @latestIsNan, step = @step, latest_timestamp = @latestTimestamp,
        min = @min, max = @max, count = @count, updated_at = @updatedAt, in_order = @inOrder WHERE id = @id`),
      tailBlock: prepare('SELECT block_no, count, points FROM metric_blocks WHERE series_id = ? ORDER BY block_no DESC LIMIT 1'),
      putBlock:
        prepare(`INSERT OR REPLACE INTO metric_blocks (series_id, block_no, count, min_step, max_step, points, envelope_count, envelope)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      blocks: prepare(`SELECT count, points FROM metric_blocks WHERE series_id = ? AND max_step >= ? AND min_step <= ?
        ORDER BY block_no`).raw(),
      blocksOfRun: prepare(`SELECT b.series_id, b.count, b.points FROM metric_blocks b
        JOIN metric_summaries s ON s.id = b.series_id WHERE s.run_id = ? ORDER BY b.series_id, b.block_no`).raw(),
      blockRanges: prepare(`SELECT block_no, count, min_step, max_step FROM metric_blocks
        WHERE series_id = ? AND max_step >= ? AND min_step <= ? ORDER BY block_no`).raw(),
      envelopes: prepare(`SELECT envelope_count, envelope FROM metric_blocks WHERE series_id = ? AND block_no BETWEEN ? AND ?
        ORDER BY block_no`).raw(),
      block: prepare('SELECT count, points FROM metric_blocks WHERE series_id = ? AND block_no = ?').raw()
    };
  }

  /** Deletes every series of a run with its points; returns how many series there were. */
  deleteRunSeries(runId: string): number {
    this.details.forget(runId);
    return this.statements.deleteSeriesOfRun.run(runId).changes;
  }

  /** Every series of a run, by key. */
  seriesOfRun(runId: string): Map<string, SeriesState> {
    return new Map((this.statements.seriesOfRun.all(runId) as SummaryRow[]).map((row) => [row.key, toSeriesState(row)]));
  }

  series(runId: string, key: string): SeriesState | undefined {
    const row = this.statements.series.get(runId, key) as SummaryRow | undefined;
    return row && toSeriesState(row);
  }

  /** Inserts or updates a series' summary; returns the series id. */
  saveSummary(runId: string, state: Omit<SeriesState, 'id'> & { id?: number }): number {
    this.details.forget(runId);
    const isNan = Number.isNaN(state.latest);
    const values = { ...state, latest: isNan ? 0 : state.latest, latestIsNan: isNan ? 1 : 0, runId, inOrder: state.inOrder ? 1 : 0 };
    if (state.id !== undefined) {
      this.statements.updateSummary.run(values);
      return state.id;
    }
    return (this.statements.insertSummary.get(values) as { id: number }).id;
  }

  tailBlock(seriesId: number): StoredBlock | undefined {
    const row = this.statements.tailBlock.get(seriesId) as { block_no: number; count: number; points: Buffer } | undefined;
    return row && { blockNo: row.block_no, count: row.count, points: row.points };
  }

  putBlock(
    seriesId: number,
    blockNo: number,
    block: { count: number; minStep: number; maxStep: number; points: Buffer; envelopeCount: number; envelope: Buffer }
  ): void {
    this.statements.putBlock.run(
      seriesId,
      blockNo,
      block.count,
      block.minStep,
      block.maxStep,
      block.points,
      block.envelopeCount,
      block.envelope
    );
  }

  /** Block numbers, sizes and step ranges overlapping minStep..maxStep, without their points. */
  blockRanges(seriesId: number, minStep: number, maxStep: number): [number, number, number, number][] {
    return this.statements.blockRanges.all(seriesId, minStep, maxStep) as [number, number, number, number][];
  }

  envelopes(seriesId: number, firstBlock: number, lastBlock: number): [number, Buffer][] {
    return this.statements.envelopes.all(seriesId, firstBlock, lastBlock) as [number, Buffer][];
  }

  block(seriesId: number, blockNo: number): [number, Buffer] {
    return this.statements.block.get(seriesId, blockNo) as [number, Buffer];
  }

  /** Every block of every series of a run: series id → its blocks' [count, points], in order. */
  blocksOfRun(runId: string): Map<number, [number, Buffer][]> {
    const bySeries = new Map<number, [number, Buffer][]>();
    for (const [seriesId, count, points] of this.statements.blocksOfRun.all(runId) as [number, number, Buffer][]) {
      let blocks = bySeries.get(seriesId);
      if (!blocks) bySeries.set(seriesId, (blocks = []));
      blocks.push([count, points]);
    }
    return bySeries;
  }

  /** Blocks that may hold points with minStep ≤ step ≤ maxStep, in insertion order. */
  blocks(seriesId: number, minStep = Number.MIN_SAFE_INTEGER, maxStep = Number.MAX_SAFE_INTEGER): [number, Buffer][] {
    return this.statements.blocks.all(seriesId, minStep, maxStep) as [number, Buffer][];
  }
}
