/**
 * SQL for run search: one page of run ids matching filters (project, status, params, tags,
 * metrics, …) in a sort order, plus the total.
 */
import type { Database } from 'better-sqlite3';
import type { RunStatus } from '../contract';
import { parseNumber, type RunFilter, type RunSort } from './filters';

/** Binds a list of ids as one JSON parameter, so one prepared statement serves any count. */
const IN_IDS = 'IN (SELECT value FROM json_each(?))';

const OPERATORS = new Set(['=', '!=', '>', '>=', '<', '<=']);

/** What a search asks for (RunService.list parses the HTTP query into it; MLflow builds its own). */
export interface RunSearchQuery {
  project?: string;
  /** Any of these projects (MLflow searches several experiments at once). */
  projectIds?: readonly string[];
  name?: string;
  status?: RunStatus;
  notebookPath?: string;
  filters: RunFilter[];
  sort: RunSort;
  limit: number;
  offset: number;
}

export class RunSearchStore {
  constructor(private readonly db: Database) {
    // Numeric comparison of params that look like numbers (`params.lr>0.01`); null otherwise.
    db.function('runlab_number', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? parseNumber(value) : null));
  }

  /**
   * One page of run ids matching the filters, in sort order, plus the total. Metric filters
   * and sorts read the summaries table only (indexed by run and key), never the points.
   */
  page(query: RunSearchQuery): { ids: string[]; total: number } {
    const { where, params } = this.conditions(query);
    const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM runs r ${whereSql}`).get(...params) as { n: number }).n;

    const direction = query.sort.direction === 'asc' ? 'ASC' : 'DESC';
    if (query.sort.by === 'metrics') {
      return { ids: this.pageByMetric(query.sort.key, direction, where, params, query.limit, query.offset), total };
    }
    let join = '';
    let order: string;
    const joinParams: unknown[] = [];
    switch (query.sort.by) {
      case 'startedAt':
        order = `r.started_at ${direction}`;
        break;
      case 'name':
        order = `r.name ${direction}`;
        break;
      case 'status':
        order = `r.status ${direction}`;
        break;
      case 'params':
      case 'tags':
        // Params and tags are both text that may hold numbers: numbers first, in order, then text.
        join = `LEFT JOIN ${query.sort.by === 'params' ? 'run_params' : 'run_tags'} s ON s.run_id = r.id AND s.key = ?`;
        joinParams.push(query.sort.key);
        order = `s.value IS NULL, runlab_number(s.value) IS NULL, runlab_number(s.value) ${direction}, s.value ${direction}`;
        break;
    }
    const rows = this.db
      .prepare(`SELECT r.id FROM runs r ${join} ${whereSql} ORDER BY ${order}, r.started_at DESC, r.id LIMIT ? OFFSET ?`)
      .raw()
      .all(...joinParams, ...params, query.limit, query.offset) as [string][];
    return { ids: rows.map(([id]) => id), total };
  }

  /**
   * The runs matching `query`'s filters grouped by one param or tag: per group its value (null
   * for runs lacking it), its run count, and per metric key the finite latest values, in one pass
   * over the summaries table per key. The caller aggregates them.
   */
  groups(
    query: Omit<RunSearchQuery, 'sort' | 'limit' | 'offset'>,
    by: { field: 'params' | 'tags'; key: string },
    metricKeys: readonly string[]
  ): { total: number; groups: Map<string | null, { count: number; values: Map<string, number[]> }> } {
    const { where, params } = this.conditions(query);
    const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const table = by.field === 'params' ? 'run_params' : 'run_tags';
    const join = `LEFT JOIN ${table} g ON g.run_id = r.id AND g.key = ?`;
    const groups = new Map<string | null, { count: number; values: Map<string, number[]> }>();
    let total = 0;
    const counted = this.db
      .prepare(`SELECT g.value, COUNT(*) FROM runs r ${join} ${whereSql} GROUP BY g.value`)
      .raw()
      .all(by.key, ...params) as [string | null, number][];
    for (const [value, count] of counted) {
      groups.set(value, { count, values: new Map() });
      total += count;
    }
    const latest = this.db
      .prepare(
        `SELECT g.value, summary.latest FROM runs r ${join}
        JOIN metric_summaries summary ON summary.run_id = r.id AND summary.key = ? AND summary.latest_is_nan = 0 ${whereSql}`
      )
      .raw();
    for (const key of metricKeys) {
      for (const [value, number] of latest.all(by.key, key, ...params) as [string | null, number][]) {
        // ±Infinity has no mean; NaN is already left out (latest_is_nan).
        if (!Number.isFinite(number)) continue;
        const group = groups.get(value);
        if (!group) continue;
        const values = group.values.get(key) ?? [];
        values.push(number);
        group.values.set(key, values);
      }
    }
    return { total, groups };
  }

  /** The WHERE conditions of a search, with their bound parameters. */
  private conditions(query: Omit<RunSearchQuery, 'sort' | 'limit' | 'offset'>): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.project !== undefined) {
      where.push('r.project_id = (SELECT id FROM projects WHERE name = ?)');
      params.push(query.project);
    }
    if (query.projectIds !== undefined) {
      where.push(`r.project_id ${IN_IDS}`);
      params.push(JSON.stringify(query.projectIds));
    }
    if (query.name !== undefined) {
      where.push('r.name = ?');
      params.push(query.name);
    }
    if (query.status !== undefined) {
      where.push('r.status = ?');
      params.push(query.status);
    }
    if (query.notebookPath !== undefined) {
      where.push('r.notebook_path = ?');
      params.push(query.notebookPath);
    }
    for (const filter of query.filters) {
      if (!OPERATORS.has(filter.operator)) throw new Error(`Unexpected operator ${filter.operator}`);
      if (filter.field === 'metrics') {
        where.push(
          `EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.id AND m.key = ? AND m.latest_is_nan = 0 AND m.latest ${filter.operator} ?)`
        );
        params.push(filter.key, filter.number);
        continue;
      }
      const table = filter.field === 'params' ? 'run_params' : 'run_tags';
      // = and != compare strings; ordering operators compare numbers when the value is one.
      const numeric = filter.number !== null && filter.operator !== '=' && filter.operator !== '!=';
      const left = numeric ? 'runlab_number(x.value)' : 'x.value';
      where.push(`EXISTS (SELECT 1 FROM ${table} x WHERE x.run_id = r.id AND x.key = ? AND ${left} ${filter.operator} ?)`);
      params.push(filter.key, numeric ? filter.number : filter.value);
    }
    return { where, params };
  }

  /**
   * A page sorted by a metric's latest value: the runs having the metric walk the (key, latest)
   * index in order and stop after one page, so no sort of every run happens; runs without the
   * metric follow, newest first. Ties keep the order their series were created in.
   */
  private pageByMetric(
    key: string,
    direction: 'ASC' | 'DESC',
    where: string[],
    params: unknown[],
    limit: number,
    offset: number
  ): string[] {
    // A NaN latest value sorts with the runs that lack the metric, after every number.
    const withWhere = ['s.key = ?', 's.latest_is_nan = 0', ...where].join(' AND ');
    const ids = (
      this.db
        .prepare(
          `SELECT r.id FROM metric_summaries s JOIN runs r ON r.id = s.run_id WHERE ${withWhere}
          ORDER BY s.latest ${direction}, s.id ${direction} LIMIT ? OFFSET ?`
        )
        .raw()
        .all(key, ...params, limit, offset) as [string][]
    ).map(([id]) => id);
    if (ids.length === limit) return ids;
    const having = (
      this.db
        .prepare(`SELECT COUNT(*) AS n FROM metric_summaries s JOIN runs r ON r.id = s.run_id WHERE ${withWhere}`)
        .get(key, ...params) as {
        n: number;
      }
    ).n;
    const withoutWhere = [
      'NOT EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.id AND m.key = ? AND m.latest_is_nan = 0)',
      ...where
    ].join(' AND ');
    const rest = this.db
      .prepare(`SELECT r.id FROM runs r WHERE ${withoutWhere} ORDER BY r.started_at DESC, r.id LIMIT ? OFFSET ?`)
      .raw()
      .all(key, ...params, limit - ids.length, Math.max(0, offset - having)) as [string][];
    return [...ids, ...rest.map(([id]) => id)];
  }
}
