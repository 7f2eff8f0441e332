/** CompareModel: several runs side by side — their values and overlaid metric series. */
import { ISignal, Signal } from '@lumino/signaling';
import type { CompareResponse, CompareSeries, MetricPoint, MetricValue, Run, SnapshotNotebookResponse } from '../../server/src/contract';
import { IRunlabConnection } from '../tokens';
import { MAX_CHART_POINTS } from './runModel';

export interface ICompareRow {
  group: 'run' | 'params' | 'metrics' | 'tags';
  label: string;
  values: string[];
  differs: boolean;
}

export function compareRows(runs: readonly Run[], format: (value: MetricValue) => string): ICompareRow[] {
  const rows: ICompareRow[] = [];
  const add = (group: ICompareRow['group'], label: string, values: string[]) =>
    rows.push({ group, label, values, differs: new Set(values).size > 1 });
  add(
    'run',
    'status',
    runs.map((run) => run.status)
  );
  add(
    'run',
    'notebook',
    runs.map((run) => run.notebookPath ?? '—')
  );
  add(
    'run',
    'snapshot',
    runs.map((run) => run.snapshot?.commit.slice(0, 10) ?? '—')
  );
  const keys = (pick: (run: Run) => Record<string, unknown>) => [...new Set(runs.flatMap((run) => Object.keys(pick(run))))].sort();
  for (const key of keys((run) => run.params)) {
    add(
      'params',
      key,
      runs.map((run) => run.params[key] ?? '—')
    );
  }
  for (const key of keys((run) => run.metrics)) {
    add(
      'metrics',
      key,
      runs.map((run) => (run.metrics[key] ? format(run.metrics[key].latest) : '—'))
    );
  }
  for (const key of keys((run) => run.tags)) {
    add(
      'tags',
      key,
      runs.map((run) => run.tags[key] ?? '—')
    );
  }
  return rows;
}

/** A compare series (columns of steps and values) as chart points; compare sends no timestamps. */
export function chartPoints(series: CompareSeries | undefined): MetricPoint[] {
  if (!series) {
    return [];
  }
  const { steps, values } = series;
  const points: MetricPoint[] = new Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    points[i] = { step: steps[i], value: values[i], timestamp: 0 };
  }
  return points;
}

export class CompareModel {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly runIds: string[]
  ) {
    void this.load();
  }

  get data(): CompareResponse | null {
    return this._data;
  }

  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async load(): Promise<void> {
    try {
      this._data = await this._connection.api.runs.compareRuns({
        query: { ids: this.runIds.join(','), maxPoints: MAX_CHART_POINTS }
      });
      this._error = null;
    } catch (error) {
      this._error = `Could not compare runs: ${(error as Error).message}`;
    }
    this._changed.emit();
  }

  /** A run's notebook as it was snapshotted, for the cell diff. */
  notebook(runId: string): Promise<SnapshotNotebookResponse> {
    return this._connection.api.snapshots.getSnapshotNotebook({ params: { id: runId } });
  }

  private _data: CompareResponse | null = null;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}
