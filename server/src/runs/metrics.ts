/**
 * Metric series: ingest of a log batch's points (summaries updated once per key, points appended
 * to blocks), history reads with downsampling, and the per-run series of a comparison. Runs are
 * checked by the caller (RunService); writes happen inside its transaction.
 */
import type { z } from 'zod';
import type {
  CompareResponse,
  LogBatchRequest,
  MetricHistoryQuery,
  MetricHistoryResponse,
  MetricPoint,
  MetricSummary,
  MetricValue
} from '../contract';
import { fromMetricValue, MAX_WHOLE_NUMBER, toMetricValue, userKeyed } from '../contract';
import { AppError, notFound } from '../http/errors';
import type { LivePoint } from './live';
import { toSummary, type MetricStore, type SeriesState } from './metricStore';
import {
  BLOCK_CAPACITY,
  concatSeries,
  decodeBlock,
  downsample,
  downsampleSeries,
  emptySeries,
  encodeBlock,
  envelopeOf,
  lttbIndices,
  pick,
  sliceSteps,
  sortSeries,
  toPoints,
  type Series
} from './series';

export type MetricHistoryInput = z.output<typeof MetricHistoryQuery>;
/** The metric points of a log batch: `metrics` objects and/or `metricColumns`. */
export type MetricBatch = Pick<z.output<typeof LogBatchRequest>, 'metrics' | 'metricColumns'>;

/** Long ranges (≥ this many points per answered point) are downsampled from block envelopes. */
const ENVELOPE_MIN_REDUCTION = 32;

/** Metric points as columns: point i is (keys[keyIndex[i]], values[i], steps[i], timestamps[i]). */
interface PointColumns {
  /** Points before this position came as `metrics` objects, the rest as `metricColumns`. */
  objectCount: number;
  keys: readonly string[];
  keyIndex: readonly number[];
  /** Numbers, or "NaN" / "Infinity" / "-Infinity". */
  values: readonly MetricValue[];
  /** null/undefined: the next step of the key. */
  steps: readonly (number | null | undefined)[];
  /** null/undefined: the server's time. */
  timestamps: readonly (number | null | undefined)[];
}

/** A batch's points, `metrics` then `metricColumns`, as one set of columns. */
function pointColumns(batch: MetricBatch): PointColumns {
  const columns = batch.metricColumns;
  if (batch.metrics.length === 0 && columns) return { ...columns, objectCount: 0 };
  const keys: string[] = columns ? [...columns.keys] : [];
  const indexOf = new Map(keys.map((key, index) => [key, index]));
  const keyIndex: number[] = [];
  const values: MetricValue[] = [];
  const steps: (number | undefined | null)[] = [];
  const timestamps: (number | undefined | null)[] = [];
  for (const point of batch.metrics) {
    let index = indexOf.get(point.key);
    if (index === undefined) {
      index = keys.push(point.key) - 1;
      indexOf.set(point.key, index);
    }
    keyIndex.push(index);
    values.push(point.value);
    steps.push(point.step);
    timestamps.push(point.timestamp);
  }
  if (columns) {
    // Column key indices refer to the first columns.keys.length keys, which come first here.
    // A loop, not push(...): spreading 100,000 arguments can overflow the stack.
    for (let i = 0; i < columns.keyIndex.length; i++) {
      keyIndex.push(columns.keyIndex[i]);
      values.push(columns.values[i]);
      steps.push(columns.steps[i]);
      timestamps.push(columns.timestamps[i]);
    }
  }
  return { objectCount: batch.metrics.length, keys, keyIndex, values, steps, timestamps };
}

export class MetricSeries {
  constructor(
    private readonly store: MetricStore,
    /** Live messages keep only this many newest points of a burst (LiveMetrics.maxPoints). */
    private readonly maxLivePoints: number
  ) {}

  /**
   * Appends points to their series and updates each key's summary once per batch. An omitted
   * step is one more than the key's greatest step; a non-increasing step is stored too and only
   * marks the series as needing a sort on read. Runs inside the log batch's transaction.
   */
  ingest(runId: string, batch: MetricBatch, at: Date): { metrics: Record<string, MetricSummary>; points: LivePoint[] } {
    const columns = pointColumns(batch);
    const { keys, keyIndex, values, steps, timestamps } = columns;
    const count = keyIndex.length;
    // Per key, the positions of its points, in batch order.
    const byKey: number[][] = keys.map(() => []);
    for (let i = 0; i < count; i++) byKey[keyIndex[i]].push(i);
    const states = this.store.seriesOfRun(runId);
    const updatedAt = at.toISOString();
    const nowMs = at.getTime();
    const summaries = userKeyed<MetricSummary>();
    const livePoints: LivePoint[] = [];
    // Live messages keep only the newest maxPoints of a burst: do not build the others.
    let skipLive = Math.max(0, count - this.maxLivePoints);
    for (let k = 0; k < keys.length; k++) {
      const group = byKey[k];
      if (group.length === 0) continue;
      const key = keys[k];
      const previous = states.get(key);
      const state: Omit<SeriesState, 'id'> & { id?: number } = previous
        ? { ...previous, updatedAt }
        : { key, latest: 0, step: -1, latestTimestamp: -Infinity, min: Infinity, max: -Infinity, count: 0, updatedAt, inOrder: true };
      const series = emptySeries(group.length);
      for (let index = 0; index < group.length; index++) {
        const position = group[index];
        const value = fromMetricValue(values[position]);
        // The latest point has the greatest step, so its step + 1 is the next step.
        const step = steps[position] ?? state.step + 1;
        if (step > MAX_WHOLE_NUMBER) {
          const message = `the next step of "${key}" would pass ${MAX_WHOLE_NUMBER}, the largest step that reads back exactly; give steps explicitly`;
          const path =
            position < columns.objectCount ? `body.metrics.${position}.step` : `body.metricColumns.steps.${position - columns.objectCount}`;
          throw new AppError('invalid_request', message, [{ path, message }]);
        }
        const timestamp = timestamps[position] ?? nowMs;
        series.steps[index] = step;
        series.values[index] = value;
        series.timestamps[index] = timestamp;
        if (step > state.step || (step === state.step && timestamp >= state.latestTimestamp)) {
          state.step = step;
          state.latestTimestamp = timestamp;
          state.latest = value;
        } else {
          state.inOrder = false;
        }
        // NaN and ±Infinity are kept as points but stay out of min/max (comparisons with NaN
        // are false; infinities are excluded explicitly).
        if (value < state.min && value !== -Infinity) state.min = value;
        if (value > state.max && value !== Infinity) state.max = value;
        if (skipLive > 0) skipLive--;
        else livePoints.push({ key, step, value: toMetricValue(value), timestamp });
      }
      state.count += group.length;
      const seriesId = this.store.saveSummary(runId, state);
      this.appendPoints(seriesId, series);
      summaries[key] = toSummary(state);
    }
    return { metrics: summaries, points: livePoints };
  }

  /** Fills the series' last block up to capacity, then writes new full blocks. */
  private appendPoints(seriesId: number, series: Series): void {
    const length = series.steps.length;
    let offset = 0;
    let blockNo = 0;
    const write = (no: number, block: Series): void => {
      let minStep = Infinity;
      let maxStep = -Infinity;
      for (const step of block.steps) {
        if (step < minStep) minStep = step;
        if (step > maxStep) maxStep = step;
      }
      const envelope = envelopeOf(block);
      this.store.putBlock(seriesId, no, {
        count: block.steps.length,
        minStep,
        maxStep,
        points: encodeBlock(block, 0, block.steps.length),
        envelopeCount: envelope.steps.length,
        envelope: encodeBlock(envelope, 0, envelope.steps.length)
      });
    };
    const slice = (start: number, end: number): Series => ({
      steps: series.steps.subarray(start, end),
      values: series.values.subarray(start, end),
      timestamps: series.timestamps.subarray(start, end)
    });
    const tail = this.store.tailBlock(seriesId);
    if (tail) {
      blockNo = tail.blockNo + 1;
      if (tail.count < BLOCK_CAPACITY) {
        offset = Math.min(BLOCK_CAPACITY - tail.count, length);
        write(tail.blockNo, concatSeries([decodeBlock(tail.points, tail.count), slice(0, offset)]));
      }
    }
    while (offset < length) {
      const end = Math.min(offset + BLOCK_CAPACITY, length);
      write(blockNo++, slice(offset, end));
      offset = end;
    }
  }

  // ------------------------------------------------------------------------------------------
  // reads

  /** A key's points in order (step, then timestamp, then insertion), optionally within a step range. */
  private readSeries(state: SeriesState, minStep?: number, maxStep?: number): Series {
    const blocks = this.store.blocks(state.id, minStep, maxStep).map(([count, blob]) => decodeBlock(blob, count));
    const all = blocks.length === 1 ? blocks[0] : concatSeries(blocks);
    return sliceSteps(state.inOrder ? all : sortSeries(all), minStep, maxStep);
  }

  /** Removes every series of the run (a job's retried attempt starts its metrics afresh). */
  clear(runId: string): number {
    return this.store.deleteRunSeries(runId);
  }

  /** Every point of a key, in order (MLflow's get-history); none for an unknown key. */
  points(runId: string, key: string): MetricPoint[] {
    const state = this.store.series(runId, key);
    if (!state) return [];
    return downsample(this.readSeries(state), Number.MAX_SAFE_INTEGER).points;
  }

  /** A key's points (range), downsampled to query.maxPoints; 404 for an unknown key. */
  history(runId: string, key: string, query: MetricHistoryInput): MetricHistoryResponse {
    const state = this.store.series(runId, key);
    if (!state) throw notFound(`Metric "${key}" of run ${runId}`);
    const { series, total, downsampled } = this.downsampled(state, query.maxPoints, query.minStep, query.maxStep);
    return { runId, key, points: toPoints(series), total, downsampled };
  }

  /**
   * At most maxPoints points of a series (range). A long in-order range is downsampled from the
   * blocks' envelopes (first/last and per-64-point min/max), reading every point only in the
   * two blocks cut by the range ends; otherwise from every point.
   */
  private downsampled(
    state: SeriesState,
    maxPoints: number,
    minStep?: number,
    maxStep?: number
  ): { series: Series; total: number; downsampled: boolean } {
    const low = minStep ?? Number.MIN_SAFE_INTEGER;
    const high = maxStep ?? Number.MAX_SAFE_INTEGER;
    if (state.inOrder && state.count >= maxPoints * ENVELOPE_MIN_REDUCTION) {
      const ranges = this.store.blockRanges(state.id, low, high);
      const estimate = ranges.reduce((sum, [, count]) => sum + count, 0);
      if (estimate >= maxPoints * ENVELOPE_MIN_REDUCTION) {
        const inner = ranges.filter(([, , first, last]) => first >= low && last <= high);
        const envelopes = inner.length > 0 ? this.store.envelopes(state.id, inner[0][0], inner[inner.length - 1][0]) : [];
        const parts: Series[] = [];
        let total = 0;
        let envelopeIndex = 0;
        for (const [blockNo, count, first, last] of ranges) {
          if (first >= low && last <= high) {
            const [envelopeCount, envelope] = envelopes[envelopeIndex++];
            parts.push(decodeBlock(envelope, envelopeCount));
            total += count;
          } else {
            const [rawCount, raw] = this.store.block(state.id, blockNo);
            const cut = sliceSteps(decodeBlock(raw, rawCount), minStep, maxStep);
            parts.push(cut);
            total += cut.steps.length;
          }
        }
        const candidates = concatSeries(parts);
        return { series: pick(candidates, lttbIndices(candidates.steps, candidates.values, maxPoints)), total, downsampled: true };
      }
    }
    const series = this.readSeries(state, minStep, maxStep);
    return { ...downsampleSeries(series, maxPoints), total: series.steps.length };
  }

  /**
   * Every metric key's downsampled series per run (for a comparison), as columns of steps and
   * values (charts need no timestamps; columns serialise several times faster than point objects).
   */
  compare(runIds: readonly string[], maxPoints: number): CompareResponse['series'] {
    const series: CompareResponse['series'] = userKeyed();
    const plain = (column: Float64Array): number[] => {
      // Pushed, not preallocated: a packed array, which JSON.stringify writes fastest.
      const out: number[] = [];
      for (let i = 0; i < column.length; i++) out.push(column[i]);
      return out;
    };
    const plainValues = (column: Float64Array): MetricValue[] => {
      const out: MetricValue[] = [];
      for (let i = 0; i < column.length; i++) {
        const value = column[i];
        out.push(value - value === 0 ? value : toMetricValue(value));
      }
      return out;
    };
    for (const runId of runIds) {
      const states = [...this.store.seriesOfRun(runId).values()];
      // Short series (the usual case) are read with one query per run, not one per series.
      const small = (state: SeriesState) => !(state.inOrder && state.count >= maxPoints * ENVELOPE_MIN_REDUCTION);
      const blocks = states.some(small) ? this.store.blocksOfRun(runId) : new Map<number, [number, Buffer][]>();
      for (const state of states) {
        let picked: Series;
        if (small(state)) {
          const parts = (blocks.get(state.id) ?? []).map(([count, blob]) => decodeBlock(blob, count));
          const all = parts.length === 1 ? parts[0] : concatSeries(parts);
          picked = downsampleSeries(state.inOrder ? all : sortSeries(all), maxPoints).series;
        } else {
          picked = this.downsampled(state, maxPoints).series;
        }
        (series[state.key] ??= {})[runId] = { steps: plain(picked.steps), values: plainValues(picked.values) };
      }
    }
    return series;
  }
}
