/**
 * RunsModel: the current project's runs, newest first, kept live from the project's room.
 * Metric points arriving live are kept (a short tail per key) for sparklines.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { Run, RunMetricsEvent } from '../../server/src/contract';
import { plottable } from '../shared/format';
import { ProjectRoom } from '../shared/projectRoom';
import { ICurrentProject, IRunlabConnection, ServerEventPayload } from '../tokens';
import { IRunsModel } from './tokens';

/** How many runs the panel lists; the list is virtualized, so this can be large. */
export const RUN_LIST_LIMIT = 10000;
/** Points kept per run and key for a sparkline. */
const SPARKLINE_POINTS = 40;

export class RunsModel implements IRunsModel, IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    private readonly _project: ICurrentProject
  ) {
    this._projectRoom = new ProjectRoom(_connection);
    _project.changed.connect(this._onProjectChanged, this);
    _connection.on('run:created', (run) => this._live(() => this._onRunCreated(run)), this);
    _connection.on('run:updated', (run) => this._live(() => this._onRunUpdated(run)), this);
    _connection.on('run:deleted', (event) => this._live(() => this._onRunDeleted(event)), this);
    _connection.on('run:metrics', (event) => this._live(() => this._onRunMetrics(event)), this);
    this._onProjectChanged();
  }

  get runs(): readonly Run[] {
    return this._runs;
  }

  get total(): number {
    return this._total;
  }

  get loading(): boolean {
    return this._loading;
  }

  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<IRunsModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  sparkline(runId: string, key: string): readonly number[] {
    return this._sparklines.get(runId)?.get(key) ?? [];
  }

  /** Fetch a short downsampled history for a sparkline once; live points extend it. */
  async loadSparkline(runId: string, key: string): Promise<void> {
    const cacheKey = `${runId}\n${key}`;
    if (this._sparklineRequested.has(cacheKey)) {
      return;
    }
    this._sparklineRequested.add(cacheKey);
    try {
      const history = await this._connection.api.runs.getMetricHistory({
        params: { id: runId, key },
        query: { maxPoints: SPARKLINE_POINTS }
      });
      const perKey = this._sparklines.get(runId) ?? new Map<string, number[]>();
      if (!perKey.has(key)) {
        perKey.set(
          key,
          history.points.map((point) => plottable(point.value) ?? NaN)
        );
        this._sparklines.set(runId, perKey);
        this._changed.emit();
      }
    } catch {
      // A sparkline is decoration: leave it empty if the history cannot be read.
    }
  }

  async refresh(): Promise<void> {
    const project = this._project.project;
    if (!project) {
      this._runs = [];
      this._total = 0;
      this._changed.emit();
      return;
    }
    const load = ++this._loads;
    const arrivedWhileLoading: Array<() => void> = [];
    this._arrivedWhileLoading = arrivedWhileLoading;
    this._loading = true;
    this._changed.emit();
    try {
      const response = await this._connection.api.runs.listRuns({ query: { project: project.name, limit: RUN_LIST_LIMIT } });
      if (load !== this._loads) {
        return; // A newer load (another project, a reconnect) started: its answer is the one to keep.
      }
      this._runs = response.runs;
      this._total = response.total;
      this._error = null;
      // The list was read at some moment during the request; what happened live meanwhile
      // (a run created a moment after it was read) would be lost with it. Apply it again.
      for (const apply of arrivedWhileLoading) {
        apply();
      }
    } catch (error) {
      if (load === this._loads) {
        this._error = `Could not load runs: ${(error as Error).message}`;
      }
    } finally {
      if (load === this._loads) {
        this._loading = false;
        this._arrivedWhileLoading = null;
        this._changed.emit();
      }
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._projectRoom.dispose();
    Signal.clearData(this);
  }

  private _onProjectChanged(): void {
    if (this._projectRoom.follow(this._project.project?.id ?? null)) {
      this._sparklines.clear();
    }
    void this.refresh();
  }

  /** Applies a live event now, and again after a list that is being loaded arrives. */
  private _live(apply: () => void): void {
    this._arrivedWhileLoading?.push(apply);
    apply();
  }

  private _onRunCreated(run: Run): void {
    if (run.projectId === this._projectRoom.projectId && !this._runs.some((r) => r.id === run.id)) {
      this._runs = [run, ...this._runs];
      this._total += 1;
      this._changed.emit();
    }
  }

  private _onRunUpdated(run: Run): void {
    const index = this._runs.findIndex((r) => r.id === run.id);
    if (index >= 0) {
      // List items leave environment/artifacts out; keep whatever the update brings.
      this._runs = [...this._runs.slice(0, index), run, ...this._runs.slice(index + 1)];
      this._changed.emit();
    }
  }

  private _onRunDeleted({ id }: ServerEventPayload<'run:deleted'>): void {
    if (this._runs.some((r) => r.id === id)) {
      this._runs = this._runs.filter((r) => r.id !== id);
      this._total -= 1;
      this._sparklines.delete(id);
      this._changed.emit();
    }
  }

  private _onRunMetrics(event: RunMetricsEvent): void {
    const index = this._runs.findIndex((r) => r.id === event.runId);
    if (index < 0) {
      return;
    }
    const run = this._runs[index];
    this._runs = [...this._runs.slice(0, index), { ...run, metrics: { ...run.metrics, ...event.metrics } }, ...this._runs.slice(index + 1)];
    const perKey = this._sparklines.get(event.runId) ?? new Map<string, number[]>();
    for (const point of event.points) {
      const values = perKey.get(point.key) ?? [];
      values.push(plottable(point.value) ?? NaN);
      perKey.set(point.key, values.length > SPARKLINE_POINTS ? values.slice(-SPARKLINE_POINTS) : values);
    }
    this._sparklines.set(event.runId, perKey);
    this._changed.emit();
  }

  private _runs: Run[] = [];
  private _total = 0;
  private _loading = false;
  private _loads = 0;
  private _arrivedWhileLoading: Array<() => void> | null = null;
  private _error: string | null = null;
  private _projectRoom: ProjectRoom;
  private _sparklines = new Map<string, Map<string, number[]>>();
  private _sparklineRequested = new Set<string>();
  private _isDisposed = false;
  private _changed = new Signal<IRunsModel, void>(this);
}
