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
