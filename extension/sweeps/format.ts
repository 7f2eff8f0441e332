/** What the sweep page shows, computed from a sweep and its trials (browser-independent, tested). */
import type { ParameterValue, Sweep, SweepGoal, SweepRange, Trial } from '../../server/src/contract';
import { formatNumber } from '../shared/format';

/** A parameter's value as the notebook would write it. */
export function formatParameter(value: ParameterValue | undefined): string {
  if (value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (value === null) {
    return 'None';
  }
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** "4 of 6 trials done", then what is under way and what went wrong, for the page's header. */
export function progressText(sweep: Sweep): string {
  const { counts } = sweep;
  const parts = [`${sweep.done} of ${sweep.spec.trials} trials done`, `${counts.running} running`, `${counts.queued} queued`];
  if (counts.stopped) parts.push(`${counts.stopped} stopped early`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  return parts.join(' · ');
}

/** A range in words: "log-uniform 0.001 … 0.1", "one of 3, 5, 8". */
export function describeRange(range: SweepRange): string {
  switch (range.type) {
    case 'choice':
      return `one of ${range.values.map((value) => formatParameter(value)).join(', ')}`;
    case 'intrange':
      return `whole numbers ${range.low} … ${range.high}${range.step && range.step > 1 ? ` step ${range.step}` : ''}`;
    case 'loguniform':
      return `log-uniform ${formatNumber(range.low)} … ${formatNumber(range.high)}`;
    default:
      return `uniform ${formatNumber(range.low)} … ${formatNumber(range.high)}`;
  }
}

const better = (goal: SweepGoal, a: number, b: number) => (goal === 'maximize' ? a > b : a < b);

export interface IObjectiveRow {
  trial: number;
  value: number;
  /** The best value of the trials up to this one. */
  best: number;
}

/** Trials with a value (finished or stopped early) in trial order, with the best so far. */
export function objectiveRows(trials: readonly Trial[], goal: SweepGoal): IObjectiveRow[] {
  const rows: IObjectiveRow[] = [];
  let best: number | null = null;
  for (const trial of [...trials].sort((a, b) => a.number - b.number)) {
    if (trial.value === null || !Number.isFinite(trial.value) || (trial.status !== 'finished' && trial.status !== 'stopped')) {
      continue;
    }
    best = best === null || better(goal, trial.value, best) ? trial.value : best;
    rows.push({ trial: trial.number, value: trial.value, best });
  }
  return rows;
}

/** Parameters by their share of the objective's variance, largest first. */
export function importanceRows(importance: Record<string, number>): { name: string; share: number }[] {
  return Object.entries(importance)
    .map(([name, share]) => ({ name, share }))
    .sort((a, b) => b.share - a.share || a.name.localeCompare(b.name));
}

/** One vertical axis of the parallel-coordinates chart. */
export interface IAxis {
  name: string;
  /** Labels at the bottom and top (or each category from the bottom up). */
  ticks: { at: number; label: string }[];
  /** 0 (bottom) … 1 (top) for a value, null when it has none on this axis. */
  position(value: ParameterValue | undefined): number | null;
}

function numericAxis(name: string, low: number, high: number, log: boolean): IAxis {
  const scale = (value: number) => (log ? Math.log(value) : value);
  const [from, to] = [scale(low), scale(high)];
  const span = to - from;
  return {
    name,
    ticks: [
      { at: 0, label: formatNumber(low) },
      { at: 1, label: formatNumber(high) }
    ],
    position: (value) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || (log && value <= 0)) return null;
      return span === 0 ? 0.5 : Math.min(1, Math.max(0, (scale(value) - from) / span));
    }
  };
}

function choiceAxis(name: string, values: readonly ParameterValue[]): IAxis {
  const keys = values.map((value) => JSON.stringify(value));
  const at = (index: number) => (keys.length === 1 ? 0.5 : index / (keys.length - 1));
  return {
    name,
    ticks: values.map((value, index) => ({ at: at(index), label: formatParameter(value) })),
    position: (value) => {
      const index = keys.indexOf(JSON.stringify(value ?? null));
      return index < 0 ? null : at(index);
    }
  };
}

/**
 * The parallel-coordinates chart: one axis per swept parameter (its range; log-uniform on a log
 * scale) and the objective last (from the lowest to the highest value seen).
 */
export function parallelAxes(sweep: Sweep, trials: readonly Trial[]): { axes: IAxis[]; lines: { trial: Trial; points: number[] }[] } {
  const axes = Object.entries(sweep.spec.params).map(([name, range]) =>
    range.type === 'choice' ? choiceAxis(name, range.values) : numericAxis(name, range.low, range.high, range.type === 'loguniform')
  );
  const scored = trials.filter((trial) => trial.value !== null && Number.isFinite(trial.value));
  const values = scored.map((trial) => trial.value as number);
  if (values.length) {
    axes.push(numericAxis(sweep.spec.objective, Math.min(...values), Math.max(...values), false));
  }
  const lines = scored.flatMap((trial) => {
    const points = axes.map((axis, index) =>
      index < axes.length - 1 || !values.length ? axis.position(trial.params[axis.name]) : axis.position(trial.value as number)
    );
    return points.every((point): point is number => point !== null) ? [{ trial, points }] : [];
  });
  return { axes, lines };
}

/** 0 (worst seen) … 1 (best seen): the colour of a trial's line. */
export function quality(value: number, lowest: number, highest: number, goal: SweepGoal): number {
  if (highest === lowest) return 1;
  const share = (value - lowest) / (highest - lowest);
  return goal === 'maximize' ? share : 1 - share;
}
