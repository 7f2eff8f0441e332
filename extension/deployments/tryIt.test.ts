/** The try-it box's request, URL, curl line and "answered by", from signatures and examples as runlab and MLflow store them. */
import type { DeploymentSlot, ModelSignature } from '../../server/src/contract';
import { answeredBy, buildInferRequest, curlCommand, exampleTable, inferUrl, requestText } from './tryIt';

const IRIS_TENSOR: ModelSignature = {
  inputs: [{ name: null, kind: 'tensor', datatype: 'FP64', shape: [-1, 4], required: true }],
  outputs: [{ name: null, kind: 'tensor', datatype: 'INT64', shape: [-1], required: true }]
};

const CHURN_COLUMNS: ModelSignature = {
  inputs: [
    { name: 'age', kind: 'column', datatype: 'INT64', shape: [-1], required: true },
    { name: 'plan', kind: 'column', datatype: 'BYTES', shape: [-1], required: true },
    { name: 'monthly', kind: 'column', datatype: 'FP64', shape: [-1], required: true }
  ],
  outputs: null
};

describe('buildInferRequest', () => {
  it('sends an array example as one tensor, flattened row-major, under the unnamed input name', () => {
    const example = [
      [5.1, 3.5, 1.4, 0.2],
      [6.2, 2.9, 4.3, 1.3]
    ];
    expect(buildInferRequest(IRIS_TENSOR, example)).toEqual({
      inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2, 6.2, 2.9, 4.3, 1.3] }]
    });
  });

  it('sends a table (MLflow dataframe_split) as one input per signature column, in the signature order', () => {
    const example = {
      columns: ['plan', 'age', 'monthly'],
      data: [
        ['pro', 41, 29.5],
        ['free', 23, 0]
      ]
    };
    expect(buildInferRequest(CHURN_COLUMNS, example).inputs).toEqual([
      { name: 'age', shape: [2], datatype: 'INT64', data: [41, 23] },
      { name: 'plan', shape: [2], datatype: 'BYTES', data: ['pro', 'free'] },
      { name: 'monthly', shape: [2], datatype: 'FP64', data: [29.5, 0] }
    ]);
  });

  it('reads records and column → values examples as tables too', () => {
    expect(
      exampleTable([
        { a: 1, b: 'x' },
        { a: 2, b: 'y' }
      ])
    ).toEqual({
      columns: ['a', 'b'],
      rows: [
        [1, 'x'],
        [2, 'y']
      ]
    });
    expect(exampleTable({ a: [1, 2], b: ['x', 'y'] })).toEqual({
      columns: ['a', 'b'],
      rows: [
        [1, 'x'],
        [2, 'y']
      ]
    });
    expect(exampleTable([[1, 2]])).toBeNull();
  });

  it('fills one row of placeholders by datatype when there is no example', () => {
    expect(buildInferRequest(CHURN_COLUMNS, null).inputs).toEqual([
      { name: 'age', shape: [1], datatype: 'INT64', data: [0] },
      { name: 'plan', shape: [1], datatype: 'BYTES', data: [''] },
      { name: 'monthly', shape: [1], datatype: 'FP64', data: [0] }
    ]);
    expect(buildInferRequest(IRIS_TENSOR, null).inputs).toEqual([{ name: 'input', shape: [1, 4], datatype: 'FP64', data: [0, 0, 0, 0] }]);
  });

  it('describes an example without a signature by its values', () => {
    expect(
      buildInferRequest(null, [
        [1, 2],
        [3, 4]
      ]).inputs
    ).toEqual([{ name: 'input', shape: [2, 2], datatype: 'INT64', data: [1, 2, 3, 4] }]);
    expect(buildInferRequest(null, { columns: ['ok', 'score'], data: [[true, 0.5]] }).inputs).toEqual([
      { name: 'ok', shape: [1], datatype: 'BOOL', data: [true] },
      { name: 'score', shape: [1], datatype: 'FP64', data: [0.5] }
    ]);
  });

  it('shows the request indented, each row of numbers on one line, and still the same JSON', () => {
    const request = buildInferRequest(IRIS_TENSOR, [[5.1, 3.5, 1.4, 0.2]]);
    const text = requestText(request);
    expect(text).toContain('"shape": [1, 4]');
    expect(text).toContain('"data": [5.1, 3.5, 1.4, 0.2]');
    expect(JSON.parse(text)).toEqual(request);
    const strings = { inputs: [{ name: 'plan', shape: [1], datatype: 'BYTES' as const, data: ['a,  b'] }] };
    expect(JSON.parse(requestText(strings))).toEqual(strings);
  });
});

describe('the endpoint and curl', () => {
  it('builds the OIP infer URL from the endpoint and the model name', () => {
    expect(inferUrl('http://127.0.0.1:8081/', 'iris')).toBe('http://127.0.0.1:8081/v2/models/iris/infer');
    expect(inferUrl('http://127.0.0.1:8081', 'churn.v2')).toBe('http://127.0.0.1:8081/v2/models/churn.v2/infer');
  });

  it('gives one curl line with the body compacted and single quotes escaped for the shell', () => {
    const body = '{\n  "inputs": [{"name": "plan", "shape": [1], "datatype": "BYTES", "data": ["it\'s"]}]\n}';
    expect(curlCommand('http://127.0.0.1:8081/v2/models/churn/infer', body)).toBe(
      `curl -X POST 'http://127.0.0.1:8081/v2/models/churn/infer' -H 'Content-Type: application/json' -d '{"inputs":[{"name":"plan","shape":[1],"datatype":"BYTES","data":["it'\\''s"]}]}'`
    );
    // A body being edited (not JSON) goes as typed.
    expect(curlCommand('http://x/infer', '{"inputs": [')).toBe(
      `curl -X POST 'http://x/infer' -H 'Content-Type: application/json' -d '{"inputs": ['`
    );
  });
});

describe('answeredBy', () => {
  const slots: DeploymentSlot[] = [
    { role: 'stable', modelVersionId: 'mv3', modelName: 'iris', version: 3, percent: 90 },
    { role: 'canary', modelVersionId: 'mv4', modelName: 'iris', version: 4, percent: 10 }
  ];
  it('names the version and its role from the header, else from the body', () => {
    expect(answeredBy('4', null, slots)).toBe('v4 (canary)');
    expect(answeredBy(null, { model_name: 'iris', model_version: 'v3', outputs: [] }, slots)).toBe('v3 (stable)');
    expect(answeredBy(null, { outputs: [] }, slots)).toBeNull();
    expect(answeredBy('7', null, slots)).toBe('v7');
  });
});
