/**
 * The Sweep dialog's values and the createSweep request they make (browser-independent, tested).
 * Ranges start from each parameter's value in the `parameters` cell; the server checks the
 * request again (types against the cell, grid size) and its 400 is shown in the dialog.
 */
import type { CreateSweepRequest, SweepGoal, SweepMethod, SweepRange } from '../../server/src/contract';
import { parseLabels } from '../runners/format';
import { changedParameters, datasetVersions, timeoutSeconds } from '../runners/jobRequest';
import { IDeclaredParameter, parsePythonLiteral } from '../runners/parameters';

export type RangeType = SweepRange['type'];
export const RANGE_TYPES: readonly { type: RangeType; label: string }[] = [
  { type: 'uniform', label: 'uniform' },
  { type: 'loguniform', label: 'log-uniform' },
  { type: 'intrange', label: 'whole numbers' },
  { type: 'choice', label: 'one of' }
];

/** One parameter's row: swept (with a range) or fixed (with a value, as typed). */
export interface IRangeValues {
  swept: boolean;
  type: RangeType;
  low: string;
  high: string;
  /** `choice`: the values as the inside of a Python list: `3, 5, 8` or `'adam', 'sgd'`. */
  values: string;
  /** Unswept: the value every trial gets (a Python literal); starts as the cell's expression. */
  fixed: string;
}

export interface ISweepValues {
  ranges: Record<string, IRangeValues>;
  objective: string;
  goal: SweepGoal;
  method: SweepMethod;
  trials: string;
  parallel: string;
  earlyStop: boolean;
  /** Empty: drawn by the server and recorded. */
  seed: string;
  labels: string;
  datasets: Record<string, string>;
  timeoutMinutes: string;
}

const round = (value: number) => Number(value.toPrecision(6));

/** A range around the cell's value a user would likely start from. */
export function defaultRange(parameter: IDeclaredParameter): IRangeValues {
  const base = { swept: false, fixed: parameter.expression, values: parameter.expression, low: '', high: '' };
  const value = parameter.value;
  if (parameter.type === 'int' && typeof value === 'number') {
    return value > 0
      ? { ...base, type: 'intrange', low: String(Math.max(1, Math.round(value / 2))), high: String(value * 2) }
      : { ...base, type: 'intrange', low: String(value), high: String(value + 10) };
  }
  if (parameter.type === 'float' && typeof value === 'number') {
    if (value > 0 && value < 0.1) {
      return { ...base, type: 'loguniform', low: String(round(value / 10)), high: String(round(value * 10)) };
    }
    if (value === 0) {
      return { ...base, type: 'uniform', low: '0', high: '1' };
    }
    const [low, high] = value > 0 ? [value / 2, value * 2] : [value * 2, value / 2];
    return { ...base, type: 'uniform', low: String(round(low)), high: String(round(high)) };
  }
  if (parameter.type === 'bool') {
    return { ...base, type: 'choice', values: 'True, False' };
  }
  return { ...base, type: 'choice' };
}

export function initialSweepValues(declared: readonly IDeclaredParameter[], datasets: Record<string, string>): ISweepValues {
  return {
    ranges: Object.fromEntries(declared.map((parameter) => [parameter.name, defaultRange(parameter)])),
    objective: '',
    goal: 'maximize',
    method: 'random',
    trials: '10',
    parallel: '1',
    earlyStop: false,
    seed: '',
    labels: '',
    datasets,
    timeoutMinutes: ''
  };
}

function number(name: string, which: string, text: string, whole: boolean): number {
  const parsed = Number(text.trim());
  if (!text.trim() || !Number.isFinite(parsed) || (whole && !Number.isInteger(parsed))) {
    throw new Error(`${name}: ${which} must be ${whole ? 'a whole number' : 'a number'} (e.g. ${whole ? '10' : '0.001'}).`);
  }
  return parsed;
}

function wholeAtLeast(label: string, text: string, least: number): number {
  const parsed = Number(text.trim());
  if (!Number.isInteger(parsed) || parsed < least) {
    throw new Error(`${label}: a whole number of at least ${least}.`);
  }
  return parsed;
}

/** One swept parameter's range; throws a sentence naming the parameter. */
export function rangeOf(name: string, row: IRangeValues): SweepRange {
  if (row.type === 'choice') {
    let parsed: unknown;
    try {
      parsed = parsePythonLiteral(`[${row.values}]`).value;
    } catch (error) {
      throw new Error(
        `${name}: the values, separated by commas, as Python literals (e.g. 3, 5, 8 or 'adam', 'sgd'): ${(error as Error).message}.`
      );
    }
    const values = parsed as unknown[];
    if (!values.length || values.some((value) => value !== null && typeof value === 'object')) {
      throw new Error(`${name}: one value or more, each a number, a string, True, False or None.`);
    }
    return { type: 'choice', values: values as (string | number | boolean | null)[] };
  }
  const whole = row.type === 'intrange';
  const low = number(name, 'low', row.low, whole);
  const high = number(name, 'high', row.high, whole);
  if (!(low < high)) {
    throw new Error(`${name}: high (${high}) must be above low (${low}).`);
  }
  if (row.type === 'loguniform' && low <= 0) {
    throw new Error(`${name}: a log-uniform range must start above 0; pick uniform for ranges that include 0.`);
  }
  return { type: row.type, low, high };
}

/** The request body; throws a sentence a user can act on for anything the server would refuse as typed. */
export function buildSweepRequest(
  values: ISweepValues,
  declared: readonly IDeclaredParameter[],
  target: { project: string; notebookPath: string; notebook: Record<string, unknown> }
): CreateSweepRequest {
  const swept = declared.filter((parameter) => values.ranges[parameter.name]?.swept);
  if (!swept.length) {
    throw new Error('Tick at least one parameter to sweep, and give its range.');
  }
  const objective = values.objective.trim();
  if (!objective) {
    throw new Error('Objective: the metric each trial logs that the sweep maximizes or minimizes (e.g. accuracy).');
  }
  const params = Object.fromEntries(swept.map((parameter) => [parameter.name, rangeOf(parameter.name, values.ranges[parameter.name])]));
  const fixedTyped = Object.fromEntries(Object.entries(values.ranges).map(([name, row]) => [name, row.fixed]));
  const seed = values.seed.trim();
  return {
    ...target,
    params,
    fixed: changedParameters(fixedTyped, declared, new Set(swept.map((parameter) => parameter.name))),
    objective,
    goal: values.goal,
    method: values.method,
    // A grid's size is its own count unless given.
    ...(values.method === 'grid' && !values.trials.trim() ? {} : { trials: wholeAtLeast('Trials', values.trials, 1) }),
    parallel: wholeAtLeast('At once', values.parallel, 1),
    earlyStop: values.earlyStop ? 'median' : null,
    ...(seed ? { seed: wholeAtLeast('Seed', seed, 0) } : {}),
    labels: parseLabels(values.labels),
    datasets: datasetVersions(values.datasets),
    timeoutS: timeoutSeconds(values.timeoutMinutes)
  };
}
