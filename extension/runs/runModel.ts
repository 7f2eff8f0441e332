/**
 * RunViewModel: one run with its metric series, live while the run's room streams points.
 * Series are downsampled by the server to ≤ 2,000 points; zooming into a step range fetches
 * that range again at full resolution.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { MetricPoint, Run, RunMetricsEvent } from '../../server/src/contract';
import { IRunlabConnection } from '../tokens';

export const MAX_CHART_POINTS = 2000;

export interface ISeries {
  points: MetricPoint[];
  /** Points in range on the server before downsampling. */
  total: number;
  downsampled: boolean;
  /** The zoomed step range, or null for the whole series. */
  zoom: [number, number] | null;
}

const pointId = (point: MetricPoint) => `${point.step}:${point.timestamp}:${point.value}`;
const sortPoints = (points: MetricPoint[]) => points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);

export class RunViewModel implements IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly runId: string
  ) {
    this._room = _connection.join({ runId });
    _connection.on('run:updated', this._onRunUpdated, this);
    _connection.on('run:metrics', this._onRunMetrics, this);
    void this.load();
  }

  get run(): Run | null {
    return this._run;
  }

  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  series(key: string): ISeries | null {
    return this._series.get(key) ?? null;
  }

  async load(): Promise<void> {
    try {
      const run = await this._connection.api.runs.getRun({ params: { id: this.runId } });
      // Live messages can overtake the run's own HTTP answer; those that did are replayed now.
      const early = this._early ?? [];
      this._early = null;
      const heldByKey = new Map<string, MetricPoint[]>();
      for (const event of early) {
        for (const [key, summary] of Object.entries(event.metrics)) {
          if (!run.metrics[key] || run.metrics[key].count < summary.count) {
            run.metrics[key] = summary;
          }
        }
        for (const { key, ...point } of event.points) {
          heldByKey.set(key, [...(heldByKey.get(key) ?? []), point]);
        }
      }
      this._run = run;
      this._error = null;
      this._changed.emit();
      await Promise.all(Object.keys(run.metrics).map((key) => this._fetch(key, null, heldByKey.get(key))));
    } catch (error) {
      this._early = null;
      this._error = `Could not load run ${this.runId}: ${(error as Error).message}`;
      this._changed.emit();
    }
  }

  zoom(key: string, fromStep: number, toStep: number): Promise<void> {
    const [min, max] = fromStep <= toStep ? [fromStep, toStep] : [toStep, fromStep];
    return this._fetch(key, [Math.floor(min), Math.ceil(max)]);
  }

  resetZoom(key: string): Promise<void> {
    return this._fetch(key, null);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._room.dispose();
    Signal.clearData(this);
  }

  private async _fetch(key: string, zoom: [number, number] | null, alreadyHeld: MetricPoint[] = []): Promise<void> {
    // Live points arriving while the history is on its way are held, then merged: the history
    // may or may not contain them, and none may be lost or counted twice.
    const held: MetricPoint[] = [...alreadyHeld];
    if (!zoom) {
      this._held.set(key, held);
    }
    try {
      const history = await this._connection.api.runs.getMetricHistory({
        params: { id: this.runId, key },
        query: { maxPoints: MAX_CHART_POINTS, ...(zoom ? { minStep: zoom[0], maxStep: zoom[1] } : {}) }
      });
      const seen = new Set(history.points.map(pointId));
      const missing = history.downsampled ? [] : held.filter((point) => !seen.has(pointId(point)));
      this._series.set(key, {
        points: missing.length ? sortPoints([...history.points, ...missing]) : history.points,
        total: history.total + missing.length,
        downsampled: history.downsampled,
        zoom
      });
      this._changed.emit();
    } finally {
      if (this._held.get(key) === held) {
        this._held.delete(key);
      }
    }
  }

  private _onRunUpdated(update: Run): void {
    if (update.id !== this.runId) {
      return;
    }
    // Updates in the project room leave environment and artifacts out; keep what we have.
    this._run = {
      ...update,
      environment: update.environment ?? this._run?.environment ?? null,
      artifacts: update.artifacts.length ? update.artifacts : (this._run?.artifacts ?? [])
    };
    this._changed.emit();
  }

  private _onRunMetrics(event: RunMetricsEvent): void {
    if (event.runId === this.runId) {
      this._appendLive(event);
    }
  }

  private _appendLive(event: RunMetricsEvent): void {
    if (this._early) {
      this._early.push(event);
      return;
    }
    if (!this._run) {
      return;
    }
    this._run = { ...this._run, metrics: { ...this._run.metrics, ...event.metrics } };
    const byKey = new Map<string, MetricPoint[]>();
    for (const { key, ...point } of event.points) {
      byKey.set(key, [...(byKey.get(key) ?? []), point]);
    }
    for (const [key, points] of byKey) {
      const held = this._held.get(key);
      if (held) {
        held.push(...points);
        continue;
      }
      const series = this._series.get(key) ?? { points: [], total: 0, downsampled: false, zoom: null };
      if (series.zoom) {
        continue; // a zoomed chart stays where the user put it
      }
      // A point can reach us twice: in a history fetched just after it was stored, and live.
      const firstStep = Math.min(...points.map((point) => point.step));
      const known = new Set(series.points.filter((point) => point.step >= firstStep).map(pointId));
      const fresh = points.filter((point) => !known.has(pointId(point)));
      const merged = sortPoints([...series.points, ...fresh]);
      this._series.set(key, { ...series, points: merged, total: series.total + fresh.length });
      if (merged.length > 2 * MAX_CHART_POINTS) {
        void this._fetch(key, null); // let the server downsample again
      }
    }
    this._changed.emit();
  }

  private _run: Run | null = null;
  private _error: string | null = null;
  private _series = new Map<string, ISeries>();
  private _held = new Map<string, MetricPoint[]>();
  /** Live messages received before the run itself loaded; null once it has. */
  private _early: RunMetricsEvent[] | null = [];
  private _room: IDisposable;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
