/** The MLflow tracking REST API, in the shapes the official mlflow client sends and expects. */
import type { Run } from '../src/contract';
import { startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

async function call(method: 'GET' | 'POST', endpoint: string, body?: Record<string, unknown>, token?: string | null) {
  const pairs: [string, string][] = Object.entries(body ?? {}).flatMap(([key, value]): [string, string][] =>
    Array.isArray(value) ? value.map((item): [string, string] => [key, String(item)]) : [[key, String(value)]]
  );
  const query = method === 'GET' && body ? `?${new URLSearchParams(pairs)}` : '';
  return server.request(method, `/api/2.0/mlflow/${endpoint}${query}`, { json: method === 'POST' ? body : undefined, token });
}

test('experiments: default "0", create, get, get-by-name, search', async () => {
  const fallback = await call('GET', 'experiments/get', { experiment_id: '0' });
  expect(fallback.status).toBe(200);
  expect(fallback.body.experiment).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active' });
  const created = await call('POST', 'experiments/create', { name: 'mlflow-exp', artifact_location: 'ignored', tags: [] });
  expect(created.body).toEqual({ experiment_id: expect.any(String) });
  const duplicate = await call('POST', 'experiments/create', { name: 'mlflow-exp' });
  expect(duplicate.status).toBe(400);
  expect(duplicate.body).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: expect.any(String) });
  const byName = await call('GET', 'experiments/get-by-name', { experiment_name: 'mlflow-exp' });
  expect(byName.body.experiment).toMatchObject({
    experiment_id: created.body.experiment_id,
    name: 'mlflow-exp',
    creation_time: expect.any(Number)
  });
  const missing = await call('GET', 'experiments/get-by-name', { experiment_name: 'nope' });
  expect(missing.status).toBe(404);
  expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  const search = await call('POST', 'experiments/search', { max_results: 10, filter: "name LIKE 'mlflow-%'" });
  expect(search.body.experiments.map((experiment: { name: string }) => experiment.name)).toEqual(['mlflow-exp']);
  const searchGet = await call('GET', 'experiments/search', { max_results: 1000 });
  expect(searchGet.body.experiments.map((experiment: { name: string }) => experiment.name)).toEqual(
    expect.arrayContaining(['Default', 'mlflow-exp'])
  );
});

test('runs: create, log-batch/metric/param, set-tag, get, history, update, search, delete — visible to Runlab too', async () => {
  const experiment = (await call('POST', 'experiments/create', { name: 'mlflow-runs' })).body.experiment_id;
  const created = await call('POST', 'runs/create', {
    experiment_id: experiment,
    user_id: 'ada',
    start_time: 1700000000000,
    run_name: 'clever-fox-1',
    tags: [
      { key: 'mlflow.source.type', value: 'LOCAL' },
      { key: 'mlflow.runName', value: 'clever-fox-1' }
    ]
  });
  expect(created.status).toBe(200);
  const info = created.body.run.info;
  expect(info).toMatchObject({
    run_name: 'clever-fox-1',
    experiment_id: experiment,
    status: 'RUNNING',
    start_time: 1700000000000,
    lifecycle_stage: 'active',
    user_id: 'ada',
    artifact_uri: `mlflow-artifacts:/runs/${info.run_id}`
  });
  const runId = info.run_id;

  const batch = await call('POST', 'runs/log-batch', {
    run_id: runId,
    metrics: [
      { key: 'loss', value: 1.0, timestamp: '1700000000100', step: '0' },
      { key: 'loss', value: 0.5, timestamp: 1700000000200, step: 1 },
      { key: 'loss', value: 'NaN', timestamp: 1700000000300, step: 2 }
    ],
    params: [{ key: 'lr', value: '0.01' }],
    tags: [{ key: 'team', value: 'vision' }]
  });
  expect(batch.status).toBe(200);
  expect(batch.body).toEqual({});
  expect(
    (await call('POST', 'runs/log-metric', { run_id: runId, run_uuid: runId, key: 'acc', value: 0.9, timestamp: 1700000000400, step: 3 }))
      .status
  ).toBe(200);
  expect((await call('POST', 'runs/log-parameter', { run_id: runId, key: 'epochs', value: '5' })).status).toBe(200);
  const changed = await call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.02' });
  expect(changed.status).toBe(400);
  expect(changed.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  expect((await call('POST', 'runs/set-tag', { run_id: runId, key: 'mlflow.runName', value: 'renamed' })).status).toBe(200);

  const got = await call('GET', 'runs/get', { run_id: runId });
  expect(got.body.run.info.run_name).toBe('renamed');
  expect(got.body.run.data.params).toEqual(
    expect.arrayContaining([
      { key: 'lr', value: '0.01' },
      { key: 'epochs', value: '5' }
    ])
  );
  expect(got.body.run.data.tags).toEqual(
    expect.arrayContaining([
      { key: 'team', value: 'vision' },
      { key: 'mlflow.runName', value: 'renamed' }
    ])
  );
  expect(got.body.run.data.metrics).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ key: 'loss', value: 'NaN', step: 2 }),
      expect.objectContaining({ key: 'acc', value: 0.9, step: 3 })
    ])
  );

  const history = await call('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss' });
  expect(history.body.metrics).toEqual([
    { key: 'loss', value: 1, timestamp: 1700000000100, step: 0 },
    { key: 'loss', value: 0.5, timestamp: 1700000000200, step: 1 },
    // MLflow stores NaN and ±Infinity, and so does Runlab; protobuf JSON names them.
    { key: 'loss', value: 'NaN', timestamp: 1700000000300, step: 2 }
  ]);
  const bulk = await call('GET', 'metrics/get-history-bulk-interval', { run_ids: [runId], metric_key: 'loss', max_results: 10 });
  expect(bulk.body.metrics).toHaveLength(3);
  expect(bulk.body.metrics[0]).toMatchObject({ run_id: runId, key: 'loss' });

  const runlab = (await server.request('GET', `/api/runs/${runId}`)).body as Run;
  expect(runlab).toMatchObject({
    name: 'renamed',
    source: { kind: 'mlflow' },
    params: { lr: '0.01', epochs: '5' },
    tags: { team: 'vision', 'mlflow.source.type': 'LOCAL', 'mlflow.user': 'ada' }
  });

  const ended = await call('POST', 'runs/update', { run_id: runId, status: 'FINISHED', end_time: 1700000009000 });
  expect(ended.body.run_info).toMatchObject({ status: 'FINISHED', end_time: 1700000009000 });

  const other = (await call('POST', 'runs/create', { experiment_id: experiment, start_time: 1700000001000, tags: [] })).body.run.info;
  await call('POST', 'runs/log-metric', { run_id: other.run_id, key: 'acc', value: 0.5, timestamp: 1, step: 0 });
  const search = await call('POST', 'runs/search', {
    experiment_ids: [experiment],
    filter: 'metrics.acc > 0.6',
    max_results: 10,
    order_by: ['metrics.acc DESC']
  });
  expect(search.body.runs.map((run: { info: { run_id: string } }) => run.info.run_id)).toEqual([runId]);
  const paged = await call('POST', 'runs/search', {
    experiment_ids: [experiment],
    max_results: 1,
    order_by: ['attributes.start_time DESC']
  });
  expect(paged.body.runs[0].info.run_id).toBe(other.run_id);
  const next = await call('POST', 'runs/search', {
    experiment_ids: [experiment],
    max_results: 1,
    order_by: ['attributes.start_time DESC'],
    page_token: paged.body.next_page_token
  });
  expect(next.body.runs[0].info.run_id).toBe(runId);
  expect(next.body.next_page_token).toBeUndefined();
  const finished = await call('POST', 'runs/search', {
    experiment_ids: [experiment],
    filter: "attributes.status = 'FINISHED' and params.lr = '0.01'"
  });
  expect(finished.body.runs).toHaveLength(1);

  // A Runlab run is visible through MLflow.
  const native = (await server.request('POST', '/api/runs', { json: { project: 'mlflow-runs', name: 'native' } })).body as Run;
  expect((await call('GET', 'runs/get', { run_id: native.id })).body.run.info).toMatchObject({
    run_name: 'native',
    experiment_id: experiment
  });

  expect((await call('POST', 'runs/delete', { run_id: runId })).status).toBe(200);
  const gone = await call('GET', 'runs/get', { run_id: runId });
  expect(gone.status).toBe(404);
  expect(gone.body).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.any(String) });
});

test('runs created without an experiment land in Default (experiment "0")', async () => {
  const created = await call('POST', 'runs/create', { tags: [] });
  expect(created.body.run.info.experiment_id).toBe('0');
  expect((await server.request('GET', `/api/runs/${created.body.run.info.run_id}`)).body.projectName).toBe('Default');
});

test('errors come in MLflow shape: bad types, unknown endpoints, auth', async () => {
  const badType = await call('POST', 'runs/log-metric', { run_id: 'x', key: 'a', value: 'high', timestamp: 1 });
  expect(badType.status).toBe(400);
  expect(badType.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('body.value') });
  const noRun = await call('POST', 'runs/log-metric', { key: 'a', value: 1, timestamp: 1 });
  expect(noRun.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  const unknownRun = await call('POST', 'runs/log-metric', { run_id: 'nope', key: 'a', value: 1, timestamp: 1 });
  expect(unknownRun.status).toBe(404);
  const malformed = await server.request('POST', '/api/2.0/mlflow/runs/create', { rawBody: '{"tags": [' });
  expect(malformed.body.error_code).toBe('MALFORMED_REQUEST');
  const endpoint = await call('POST', 'scorers/create', {});
  expect(endpoint.status).toBe(404);
  expect(endpoint.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  const anonymous = await call('GET', 'experiments/get', { experiment_id: '0' }, null);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.error_code).toBe('UNAUTHENTICATED');
  const runner = (await server.request('POST', '/api/tokens', { json: { name: 'runner-mlflow', scope: 'runner' } })).body.secret;
  const forbidden = await call('GET', 'experiments/get', { experiment_id: '0' }, runner);
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.error_code).toBe('PERMISSION_DENIED');
  // The same API under /ajax-api (what MLflow's web UI calls).
  const ajax = await server.request('GET', '/ajax-api/2.0/mlflow/experiments/get?experiment_id=0');
  expect(ajax.body.experiment.name).toBe('Default');
});

test('values MLflow clients send that once were lost: int64 steps past 2^53, ±Infinity, a param named __proto__', async () => {
  const runId = (await call('POST', 'runs/create', { experiment_id: '0', start_time: 1700000000000, tags: [] })).body.run.info.run_id;
  // protobuf JSON writes int64 as strings; past 2^53 it cannot read back exactly: refused, not stored.
  const huge = await call('POST', 'runs/log-batch', {
    run_id: runId,
    metrics: [{ key: 'm', value: 1, timestamp: 1700000000100, step: '9223372036854775807' }]
  });
  expect(huge.status).toBe(400);
  expect(huge.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  expect((await call('GET', 'runs/get', { run_id: runId })).status).toBe(200);

  const logged = await call('POST', 'runs/log-batch', {
    run_id: runId,
    metrics: [
      { key: 'm', value: 'Infinity', timestamp: 1700000000100, step: 0 },
      { key: 'm', value: '-Infinity', timestamp: 1700000000200, step: 1 },
      { key: 'm', value: 2, timestamp: 1700000000300, step: 2 }
    ],
    params: [{ key: '__proto__', value: 'kept' }],
    tags: [{ key: 'constructor', value: 'kept too' }]
  });
  expect(logged.status).toBe(200);
  const history = await call('GET', 'metrics/get-history', { run_id: runId, metric_key: 'm' });
  expect(history.body.metrics.map((point: { value: unknown }) => point.value)).toEqual(['Infinity', '-Infinity', 2]);
  const got = await call('GET', 'runs/get', { run_id: runId });
  expect(got.body.run.data.params).toEqual([{ key: '__proto__', value: 'kept' }]);
  expect(got.body.run.data.tags).toEqual(expect.arrayContaining([{ key: 'constructor', value: 'kept too' }]));
  const runlab = (await server.request('GET', `/api/runs/${runId}`)).body as Run;
  expect(runlab.metrics.m).toMatchObject({ latest: 2, min: 2, max: 2, count: 3 });
});
