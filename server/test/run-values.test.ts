/**
 * Values that must read back as they were written, or be refused up front with a 400 naming the
 * field: steps and timestamps beyond 2^53, user keys such as `__proto__`, NaN and ±Infinity, long
 * non-ASCII tracebacks, deeply nested notebooks. Each of these once lost data (stored, then
 * answered 500 on every read; silently dropped; or refused with the run left "running").
 */
import { expectErrorBody, startServer, type TestServer } from './helpers';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.destroy();
});

let batch = 0;
const key = () => `batch-key-${++batch}`;

async function newRun(project = 'values', extra: Record<string, unknown> = {}): Promise<string> {
  const response = await server.request('POST', '/api/runs', { json: { project, ...extra } });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

function columns(values: unknown[], steps: unknown[], timestamps?: unknown[]): Record<string, unknown> {
  return {
    keys: ['m'],
    keyIndex: values.map(() => 0),
    values,
    steps,
    timestamps: timestamps ?? values.map(() => 1_700_000_000_000)
  };
}

/** Every read of the run answers 200: one run, the project's list, and all runs. */
async function expectReadable(runId: string, project: string): Promise<void> {
  expect((await server.request('GET', `/api/runs/${runId}`)).status).toBe(200);
  expect((await server.request('GET', `/api/runs?project=${project}`)).status).toBe(200);
  expect((await server.request('GET', '/api/runs')).status).toBe(200);
}

describe('steps and timestamps beyond 2^53', () => {
  test.each([
    ['time.time_ns() as a step', 1_764_600_000_000_000_000],
    ['1e300', 1e300],
    ['2^53', 2 ** 53]
  ])('a column step of %s is refused with a 400 naming it, and the run stays readable', async (_label, step) => {
    const runId = await newRun('steps');
    const response = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metricColumns: columns([1, 2], [0, step]) }
    });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details[0].path).toBe('body.metricColumns.steps.1');
    expect(response.body.error.message).toMatch(/9007199254740991/);
    // Nothing of the refused batch was stored, and every read still works.
    const run = await server.request('GET', `/api/runs/${runId}`);
    expect(run.body.metrics).toEqual({});
    await expectReadable(runId, 'steps');
  });

  test('MLflow int64 strings beyond 2^53 in the raw JSON are refused too', async () => {
    const runId = await newRun('steps');
    const raw = `{"idempotencyKey":"${key()}","metricColumns":{"keys":["m"],"keyIndex":[0],"values":[1],"steps":[9223372036854775807],"timestamps":[1]}}`;
    const response = await server.request('POST', `/api/runs/${runId}/log`, { rawBody: raw });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details[0].path).toBe('body.metricColumns.steps.0');
  });

  test('timestamps beyond 2^53 and object-form steps are refused naming the field', async () => {
    const runId = await newRun('steps');
    const timestamps = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metricColumns: columns([1], [0], [2 ** 60]) }
    });
    expectErrorBody(timestamps, 400, 'invalid_request');
    expect(timestamps.body.error.details[0].path).toBe('body.metricColumns.timestamps.0');
    const objects = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metrics: [{ key: 'm', value: 1, step: 2 ** 60 }] }
    });
    expectErrorBody(objects, 400, 'invalid_request');
    expect(objects.body.error.details[0].path).toBe('body.metrics.0.step');
    await expectReadable(runId, 'steps');
  });

  test('the largest step, 2^53 - 1, reads back exactly; the step after it is refused', async () => {
    const runId = await newRun('steps');
    const largest = Number.MAX_SAFE_INTEGER;
    const stored = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metricColumns: columns([0.5], [largest], [largest]) }
    });
    expect(stored.status).toBe(200);
    const history = await server.request('GET', `/api/runs/${runId}/metrics/m`);
    expect(history.body.points).toEqual([{ step: largest, value: 0.5, timestamp: largest }]);
    expect((await server.request('GET', `/api/runs/${runId}`)).body.metrics.m.step).toBe(largest);
    // An omitted step would be 2^53: refused instead of stored unreadable, naming the point.
    const next = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metricColumns: columns([1], [null]) }
    });
    expectErrorBody(next, 400, 'invalid_request');
    expect(next.body.error.details[0].path).toBe('body.metricColumns.steps.0');
    const asObject = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metrics: [{ key: 'm', value: 1 }] }
    });
    expect(asObject.body.error.details[0].path).toBe('body.metrics.0.step');
    await expectReadable(runId, 'steps');
  });

  test('a key listed twice in metricColumns.keys is a 400 naming it, not a 500 or a wrong count', async () => {
    const runId = await newRun('steps');
    const response = await server.request('POST', `/api/runs/${runId}/log`, {
      json: {
        idempotencyKey: key(),
        metricColumns: { keys: ['a', 'a'], keyIndex: [0, 1], values: [1, 2], steps: [0, 1], timestamps: [5, 6] }
      }
    });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.details[0].path).toBe('body.metricColumns.keys.1');
  });
});

describe('user keys that are also names of object internals', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype'];

  test('params, tags and metrics named __proto__, constructor, … round-trip everywhere', async () => {
    // Raw JSON bodies: "__proto__" arrives as an own key, as it does from any client.
    const rawParams = `{${names.map((name, index) => `"${name}":"p${index}"`).join(',')}}`;
    const rawTags = `{${names.map((name, index) => `"${name}":"t${index}"`).join(',')}}`;
    const created = await server.request('POST', '/api/runs', {
      rawBody: `{"project":"keys","params":${rawParams},"tags":${rawTags}}`
    });
    expect(created.status).toBe(201);
    const runId = created.body.id as string;
    const rawLogParams = `{${names.map((name) => `"${name}.2":"x"`).join(',')}}`;
    const logged = await server.request('POST', `/api/runs/${runId}/log`, {
      rawBody: `{"idempotencyKey":"${key()}","params":${rawLogParams},"tags":{"__proto__":"t-again"},"metricColumns":{"keys":${JSON.stringify(names)},"keyIndex":[0,1,2,3,4],"values":[1,2,3,4,5],"steps":[0,0,0,0,0],"timestamps":[1,1,1,1,1]}}`
    });
    expect(logged.status).toBe(200);

    const expectedParams = JSON.parse(
      `{${[...names.map((name, index) => `"${name}":"p${index}"`), ...names.map((name) => `"${name}.2":"x"`)].join(',')}}`
    );
    const run = JSON.parse((await server.request('GET', `/api/runs/${runId}`)).text);
    expect(Object.keys(run.params).sort()).toEqual(Object.keys(expectedParams).sort());
    for (const name of names) {
      expect(Object.getOwnPropertyDescriptor(run.params, name)?.value).toBe(`p${names.indexOf(name)}`);
      expect(Object.getOwnPropertyDescriptor(run.metrics, name)?.value.latest).toBe(names.indexOf(name) + 1);
    }
    expect(Object.getOwnPropertyDescriptor(run.tags, '__proto__')?.value).toBe('t-again');
    expect(Object.keys(run.tags)).toHaveLength(names.length);

    const list = JSON.parse((await server.request('GET', '/api/runs?project=keys')).text);
    expect(Object.keys(list.runs[0].metrics).sort()).toEqual([...names].sort());
    expect(Object.getOwnPropertyDescriptor(list.runs[0].params, '__proto__')?.value).toBe('p0');

    const history = await server.request('GET', `/api/runs/${runId}/metrics/__proto__`);
    expect(history.body.points).toEqual([{ step: 0, value: 1, timestamp: 1 }]);

    const other = await newRun('keys');
    const compare = JSON.parse((await server.request('GET', `/api/runs/compare?ids=${runId},${other}`)).text);
    expect(Object.keys(compare.series).sort()).toEqual([...names].sort());
  });
});

describe('NaN and ±Infinity', () => {
  test('are stored, returned as "NaN" / "Infinity" / "-Infinity", and kept out of min/max', async () => {
    const runId = await newRun('nonfinite');
    const response = await server.request('POST', `/api/runs/${runId}/log`, {
      json: {
        idempotencyKey: key(),
        metricColumns: columns([1, 'NaN', 'Infinity', -2, '-Infinity', 'NaN'], [0, 1, 2, 3, 4, 5])
      }
    });
    expect(response.status).toBe(200);
    expect(response.body.stored).toBe(6);
    const history = await server.request('GET', `/api/runs/${runId}/metrics/m`);
    expect(history.body.points.map((point: { value: unknown }) => point.value)).toEqual([1, 'NaN', 'Infinity', -2, '-Infinity', 'NaN']);
    const summary = (await server.request('GET', `/api/runs/${runId}`)).body.metrics.m;
    expect(summary).toMatchObject({ latest: 'NaN', step: 5, min: -2, max: 1, count: 6 });
    const other = await newRun('nonfinite');
    const compare = await server.request('GET', `/api/runs/compare?ids=${runId},${other}`);
    expect(compare.body.series.m[runId].values).toEqual([1, 'NaN', 'Infinity', -2, '-Infinity', 'NaN']);
  });

  test('a series of only non-finite values has no min/max; object-form points take them too', async () => {
    const runId = await newRun('nonfinite');
    const response = await server.request('POST', `/api/runs/${runId}/log`, {
      json: {
        idempotencyKey: key(),
        metrics: [
          { key: 'x', value: 'Infinity' },
          { key: 'x', value: 'NaN' }
        ]
      }
    });
    expect(response.status).toBe(200);
    const summary = (await server.request('GET', `/api/runs/${runId}`)).body.metrics.x;
    expect(summary).toMatchObject({ latest: 'NaN', min: null, max: null, count: 2 });
    const bad = await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), metricColumns: columns(['nan'], [0]) }
    });
    expectErrorBody(bad, 400, 'invalid_request');
    expect(bad.body.error.details[0].path).toBe('body.metricColumns.values.0');
  });

  test('filters never match a NaN latest value, and sorting puts it after every number', async () => {
    const project = 'nonfinite-sort';
    const ids: Record<string, string> = {};
    for (const [name, value] of [
      ['low', 1],
      ['nan', 'NaN'],
      ['high', 3],
      ['inf', 'Infinity']
    ] as const) {
      ids[name] = await newRun(project, { name });
      await server.request('POST', `/api/runs/${ids[name]}/log`, {
        json: { idempotencyKey: key(), metrics: [{ key: 'acc', value, step: 0 }] }
      });
    }
    const none = await newRun(project, { name: 'none' });
    expect(none).toBeTruthy();
    const above = await server.request('GET', `/api/runs?project=${project}&filter=${encodeURIComponent('metrics.acc>0')}`);
    expect(above.body.runs.map((run: { name: string }) => run.name).sort()).toEqual(['high', 'inf', 'low']);
    for (const direction of ['desc', 'asc']) {
      const sorted = await server.request('GET', `/api/runs?project=${project}&sort=metrics.acc:${direction}`);
      const names = sorted.body.runs.map((run: { name: string }) => run.name);
      expect(names.slice(0, 3)).toEqual(direction === 'desc' ? ['inf', 'high', 'low'] : ['low', 'high', 'inf']);
      expect(names.slice(3).sort()).toEqual(['nan', 'none']);
    }
  });
});

describe('limits that agree with each other', () => {
  test('a failed run with a long non-ASCII traceback within the contract limit is stored', async () => {
    const runId = await newRun('limits');
    // 200,000 characters (the contract's limit) that JSON encoders escape to 6 bytes each: 1.2 MB.
    const traceback = 'ü€'.repeat(100_000);
    // eslint-disable-next-line no-control-regex -- every character outside ASCII is escaped, so the range starts at NUL
    const body = `{"status":"failed","error":{"message":"boom","traceback":${JSON.stringify(traceback).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}}}`;
    expect(body.length).toBeGreaterThan(1_048_576);
    const response = await server.request('PATCH', `/api/runs/${runId}`, { rawBody: body });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('failed');
    const run = await server.request('GET', `/api/runs/${runId}`);
    expect(run.body.error.traceback).toBe(traceback);
  });

  test('a notebook nested 100,000 levels deep is a 400, not a crash', async () => {
    const runId = await newRun('limits');
    const depth = 100_000;
    const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const body = `{"notebookPath":"deep.ipynb","notebook":{"cells":[],"metadata":${nested},"nbformat":4,"nbformat_minor":5}}`;
    const response = await server.request('POST', `/api/runs/${runId}/snapshot`, { rawBody: body });
    expectErrorBody(response, 400, 'invalid_request');
    expect(response.body.error.message).toMatch(/nested/);
    // The server is fine afterwards.
    expect((await server.request('GET', `/api/runs/${runId}`)).status).toBe(200);
  });
});

describe('text that is not text', () => {
  test('a lone UTF-16 surrogate anywhere in a body is refused naming the field; pairs are kept', async () => {
    const runId = await newRun('unicode');
    const lone = await server.request('POST', `/api/runs/${runId}/log`, {
      rawBody: `{"idempotencyKey":"${key()}","tags":{"a":"x\\ud800y"}}`
    });
    expectErrorBody(lone, 400, 'invalid_request');
    expect(lone.body.error.details[0].path).toBe('body.tags.a');
    const inKey = await server.request('POST', '/api/runs', { rawBody: '{"project":"unicode","params":{"\\udc00":"v"}}' });
    expectErrorBody(inKey, 400, 'invalid_request');
    const pair = await server.request('POST', `/api/runs/${runId}/log`, {
      rawBody: `{"idempotencyKey":"${key()}","tags":{"a":"\\ud83d\\ude00 \\u00e9"}}`
    });
    expect(pair.status).toBe(200);
    expect((await server.request('GET', `/api/runs/${runId}`)).body.tags.a).toBe('😀 é');
  });

  test('keys that are not normalized paths are refused, as MLflow refuses them (a metric ".." could not be read by URL)', async () => {
    const runId = await newRun('unicode');
    for (const bad of ['.', '..', 'a/../b', '/lead', 'trail/', 'a//b']) {
      const response = await server.request('POST', `/api/runs/${runId}/log`, {
        json: { idempotencyKey: key(), metrics: [{ key: bad, value: 1 }] }
      });
      expectErrorBody(response, 400, 'invalid_request');
    }
    const fine = await server.request('POST', `/api/runs/${runId}/log`, {
      json: {
        idempotencyKey: key(),
        metrics: [
          { key: 'train/loss', value: 1 },
          { key: '...', value: 2 }
        ]
      }
    });
    expect(fine.status).toBe(200);
    expect((await server.request('GET', `/api/runs/${runId}/metrics/${encodeURIComponent('...')}`)).body.points).toHaveLength(1);
  });
});

describe('cached run details', () => {
  test('lists show writes made through the API and by another connection (the CLI) at once', async () => {
    const project = 'cached-details';
    const runId = await newRun(project, { params: { lr: '0.1' } });
    const listed = async () => (await server.request('GET', `/api/runs?project=${project}`)).body.runs[0];
    expect((await listed()).params).toEqual({ lr: '0.1' });
    await server.request('POST', `/api/runs/${runId}/log`, {
      json: { idempotencyKey: key(), tags: { stage: 'a' }, metrics: [{ key: 'm', value: 1 }] }
    });
    expect(await listed()).toMatchObject({ tags: { stage: 'a' }, metrics: { m: { latest: 1, count: 1 } } });
    // Another connection to the same file, as `npx runlab-server …` would be, changes a tag.
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(`${server.dataDir}/runlab.db`);
    other.prepare("UPDATE run_tags SET value = 'b' WHERE run_id = ? AND key = 'stage'").run(runId);
    other.close();
    expect((await listed()).tags).toEqual({ stage: 'b' });
    expect((await server.request('GET', `/api/runs/${runId}`)).body.tags).toEqual({ stage: 'b' });
  });
});
