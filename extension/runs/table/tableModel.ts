/**
 * RunsTableModel: the rows of the runs table, read from the server a page at a time as the user
 * scrolls (sorted and filtered by the list query, so 10,000 runs never come at once), or the
 * groups of a group-by with their aggregate metrics. Live events patch the rows in view; a new
 * run reloads what is shown, since where it lands depends on the sort and filters.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Run, RunGroup, RunMetricsEvent, RunStatus } from '../../../server/src/contract';
import { RunlabRequestError } from '../../request';
import { describeError } from '../../shared/errors';
import { ProjectRoom } from '../../shared/projectRoom';
import { ICurrentProject, IRunlabConnection, ServerEventPayload } from '../../tokens';
import { ColumnId, TableColumns, columnField } from './columns';

/** Rows per request: a few screenfuls. */
export const PAGE_SIZE = 100;
/** Live events arrive up to 10 a second per run: reload at most this often. */
const RELOAD_DELAY_MS = 500;

export type SortColumn = 'startedAt' | 'name' | 'status' | ColumnId;

export interface ITableSort {
  column: SortColumn;
  direction: 'asc' | 'desc';
}

export interface ITableQuery {
  sort: ITableSort;
  status: RunStatus | null;
  /** Conditions as the list query takes them: `params.lr>=0.01`, `metrics.acc>0.9`, `tags.team=vision`. */
  filters: readonly string[];
  /** A param or tag column to group by, or null for one row per run. */
  groupBy: ColumnId | null;
}

export class RunsTableModel implements IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    private readonly _project: ICurrentProject,
    readonly columns: TableColumns
  ) {
    this._room = new ProjectRoom(_connection);
    _project.changed.connect(this._onProjectChanged, this);
    columns.changed.connect(this._onColumnsChanged, this);
    _connection.on('run:created', this._onRunCreated, this);
    _connection.on('run:updated', this._onRunUpdated, this);
    _connection.on('run:deleted', this._onRunDeleted, this);
    _connection.on('run:metrics', this._onRunMetrics, this);
    this._onProjectChanged();
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get projectName(): string {
    return this._project.project?.name ?? this._project.name;
  }

  get query(): ITableQuery {
    return this._query;
  }

  /** Runs matching the filters (all of them, not only those loaded). */
  get total(): number {
    return this._total;
  }

  get loading(): boolean {
    return this._pending.size > 0 || this._groupsLoading;
  }

  get error(): string | null {
    return this._error;
  }

  /** The groups of a group-by (null when not grouping or not loaded yet). */
  get groups(): readonly RunGroup[] | null {
    return this._groups;
  }

  /** Param, metric and tag columns seen in the runs loaded so far, plus the chosen ones. */
  get availableColumns(): ColumnId[] {
    const all = new Set<ColumnId>([...this.columns.chosen(this.projectName), ...this._seenColumns]);
    const order = { metrics: 0, params: 1, tags: 2 };
    return [...all].sort((a, b) => order[columnField(a)] - order[columnField(b)] || a.localeCompare(b));
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The run at `index` in the current order, or undefined while its page loads. */
  runAt(index: number): Run | undefined {
    return this._pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Load the pages holding rows `start` to `stop` (inclusive) that are not loaded yet. */
  ensureRows(start: number, stop: number): void {
    if (this._query.groupBy) {
      return;
    }
    for (let page = Math.floor(start / PAGE_SIZE); page <= Math.floor(Math.max(start, stop) / PAGE_SIZE); page++) {
      if (!this._pages.has(page) && !this._pending.has(page) && page * PAGE_SIZE < Math.max(this._total, 1)) {
        void this._loadPage(page);
      }
    }
  }

  setQuery(changes: Partial<ITableQuery>): void {
    this._query = { ...this._query, ...changes };
    this.reload();
  }

  /** Sort by `column`; the same column again flips the direction. Names start ascending, the rest descending. */
  sortBy(column: SortColumn): void {
    const { sort } = this._query;
    const direction = sort.column === column ? (sort.direction === 'asc' ? 'desc' : 'asc') : column === 'name' ? 'asc' : 'desc';
    this.setQuery({ sort: { column, direction } });
  }

  /** Forget every loaded row and read the ones in view again. */
  reload(): void {
    this._generation++;
    this._pages.clear();
    this._pending.clear();
    this._error = null;
    // A load of the previous query that is still under way ends unseen (another generation).
    this._groupsLoading = false;
    if (this._query.groupBy) {
      void this._loadGroups();
    } else {
      this._groups = null;
      void this._loadPage(0);
      for (const page of this._visiblePages) {
        if (page !== 0) {
          void this._loadPage(page);
        }
      }
    }
    this._changed.emit();
  }

  /** The list view reports which rows it shows, so a reload refetches exactly those. */
  setVisibleRows(start: number, stop: number): void {
    this._visiblePages = new Set<number>();
    for (let page = Math.floor(start / PAGE_SIZE); page <= Math.floor(stop / PAGE_SIZE); page++) {
      this._visiblePages.add(page);
    }
    this.ensureRows(start, stop);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.clearTimeout(this._reloadTimer);
    this._room.dispose();
    Signal.clearData(this);
  }

  private _listQuery(page: number) {
    const { sort, status, filters } = this._query;
    return {
      project: this.projectName,
      sort: `${sort.column}:${sort.direction}`,
      ...(status ? { status } : {}),
      ...(filters.length ? { filter: [...filters] } : {}),
      limit: PAGE_SIZE,
      offset: page * PAGE_SIZE
    };
  }

  private async _loadPage(page: number): Promise<void> {
    if (!this._project.project) {
      this._showNoProject();
      return;
    }
    const generation = this._generation;
    this._pending.add(page);
    this._changed.emit();
    try {
      const response = await this._connection.api.runs.listRuns({ query: this._listQuery(page) });
      if (generation !== this._generation) {
        return;
      }
      this._pages.set(page, response.runs);
      this._total = response.total;
      this._error = null;
      this._noteColumns(response.runs);
    } catch (error) {
      if (generation === this._generation) {
        this._error = this._describe(error);
        // A refused query has no rows: show none rather than the previous query's.
        this._total = 0;
      }
    } finally {
      if (generation === this._generation) {
        this._pending.delete(page);
        this._changed.emit();
      }
    }
  }

  private async _loadGroups(): Promise<void> {
    const { groupBy, status, filters } = this._query;
    if (!groupBy) {
      return;
    }
    if (!this._project.project) {
      this._showNoProject();
      return;
    }
    const generation = this._generation;
    this._groupsLoading = true;
    const metric = this.columns.chosen(this.projectName).filter((id) => columnField(id) === 'metrics');
    try {
      const response = await this._connection.api.runs.groupRuns({
        query: {
          project: this.projectName,
          by: groupBy,
          ...(status ? { status } : {}),
          ...(filters.length ? { filter: [...filters] } : {}),
          ...(metric.length ? { metric: metric.map((id) => id.slice('metrics.'.length)) } : {})
        }
      });
      if (generation !== this._generation) {
        return;
      }
      this._groups = response.groups;
      this._total = response.total;
      this._error = null;
    } catch (error) {
      if (generation === this._generation) {
        this._error = this._describe(error);
        this._groups = [];
        this._total = 0;
      }
    } finally {
      if (generation === this._generation) {
        this._groupsLoading = false;
        this._changed.emit();
      }
    }
  }

  /** A project the server does not have (yet, or any more) has no runs: not the previous project's. */
  private _showNoProject(): void {
    this._total = 0;
    this._groups = this._query.groupBy ? [] : null;
  }

  /** The server's own words for a refused filter (400), which name the condition at fault. */
  private _describe(error: unknown): string {
    if (error instanceof RunlabRequestError && error.status === 400) {
      return error.message;
    }
    return describeError('Could not load runs', error, 'runs');
  }

  /** Remember the columns `runs` have; true when one is new (the caller emits `changed`). */
  private _noteColumns(runs: readonly Pick<Run, 'metrics' | 'params' | 'tags'>[]): boolean {
    const before = this._seenColumns.size;
    for (const run of runs) {
      for (const key of Object.keys(run.metrics)) this._seenColumns.add(`metrics.${key}`);
      for (const key of Object.keys(run.params)) this._seenColumns.add(`params.${key}`);
      for (const key of Object.keys(run.tags)) this._seenColumns.add(`tags.${key}`);
    }
    return this._seenColumns.size !== before;
  }

  /** Reload soon, once for a burst of events. */
  private _scheduleReload(): void {
    window.clearTimeout(this._reloadTimer);
    this._reloadTimer = window.setTimeout(() => this._refreshInPlace(), RELOAD_DELAY_MS);
  }

  /** Read the shown pages (or groups) again, keeping the old rows on screen until they arrive. */
  private _refreshInPlace(): void {
    if (this._isDisposed) {
      return;
    }
    if (this._query.groupBy) {
      this._generation++;
      void this._loadGroups();
      return;
    }
    this._generation++;
    this._pending.clear();
    const keep = new Set(this._visiblePages.size ? this._visiblePages : [0]);
    for (const page of [...this._pages.keys()]) {
      if (!keep.has(page)) {
        this._pages.delete(page);
      }
    }
    for (const page of keep) {
      void this._loadPage(page);
    }
  }

  /** Replace a loaded run in place; true when it was loaded. */
  private _patch(id: string, update: (run: Run) => Run): boolean {
    for (const [page, runs] of this._pages) {
      const index = runs.findIndex((run) => run.id === id);
      if (index >= 0) {
        const next = [...runs];
        next[index] = update(runs[index]);
        this._pages.set(page, next);
        return true;
      }
    }
    return false;
  }

  private _onProjectChanged(): void {
    this._room.follow(this._project.project?.id ?? null);
    this._seenColumns.clear();
    this.reload();
  }

  private _onColumnsChanged(): void {
    // Groups aggregate the chosen metrics: a new metric column needs new aggregates.
    if (this._query.groupBy) {
      this._scheduleReload();
    }
    this._changed.emit();
  }

  private _onRunCreated(run: Run): void {
    if (run.projectId === this._room.projectId) {
      this._scheduleReload();
    }
  }

  private _onRunUpdated(run: Run): void {
    if (run.projectId !== this._room.projectId) {
      return;
    }
    const newColumn = this._noteColumns([run]);
    if (this._patch(run.id, () => run) || newColumn) {
      this._changed.emit();
    }
    // Sorted or filtered by what changed, the run may move or leave; groups may change.
    if (this._query.groupBy || this._query.filters.length || this._query.status || this._query.sort.column !== 'startedAt') {
      this._scheduleReload();
    }
  }

  private _onRunDeleted({ projectId }: ServerEventPayload<'run:deleted'>): void {
    if (projectId === this._room.projectId) {
      this._scheduleReload();
    }
  }

  private _onRunMetrics(event: RunMetricsEvent): void {
    if (event.projectId !== this._room.projectId) {
      return;
    }
    const newColumn = this._noteColumns([{ metrics: event.metrics, params: {}, tags: {} }]);
    if (this._patch(event.runId, (run) => ({ ...run, metrics: { ...run.metrics, ...event.metrics } })) || newColumn) {
      this._changed.emit();
    }
    const sortedByMetric = this._query.sort.column.startsWith('metrics.');
    const filteredByMetric = this._query.filters.some((filter) => filter.trim().startsWith('metrics.'));
    if (this._query.groupBy || sortedByMetric || filteredByMetric) {
      this._scheduleReload();
    }
  }

  private _query: ITableQuery = { sort: { column: 'startedAt', direction: 'desc' }, status: null, filters: [], groupBy: null };
  private _pages = new Map<number, readonly Run[]>();
  private _pending = new Set<number>();
  private _visiblePages = new Set<number>([0]);
  private _total = 0;
  private _error: string | null = null;
  private _groups: RunGroup[] | null = null;
  private _groupsLoading = false;
  private _generation = 0;
  private _seenColumns = new Set<ColumnId>();
  private _reloadTimer = 0;
  private _room: ProjectRoom;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
