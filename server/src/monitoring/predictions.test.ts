import type { PredictionRecord } from '../contract';
import { checkedRowCount, decodeBlock, encodeBlock, recordsOf } from './predictions';

const record = (
  requestId: string,
  inputs: PredictionRecord['inputs'],
  outputs: PredictionRecord['outputs'],
  error: string | null = null
): PredictionRecord => ({
  requestId,
  role: 'canary',
  modelVersionId: 'v1',
  at: 1_700_000_000_000,
  latencyMs: 1.25,
  inputs,
  outputs,
  status: error ? 500 : 200,
  error
});

test('a block gives back every record as it was sent: numbers, strings, booleans, tensors, missing values and columns', () => {
  const records = [
    record(
      'a',
      {
        x: [1.5, null],
        kind: ['red', 'blue'],
        flag: [true, false],
        image: [
          [1, 2],
          [3, 4]
        ]
      },
      { label: ['cat', 'dog'], score: [0.9, 0.1] }
    ),
    record('b', { x: [2], kind: ['red'] }, null, 'the model raised ValueError'),
    record('c', { x: [-0], kind: [null], flag: [true], image: [[5, 6]] }, { label: [1], score: [0.5] })
  ];
  const block = encodeBlock(records);
  expect(block).toMatchObject({ rows: 4, requests: 3 });
  const decoded = decodeBlock(block.data);
  expect(recordsOf(decoded, 'canary', 'v1')).toEqual(records);
  // A column with a non-number anywhere is categorical; numbers-only columns stay Float64.
  const kinds = Object.fromEntries(decoded.columns.map((column) => [`${column.header.role}:${column.header.name}`, column.header.kind]));
  expect(kinds).toEqual({
    'input:x': 'numeric',
    'input:kind': 'categorical',
    'input:flag': 'categorical',
    'input:image': 'categorical',
    'output:label': 'categorical',
    'output:score': 'numeric'
  });
});

test('a record whose columns differ in length has no row count', () => {
  expect(checkedRowCount(record('a', { x: [1, 2], y: [1, 2] }, { p: [0, 1] }))).toBe(2);
  expect(checkedRowCount(record('a', { x: [1, 2], y: [1] }, null))).toBeNull();
  expect(checkedRowCount(record('a', { x: [1, 2] }, { p: [0] }))).toBeNull();
});

test('large blocks round-trip whether their floats repeat (deflated small) or not (Huffman-coded, no bigger than raw)', () => {
  const rows = 20_000;
  const seeded = (seed: number) => () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 10;
  const random = seeded(7);
  const fullPrecision = record('full', { x: Array.from({ length: rows }, random), y: Array.from({ length: rows }, random) }, null);
  const oneDecimal = record('short', { x: Array.from({ length: rows }, () => Math.round(random() * 8) / 10) }, null);
  for (const [sent, maxBytesPerRow] of [
    [fullPrecision, 16],
    [oneDecimal, 2]
  ] as const) {
    const block = encodeBlock([sent]);
    expect(recordsOf(decodeBlock(block.data), 'canary', 'v1')).toEqual([sent]);
    expect(block.data.length / rows).toBeLessThanOrEqual(maxBytesPerRow);
  }
});
