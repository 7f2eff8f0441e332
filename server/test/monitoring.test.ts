/**
 * Monitoring against a real server and real SQLite: telemetry's sampled predictions stored as
 * compressed columnar blocks (and still listed), drift windows closed by rows and by time and
 * judged against the version's reference profile (a mean shift named), a tiny window refused
 * with its reason, window state and history kept across a restart, malformed records skipped
 * with the rest of the batch kept, an oversized report refused whole, feedback joined to
 * request ids (unknown ones reported, accuracy computed), retention, and /metrics.
 *
 * The serving runtime itself is exercised in deployments.test.ts and the Python tests; here a
 * stand-in process (a shell script in place of Python) takes the deployment's token the way the
 * runtime does (RUNLAB_TOKEN), and the test posts TelemetryReports with it as the runtime would.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Deployment, DriftWindow, FeatureProfile, ModelVersion, MonitoringOverview, ReferenceProfile, Run } from '../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32 + Box–Muller: the same "production traffic" every run. */
function random(seed: number): { uniform(): number; normal(): number } {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform()) };
}

const COLORS = ['red', 'red', 'red', 'red', 'red', 'blue', 'blue', 'blue', 'green', 'green'];

function numericProfile(name: string, values: number[]): FeatureProfile {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const std = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1));
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const bins = 20;
  const edges = Array.from({ length: bins + 1 }, (_, index) => min + ((max - min) * index) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) counts[Math.min(bins - 1, Math.floor(((value - min) / (max - min)) * bins))] += 1;
  const quantiles = Array.from({ length: 101 }, (_, index) => sorted[Math.round((index / 100) * (sorted.length - 1))]);
  return {
    name,
    kind: 'numeric',
    count: values.length,
    missing: 0,
    numeric: { min, max, mean, std, quantiles, histogram: { edges, counts }, sample: values.slice(0, 1000) },
    categorical: null
  };
}

function categoricalProfile(name: string, values: string[]): FeatureProfile {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return {
    name,
    kind: 'categorical',
    count: values.length,
    missing: 0,
    numeric: null,
    categorical: { counts, other: 0, distinct: Object.keys(counts).length }
  };
}

/** The training data's profile: a ~ N(0, 1), b ~ N(5, 2), color, and the model's 0/1 prediction. */
function referenceProfile(): ReferenceProfile {
  const rng = random(1);
  const a: number[] = [];
  const b: number[] = [];
  const color: string[] = [];
  const predict: string[] = [];
  for (let row = 0; row < 5000; row++) {
    a.push(rng.normal());
    b.push(5 + 2 * rng.normal());
    color.push(COLORS[Math.floor(rng.uniform() * COLORS.length)]);
    predict.push(a[row] > 0 ? '1' : '0');
  }
  return {
    rows: 5000,
    features: [numericProfile('a', a), numericProfile('b', b), categoricalProfile('color', color)],
    predictions: [categoricalProfile('predict', predict)]
  };
}

interface Traffic {
  seed: number;
  requests: number;
  rowsPerRequest: number;
  shiftA?: number;
}

let requestCounter = 0;
const LARGE_BODY_LIMIT = 8 * 1024 * 1024;

/**
 * POSTs a body the server refuses before reading it: the answer arrives while the body is still
 * being sent, and the server then closes the connection (fetch would report only the reset).
 */
function postOversized(url: string, bearer: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', 'content-length': body.length }
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    request.end(body);
  });
}

/** Prediction records as a runtime logs them: each request `rowsPerRequest` rows. */
function records(versionId: string, traffic: Traffic) {
  const rng = random(traffic.seed);
  return Array.from({ length: traffic.requests }, () => {
    const a: number[] = [];
    const b: number[] = [];
    const color: string[] = [];
    const predict: number[] = [];
    for (let row = 0; row < traffic.rowsPerRequest; row++) {
      a.push(rng.normal() + (traffic.shiftA ?? 0));
      b.push(5 + 2 * rng.normal());
      color.push(COLORS[Math.floor(rng.uniform() * COLORS.length)]);
      predict.push(a[row] > 0 ? 1 : 0);
    }
    requestCounter += 1;
    return {
      requestId: `request-${requestCounter}`,
      role: 'stable' as const,
      modelVersionId: versionId,
      at: Date.now(),
      latencyMs: 3.5,
      inputs: { a, b, color },
      outputs: { predict },
      status: 200,
      error: null
    };
  });
}

let tmp: string;
let server: TestServer;
let version: ModelVersion;
let deployment: Deployment;
let token: string;

const runtimeScript = (dir: string): string => {
  const file = path.join(dir, 'fake-python.sh');
  // Arguments: -m runlab serve-model --deployment <id> …; the token goes where the test reads it.
  fs.writeFileSync(
    file,
    `#!/bin/sh\nprintf '%s' "$RUNLAB_TOKEN" > "${dir}/token-$5.tmp" && mv "${dir}/token-$5.tmp" "${dir}/token-$5"\nexec sleep 600\n`,
    {
      mode: 0o755
    }
  );
  return file;
};

async function waitForToken(deploymentId: string, notThis?: string): Promise<string> {
  const file = path.join(tmp, `token-${deploymentId}`);
  for (let attempt = 0; attempt < 400; attempt++) {
    if (fs.existsSync(file)) {
      const value = fs.readFileSync(file, 'utf8');
      if (value && value !== notThis) return value;
    }
    await sleep(25);
  }
  throw new Error('the stand-in runtime never got a token');
}

const start = (): Promise<TestServer> =>
  startServer({
    dataDir: path.join(tmp, 'data'),
    env: { RUNLAB_SERVING_PYTHON: runtimeScript(tmp), RUNLAB_MAX_LARGE_BODY_BYTES: String(LARGE_BODY_LIMIT) }
  });

const report = (traffic: unknown[], on = server, withToken = token) =>
  on.request('POST', `/api/deployments/${deployment.id}/telemetry`, {
    token: withToken,
    json: {
      revision: 1,
      replica: 'test-a',
      intervalSeconds: 2,
      counts: [
        { role: 'stable', modelVersionId: version.id, status: 200, count: 95 },
        { role: 'stable', modelVersionId: version.id, status: 503, count: 5 }
      ],
      latency: { bucketsMs: [1, 5, 10, 50], counts: [10, 60, 95, 100, 100] },
      predictions: traffic
    }
  });

const send = async (traffic: Traffic, on = server, withToken = token): Promise<void> => {
  const response = await report(records(version.id, traffic), on, withToken);
  expect(response.status).toBe(200);
  expect(response.body.acceptedPredictions).toBe(traffic.requests);
};

const settings = async (change: Record<string, unknown>): Promise<void> => {
  const response = await server.request('PATCH', `/api/deployments/${deployment.id}/monitoring`, { json: change });
  expect(response.status).toBe(200);
};

const driftWindows = async (on = server): Promise<{ windows: DriftWindow[]; filling: { modelVersionId: string; rows: number }[] }> => {
  const response = await on.request('GET', `/api/deployments/${deployment.id}/drift`);
  expect(response.status).toBe(200);
  return response.body;
};

beforeAll(async () => {
  tmp = makeTempDir('runlab-monitoring-');
  server = await start();
  const run = (await server.request('POST', '/api/runs', { json: { project: 'monitoring-demo', name: 'train' } })).body as Run;
  const upload = await fetch(`${server.url}/api/runs/${run.id}/artifacts?path=${encodeURIComponent('models/churn/model.pkl')}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/octet-stream' },
    body: Buffer.from('a model')
  });
  expect(upload.status).toBe(201);
  const logged = await server.request('POST', '/api/models/churn/versions', {
    json: { runId: run.id, artifactPath: 'models/churn', flavor: 'sklearn', profile: referenceProfile() }
  });
  expect(logged.status).toBe(201);
  version = logged.body as ModelVersion;
  const created = await server.request('POST', '/api/deployments', { json: { model: 'churn', name: 'churn-prod' } });
  expect(created.status).toBe(201);
  deployment = created.body as Deployment;
  token = await waitForToken(deployment.id);
});

afterAll(async () => {
  await server?.stop();
  removeDir(tmp);
});

test('telemetry predictions are stored as compact blocks, still listed, and traffic is kept per minute', async () => {
  await settings({ window: { kind: 'rows', size: 100_000 } });
  const sent = records(version.id, { seed: 2, requests: 20, rowsPerRequest: 100 });
  const response = await report(sent);
  expect(response.status).toBe(200);
  expect(response.body.acceptedPredictions).toBe(20);

  const storage = server.app.monitoring.storage(deployment.id);
  expect(storage.rows).toBe(2000);
  const bytesPerRow = storage.bytes / storage.rows;
  const jsonBytesPerRow = Buffer.byteLength(JSON.stringify(sent)) / 2000;
  console.log(`prediction blocks: ${bytesPerRow.toFixed(1)} bytes/row (the same records as JSON: ${jsonBytesPerRow.toFixed(1)} bytes/row)`);
  // Two random doubles are 16 bytes of entropy; the category and the 0/1 prediction nearly nothing.
  expect(bytesPerRow).toBeLessThan(24);
  expect(bytesPerRow).toBeLessThan(jsonBytesPerRow / 2);

  const listed = await server.request('GET', `/api/deployments/${deployment.id}/predictions?limit=3`);
  expect(listed.status).toBe(200);
  expect(listed.body.total).toBe(20);
  expect(listed.body.predictions.map((record: { requestId: string }) => record.requestId)).toEqual(
    [sent[19], sent[18], sent[17]].map((record) => record.requestId)
  );
  expect(listed.body.predictions[0]).toEqual(sent[19]);

  const overview = (await server.request('GET', `/api/deployments/${deployment.id}/monitoring`)).body as MonitoringOverview;
  expect(overview.loggedRows).toBe(2000);
  const minute = overview.traffic[overview.traffic.length - 1];
  expect(minute).toMatchObject({ requests: 100, serverErrors: 5, clientErrors: 0 });
  expect(minute.p50Ms).toBeGreaterThan(1);
  expect(minute.p50Ms).toBeLessThanOrEqual(5);
});

test('a malformed record is skipped and counted; the rest of the batch is kept', async () => {
  const before = server.app.monitoring.storage(deployment.id).rows;
  const [good, uneven, unknownVersion] = records(version.id, { seed: 3, requests: 3, rowsPerRequest: 10 });
  uneven.inputs.b = uneven.inputs.b.slice(0, 7);
  unknownVersion.modelVersionId = 'no-such-version';
  const response = await report([good, uneven, unknownVersion]);
  expect(response.status).toBe(200);
  expect(response.body.acceptedPredictions).toBe(1);
  expect(server.app.monitoring.storage(deployment.id).rows).toBe(before + 10);
  const listed = await server.request('GET', `/api/deployments/${deployment.id}/predictions?limit=1`);
  expect(listed.body.predictions[0].requestId).toBe(good.requestId);
});

test('an oversized report is refused with 413 naming the setting, and nothing of it is stored', async () => {
  const before = server.app.monitoring.storage(deployment.id).rows;
  const telemetry = {
    revision: 1,
    replica: 'test-a',
    intervalSeconds: 2,
    counts: [],
    latency: { bucketsMs: [], counts: [0] },
    predictions: records(version.id, { seed: 4, requests: 40, rowsPerRequest: 5000 })
  };
  const body = Buffer.from(JSON.stringify(telemetry));
  expect(body.length).toBeGreaterThan(LARGE_BODY_LIMIT);
  const response = await postOversized(`${server.url}/api/deployments/${deployment.id}/telemetry`, token, body);
  expect(response.status).toBe(413);
  const answer = JSON.parse(response.text) as { error: { code: string; message: string } };
  expect(answer.error.code).toBe('payload_too_large');
  expect(answer.error.message).toMatch(/RUNLAB_MAX_LARGE_BODY_BYTES/);
  expect(server.app.monitoring.storage(deployment.id).rows).toBe(before);
});

test('rows windows close at their size, and a mean shift of one feature is named in the next window', async () => {
  const closed: DriftWindow[] = [];
  server.app.monitoring.onWindow((window) => closed.push(window));
  // Changing the size closes the oversized filling window at the next rows.
  await settings({ window: { kind: 'rows', size: 500 }, minRows: 100 });
  await send({ seed: 10, requests: 12, rowsPerRequest: 100 });
  expect(closed.length).toBeGreaterThanOrEqual(3);
  const calm = closed.slice(-2);
  for (const window of calm) {
    expect(window).toMatchObject({ status: 'judged', rows: 500, drifted: false });
    expect(window.features.filter((feature) => feature.drifted)).toEqual([]);
  }
  const { filling } = await driftWindows();
  expect(filling).toEqual([expect.objectContaining({ modelVersionId: version.id, rows: 200 })]);

  // 300 shifted rows complete the filling window; the next one is all shifted.
  await send({ seed: 11, requests: 8, rowsPerRequest: 100, shiftA: 1 });
  const shifted = closed[closed.length - 1];
  expect(shifted.rows).toBe(500);
  expect(shifted.features.filter((feature) => feature.drifted).map((feature) => feature.name)).toEqual(['a']);
  expect(shifted.predictions.find((feature) => feature.name === 'predict')?.drifted).toBe(true);
  const listed = await driftWindows();
  expect(listed.windows[0].id).toBe(shifted.id);
  expect(listed.windows.map((window) => window.index)).toEqual([...listed.windows].map((window) => window.index).sort((a, b) => b - a));

  const histogram = await server.request('GET', `/api/deployments/${deployment.id}/drift/histogram?feature=a`);
  expect(histogram.status).toBe(200);
  expect(histogram.body.windowId).toBe(shifted.id);
  expect(histogram.body.edges.length).toBe(histogram.body.reference.length + 1);
  const meanOf = (shares: number[]): number =>
    shares.reduce((sum, share, index) => sum + (share * (histogram.body.edges[index] + histogram.body.edges[index + 1])) / 2, 0);
  expect(meanOf(histogram.body.current) - meanOf(histogram.body.reference)).toBeGreaterThan(0.7);
  expect(histogram.body.drift.drifted).toBe(true);
  const colors = await server.request('GET', `/api/deployments/${deployment.id}/drift/histogram?feature=color`);
  expect(colors.body.categories).toEqual(expect.arrayContaining(['red', 'blue', 'green']));
  expectErrorBody(await server.request('GET', `/api/deployments/${deployment.id}/drift/histogram?feature=nope`), 404, 'not_found');
});

test('time windows close by the clock; a tiny one is refused with the reason', async () => {
  await settings({ window: { kind: 'seconds', size: 10 }, minRows: 100 });
  const before = (await driftWindows()).windows.length;
  await send({ seed: 20, requests: 3, rowsPerRequest: 10 });
  server.app.monitoring.closeDue(Date.now() + 5_000);
  expect((await driftWindows()).windows.length).toBe(before);
  // The timer ticks every second; the test moves the clock instead of waiting 10 s.
  server.app.monitoring.closeDue(Date.now() + 11_000);
  const tiny = (await driftWindows()).windows[0];
  expect(tiny).toMatchObject({ status: 'too_small', rows: 30, drifted: false });
  expect(tiny.reason).toMatch(/30/);
  expect(tiny.reason).toMatch(/100/);

  await send({ seed: 21, requests: 3, rowsPerRequest: 100 });
  server.app.monitoring.closeDue(Date.now() + 11_000);
  const judged = (await driftWindows()).windows[0];
  expect(judged).toMatchObject({ status: 'judged', rows: 300, drifted: false, index: tiny.index + 1 });
});

test('feedback is joined to request ids: unknown ids and row-count mismatches reported, accuracy computed', async () => {
  const [first, second, third] = records(version.id, { seed: 30, requests: 3, rowsPerRequest: 2 });
  expect((await report([first, second, third])).body.acceptedPredictions).toBe(3);
  const flip = (value: number): number => 1 - value;
  const response = await server.request('POST', `/api/deployments/${deployment.id}/feedback`, {
    json: {
      labels: [
        { requestId: first.requestId, label: first.outputs.predict },
        { requestId: second.requestId, label: [second.outputs.predict[0], flip(second.outputs.predict[1])] },
        { requestId: third.requestId, label: 1 },
        { requestId: 'never-logged', label: 0 }
      ]
    }
  });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ accepted: 2, unknownRequestIds: ['never-logged'], mismatchedRequestIds: [third.requestId] });
  const overview = (await server.request('GET', `/api/deployments/${deployment.id}/monitoring`)).body as MonitoringOverview;
  expect(overview.labelledRows).toBe(4);
  expect(overview.accuracy).toEqual([expect.objectContaining({ metric: 'accuracy', value: 0.75, labelledRows: 4 })]);
  expect(server.app.monitoring.latestAccuracy(deployment.id, Date.now() - 3_600_000)).toEqual({
    metric: 'accuracy',
    value: 0.75,
    labelledRows: 4
  });
  expectErrorBody(
    await server.request('POST', '/api/deployments/nope/feedback', { json: { labels: [{ requestId: 'x', label: 1 }] } }),
    404,
    'not_found'
  );
});

test('/metrics: refused without a token, Prometheus text with bounded labels with one', async () => {
  const anonymous = await server.request('GET', '/metrics', { token: null });
  expectErrorBody(anonymous, 401, 'unauthorized');
  const response = await server.request('GET', '/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/text\/plain/);
  const text = response.text;
  for (const name of [
    'runlab_deployment_requests_total',
    'runlab_deployment_errors_total',
    'runlab_deployment_request_duration_seconds',
    'runlab_deployment_drift_score',
    'runlab_deployment_drifted_share',
    'runlab_prediction_rows_total',
    'runlab_alerts_firing'
  ]) {
    expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  }
  expect(text).toMatch(/runlab_deployment_requests_total\{deployment="churn-prod",role="stable",code_class="5xx"\} \d+/);
  expect(text).toMatch(/runlab_deployment_drift_score\{deployment="churn-prod",feature="a"\}/);
  // Never a request id or a version id as a label.
  expect(text).not.toContain('request-');
  expect(text).not.toContain(version.id);
});

test('a restarted server keeps the drift history and the window filling when it stopped', async () => {
  server.app.monitoring.closeDue(Date.now() + 11_000);
  await settings({ window: { kind: 'rows', size: 500 } });
  await send({ seed: 40, requests: 3, rowsPerRequest: 100 });
  const before = await driftWindows();
  expect(before.filling).toEqual([expect.objectContaining({ rows: 300 })]);
  await server.stop();

  server = await start();
  token = await waitForToken(deployment.id, token);
  const after = await driftWindows();
  expect(after.windows.map((window) => window.id)).toEqual(before.windows.map((window) => window.id));
  expect(after.filling).toEqual([expect.objectContaining({ modelVersionId: version.id, rows: 300 })]);
  await send({ seed: 41, requests: 2, rowsPerRequest: 100 });
  const closed = (await driftWindows()).windows[0];
  expect(closed).toMatchObject({ rows: 500, index: before.windows[0].index + 1, status: 'judged' });
});

test('ingest speed: prediction rows per second into one server', async () => {
  await settings({ window: { kind: 'rows', size: 1_000_000 } });
  const batches = Array.from({ length: 10 }, (_, index) => records(version.id, { seed: 50 + index, requests: 100, rowsPerRequest: 200 }));
  const single = Array.from({ length: 5 }, (_, index) => records(version.id, { seed: 70 + index, requests: 2000, rowsPerRequest: 1 }));
  const started = process.hrtime.bigint();
  for (const batch of batches) expect(server.app.monitoring.ingest(deployment.id, batch)).toBe(100);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rowsPerSecond = 200_000 / seconds;
  const singleStarted = process.hrtime.bigint();
  for (const batch of single) expect(server.app.monitoring.ingest(deployment.id, batch)).toBe(2000);
  const singleRowsPerSecond = 10_000 / (Number(process.hrtime.bigint() - singleStarted) / 1e9);

  // The loop was busy for a while: let the server's keep-alive timers close idle connections first.
  await sleep(200);
  const overHttp = records(version.id, { seed: 60, requests: 100, rowsPerRequest: 400 });
  const httpStarted = process.hrtime.bigint();
  const response = await report(overHttp);
  const httpSeconds = Number(process.hrtime.bigint() - httpStarted) / 1e9;
  expect(response.body.acceptedPredictions).toBe(100);
  console.log(
    `prediction ingest: ${Math.round(rowsPerSecond).toLocaleString('en')} rows/s stored (3 inputs, 1 output, 200-row requests); ` +
      `${Math.round(singleRowsPerSecond).toLocaleString('en')} rows/s with one-row requests; ` +
      `${Math.round(40_000 / httpSeconds).toLocaleString('en')} rows/s through POST /telemetry including JSON parsing and validation`
  );
  expect(rowsPerSecond).toBeGreaterThan(100_000);
});

test('retention prunes logged predictions, labels and traffic; drift windows stay', async () => {
  const windows = (await driftWindows()).windows.length;
  expect(server.app.monitoring.prune(Date.now() + 31 * 24 * 3_600_000)).toBeGreaterThan(0);
  const listed = await server.request('GET', `/api/deployments/${deployment.id}/predictions`);
  expect(listed.body).toEqual({ predictions: [], total: 0 });
  const overview = (await server.request('GET', `/api/deployments/${deployment.id}/monitoring`)).body as MonitoringOverview;
  expect(overview).toMatchObject({ loggedRows: 0, labelledRows: 0, traffic: [] });
  expect((await driftWindows()).windows.length).toBe(windows);
});
