/**
 * Runs: creation, listing, updates, deletion, metric ingest, history, compare and artifacts.
 * Every write that touches several tables happens in one transaction, so nothing is
 * half-written; events go out after the transaction committed.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type {
  Artifact,
  CompareResponse,
  CreateRunRequest,
  LogBatchRequest,
  LogBatchResponse,
  MetricHistoryQuery,
  MetricHistoryResponse,
  MetricPoint,
  MetricSummary,
  MetricValue,
  Run,
  RunIO,
  RunListQuery,
  RunListResponse,
  RunSnapshot,
  UpdateRunRequest
} from '../contract';
import { isBlobReferenced } from '../blobs/references';
import type { BlobStore } from '../blobs/store';
import type { Database } from '../db/database';
import { AppError, notFound } from '../http/errors';
import { fromMetricValue, MAX_WHOLE_NUMBER, toMetricValue, userKeyed } from '../contract';
import type { ProjectService } from '../projects/service';
import { projectRoom, type DomainEvents } from '../realtime/events';
import { parseFilters, parseSort } from './filters';
import type { LiveMetrics, LivePoint } from './live';
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
import { toSummary, type RunDetails, type RunRecord, type RunStore, type SeriesState } from './store';

export type CreateRunInput = z.output<typeof CreateRunRequest>;
export type UpdateRunInput = z.output<typeof UpdateRunRequest>;
export type RunListInput = z.output<typeof RunListQuery>;
export type MetricHistoryInput = z.output<typeof MetricHistoryQuery>;
/** A batch as the service takes it; MLflow batches come without an idempotency key. */
export type LogBatchInput = Omit<z.output<typeof LogBatchRequest>, 'idempotencyKey'> & { idempotencyKey?: string };

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
function pointColumns(batch: LogBatchInput): PointColumns {
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

const ENDED: ReadonlySet<string> = new Set(['finished', 'failed', 'killed']);

const isForeignKeyViolation = (error: unknown): boolean =>
  (error as { code?: string } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';

/** Called as a run's input or output is recorded, inside the same transaction. */
export type IoHook = (run: RunRecord, direction: 'input' | 'output', io: RunIO) => void;

export interface RunServiceDeps {
  db: Database;
  store: RunStore;
  projects: ProjectService;
  blobs: BlobStore;
  events: DomainEvents;
  live: LiveMetrics;
  maxArtifactBytes: number;
  now?: () => Date;
}

export class RunService {
  private readonly db: Database;
  private readonly store: RunStore;
  private readonly projects: ProjectService;
  private readonly blobs: BlobStore;
  private readonly events: DomainEvents;
  private readonly live: LiveMetrics;
  private readonly maxArtifactBytes: number;
  private readonly now: () => Date;
  private readonly ioHooks: IoHook[] = [];

  constructor(deps: RunServiceDeps) {
    this.db = deps.db;
    this.store = deps.store;
    this.projects = deps.projects;
    this.blobs = deps.blobs;
    this.events = deps.events;
    this.live = deps.live;
    this.maxArtifactBytes = deps.maxArtifactBytes;
    this.now = deps.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------------------------------
  // runs

  async create(input: CreateRunInput): Promise<Run> {
    const replayed = input.idempotencyKey ? this.store.runIdByCreateKey(input.idempotencyKey) : undefined;
    if (replayed) return this.get(replayed);
    const project = await this.projects.ensure(input.project);
    const id = randomUUID();
    const created = this.store.transaction(() => {
      // Checked again inside the transaction: a concurrent retry may have won the race.
      const winner = input.idempotencyKey ? this.store.runIdByCreateKey(input.idempotencyKey) : undefined;
      if (winner) return winner;
      const number = this.store.nextNumber(project.id);
      this.store.insertRun({
        id,
        projectId: project.id,
        number,
        name: input.name?.trim() || `run-${number}`,
        status: 'running',
        notebookPath: input.notebookPath,
        sourceKind: input.source.kind,
        sourceCell: input.source.cell,
        startedAt: input.startedAt ? new Date(input.startedAt).toISOString() : this.now().toISOString(),
        environment: input.environment,
        frontendId: input.frontendId,
        pendingModuleFiles: input.moduleFiles,
        createKey: input.idempotencyKey ?? null
      });
      for (const [key, value] of Object.entries(input.params)) this.store.insertParam(id, key, value);
      for (const [key, value] of Object.entries(input.tags)) this.store.setTag(id, key, value);
      return id;
    });
    if (created !== id) return this.get(created);
    const run = this.get(id);
    this.events.publishTo([projectRoom(run.projectId)], 'run:created', run);
    return run;
  }

  /** One run with everything, environment and artifacts included. */
  get(id: string): Run {
    const record = this.store.findRun(id);
    if (!record) throw notFound(`Run ${id}`);
    return this.compose(record, this.store.details([id]), true);
  }

  /** Runs by id in that order, as lists show them (no environment, no artifacts); 404 for an unknown id. */
  getMany(ids: readonly string[]): Run[] {
    const records = this.store.runsByIds(ids);
    if (records.length !== ids.length) {
      const found = new Set(records.map((record) => record.id));
      throw notFound(`Run ${ids.find((id) => !found.has(id))}`);
    }
    const details = this.store.details(ids);
    return records.map((record) => this.compose(record, details, false));
  }

  /**
   * Runs matching the query. List items leave out `environment` (null) and `artifacts` ([])
   * for speed; get one run for those.
   */
  list(query: RunListInput): RunListResponse {
    return this.search({
      project: query.project,
      status: query.status,
      notebookPath: query.notebookPath,
      filters: parseFilters(query.filter),
      sort: parseSort(query.sort),
      limit: query.limit,
      offset: query.offset
    });
  }

  /** list() with already-parsed filters and a few more criteria (used by the MLflow API). */
  search(query: Parameters<RunStore['list']>[0]): RunListResponse {
    const { ids, total } = this.store.list(query);
    const details = this.store.details(ids);
    const runs = this.store.runsByIds(ids).map((record) => this.compose(record, details, false));
    return { runs, total };
  }

  /** Renames, ends or fails a run. Ending sets endedAt (default now); reopening clears it. */
  update(id: string, changes: UpdateRunInput): Run {
    const existing = this.store.findRun(id);
    if (!existing) throw notFound(`Run ${id}`);
    const updated: RunRecord = { ...existing };
    if (changes.name !== undefined) updated.name = changes.name.trim() || existing.name;
    if (changes.status !== undefined) {
      updated.status = changes.status;
      if (ENDED.has(changes.status)) updated.endedAt = existing.endedAt ?? this.now().toISOString();
      else updated.endedAt = null;
    }
    if (changes.endedAt !== undefined) updated.endedAt = new Date(changes.endedAt).toISOString();
    if (changes.error !== undefined) {
      updated.errorMessage = changes.error?.message ?? null;
      updated.errorTraceback = changes.error?.traceback ?? null;
    }
    this.store.updateRun(updated);
    const run = this.get(id);
    this.events.publishTo([projectRoom(run.projectId)], 'run:updated', run);
    return run;
  }

  /**
   * Deletes a run with everything it owns (rows cascade) and every blob no longer referenced
   * by anything. Blob files go inside the transaction, synchronously, so a concurrent upload
   * of the same content (which also commits synchronously) cannot interleave.
   */
  delete(id: string): void {
    const existing = this.store.findRun(id);
    if (!existing) throw notFound(`Run ${id}`);
    this.store.transaction(() => {
      const digests = this.store.artifactDigests(id);
      this.store.deleteRun(id);
      for (const digest of digests) {
        if (!isBlobReferenced(this.db, digest)) this.blobs.removeSync(digest);
      }
    });
    this.live.forget(id);
    this.events.publishTo([projectRoom(existing.projectId)], 'run:deleted', { id, projectId: existing.projectId });
  }

  /** Called by snapshots once the commit exists; false when the run already had a snapshot. */
  setSnapshot(id: string, snapshot: RunSnapshot): boolean {
    if (!this.store.setSnapshot(id, snapshot)) return false;
    const run = this.get(id);
    this.events.publishTo([projectRoom(run.projectId)], 'run:updated', run);
    return true;
  }

  /** Modules the run's kernel imported, waiting to be committed with its notebook snapshot. */
  pendingModuleFiles(id: string): { path: string; content: string }[] {
    return this.store.pendingModuleFiles(id);
  }

  /** The run row alone (no params, metrics, …), for features that only need its identity. */
  record(id: string): RunRecord {
    const record = this.store.findRun(id);
    if (!record) throw notFound(`Run ${id}`);
    return record;
  }

  private compose(record: RunRecord, details: RunDetails, full: boolean): Run {
    return {
      id: record.id,
      projectId: record.projectId,
      projectName: record.projectName,
      name: record.name,
      status: record.status,
      notebookPath: record.notebookPath,
      source: { kind: record.sourceKind, cell: record.sourceCell },
      startedAt: record.startedAt,
      endedAt: record.endedAt,
      params: details.params.get(record.id) ?? {},
      tags: details.tags.get(record.id) ?? {},
      metrics: details.metrics.get(record.id) ?? {},
      inputs: details.inputs.get(record.id) ?? [],
      outputs: details.outputs.get(record.id) ?? [],
      artifacts: full ? this.store.artifacts(record.id) : [],
      snapshot: record.snapshot,
      environment: full ? record.environment : null,
      error: record.errorMessage !== null ? { message: record.errorMessage, traceback: record.errorTraceback } : null,
      frontendId: record.frontendId
    };
  }

  // ------------------------------------------------------------------------------------------
  // ingest

  /**
   * Applies one batch in one transaction. A batch whose idempotency key the run has seen is
   * acknowledged as a duplicate and changes nothing. Params are write-once (as in MLflow):
   * the same value again is fine, a different one is a 409 and the whole batch is rejected.
   * Logging to an ended run is allowed, as MLflow allows it (late evaluation metrics).
   */
  log(runId: string, batch: LogBatchInput): LogBatchResponse {
    const run = this.store.findRun(runId);
    if (!run) throw notFound(`Run ${runId}`);
    const at = this.now();
    let live: { metrics: Record<string, MetricSummary>; points: LivePoint[] } | undefined;
    const result = this.store.transaction((): LogBatchResponse => {
      if (batch.idempotencyKey !== undefined && !this.store.recordBatch(runId, batch.idempotencyKey, at.toISOString())) {
        return { stored: 0, duplicate: true };
      }
      for (const [key, value] of Object.entries(batch.params)) {
        const existing = this.store.param(runId, key);
        if (existing !== undefined && existing !== value) {
          const message = `Param "${key}" is already "${existing}" for this run; params are write-once (start a new run to try "${value}")`;
          throw new AppError('conflict', message, [{ path: `body.params.${key}`, message }]);
        }
        if (existing === undefined) this.store.insertParam(runId, key, value);
      }
      for (const [key, value] of Object.entries(batch.tags)) this.store.setTag(runId, key, value);
      for (const io of batch.inputs) this.applyIo(run, 'input', io);
      for (const io of batch.outputs) this.applyIo(run, 'output', io);
      const stored = batch.metrics.length + (batch.metricColumns?.keyIndex.length ?? 0);
      if (stored > 0) live = this.ingestPoints(runId, pointColumns(batch), at);
      return { stored, duplicate: false };
    });
    if (result.duplicate) return result;
    if (live) this.live.record(runId, run.projectId, live.metrics, live.points);
    const changedRun =
      Object.keys(batch.params).length + Object.keys(batch.tags).length + batch.inputs.length + batch.outputs.length > 0;
    if (changedRun) this.events.publishTo([projectRoom(run.projectId)], 'run:updated', this.get(runId));
    return result;
  }

  /**
   * Registers a hook called for every input/output recorded, inside the recording transaction
   * (provenance links dataset refs this way, atomically with the IO row).
   */
  onIoRecorded(hook: IoHook): void {
    this.ioHooks.push(hook);
  }

  /** Records one input or output of a run (for other features; call it inside their transaction). */
  recordIo(runId: string, direction: 'input' | 'output', io: RunIO): void {
    this.applyIo(this.record(runId), direction, io);
  }

  private applyIo(run: RunRecord, direction: 'input' | 'output', io: RunIO): void {
    this.store.upsertIo(run.id, direction, io);
    for (const hook of this.ioHooks) hook(run, direction, io);
  }

  /** Removes a tag (MLflow's delete-tag); absent tags are fine. */
  deleteTag(runId: string, key: string): void {
    this.record(runId);
    this.store.deleteTag(runId, key);
  }

  /**
   * Appends points to their series and updates each key's summary once per batch. An omitted
   * step is one more than the key's greatest step; a non-increasing step is stored too and only
   * marks the series as needing a sort on read.
   */
  private ingestPoints(runId: string, columns: PointColumns, at: Date): { metrics: Record<string, MetricSummary>; points: LivePoint[] } {
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
    let skipLive = Math.max(0, count - this.live.maxPoints);
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
  // history and compare

  /** A key's points in order (step, then timestamp, then insertion), optionally within a step range. */
  private readSeries(state: SeriesState, minStep?: number, maxStep?: number): Series {
    const blocks = this.store.blocks(state.id, minStep, maxStep).map(([count, blob]) => decodeBlock(blob, count));
    const all = blocks.length === 1 ? blocks[0] : concatSeries(blocks);
    return sliceSteps(state.inOrder ? all : sortSeries(all), minStep, maxStep);
  }

  /** Every point of a key, in order (MLflow's get-history). */
  points(runId: string, key: string): MetricPoint[] {
    this.record(runId);
    const state = this.store.series(runId, key);
    if (!state) return [];
    return downsample(this.readSeries(state), Number.MAX_SAFE_INTEGER).points;
  }

  history(runId: string, key: string, query: MetricHistoryInput): MetricHistoryResponse {
    this.record(runId);
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
   * Runs side by side: list-style runs plus every metric key's downsampled series per run, as
   * columns of steps and values (charts need no timestamps; columns serialise several times faster
   * than point objects).
   */
  compare(ids: readonly string[], maxPoints: number): CompareResponse {
    const runs = this.getMany([...new Set(ids)]);
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
    for (const run of runs) {
      const states = [...this.store.seriesOfRun(run.id).values()];
      // Short series (the usual case) are read with one query per run, not one per series.
      const small = (state: SeriesState) => !(state.inOrder && state.count >= maxPoints * ENVELOPE_MIN_REDUCTION);
      const blocks = states.some(small) ? this.store.blocksOfRun(run.id) : new Map<number, [number, Buffer][]>();
      for (const state of states) {
        let picked: Series;
        if (small(state)) {
          const parts = (blocks.get(state.id) ?? []).map(([count, blob]) => decodeBlock(blob, count));
          const all = parts.length === 1 ? parts[0] : concatSeries(parts);
          picked = downsampleSeries(state.inOrder ? all : sortSeries(all), maxPoints).series;
        } else {
          picked = this.downsampled(state, maxPoints).series;
        }
        (series[state.key] ??= {})[run.id] = { steps: plain(picked.steps), values: plainValues(picked.values) };
      }
    }
    return { runs, series };
  }

  // ------------------------------------------------------------------------------------------
  // artifacts

  /**
   * Streams an upload into the blob store and records it at `path` (replacing an earlier
   * artifact there). The blob is durable before the answer; the row and the blob's final
   * rename commit together.
   */
  async putArtifact(runId: string, path: string, source: Readable): Promise<Artifact> {
    this.record(runId);
    const staged = await this.blobs.stage(source, this.maxArtifactBytes);
    const artifact: Artifact = { path, size: staged.size, digest: staged.digest, createdAt: this.now().toISOString() };
    try {
      this.store.transaction(() => {
        const replaced = this.store.artifact(runId, path);
        this.store.upsertArtifact(runId, artifact);
        this.blobs.commitSync(staged);
        if (replaced && replaced.digest !== artifact.digest && !isBlobReferenced(this.db, replaced.digest)) {
          this.blobs.removeSync(replaced.digest);
        }
      });
    } catch (error) {
      await this.blobs.discard(staged);
      // The run was deleted while its upload streamed in.
      if (isForeignKeyViolation(error)) throw notFound(`Run ${runId}`);
      throw error;
    }
    const run = this.get(runId);
    this.events.publishTo([projectRoom(run.projectId)], 'run:updated', run);
    return artifact;
  }

  openArtifact(runId: string, path: string): { artifact: Artifact; body: Readable } {
    this.record(runId);
    const artifact = this.store.artifact(runId, path);
    if (!artifact) throw notFound(`Artifact "${path}" of run ${runId}`);
    return { artifact, body: this.blobs.open(artifact.digest) };
  }
}
