/**
 * Alerts with the real app on an ephemeral port: rules over REST, alerts fired by drift windows
 * and by serving figures, silences, acknowledgement, and webhooks received by real local HTTP
 * servers in this test (the HMAC checked with node:crypto), including ones that are down.
 *
 * Drift windows are fed to AlertService.judgeWindow, the listener MonitoringService.onWindow
 * calls for every closed window, with windows written here (what the drift judge would say), so
 * each case names exactly which feature drifted. Serving figures come from telemetry reported as
 * a serving runtime does (DeploymentService.reportTelemetry with the deployment's own token).
 * Deployments serve a model version registered from files (no run, no Python needed); their
 * runtime is /bin/false, so they never become ready, which alerts do not need.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { io as connect, type Socket } from 'socket.io-client';
import type { Alert, AlertRule, Deployment, DriftWindow, FeatureDrift, WebhookDelivery } from '../src/contract';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

jest.setTimeout(60_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 15_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

const ENV = {
  RUNLAB_ALERT_EVALUATION_SECONDS: '0.1',
  RUNLAB_WEBHOOK_TIMEOUT_MS: '2000',
  // Exponential backoff in milliseconds, so a failing webhook uses all five attempts in 1.5 s.
  RUNLAB_WEBHOOK_RETRY_MS: '100,200,400,800',
  RUNLAB_SERVING_PYTHON: '/bin/false'
};

/** A webhook receiver: records each request; `answer` decides the status. */
interface Receiver {
  url: string;
  received: { event: string; delivery: string; signature: string; body: string; at: number }[];
  answer: number;
  close(): Promise<void>;
}

async function receiver(answer = 200): Promise<Receiver> {
  const state: Receiver = { url: '', received: [], answer, close: async () => undefined };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.received.push({
        event: String(request.headers['x-runlab-event']),
        delivery: String(request.headers['x-runlab-delivery']),
        signature: String(request.headers['x-runlab-signature']),
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now()
      });
      response.writeHead(state.answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A port nothing listens on: connections to it are refused. */
async function refusedUrl(): Promise<string> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

const hmac = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

let tmp: string;
let server: TestServer;
let deploymentCount = 0;

/** A deployment of a new model `<name>` (v1, registered from a file without a run). */
async function deploy(on: TestServer = server): Promise<Deployment> {
  deploymentCount += 1;
  const model = `alerting-${deploymentCount}`;
  const staged = await on.app.blobs.stage(Readable.from([Buffer.from(`model ${model}`)]), 1024);
  on.app.blobs.commitSync(staged);
  on.app.models.createVersionFromFiles(
    model,
    {
      runId: null,
      artifactPath: 'model',
      files: [{ path: 'MLmodel', size: staged.size, digest: staged.digest }],
      flavor: 'sklearn',
      signature: null,
      inputExample: null,
      requirements: [],
      profile: null,
      description: '',
      tags: {},
      source: 'mlflow'
    },
    'test'
  );
  const response = await on.request('POST', '/api/deployments', { json: { model } });
  expect(response.status).toBe(201);
  return response.body as Deployment;
}

function feature(name: string, effectSize: number, options: Partial<FeatureDrift> = {}): FeatureDrift {
  const drifted = options.drifted ?? effectSize >= (options.effectThreshold ?? 0.1);
  return {
    name,
    role: 'input',
    kind: 'numeric',
    test: 'wasserstein',
    statistic: effectSize,
    pValue: drifted ? 1e-9 : 0.6,
    adjustedPValue: drifted ? 1e-8 : 0.7,
    effectSize,
    effectThreshold: 0.1,
    psi: 0.01,
    drifted,
    rows: 5000,
    missing: 0,
    reason: null,
    ...options
  };
}

let windowIndex = 0;
function driftWindow(
  deployment: Deployment,
  features: FeatureDrift[],
  predictions: FeatureDrift[] = [],
  status: DriftWindow['status'] = 'judged'
): DriftWindow {
  windowIndex += 1;
  const stable = deployment.slots[0];
  const judged = features.filter((candidate) => candidate.reason === null);
  const driftedShare = judged.length === 0 ? 0 : judged.filter((candidate) => candidate.drifted).length / judged.length;
  return {
    id: `window-${windowIndex}`,
    deploymentId: deployment.id,
    modelVersionId: stable.modelVersionId,
    modelName: stable.modelName,
    version: stable.version,
    index: windowIndex,
    startAt: new Date().toISOString(),
    endAt: new Date().toISOString(),
    rows: status === 'too_small' ? 12 : 5000,
    status,
    reason: status === 'too_small' ? 'only 12 rows; a window needs 100' : null,
    driftedShare: status === 'judged' ? driftedShare : 0,
    drifted: status === 'judged' && driftedShare >= 0.5,
    features: status === 'judged' ? features : [],
    predictions: status === 'judged' ? predictions : []
  };
}

const alertsOf = async (deploymentId: string, on: TestServer = server): Promise<Alert[]> => {
  const response = await on.request('GET', `/api/alerts?deploymentId=${deploymentId}`);
  expect(response.status).toBe(200);
  return (response.body as { alerts: Alert[] }).alerts;
};

async function addWebhook(deploymentId: string | null, url: string, on: TestServer = server): Promise<{ id: string; secret: string }> {
  const response = await on.request('POST', '/api/webhooks', { json: { url, deploymentId } });
  expect(response.status).toBe(201);
  return response.body as { id: string; secret: string };
}

beforeAll(async () => {
  tmp = makeTempDir();
  server = await startServer({ env: ENV });
});

afterAll(async () => {
  await server.destroy();
  removeDir(tmp);
});

describe('rules', () => {
  test('bad rules are refused naming the field; comparisons default by kind', async () => {
    const deployment = await deploy();
    const create = (json: Record<string, unknown>) =>
      server.request('POST', '/api/alert-rules', { json: { deploymentId: deployment.id, name: 'r', ...json } });

    const noFeature = await create({ kind: 'feature_drift', threshold: 0.2 });
    expectErrorBody(noFeature, 400, 'invalid_request');
    expect(noFeature.body.error.message).toMatch(/^Invalid alert rule: feature is required for kind feature_drift/);
    expect(noFeature.body.error.details).toEqual([expect.objectContaining({ path: 'body.feature' })]);

    const share = await create({ kind: 'error_rate', threshold: 5 });
    expectErrorBody(share, 400, 'invalid_request');
    expect(share.body.error.message).toContain('threshold must be a share of requests from 0 to 1 for error_rate (0.05 is 5%), got 5');
    expect((await create({ kind: 'drift_share', threshold: 1.5 })).body.error.message).toContain(
      'threshold must be a share of features from 0 to 1'
    );
    expect((await create({ kind: 'latency_p99', threshold: 0 })).body.error.message).toContain('milliseconds above 0');
    expect((await create({ kind: 'accuracy', threshold: 80 })).body.error.message).toContain('accuracy from 0 to 1');
    expect((await create({ kind: 'error_rate', threshold: 0.1, feature: 'x' })).body.error.message).toContain(
      'feature is only for kind feature_drift'
    );
    const unknown = await server.request('POST', '/api/alert-rules', {
      json: { deploymentId: 'nope', name: 'r', kind: 'error_rate', threshold: 0.1 }
    });
    expectErrorBody(unknown, 404, 'not_found');

    const accuracy = await create({ kind: 'accuracy', threshold: 0.8 });
    expect(accuracy.status).toBe(201);
    expect(accuracy.body).toMatchObject({
      comparison: 'below',
      threshold: 0.8,
      forSeconds: 0,
      action: 'notify',
      enabled: true,
      createdBy: 'local-admin'
    });
    const rmse = await create({ kind: 'accuracy', comparison: 'above', threshold: 3.5 });
    expect(rmse.status).toBe(201);
    const latency = await create({ kind: 'latency_p99', threshold: 250 });
    expect(latency.body.comparison).toBe('above');

    const listed = (await server.request('GET', `/api/alert-rules?deploymentId=${deployment.id}`)).body.rules as AlertRule[];
    expect(listed.map((rule) => rule.name)).toEqual(['Data drift', 'r', 'r', 'r']);
    expect(listed[0]).toMatchObject({ kind: 'drift_share', comparison: 'above', threshold: 0, createdBy: 'runlab' });

    const patched = await server.request('PATCH', `/api/alert-rules/${latency.body.id}`, { json: { threshold: -1 } });
    expectErrorBody(patched, 400, 'invalid_request');
    const renamed = await server.request('PATCH', `/api/alert-rules/${latency.body.id}`, { json: { name: 'slow', forSeconds: 30 } });
    expect(renamed.body).toMatchObject({ name: 'slow', forSeconds: 30, threshold: 250 });
    expect((await server.request('DELETE', `/api/alert-rules/${latency.body.id}`)).status).toBe(204);
    expectErrorBody(await server.request('DELETE', `/api/alert-rules/${latency.body.id}`), 404, 'not_found');
  });
});

describe('drift alerts', () => {
  let socket: Socket;
  const fired: Alert[] = [];
  const updated: Alert[] = [];

  beforeAll(async () => {
    socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'], reconnection: false });
    socket.on('alert:fired', (alert: Alert) => fired.push(alert));
    socket.on('alert:updated', (alert: Alert) => updated.push(alert));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });
  afterAll(() => socket.close());

  test('the default rule fires naming the drifted feature, is delivered signed, and resolves at the next clean window', async () => {
    const deployment = await deploy();
    const hook = await receiver();
    const webhook = await addWebhook(deployment.id, hook.url);
    const stable = deployment.slots[0];

    server.app.alerts.judgeWindow(
      driftWindow(deployment, [feature('sepal_width', 0.03), feature('petal_length', 0.62), feature('petal_width', 0.05)])
    );
    const [alert] = await alertsOf(deployment.id);
    expect(alert).toMatchObject({
      ruleName: 'Data drift',
      kind: 'drift_share',
      state: 'firing',
      silenced: false,
      deploymentName: deployment.name,
      modelVersionId: stable.modelVersionId,
      driftedFeatures: ['petal_length'],
      message: `Feature petal_length drifted (normalized Wasserstein 0.62 ≥ 0.1) in window ${windowIndex} of ${stable.modelName} v1`,
      resolvedAt: null
    });
    expect(alert.value).toBeCloseTo(1 / 3, 10);
    await waitFor(() => fired.find((candidate) => candidate.id === alert.id), 'the live alert:fired');

    const delivery = await waitFor(() => hook.received.find((request) => request.event === 'alert.fired'), 'the fired webhook');
    expect(delivery.signature).toBe(hmac(webhook.secret, delivery.body));
    const payload = JSON.parse(delivery.body) as { event: string; alert: Alert };
    expect(payload.event).toBe('alert.fired');
    expect(payload.alert).toMatchObject({ id: alert.id, message: alert.message, state: 'firing' });
    const recorded = await waitFor(
      async () => (await alertsOf(deployment.id))[0].deliveries.find((candidate) => candidate.status === 'delivered'),
      'the delivery recorded as delivered'
    );
    expect(recorded).toMatchObject({
      id: delivery.delivery,
      webhookId: webhook.id,
      url: hook.url,
      attempts: 1,
      lastStatusCode: 200,
      event: 'alert.fired'
    });

    // A refused window is no verdict: the alert keeps firing. A second drifted window fires nothing new.
    server.app.alerts.judgeWindow(driftWindow(deployment, [], [], 'too_small'));
    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('petal_length', 0.7)]));
    expect((await alertsOf(deployment.id)).map((candidate) => candidate.state)).toEqual(['firing']);

    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('sepal_width', 0.02), feature('petal_length', 0.04)]));
    const [resolved] = await alertsOf(deployment.id);
    expect(resolved).toMatchObject({ id: alert.id, state: 'resolved' });
    expect(resolved.resolvedAt).not.toBeNull();
    const resolvedDelivery = await waitFor(
      () => hook.received.find((request) => request.event === 'alert.resolved'),
      'the resolved webhook'
    );
    expect(resolvedDelivery.signature).toBe(hmac(webhook.secret, resolvedDelivery.body));
    expect(JSON.parse(resolvedDelivery.body).alert.state).toBe('resolved');
    await waitFor(() => updated.find((candidate) => candidate.id === alert.id && candidate.state === 'resolved'), 'the live alert:updated');
    await hook.close();
  });

  test('several drifted features are listed most drifted first; a prediction-only drift fires too', async () => {
    const deployment = await deploy();
    server.app.alerts.judgeWindow(
      driftWindow(deployment, [
        feature('a', 0.3),
        feature('b', 0.9),
        feature('c', 0.01),
        feature('d', 0.5, { kind: 'categorical', test: 'jensen_shannon' })
      ])
    );
    const [alert] = await alertsOf(deployment.id);
    expect(alert.driftedFeatures).toEqual(['b', 'd', 'a']);
    expect(alert.value).toBe(0.75);
    expect(alert.message).toBe(
      `3 of 4 features drifted (75%) in window ${windowIndex} of ${deployment.slots[0].modelName} v1: b (normalized Wasserstein 0.9 ≥ 0.1), d (Jensen–Shannon 0.5 ≥ 0.1), a (normalized Wasserstein 0.3 ≥ 0.1)`
    );

    const other = await deploy();
    server.app.alerts.judgeWindow(
      driftWindow(other, [feature('a', 0.01)], [feature('species', 0.4, { role: 'prediction', kind: 'categorical', test: 'chi_squared' })])
    );
    const [predictionAlert] = await alertsOf(other.id);
    expect(predictionAlert).toMatchObject({ state: 'firing', value: 1, driftedFeatures: ['species'] });
    expect(predictionAlert.message).toMatch(/^Prediction species drifted \(chi² 0\.4 ≥ 0\.1\) in window/);
  });

  test('a feature rule with a duration fires only after the drift has held that long', async () => {
    const deployment = await deploy();
    const rule = (
      await server.request('POST', '/api/alert-rules', {
        json: {
          deploymentId: deployment.id,
          name: 'petal drift',
          kind: 'feature_drift',
          feature: 'petal_length',
          threshold: 0.2,
          forSeconds: 1
        }
      })
    ).body as AlertRule;
    // Only the feature rule is judged here: the default one is switched off.
    const defaultRule = ((await server.request('GET', `/api/alert-rules?deploymentId=${deployment.id}`)).body.rules as AlertRule[]).find(
      (candidate) => candidate.name === 'Data drift'
    ) as AlertRule;
    await server.request('PATCH', `/api/alert-rules/${defaultRule.id}`, { json: { enabled: false } });

    const started = Date.now();
    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('petal_length', 0.5)]));
    await sleep(400);
    expect(await alertsOf(deployment.id)).toEqual([]);
    const [alert] = await waitFor(async () => {
      const alerts = await alertsOf(deployment.id);
      return alerts.length > 0 && alerts;
    }, 'the feature alert after its duration');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(alert).toMatchObject({
      ruleId: rule.id,
      feature: 'petal_length',
      value: 0.5,
      threshold: 0.2,
      driftedFeatures: ['petal_length']
    });

    // A condition that clears before its duration never fires.
    const second = await deploy();
    await server.request('POST', '/api/alert-rules', {
      json: { deploymentId: second.id, name: 'slow drift', kind: 'feature_drift', feature: 'x', threshold: 0.2, forSeconds: 1 }
    });
    const secondDefault = ((await server.request('GET', `/api/alert-rules?deploymentId=${second.id}`)).body.rules as AlertRule[]).find(
      (candidate) => candidate.name === 'Data drift'
    ) as AlertRule;
    await server.request('PATCH', `/api/alert-rules/${secondDefault.id}`, { json: { enabled: false } });
    server.app.alerts.judgeWindow(driftWindow(second, [feature('x', 0.5)]));
    await sleep(300);
    server.app.alerts.judgeWindow(driftWindow(second, [feature('x', 0.05)]));
    await sleep(1200);
    expect(await alertsOf(second.id)).toEqual([]);
  });
});

describe('serving alerts', () => {
  test('the error rate from the runtime telemetry fires an alert in plain words', async () => {
    const deployment = await deploy();
    await server.request('POST', '/api/alert-rules', {
      json: { deploymentId: deployment.id, name: 'Errors', kind: 'error_rate', threshold: 0.1 }
    });
    const tokenId = server.app.db.prepare('SELECT token_id FROM deployments WHERE id = ?').pluck().get(deployment.id) as string;
    const stable = deployment.slots[0];
    server.app.deployments.reportTelemetry(
      deployment.id,
      {
        revision: 1,
        replica: '0',
        intervalSeconds: 2,
        counts: [
          { role: 'stable', modelVersionId: stable.modelVersionId, status: 200, count: 75 },
          { role: 'stable', modelVersionId: stable.modelVersionId, status: 500, count: 25 }
        ],
        latency: { bucketsMs: [10, 100], counts: [60, 100, 100] },
        predictions: []
      },
      { tokenId, name: `deployment-${deployment.name}`, scope: 'deployment' }
    );
    const alert = await waitFor(
      async () => (await alertsOf(deployment.id)).find((candidate) => candidate.ruleName === 'Errors'),
      'the error-rate alert'
    );
    expect(alert).toMatchObject({ kind: 'error_rate', state: 'firing', value: 0.25, threshold: 0.1 });
    expect(alert.message).toMatch(new RegExp(`^Error rate 25% > 10% over the last [\\d.]+ s on ${deployment.name}$`));
  });
});

describe('silences and acknowledgement', () => {
  test('a silenced alert is recorded but sends no webhook; acknowledging names who', async () => {
    const deployment = await deploy();
    const hook = await receiver();
    await addWebhook(deployment.id, hook.url);
    const badSilence = await server.request('POST', '/api/silences', { json: { deploymentId: deployment.id, durationSeconds: 5 } });
    expectErrorBody(badSilence, 400, 'invalid_request');
    const silence = await server.request('POST', '/api/silences', {
      json: { deploymentId: deployment.id, reason: 'maintenance', durationSeconds: 600 }
    });
    expect(silence.status).toBe(201);
    expect((await server.request('GET', '/api/silences')).body.silences.map((candidate: { id: string }) => candidate.id)).toContain(
      silence.body.id
    );

    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('a', 0.8)]));
    const [alert] = await alertsOf(deployment.id);
    expect(alert).toMatchObject({ state: 'firing', silenced: true, deliveries: [] });
    await sleep(300);
    expect(hook.received).toEqual([]);

    const acknowledged = await server.request('POST', `/api/alerts/${alert.id}/acknowledge`);
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body).toMatchObject({ id: alert.id, acknowledgedBy: 'local-admin' });
    expect(acknowledged.body.acknowledgedAt).not.toBeNull();
    expectErrorBody(await server.request('POST', '/api/alerts/nope/acknowledge'), 404, 'not_found');

    // The silence ends: the next alert of the deployment is delivered again.
    expect((await server.request('DELETE', `/api/silences/${silence.body.id}`)).status).toBe(204);
    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('a', 0.01)]));
    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('a', 0.8)]));
    await waitFor(() => hook.received.find((request) => request.event === 'alert.fired'), 'a webhook after the silence');
    await hook.close();
  });
});

describe('webhooks that are down', () => {
  test('are retried with backoff and then failed, while other deliveries and requests go on', async () => {
    const deployment = await deploy();
    const refused = await refusedUrl();
    const broken = await receiver(500);
    const working = await receiver(200);
    await addWebhook(deployment.id, refused);
    await addWebhook(deployment.id, broken.url);
    await addWebhook(deployment.id, working.url);
    const listed = (await server.request('GET', '/api/webhooks')).body.webhooks as Record<string, unknown>[];
    expect(listed.every((webhook) => !('secret' in webhook))).toBe(true);

    const started = Date.now();
    server.app.alerts.judgeWindow(driftWindow(deployment, [feature('a', 0.8)]));
    await waitFor(() => working.received.length > 0, 'the working webhook');
    expect(Date.now() - started).toBeLessThan(1000);

    // While the others are being retried, the API answers at once.
    const asked = Date.now();
    expect((await server.request('GET', `/api/alerts?deploymentId=${deployment.id}`)).status).toBe(200);
    expect(Date.now() - asked).toBeLessThan(300);

    const failed = await waitFor(async () => {
      const [alert] = await alertsOf(deployment.id);
      const done = alert.deliveries.filter((delivery) => delivery.status === 'failed');
      return done.length === 2 && alert.deliveries;
    }, 'both failing deliveries marked failed');
    const byUrl = new Map(failed.map((delivery: WebhookDelivery) => [delivery.url, delivery]));
    expect(byUrl.get(refused)).toMatchObject({
      status: 'failed',
      attempts: 5,
      lastStatusCode: null,
      lastError: 'connection refused (ECONNREFUSED)',
      nextAttemptAt: null
    });
    expect(byUrl.get(broken.url)).toMatchObject({
      status: 'failed',
      attempts: 5,
      lastStatusCode: 500,
      lastError: 'the webhook answered HTTP 500'
    });
    expect(byUrl.get(working.url)).toMatchObject({ status: 'delivered', attempts: 1 });

    // The waits between attempts double (100, 200, 400, 800 ms).
    expect(broken.received).toHaveLength(5);
    const gaps = broken.received.slice(1).map((request, index) => request.at - broken.received[index].at);
    [100, 200, 400, 800].forEach((wait, index) => {
      expect(gaps[index]).toBeGreaterThanOrEqual(wait - 20);
      expect(gaps[index]).toBeLessThan(wait + 400);
    });
    // One delivery id across the attempts of one delivery.
    expect(new Set(broken.received.map((request) => request.delivery)).size).toBe(1);
    await broken.close();
    await working.close();
  });

  test('pending deliveries resume after a restart', async () => {
    const dataDir = `${makeTempDir()}/data`;
    const first = await startServer({ dataDir, env: { ...ENV, RUNLAB_WEBHOOK_RETRY_MS: '300,300,300,300' } });
    const hook = await receiver(503);
    const deployment = await deploy(first);
    const webhook = await addWebhook(deployment.id, hook.url, first);
    first.app.alerts.judgeWindow(driftWindow(deployment, [feature('a', 0.8)]));
    await waitFor(() => hook.received.length >= 1, 'a first attempt');
    await first.stop();
    const attemptsBefore = hook.received.length;

    hook.answer = 200;
    const second = await startServer({ dataDir, env: ENV });
    try {
      const [alert] = await waitFor(async () => {
        const alerts = await alertsOf(deployment.id, second);
        return alerts[0]?.deliveries[0]?.status === 'delivered' && alerts;
      }, 'the delivery resumed and delivered');
      // The attempts before the restart count (one cut short by the shutdown is made again).
      expect(alert.deliveries[0].attempts).toBeGreaterThanOrEqual(2);
      expect(hook.received.length).toBeGreaterThan(attemptsBefore);
      const last = hook.received[hook.received.length - 1];
      expect(last.signature).toBe(hmac(webhook.secret, last.body));
    } finally {
      await second.stop();
      await hook.close();
      removeDir(dataDir.replace(/\/data$/, ''));
    }
  });
});
