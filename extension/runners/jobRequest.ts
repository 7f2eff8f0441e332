/** The Run on Runner dialog's values, and the submitJob request they make (browser-independent, tested). */
import type { ParameterValue, SubmitJobRequest } from '../../server/src/contract';
import { parseLabels } from './format';
import { IDeclaredParameter, parsePythonLiteral } from './parameters';

/** What the dialog edits; kept across renders and read on submit. */
export interface IRunValues {
  labels: string;
  /** name → the value as typed (a Python literal); starts as the cell's expression. */
  parameters: Record<string, string>;
  /** dataset name → version (`v3`, `latest`). */
  datasets: Record<string, string>;
  env: 'runner' | 'recreate';
  /** Minutes; empty for none. */
  timeoutMinutes: string;
}

/** The notebook's dataset pins: `metadata.runlab.datasets` (the datasets feature writes them). */
export function notebookDatasetPins(metadata: unknown): Record<string, string> {
  const datasets = (metadata as { runlab?: { datasets?: unknown } } | null)?.runlab?.datasets;
  if (!datasets || typeof datasets !== 'object' || Array.isArray(datasets)) {
    return {};
  }
  return Object.fromEntries(Object.entries(datasets).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/**
 * The parameters typed differently from the cell, as values; throws a sentence for one that is
 * not a Python literal. `skip`: parameters left out (a sweep's swept ones).
 */
export function changedParameters(
  typed: Record<string, string>,
  declared: readonly IDeclaredParameter[],
  skip: ReadonlySet<string> = new Set()
): Record<string, ParameterValue> {
  const parameters: Record<string, ParameterValue> = {};
  for (const parameter of declared) {
    const text = (typed[parameter.name] ?? parameter.expression).trim();
    if (skip.has(parameter.name) || text === parameter.expression) {
      continue;
    }
    try {
      parameters[parameter.name] = parsePythonLiteral(text).value;
    } catch (error) {
      throw new Error(
        `Parameter ${parameter.name}: ${(error as Error).message}. Write a Python literal, e.g. 10, 0.1, 'text', True, None, [1, 2].`
      );
    }
  }
  return parameters;
}

/** Minutes as typed → seconds (null for none); throws a sentence for anything else. */
export function timeoutSeconds(minutesText: string): number | null {
  const minutes = minutesText.trim();
  if (!minutes) {
    return null;
  }
  const parsed = Number(minutes);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new Error('Timeout: a number of minutes greater than 0, or empty for none.');
  }
  return Math.max(1, Math.round(parsed * 60));
}

/** The dataset versions typed, blanks left out. */
export function datasetVersions(typed: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(typed)
      .filter(([, version]) => version.trim())
      .map(([name, version]) => [name, version.trim()])
  );
}

/**
 * The request body from what was typed; throws a sentence for a value that is not a literal or
 * a timeout that is not a whole number of minutes. Only parameters changed from the cell are sent.
 */
export function buildJobRequest(
  values: IRunValues,
  declared: readonly IDeclaredParameter[],
  target: { project: string; notebookPath: string; notebook: Record<string, unknown> }
): SubmitJobRequest {
  return {
    ...target,
    parameters: changedParameters(values.parameters, declared),
    datasets: datasetVersions(values.datasets),
    labels: parseLabels(values.labels),
    env: values.env,
    timeoutS: timeoutSeconds(values.timeoutMinutes)
  };
}
