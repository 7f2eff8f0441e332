/**
 * Runs: creation, listing, updates, deletion and log batches, and the facade of the runs
 * feature: metric series (runs/metrics.ts) and artifacts (runs/artifacts.ts) are reached through
 * it. Every write that touches several tables happens in one transaction, so nothing is
 * half-written; the feature's events go out after the transaction committed.
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
  MetricAggregate,
  MetricHistoryResponse,
  MetricPoint,
  MetricSummary,
  Run,
  RunIO,
  RunGroupQuery,
  RunGroupResponse,
  RunListQuery,
  RunListResponse,
  RunSnapshot,
  UpdateRunRequest
} from '../contract';
import { LogKey } from '../contract';
import { AppError, notFound } from '../http/errors';
import type { ProjectService } from '../projects/service';
import { projectRoom, type DomainEvents } from '../realtime/events';
import type { ArtifactHook, RunArtifacts } from './artifacts';
import type { RunDetails } from './detailsStore';
import { parseFilters, parseNumber, parseSort } from './filters';
import type { LiveMetrics, LivePoint } from './live';
import type { MetricHistoryInput, MetricSeries } from './metrics';
import type { RunSearchQuery, RunSearchStore } from './searchStore';
import type { RunRecord, RunStore } from './store';

export type CreateRunInput = z.output<typeof CreateRunRequest>;
export type UpdateRunInput = z.output<typeof UpdateRunRequest>;
export type RunListInput = z.output<typeof RunListQuery>;
export type RunGroupInput = z.output<typeof RunGroupQuery>;
/** A batch as the service takes it; MLflow batches come without an idempotency key. */
export type LogBatchInput = Omit<z.output<typeof LogBatchRequest>, 'idempotencyKey'> & { idempotencyKey?: string };

const ENDED: ReadonlySet<string> = new Set(['finished', 'failed', 'killed']);

/** Called as a run's input or output is recorded, inside the same transaction. */
export type IoHook = (run: RunRecord, direction: 'input' | 'output', io: RunIO) => void;

export interface RunServiceDeps {
  store: RunStore;
  searchStore: RunSearchStore;
  metrics: MetricSeries;
  artifacts: RunArtifacts;
  projects: ProjectService;
  events: DomainEvents;
  live: LiveMetrics;
  now?: () => Date;
}

export class RunService {
  private readonly store: RunStore;
  private readonly searchStore: RunSearchStore;
  private readonly metrics: MetricSeries;
  private readonly artifacts: RunArtifacts;
  private readonly projects: ProjectService;
  private readonly events: DomainEvents;
  private readonly live: LiveMetrics;
  private readonly now: () => Date;
  private readonly ioHooks: IoHook[] = [];

  constructor(deps: RunServiceDeps) {
    this.store = deps.store;
    this.searchStore = deps.searchStore;
    this.metrics = deps.metrics;
    this.artifacts = deps.artifacts;
    this.projects = deps.projects;
    this.events = deps.events;
    this.live = deps.live;
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

  /** Runs grouped by a param or tag, with count, mean and sample standard deviation of metrics. */
  groups(query: RunGroupInput): RunGroupResponse {
    const by = /^(params|tags)\.(.+)$/s.exec(query.by.trim());
    if (!by || !LogKey.safeParse(by[2]).success) {
      throw new AppError('invalid_request', 'Invalid request: query.by: expected params.<key> or tags.<key> with a valid key', [
        { path: 'query.by', message: 'expected params.<key> or tags.<key> with a valid key' }
      ]);
    }
    const metricKeys = query.metric === undefined ? [] : [...new Set(Array.isArray(query.metric) ? query.metric : [query.metric])];
    const { total, groups } = this.searchStore.groups(
      { project: query.project, status: query.status, filters: parseFilters(query.filter) },
      { field: by[1] as 'params' | 'tags', key: by[2] },
      metricKeys
    );
    const result = [...groups].map(([value, group]) => ({
      value,
      count: group.count,
      metrics: Object.fromEntries(metricKeys.map((key) => [key, aggregate(group.values.get(key) ?? [])]))
    }));
    result.sort((a, b) => compareGroupValues(a.value, b.value));
    return { groups: result, total };
  }

  /** list() with already-parsed filters and a few more criteria (used by the MLflow API). */
  search(query: RunSearchQuery): RunListResponse {
    const { ids, total } = this.searchStore.page(query);
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
    this.publishUpdated(run);
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
      const digests = this.artifacts.digests(id);
      this.store.deleteRun(id);
      this.artifacts.removeUnreferenced(digests);
    });
    this.live.forget(id);
    this.events.publishTo([projectRoom(existing.projectId)], 'run:deleted', { id, projectId: existing.projectId });
  }

  /** Called by snapshots once the commit exists; false when the run already had a snapshot. */
  setSnapshot(id: string, snapshot: RunSnapshot): boolean {
    if (!this.store.setSnapshot(id, snapshot)) return false;
    this.announceUpdate(id);
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
      artifacts: full ? this.artifacts.list(record.id) : [],
      snapshot: record.snapshot,
      environment: full ? record.environment : null,
      error: record.errorMessage !== null ? { message: record.errorMessage, traceback: record.errorTraceback } : null,
      frontendId: record.frontendId
    };
  }

  // ------------------------------------------------------------------------------------------
  // log batches, inputs and outputs

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
      if (stored > 0) live = this.metrics.ingest(runId, batch, at);
      return { stored, duplicate: false };
    });
    if (result.duplicate) return result;
    if (live) this.live.record(runId, run.projectId, live.metrics, live.points);
    const changedRun = Object.keys(batch.params).length + Object.keys(batch.tags).length + batch.inputs.length + batch.outputs.length > 0;
    if (changedRun) this.announceUpdate(runId);
    return result;
  }

  /**
   * Registers a hook called for every input/output recorded, inside the recording transaction
   * (provenance links dataset refs this way, atomically with the IO row).
   */
  onIoRecorded(hook: IoHook): void {
    this.ioHooks.push(hook);
  }

  /**
   * Records one input or output of a run (for other features; call it inside their transaction,
   * then announceUpdate once it has committed).
   */
  recordIo(runId: string, direction: 'input' | 'output', io: RunIO): void {
    this.applyIo(this.record(runId), direction, io);
  }

  /** Tells the run's project that the run changed (`run:updated`), e.g. after recordIo committed. */
  announceUpdate(runId: string): void {
    this.publishUpdated(this.get(runId));
  }

  private publishUpdated(run: Run): void {
    this.events.publishTo([projectRoom(run.projectId)], 'run:updated', run);
  }

  private applyIo(run: RunRecord, direction: 'input' | 'output', io: RunIO): void {
    this.store.upsertIo(run.id, direction, io);
    for (const hook of this.ioHooks) hook(run, direction, io);
  }

  /** Sets tags on a run (for features that own some tags, such as runners' `runlab.*`). */
  setTags(runId: string, tags: Record<string, string>): void {
    this.record(runId);
    this.store.transaction(() => {
      for (const [key, value] of Object.entries(tags)) this.store.setTag(runId, key, value);
    });
    this.announceUpdate(runId);
  }

  /**
   * Deletes every metric point of a run (a job's new attempt re-runs the notebook from the start,
   * so the earlier attempt's points would be duplicates). Returns how many series were removed.
   */
  clearMetrics(runId: string): number {
    this.record(runId);
    const removed = this.store.transaction(() => this.metrics.clear(runId));
    this.live.forget(runId);
    if (removed > 0) this.announceUpdate(runId);
    return removed;
  }

  /** Removes a tag (MLflow's delete-tag); absent tags are fine. */
  deleteTag(runId: string, key: string): void {
    this.record(runId);
    this.store.deleteTag(runId, key);
  }

  // ------------------------------------------------------------------------------------------
  // metric series (runs/metrics.ts)

  /** Every point of a key, in order (MLflow's get-history). */
  points(runId: string, key: string): MetricPoint[] {
    this.record(runId);
    return this.metrics.points(runId, key);
  }

  history(runId: string, key: string, query: MetricHistoryInput): MetricHistoryResponse {
    this.record(runId);
    return this.metrics.history(runId, key, query);
  }

  /** Runs side by side: list-style runs plus every metric key's downsampled series per run. */
  compare(ids: readonly string[], maxPoints: number): CompareResponse {
    const runs = this.getMany([...new Set(ids)]);
    return {
      runs,
      series: this.metrics.compare(
        runs.map((run) => run.id),
        maxPoints
      )
    };
  }

  // ------------------------------------------------------------------------------------------
  // artifacts (runs/artifacts.ts)

  /** Registers a hook called for every artifact stored, inside the storing transaction (see RunArtifacts). */
  onArtifactStored(hook: ArtifactHook): void {
    this.artifacts.onStored(hook);
  }

  /** Streams an upload into the blob store and records it with the run at `path`. */
  async putArtifact(runId: string, path: string, source: Readable): Promise<Artifact> {
    const artifact = await this.artifacts.put(this.record(runId), path, source);
    this.announceUpdate(runId);
    return artifact;
  }

  openArtifact(runId: string, path: string): { artifact: Artifact; body: Readable } {
    this.record(runId);
    return this.artifacts.open(runId, path);
  }
}

/** Count, mean, sample standard deviation (n − 1, as across seeds), min and max, in one pass (Welford). */
export function aggregate(values: readonly number[]): MetricAggregate {
  let mean = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  values.forEach((value, index) => {
    const delta = value - mean;
    mean += delta / (index + 1);
    squares += delta * (value - mean);
    min = Math.min(min, value);
    max = Math.max(max, value);
  });
  const count = values.length;
  return {
    count,
    mean: count > 0 ? mean : null,
    sd: count > 1 ? Math.sqrt(squares / (count - 1)) : null,
    min: count > 0 ? min : null,
    max: count > 0 ? max : null
  };
}

/** Numbers in numeric order, then other text; the runs lacking the value last. */
function compareGroupValues(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const x = parseNumber(a);
  const y = parseNumber(b);
  if (x !== null && y !== null) return x - y;
  if (x !== null || y !== null) return x !== null ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
