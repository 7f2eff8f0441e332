/**
 * Prediction blocks: one telemetry report's sampled predictions of one (deployment, model
 * version, role), stored column by column. Numeric columns are Float64 (NaN for a missing
 * value); every other column is dictionary-encoded (each distinct value once, as its JSON text,
 * so strings, booleans and nested tensors come back as they were sent, then an Int32 code per
 * row, −1 for missing). The per-request metadata (request id, time, latency, status, error, rows)
 * is columnar too. The whole block is deflated (node:zlib, a fast level): sampled logs repeat
 * themselves a lot, so a row of a few numeric features costs a few dozen bytes. Full-precision
 * floats do not repeat: LZ77 matching finds nothing in them and costs most of an ingest's time,
 * so a block whose sample barely compresses is Huffman-coded only (the same size, ~2.5× faster;
 * inflate reads both).
 *
 * Layout: "RLPB" · version byte · uint32 header length · header JSON · column payloads in header
 * order (Float64 numeric, Int32 codes categorical), all little-endian, then deflated whole.
 */
import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { PredictionRecord } from '../contract';

const MAGIC = 'RLPB';
const FORMAT_VERSION = 1;

export type ColumnRole = 'input' | 'output';

export interface BlockColumnHeader {
  name: string;
  role: ColumnRole;
  kind: 'numeric' | 'categorical';
  /** Categorical: the JSON text of each distinct value, indexed by the row codes. */
  dictionary?: string[];
}

/** The requests of a block, column by column (row offsets follow from `rows`). */
export interface BlockRequests {
  ids: string[];
  at: number[];
  latencyMs: number[];
  status: number[];
  rows: number[];
  /** Request index → error text, only for requests that had one. */
  errors: Record<string, string>;
  /** Request indexes whose outputs were null (failed requests). */
  withoutOutputs: number[];
  /** Request index → the column indexes it had, only when it had not all of them. */
  columns: Record<string, number[]>;
}

export interface DecodedColumn {
  header: BlockColumnHeader;
  /** Numeric columns. */
  numbers?: Float64Array;
  /** Categorical columns: the code per row (−1 missing). */
  codes?: Int32Array;
}

export interface DecodedBlock {
  rows: number;
  requests: BlockRequests;
  columns: DecodedColumn[];
}

export interface EncodedBlock {
  data: Buffer;
  rows: number;
  requests: number;
  firstAt: number;
  lastAt: number;
}

/**
 * Encodes the given records (already checked: equal column lengths) into one block. `records`
 * share a deployment, model version and role.
 */
export function encodeBlock(records: readonly PredictionRecord[]): EncodedBlock {
  // One index per role, so a column is found without building a key string per record.
  const columnIndex: Record<ColumnRole, Map<string, number>> = { input: new Map(), output: new Map() };
  const headers: BlockColumnHeader[] = [];
  const rowCounts = records.map(rowCount);
  let totalRows = 0;
  for (const rows of rowCounts) totalRows += rows;
  // First pass: which columns exist, and whether every present value of each is a number.
  const numeric: boolean[] = [];
  const visit = (role: ColumnRole, values: Record<string, unknown[]> | null): void => {
    if (!values) return;
    const indexes = columnIndex[role];
    for (const name in values) {
      const column = values[name];
      let index = indexes.get(name);
      if (index === undefined) {
        index = headers.length;
        indexes.set(name, index);
        headers.push({ name, role, kind: 'numeric' });
        numeric.push(true);
      }
      if (numeric[index]) {
        for (let row = 0; row < column.length; row++) {
          const value = column[row];
          if (value !== null && value !== undefined && typeof value !== 'number') {
            numeric[index] = false;
            break;
          }
        }
      }
    }
  };
  for (const record of records) {
    visit('input', record.inputs);
    visit('output', record.outputs);
  }
  const numbers: (Float64Array | null)[] = headers.map((_, index) => (numeric[index] ? new Float64Array(totalRows).fill(NaN) : null));
  const codes: (Int32Array | null)[] = headers.map((_, index) => (numeric[index] ? null : new Int32Array(totalRows).fill(-1)));
  const dictionaries: Map<string, number>[] = headers.map(() => new Map());
  headers.forEach((header, index) => {
    header.kind = numeric[index] ? 'numeric' : 'categorical';
  });

  const requests: BlockRequests = { ids: [], at: [], latencyMs: [], status: [], rows: [], errors: {}, withoutOutputs: [], columns: {} };
  let offset = 0;
  let firstAt = Number.POSITIVE_INFINITY;
  let lastAt = 0;
  records.forEach((record, requestIndex) => {
    const rows = rowCounts[requestIndex];
    requests.ids.push(record.requestId);
    requests.at.push(record.at);
    requests.latencyMs.push(record.latencyMs);
    requests.status.push(record.status);
    requests.rows.push(rows);
    if (record.error) requests.errors[requestIndex] = record.error;
    if (record.outputs === null) requests.withoutOutputs.push(requestIndex);
    firstAt = Math.min(firstAt, record.at);
    lastAt = Math.max(lastAt, record.at);
    let had = 0;
    const write = (role: ColumnRole, values: Record<string, unknown[]> | null): void => {
      if (!values) return;
      const indexes = columnIndex[role];
      for (const name in values) {
        const column = values[name];
        const index = indexes.get(name) as number;
        had += 1;
        const target = numbers[index];
        if (target) {
          for (let row = 0; row < column.length; row++) {
            const value = column[row];
            if (typeof value === 'number') target[offset + row] = value;
          }
        } else {
          const rowCodes = codes[index] as Int32Array;
          const dictionary = dictionaries[index];
          for (let row = 0; row < column.length; row++) {
            const value = column[row];
            if (value === null || value === undefined) continue;
            const text = JSON.stringify(value);
            let code = dictionary.get(text);
            if (code === undefined) {
              code = dictionary.size;
              dictionary.set(text, code);
            }
            rowCodes[offset + row] = code;
          }
        }
      }
    };
    write('input', record.inputs);
    write('output', record.outputs);
    // Rare (a request without some column): spelled out only then.
    if (had !== headers.length) {
      requests.columns[requestIndex] = [
        ...Object.keys(record.inputs).map((name) => columnIndex.input.get(name) as number),
        ...Object.keys(record.outputs ?? {}).map((name) => columnIndex.output.get(name) as number)
      ];
    }
    offset += rows;
  });
  headers.forEach((header, index) => {
    if (header.kind === 'categorical') header.dictionary = [...dictionaries[index].keys()];
  });

  const header = Buffer.from(JSON.stringify({ rows: totalRows, columns: headers, requests }), 'utf8');
  const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1'), Buffer.from([FORMAT_VERSION]), uint32(header.length), header];
  headers.forEach((_, index) => {
    const array = numbers[index] ?? (codes[index] as Int32Array);
    parts.push(Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  });
  const data = deflate(Buffer.concat(parts));
  return { data, rows: totalRows, requests: records.length, firstAt: records.length ? firstAt : 0, lastAt };
}

const SAMPLE_BYTES = 32 * 1024;
/** A sample that deflates to more than this share of its size is treated as incompressible. */
const INCOMPRESSIBLE = 0.9;

function deflate(raw: Buffer): Buffer {
  const level1 = { level: 1, strategy: constants.Z_DEFAULT_STRATEGY };
  if (raw.length < 4 * SAMPLE_BYTES) return deflateRawSync(raw, level1);
  // From the middle, past the header's request ids (which always compress), into the columns.
  const start = Math.floor((raw.length - SAMPLE_BYTES) / 2);
  const sample = raw.subarray(start, start + SAMPLE_BYTES);
  const incompressible = deflateRawSync(sample, level1).length > INCOMPRESSIBLE * SAMPLE_BYTES;
  return deflateRawSync(raw, incompressible ? { level: 1, strategy: constants.Z_HUFFMAN_ONLY } : level1);
}

export function decodeBlock(data: Buffer): DecodedBlock {
  const raw = inflateRawSync(data);
  if (raw.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a prediction block');
  if (raw[4] !== FORMAT_VERSION) throw new Error(`prediction block format ${raw[4]} is newer than this Runlab`);
  const headerLength = raw.readUInt32LE(5);
  const header = JSON.parse(raw.toString('utf8', 9, 9 + headerLength)) as {
    rows: number;
    columns: BlockColumnHeader[];
    requests: BlockRequests;
  };
  let position = 9 + headerLength;
  const columns: DecodedColumn[] = header.columns.map((column) => {
    const bytes = header.rows * (column.kind === 'numeric' ? 8 : 4);
    // Copied out: the slice of `raw` may not be aligned for a typed array view.
    const copy = new Uint8Array(bytes);
    copy.set(raw.subarray(position, position + bytes));
    position += bytes;
    return column.kind === 'numeric'
      ? { header: column, numbers: new Float64Array(copy.buffer) }
      : { header: column, codes: new Int32Array(copy.buffer) };
  });
  return { rows: header.rows, requests: header.requests, columns };
}

/** The value of one row of a column, as it was sent (null when missing). */
export function valueAt(column: DecodedColumn, row: number): unknown {
  if (column.numbers) {
    const value = column.numbers[row];
    return Number.isNaN(value) ? null : value;
  }
  const code = (column.codes as Int32Array)[row];
  return code < 0 ? null : JSON.parse((column.header.dictionary as string[])[code]);
}

/** A categorical value as drift compares it: a string as itself, anything else as its JSON text. */
export function categoryAt(column: DecodedColumn, row: number): string | null {
  if (column.numbers) {
    const value = column.numbers[row];
    return Number.isNaN(value) ? null : String(value);
  }
  const code = (column.codes as Int32Array)[row];
  if (code < 0) return null;
  const text = (column.header.dictionary as string[])[code];
  return text.startsWith('"') ? (JSON.parse(text) as string) : text;
}

/** Rebuilds the records of a block, in the order they were logged. */
export function recordsOf(block: DecodedBlock, role: PredictionRecord['role'], modelVersionId: string): PredictionRecord[] {
  const { requests } = block;
  const withoutOutputs = new Set(requests.withoutOutputs);
  const records: PredictionRecord[] = [];
  let offset = 0;
  requests.ids.forEach((requestId, index) => {
    const rows = requests.rows[index];
    const had = requests.columns[index] ? new Set(requests.columns[index]) : null;
    const inputs: Record<string, unknown[]> = {};
    const outputs: Record<string, unknown[]> = {};
    block.columns.forEach((column, columnIndex) => {
      if (had && !had.has(columnIndex)) return;
      const values: unknown[] = new Array(rows);
      for (let row = 0; row < rows; row++) values[row] = valueAt(column, offset + row);
      (column.header.role === 'input' ? inputs : outputs)[column.header.name] = values;
    });
    records.push({
      requestId,
      role,
      modelVersionId,
      at: requests.at[index],
      latencyMs: requests.latencyMs[index],
      inputs,
      outputs: withoutOutputs.has(index) ? null : outputs,
      status: requests.status[index],
      error: requests.errors[index] ?? null
    });
    offset += rows;
  });
  return records;
}

/** Rows of a record: the length its columns share, or null when they differ (the record is refused). */
export function checkedRowCount(record: PredictionRecord): number | null {
  let rows = -1;
  for (const name in record.inputs) {
    const length = record.inputs[name].length;
    if (rows === -1) rows = length;
    else if (length !== rows) return null;
  }
  const outputs = record.outputs;
  if (outputs) {
    for (const name in outputs) {
      const length = outputs[name].length;
      if (rows === -1) rows = length;
      else if (length !== rows) return null;
    }
  }
  return Math.max(rows, 0);
}

function rowCount(record: PredictionRecord): number {
  return checkedRowCount(record) ?? 0;
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
