/**
 * The try-it box's pure logic: an Open Inference Protocol (v2) infer request built from a model
 * version's signature and input example, the URL it goes to, the same request as a curl line,
 * and what an answer says (which version answered).
 *
 * Input examples arrive as MLflow stores `input_example.json`: a table as `{columns, data}`
 * (dataframe_split), or as records, or a column → values object; an array as a nested list.
 */
import type { DeploymentSlot, ModelSignature, OipDatatype, SignatureField } from '../../server/src/contract';

export interface IInferInput {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data: unknown[];
}

export interface IInferRequest {
  inputs: IInferInput[];
}

/**
 * The name an unnamed input travels under, as the serving runtime names it
 * (python/runlab/serving/codec.py): `input` when it is the only one, else `input-<position>`.
 */
export function tensorInputName(index: number, count = 1): string {
  return count === 1 ? 'input' : `input-${index}`;
}

/** An example as a table: column names and rows; or null when it is not tabular. */
export function exampleTable(example: unknown): { columns: string[]; rows: unknown[][] } | null {
  if (!example || typeof example !== 'object') {
    return null;
  }
  const record = example as Record<string, unknown>;
  if (record.dataframe_split) {
    return exampleTable(record.dataframe_split);
  }
  if (Array.isArray(record.columns) && Array.isArray(record.data)) {
    const columns = record.columns.map(String);
    return { columns, rows: record.data.map((row) => (Array.isArray(row) ? row : [row])) };
  }
  if (Array.isArray(example)) {
    // Records: [{a: 1, b: 2}, …].
    if (example.length && example.every((row) => row && typeof row === 'object' && !Array.isArray(row))) {
      const columns = [...new Set(example.flatMap((row) => Object.keys(row as object)))];
      return { columns, rows: example.map((row) => columns.map((column) => (row as Record<string, unknown>)[column] ?? null)) };
    }
    return null;
  }
  // A column → values object: {a: [1, 2], b: [3, 4]}.
  const entries = Object.entries(record);
  if (entries.length && entries.every(([, values]) => Array.isArray(values))) {
    const columns = entries.map(([name]) => name);
    const length = Math.max(...entries.map(([, values]) => (values as unknown[]).length));
    const rows = Array.from({ length }, (_, index) => entries.map(([, values]) => (values as unknown[])[index] ?? null));
    return { columns, rows };
  }
  return null;
}

/** The shape of a nested list (`[[1, 2], [3, 4]]` → `[2, 2]`). */
export function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/** A nested list flattened in row-major order, as OIP's `data` is. */
export function flatten(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value];
}

/** The OIP datatype that holds these values, for examples without a signature. */
export function inferDatatype(values: readonly unknown[]): OipDatatype {
  const present = values.filter((value) => value !== null && value !== undefined);
  if (present.length && present.every((value) => typeof value === 'boolean')) {
    return 'BOOL';
  }
  if (present.length && present.every((value) => typeof value === 'number')) {
    return present.every((value) => Number.isInteger(value)) ? 'INT64' : 'FP64';
  }
  return present.every((value) => typeof value === 'number') ? 'FP64' : 'BYTES';
}

/** A value of `datatype` to fill a request when there is no example. */
export function placeholderValue(datatype: OipDatatype): unknown {
  if (datatype === 'BOOL') {
    return false;
  }
  return datatype === 'BYTES' ? '' : 0;
}

/** A signature shape made concrete: any length (-1) becomes `rows`. */
function concreteShape(shape: readonly number[], rows: number): number[] {
  return shape.length ? shape.map((size, index) => (size === -1 ? (index === 0 ? rows : 1) : size)) : [rows];
}

function placeholderInput(field: SignatureField, index: number, fields: readonly SignatureField[]): IInferInput {
  const shape = field.kind === 'column' ? [1] : concreteShape(field.shape, 1);
  const count = shape.reduce((product, size) => product * size, 1);
  return {
    name: field.name ?? tensorInputName(index, fields.length),
    shape,
    datatype: field.datatype,
    data: Array.from({ length: count }, () => placeholderValue(field.datatype))
  };
}

function columnInputs(fields: readonly SignatureField[], table: { columns: string[]; rows: unknown[][] }): IInferInput[] {
  return fields.map((field, index) => {
    const column = field.name === null ? index : table.columns.indexOf(field.name);
    const data = table.rows.map((row) => (column >= 0 && column < row.length ? row[column] : placeholderValue(field.datatype)));
    return { name: field.name ?? tensorInputName(index, fields.length), shape: [data.length], datatype: field.datatype, data };
  });
}

function tensorInput(field: SignatureField | null, index: number, count: number, value: unknown): IInferInput {
  const data = flatten(value);
  return {
    name: field?.name ?? tensorInputName(index, count),
    shape: Array.isArray(value) ? nestedShape(value) : [1],
    datatype: field?.datatype ?? inferDatatype(data),
    data
  };
}

/**
 * The infer request for the try-it box: the example's rows in the signature's inputs (one input
 * per column of a table; one tensor for an array), or one row of placeholders without an example.
 */
export function buildInferRequest(signature: ModelSignature | null, example: unknown): IInferRequest {
  const fields = signature?.inputs ?? [];
  const table = exampleTable(example);
  const columns = fields.filter((field) => field.kind === 'column');
  if (table && (columns.length || !fields.length)) {
    const described: SignatureField[] = columns.length
      ? columns
      : table.columns.map((name, index) => ({
          name,
          kind: 'column',
          datatype: inferDatatype(table.rows.map((row) => row[index])),
          shape: [-1],
          required: true
        }));
    return { inputs: columnInputs(described, table) };
  }
  if (example !== null && example !== undefined && !table) {
    if (fields.length <= 1) {
      return { inputs: [tensorInput(fields[0] ?? null, 0, 1, example)] };
    }
    // Several named tensors: the example holds one value per name.
    const named = example as Record<string, unknown>;
    return {
      inputs: fields.map((field, index) =>
        field.name && named[field.name] !== undefined
          ? tensorInput(field, index, fields.length, named[field.name])
          : placeholderInput(field, index, fields)
      )
    };
  }
  return { inputs: fields.map((field, index) => placeholderInput(field, index, fields)) };
}

/** JSON as the try-it box shows requests and answers: indented, with each list of plain values on one line. */
export function requestText(request: unknown): string {
  return JSON.stringify(request, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, items: string) => `[${items.split(/,\n\s*/).join(', ')}]`);
}

/** Where an endpoint answers OIP infer requests for `modelName`. */
export function inferUrl(endpoint: string, modelName: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(modelName)}/infer`;
}

/** A shell word: single-quoted, with quotes inside closed and reopened. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The request as one curl command a terminal accepts (the body compacted). */
export function curlCommand(url: string, body: string): string {
  let compact = body;
  try {
    compact = JSON.stringify(JSON.parse(body));
  } catch {
    // Not JSON (the user is editing it): send it as it is.
  }
  return `curl -X POST ${shellQuote(url)} -H 'Content-Type: application/json' -d ${shellQuote(compact)}`;
}

/**
 * Which version answered, in words (`v4 (canary)`): from the `X-Runlab-Model-Version` header, or
 * the body's `model_version`; null when neither says.
 */
export function answeredBy(header: string | null, body: unknown, slots: readonly DeploymentSlot[]): string | null {
  const fromBody = body && typeof body === 'object' ? (body as Record<string, unknown>).model_version : undefined;
  const raw = header ?? (typeof fromBody === 'string' || typeof fromBody === 'number' ? String(fromBody) : null);
  if (!raw) {
    return null;
  }
  const number = Number(raw.replace(/^v/, ''));
  const slot = slots.find((candidate) => candidate.role !== 'shadow' && candidate.version === number);
  if (!Number.isInteger(number) || number <= 0) {
    return raw;
  }
  return slot ? `v${number} (${slot.role})` : `v${number}`;
}
