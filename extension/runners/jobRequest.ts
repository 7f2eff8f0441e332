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
 * The request body from what was typed; throws a sentence for a value that is not a literal or
 * a timeout that is not a whole number of minutes. Only parameters changed from the cell are sent.
 */
export function buildJobRequest(
  values: IRunValues,
  declared: readonly IDeclaredParameter[],
  target: { project: string; notebookPath: string; notebook: Record<string, unknown> }
): SubmitJobRequest {
  const parameters: Record<string, ParameterValue> = {};
  for (const parameter of declared) {
    const typed = (values.parameters[parameter.name] ?? parameter.expression).trim();
    if (typed === parameter.expression) {
      continue;
    }
    try {
      parameters[parameter.name] = parsePythonLiteral(typed).value;
    } catch (error) {
      throw new Error(
        `Parameter ${parameter.name}: ${(error as Error).message}. Write a Python literal, e.g. 10, 0.1, 'text', True, None, [1, 2].`
      );
    }
  }
  let timeoutS: number | null = null;
  const minutes = values.timeoutMinutes.trim();
  if (minutes) {
    const parsed = Number(minutes);
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new Error('Timeout: a number of minutes greater than 0, or empty for none.');
    }
    timeoutS = Math.max(1, Math.round(parsed * 60));
  }
  const datasets = Object.fromEntries(
    Object.entries(values.datasets)
      .filter(([, version]) => version.trim())
      .map(([name, version]) => [name, version.trim()])
  );
  return {
    ...target,
    parameters,
    datasets,
    labels: parseLabels(values.labels),
    env: values.env,
    timeoutS
  };
}
