/**
 * SQL and cache for run details: the parts of runs that lists carry (params, tags, metric
 * summaries, inputs and outputs), read for many runs at once. Every store that writes one of
 * them forgets the run here, in the same call as the write.
 */
import type { Database, Statement } from 'better-sqlite3';
import { userKeyed, type MetricSummary, type RunIO } from '../contract';
import { toSummary } from './metricStore';

/** The parts of runs that lists carry, fetched for many runs at once. */
export interface RunDetails {
  params: Map<string, Record<string, string>>;
  tags: Map<string, Record<string, string>>;
  metrics: Map<string, Record<string, MetricSummary>>;
  inputs: Map<string, RunIO[]>;
  outputs: Map<string, RunIO[]>;
}

/** One run's part of RunDetails. */
interface RunDetail {
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricSummary>;
  inputs: RunIO[];
  outputs: RunIO[];
}

/** At most this many runs' details are kept in memory (the oldest entries go first). */
const DETAILS_CACHE_RUNS = 20_000;

/** Binds a list of ids as one JSON parameter, so one prepared statement serves any count. */
const IN_IDS = 'IN (SELECT value FROM json_each(?))';

const emptyDetails = (): RunDetails => ({ params: new Map(), tags: new Map(), metrics: new Map(), inputs: new Map(), outputs: new Map() });

export class RunDetailsStore {
  private readonly statements: Record<string, Statement>;

  /**
   * Lists read the same runs' params, tags, summaries and io again and again, while only the
   * runs being written change: each run's details are kept (frozen) until a write through a
   * runs store touches that run, or another connection (the CLI) commits anything.
   */
  private readonly cache = new Map<string, Readonly<RunDetail>>();
  private dataVersion = -1;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      // One JSON object per run, built by SQLite from rows in primary-key order (so keys come
      // sorted): a JS object per row costs better-sqlite3 several times more.
      params: prepare(`SELECT run_id, json_group_object(key, value) FROM run_params WHERE run_id ${IN_IDS} GROUP BY run_id`).raw(),
      tags: prepare(`SELECT run_id, json_group_object(key, value) FROM run_tags WHERE run_id ${IN_IDS} GROUP BY run_id`).raw(),
      // The (run_id, key) index yields each run's keys in order, so no sort; raw rows, no object per row.
      summaries: prepare(`SELECT run_id, key, latest, latest_is_nan, step, min, max, count, updated_at FROM metric_summaries
        INDEXED BY sqlite_autoindex_metric_summaries_1 WHERE run_id ${IN_IDS}`).raw(),
      io: prepare(`SELECT run_id, direction, kind, name, digest FROM run_io WHERE run_id ${IN_IDS} ORDER BY id`)
    };
  }

  /** Forgets a run's cached details; every write of a run's details calls it. */
  forget(runId: string): void {
    this.cache.delete(runId);
  }

  details(ids: readonly string[]): RunDetails {
    // Inside a transaction rows may still be rolled back: read them, but remember nothing.
    if (this.db.inTransaction) return this.read(ids);
    // data_version changes when another connection commits (never for this one's own writes).
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (version !== this.dataVersion) {
      this.cache.clear();
      this.dataVersion = version;
    }
    const missing = ids.filter((id) => !this.cache.has(id));
    if (missing.length > 0) {
      const read = this.read(missing);
      for (const id of missing) {
        const detail: RunDetail = {
          params: Object.freeze(read.params.get(id) ?? userKeyed<string>()),
          tags: Object.freeze(read.tags.get(id) ?? userKeyed<string>()),
          metrics: Object.freeze(read.metrics.get(id) ?? userKeyed<MetricSummary>()),
          inputs: Object.freeze(read.inputs.get(id) ?? []) as RunIO[],
          outputs: Object.freeze(read.outputs.get(id) ?? []) as RunIO[]
        };
        if (this.cache.size >= DETAILS_CACHE_RUNS) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(id, Object.freeze(detail));
      }
    }
    const details = emptyDetails();
    for (const id of ids) {
      const detail = this.cache.get(id);
      if (!detail) continue;
      details.params.set(id, detail.params);
      details.tags.set(id, detail.tags);
      details.metrics.set(id, detail.metrics);
      details.inputs.set(id, detail.inputs);
      details.outputs.set(id, detail.outputs);
    }
    return details;
  }

  private read(ids: readonly string[]): RunDetails {
    const json = JSON.stringify(ids);
    const details = emptyDetails();
    // Objects without a prototype: user keys such as `__proto__` are just keys there.
    const entry = <T>(map: Map<string, T>, id: string, make: () => T): T => {
      let value = map.get(id);
      if (!value) map.set(id, (value = make()));
      return value;
    };
    // JSON.parse makes `__proto__` an own key; copied into a prototype-less record as before.
    for (const [runId, object] of this.statements.params.all(json) as [string, string][]) {
      details.params.set(runId, Object.assign(userKeyed<string>(), JSON.parse(object) as Record<string, string>));
    }
    for (const [runId, object] of this.statements.tags.all(json) as [string, string][]) {
      details.tags.set(runId, Object.assign(userKeyed<string>(), JSON.parse(object) as Record<string, string>));
    }
    type Row = [string, string, number, number, number, number, number, number, string];
    for (const [runId, key, latest, latestIsNan, step, min, max, count, updatedAt] of this.statements.summaries.all(json) as Row[]) {
      entry(details.metrics, runId, userKeyed<MetricSummary>)[key] = toSummary({
        latest: latestIsNan === 1 ? NaN : latest,
        step,
        min,
        max,
        count,
        updatedAt
      });
    }
    for (const row of this.statements.io.all(json) as {
      run_id: string;
      direction: 'input' | 'output';
      kind: RunIO['kind'];
      name: string;
      digest: string | null;
    }[]) {
      const map = row.direction === 'input' ? details.inputs : details.outputs;
      entry(map, row.run_id, () => [] as RunIO[]).push({ kind: row.kind, name: row.name, digest: row.digest });
    }
    return details;
  }
}
