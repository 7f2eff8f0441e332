/** CompareModel: several runs side by side — their values and overlaid metric series. */
import { ISignal, Signal } from '@lumino/signaling';
import type { CompareResponse, CompareSeries, MetricPoint, MetricValue, Run, SnapshotNotebookResponse } from '../../server/src/contract';
import { IRunlabConnection } from '../tokens';
import { MAX_CHART_POINTS } from './runModel';

export type CompareGroup = 'run' | 'params' | 'metrics' | 'tags';

/** Which end of a metric's range is the better one. */
export type MetricDirection = 'lower' | 'higher';

export interface ICompareRow {
  group: CompareGroup;
  label: string;
  /** One cell per run, in the runs' order, as the table shows it. */
  values: string[];
  differs: boolean;
  /** Metric rows only: what the numbers are and which of them is the best. */
  metric?: ICompareMetric;
}

export interface ICompareMetric {
  /** `value`: the metric's one point in each run; `latest`: the last point of a charted curve. */
  kind: 'value' | 'latest';
  direction: MetricDirection;
  /** Per run: whether its value is the best of the row (ties all count); all false when no value stands out. */
  best: boolean[];
}

/** Words that mark a metric as one to bring down, as MLflow and W&B users name them. */
const LOWER_IS_BETTER = ['loss', 'error', 'err', 'mae', 'mse', 'rmse', 'time', 'duration'];

/** A metric name's words: `val_loss`, `train/loss`, `valLoss` and `duration_s` all split apart. */
function nameWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * Lower is better for names that read as a loss, an error or a time (`loss`, `val_loss`,
 * `rmse`, `duration_s`, `epoch_time`, `trainloss`), higher for everything else (`acc`, `f1`).
 * Whole words only, so `timestamp` or `terrain` do not count; plurals and run-together
 * `…loss` / `…error` do.
 */
export function metricDirection(key: string): MetricDirection {
  const lower = nameWords(key).some(
    (word) =>
      [word, word.replace(/s$/, ''), word.replace(/es$/, '')].some((form) => LOWER_IS_BETTER.includes(form)) || /(loss|error)$/.test(word)
  );
  return lower ? 'lower' : 'higher';
}

/** The rule behind a metric row's highlight, for its tooltip. */
export function bestRule(key: string): string {
  const words = LOWER_IS_BETTER.join(', ');
  return metricDirection(key) === 'lower'
    ? `Best is the lowest: “${key}” reads as a loss, error or time (${words}).`
    : `Best is the highest: “${key}” does not read as a loss, error or time (${words}), which are best lowest.`;
}

/** Whether a metric is a curve — more than one point in some run — and so gets a chart. */
export function isCurve(runs: readonly Run[], key: string): boolean {
  return runs.some((run) => (run.metrics[key]?.count ?? 0) > 1);
}

/** Per value: whether it is the best finite one. Nothing is best when fewer than two runs have a finite value or all are equal. */
export function bestOf(values: readonly (MetricValue | undefined)[], direction: MetricDirection): boolean[] {
  const finite = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  const best = direction === 'lower' ? Math.min(...finite) : Math.max(...finite);
  const standsOut = finite.length >= 2 && finite.some((value) => value !== best);
  return values.map((value) => standsOut && value === best);
}

/**
 * The compare table: run facts, then params, metrics and tags, each row marked with whether
 * it differs between the runs. A metric row compares the stored values, not the rounded text;
 * when rounding would make different values look the same, the row shows them in full.
 */
export function compareRows(runs: readonly Run[], format: (value: MetricValue) => string): ICompareRow[] {
  const rows: ICompareRow[] = [];
  const add = (group: CompareGroup, label: string, values: string[], metric?: ICompareMetric, differs = new Set(values).size > 1) =>
    rows.push({ group, label, values, differs, ...(metric && { metric }) });
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
    const latest = runs.map((run) => run.metrics[key]?.latest);
    const stored = latest.map((value) => (value === undefined ? '—' : String(value)));
    const rounded = latest.map((value) => (value === undefined ? '—' : format(value)));
    const distinct = new Set(stored).size;
    const direction = metricDirection(key);
    add(
      'metrics',
      key,
      new Set(rounded).size < distinct ? stored : rounded,
      { kind: isCurve(runs, key) ? 'latest' : 'value', direction, best: bestOf(latest, direction) },
      distinct > 1
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
