/**
 * Notebook content as it goes into a snapshot: outputs and volatile metadata stripped (unless
 * configured to keep outputs), serialized the way nbformat writes files (keys sorted, one-space
 * indent, trailing newline), so an unchanged notebook always yields the same bytes and thus
 * the same git blob.
 */

/** Cell metadata that changes on every execution without changing the notebook's meaning. */
const VOLATILE_CELL_METADATA = ['execution', 'ExecuteTime', 'executionInfo', 'papermill'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function stripNotebook(notebook: Record<string, unknown>, keepOutputs: boolean): Record<string, unknown> {
  const copy = structuredClone(notebook);
  if (Array.isArray(copy.cells)) {
    for (const cell of copy.cells) {
      if (!isObject(cell)) continue;
      if (!keepOutputs && cell.cell_type === 'code') {
        cell.outputs = [];
        cell.execution_count = null;
      }
      if (isObject(cell.metadata)) {
        for (const key of VOLATILE_CELL_METADATA) delete cell.metadata[key];
      }
    }
  }
  // Widget state is output too: it changes whenever a widget is displayed.
  if (!keepOutputs && isObject(copy.metadata)) delete copy.metadata.widgets;
  return copy;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
  return sorted;
}

export function serializeNotebook(notebook: Record<string, unknown>): string {
  return `${JSON.stringify(sortKeys(notebook as Json), null, 1)}\n`;
}
