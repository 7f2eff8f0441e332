/**
 * Production monitoring as a user sees it: the demo notebook trains and logs a version of `iris`, which is
 * served on this machine; traffic whose petal length is shifted by +3 cm reaches the real
 * serving runtime, its drift window closes, the "Data drift" alert fires (a JupyterLab notice
 * with "Open monitoring"), the Deployments panel's badge says "drift", and the Monitoring view
 * shows the drifted feature in the heatmap and its training vs production histogram. Retrain
 * re-runs the demo's snapshot on a real runner, and the version it logs appears as a canary.
 *
 * The second test shows the Monitoring view against stubbed REST answers, for the screenshots
 * in both themes.
 */
import type { Page, Route } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { expect, removeRunner, runCommand, screenshot, setTheme, startRunnerAgent, test } from './fixtures';

interface IDeployment {
  id: string;
  status: string;
  endpoint: string | null;
  slots: { role: string; version: number; percent: number }[];
}

/** `rows` iris rows (sampled from the demo's own csv), each a request of 50 rows sent to the OIP endpoint. */
async function sendTraffic(endpoint: string, table: number[][], rows: number, shift: (row: number[]) => number[]): Promise<void> {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let sent = 0; sent < rows; sent += 50) {
    const batch = Array.from({ length: Math.min(50, rows - sent) }, () => shift(table[Math.floor(random() * table.length)]));
    const response = await fetch(`${endpoint.replace(/\/$/, '')}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input-0', shape: [batch.length, 4], datatype: 'FP64', data: batch.flat() }] })
    });
    expect(response.status, `the endpoint answers: ${await response.clone().text()}`).toBe(200);
  }
}

test('shifted traffic to the served demo model fires the drift alert, shows the drifted feature, and Retrain proposes a canary', async ({
  page,
  runlab
}) => {
  test.setTimeout(900_000);
  for (const route of ['/api/deployments', '/api/alerts', '/api/alert-rules']) {
    const response = await fetch(`${runlab.serverUrl}${route}`, { headers: { Authorization: `Bearer ${runlab.serverToken}` } });
    expect(response.status, `the companion server answers GET ${route}`).toBe(200);
  }

  // A runner for the retrain, as `npm start` would run one.
  const { token } = await runlab.api<{ token: string }>('/api/runners', { method: 'POST', body: { name: 'monitoring-runner' } });
  const agent = startRunnerAgent(runlab.serverUrl, token);
  const agentLog = agent.log;
  let deploymentId = '';
  try {
    // Train: the demo notebook commits iris and logs a version of iris with its reference profile.
    await runlab.open(page, 'lab/tree/demo.ipynb');
    await runCommand(page, 'runlab:open-panel');
    await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
    await page.locator('.jp-Notebook .jp-CodeCell').first().locator('.jp-InputArea-editor').click();
    await runCommand(page, 'notebook:run-all-cells');
    await expect(page.locator('.jp-OutputArea-output', { hasText: /accuracy: 0\.\d{3}, logged/ })).toBeVisible({ timeout: 180_000 });

    // Serve the version it just logged (other tests may have logged iris before), with small windows so a
    // few requests judge drift.
    const trained = `v${(await runlab.api<{ versions: { version: number }[] }>('/api/models/iris/versions')).versions[0].version}`;
    const created = await runlab.api<IDeployment>('/api/deployments', { method: 'POST', body: { model: 'iris', version: trained } });
    deploymentId = created.id;
    await expect
      .poll(async () => (await runlab.api<IDeployment>(`/api/deployments/${deploymentId}`)).status, { timeout: 120_000 })
      .toBe('ready');
    const deployment = await runlab.api<IDeployment>(`/api/deployments/${deploymentId}`);
    await runlab.api(`/api/deployments/${deploymentId}/monitoring`, {
      method: 'PATCH',
      body: { window: { kind: 'rows', size: 200 }, minRows: 100 }
    });
    const csv = fs
      .readFileSync(path.join(runlab.rootDir, 'data', 'iris', 'iris.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    const table = csv.map((line) => line.split(',').slice(0, 4).map(Number));

    // One window like the training data, then one whose petal length (column 2) is 3 cm longer.
    const drift = () =>
      runlab.api<{ windows: { status: string; drifted: boolean; features: unknown[] }[]; filling: unknown[] }>(
        `/api/deployments/${deploymentId}/drift`
      );
    await sendTraffic(deployment.endpoint!, table, 200, (row) => row);
    await expect.poll(async () => (await drift()).windows.length, { message: 'the first window closes', timeout: 60_000 }).toBe(1);
    await sendTraffic(deployment.endpoint!, table, 200, (row) => [row[0], row[1], row[2] + 3, row[3]]);

    // The server judged both windows and fired the default "Data drift" rule.
    await expect
      .poll(async () => (await drift()).windows.length, { message: 'two drift windows close', timeout: 60_000 })
      .toBeGreaterThanOrEqual(2)
      .catch(async (error) => {
        throw new Error(`${error}\ndrift: ${JSON.stringify(await drift()).slice(0, 3000)}`);
      });
    const alerts = () => runlab.api<{ alerts: unknown[] }>(`/api/alerts?deploymentId=${deploymentId}`);
    await expect
      .poll(async () => (await alerts()).alerts.length, { message: 'the drift alert fires', timeout: 60_000 })
      .toBeGreaterThan(0)
      .catch(async (error) => {
        const windows = (await drift()).windows.map((window) => ({ ...window, predictions: undefined }));
        throw new Error(
          `${error}\nwindows: ${JSON.stringify(windows)}\nrules: ${JSON.stringify(await runlab.api(`/api/alert-rules?deploymentId=${deploymentId}`))}`
        );
      });

    // The alert fires: a JupyterLab notice offers the Monitoring view.
    const notice = page.locator('.Toastify__toast', { hasText: 'iris' });
    await expect(notice, 'the drift alert fires as a notice').toBeVisible({ timeout: 120_000 });
    await expect(notice.getByRole('button', { name: 'Open monitoring' })).toBeVisible();

    // The Deployments panel's badge says drift and names the feature.
    await runCommand(page, 'runlab:open-deployments');
    const card = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="iris"]');
    const badge = card.locator('.jp-runlab-DriftBadge');
    await expect(badge).toHaveText('drift', { timeout: 60_000 });
    await expect(badge).toHaveAttribute('data-level', 'drift');
    const tooltip = (await badge.getAttribute('title')) ?? '';
    await screenshot(page, 'monitoring-deployments-badge');

    await notice.getByRole('button', { name: 'Open monitoring' }).click();
    const view = page.locator(`.jp-runlab-MonitoringView[data-deployment="${deploymentId}"]`);
    await expect(view.locator('.jp-runlab-MonitoringName')).toHaveText('iris');
    await expect(view.locator('.jp-runlab-MonitoringHeader .jp-runlab-DriftBadge')).toHaveText('drift');
    await expect(view.locator('.jp-runlab-MonitoringFiring')).toHaveText(/1 alert firing/);

    // The heatmap: two windows; in the second, the third input column (petal length) drifted.
    const rows = view.locator('.jp-runlab-DriftHeatmap tbody tr[data-role="input"]');
    await expect(rows).toHaveCount(4);
    const petal = rows.nth(2);
    const petalName = (await petal.getAttribute('data-feature'))!;
    expect(tooltip, 'the badge names the drifted feature').toContain(petalName);
    await expect(petal.locator('.jp-runlab-DriftCell[data-drifted="true"]')).toHaveCount(1);
    for (const index of [0, 1, 3]) {
      await expect(rows.nth(index).locator('.jp-runlab-DriftCell[data-drifted="true"]'), 'other features did not drift').toHaveCount(0);
    }

    // Its histogram: training vs production, with the verdict in words.
    await petal.locator('.jp-runlab-DriftHeatmap-feature').click();
    const histogram = view.locator(`.jp-runlab-MonitoringHistogram .jp-runlab-FeatureHistogram[data-feature="${petalName}"]`);
    await expect(histogram).toHaveAttribute('data-drifted', 'true');
    await expect(histogram.locator('.jp-runlab-DriftVerdict')).toContainText(/≥ [\d.]+: drifted/);
    await expect(histogram.locator('.recharts-legend-item-text')).toHaveText(['training (reference)', 'production (window 2)']);
    await expect(histogram.locator('.recharts-bar-rectangle').first()).toBeVisible();

    // The alert, with the drifted feature; Retrain from it.
    const alert = view.locator('.jp-runlab-AlertItem[data-state="firing"]').first();
    await expect(alert).toContainText('Data drift');
    await expect(alert.locator('.jp-runlab-AlertTimes')).toContainText(`drifted: ${petalName}`);
    await screenshot(page, 'monitoring-drift-live');
    await alert.getByRole('button', { name: 'Retrain' }).click();
    const status = view.locator('.jp-runlab-MonitoringRetrainStatus');
    await expect(status, 'the retrain is queued on the runner').toHaveAttribute('data-status', /queued|running|proposed/, {
      timeout: 30_000
    });
    await expect(status).toContainText(/Retrain (queued|running|done)/);
    await screenshot(page, 'monitoring-retrain-started');

    // The runner re-runs the demo's snapshot; the version it logs is proposed as a 10% canary.
    await expect
      .poll(async () => status.getAttribute('data-status'), {
        message: `the retrain ends (agent log: ${agentLog})`,
        timeout: 420_000
      })
      .toMatch(/^(proposed|promoted|failed|cancelled)$/);
    const done = /Retrain done: iris (v\d+) proposed as a canary \(10%\)/.exec((await status.textContent()) ?? '');
    expect(done?.[0], `the retrain proposed a canary (agent log: ${agentLog})`).toBeTruthy();
    const retrained = done![1];
    expect(retrained, 'the retrain logged a new version').not.toBe(trained);
    await expect(view.locator('.jp-runlab-MonitoringVersions')).toContainText(`${retrained} (canary, 10%)`, { timeout: 30_000 });
    await expect(card.locator('.jp-runlab-DeploymentSplit')).toHaveText(`${trained} 90% · ${retrained} canary 10%`);
    await screenshot(page, 'monitoring-retrain-canary');
  } finally {
    await agent.stop();
    // The next specs (the Runners panel's empty state) start without this runner.
    await removeRunner(runlab, 'monitoring-runner');
    if (deploymentId) {
      await runlab.api(`/api/deployments/${deploymentId}`, { method: 'DELETE' }).catch(() => undefined);
    }
  }
});

// ----- The Monitoring view against stubbed REST answers, for screenshots in both themes -----

const NOW = Date.now();
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();
const FEATURES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];

function stubFeature(name: string, window: number, extra: Record<string, unknown> = {}) {
  const shifted = name === 'petal length (cm)' && window >= 9;
  const effectSize = shifted
    ? 0.42 + 0.05 * (window - 9)
    : name === 'sepal width (cm)' && window === 8
      ? 0.07
      : 0.01 + 0.004 * ((window * 7 + name.length) % 9);
  return {
    name,
    role: 'input',
    kind: 'numeric',
    test: 'ks',
    statistic: shifted ? 0.61 : 0.05,
    pValue: shifted ? 3e-19 : 0.41,
    adjustedPValue: shifted ? 1.2e-18 : 0.64,
    effectSize,
    effectThreshold: 0.1,
    psi: shifted ? 2.31 : 0.02,
    drifted: shifted,
    rows: 200,
    missing: 0,
    reason: null,
    ...extra
  };
}

function stubWindow(index: number) {
  const refused = index === 5;
  const features = refused ? [] : FEATURES.map((name) => stubFeature(name, index));
  const predictions = refused
    ? []
    : [
        stubFeature('predict', index, {
          role: 'prediction',
          kind: 'categorical',
          test: 'chi_squared',
          effectSize: index >= 9 ? 0.31 : 0.02,
          effectThreshold: 0.1,
          psi: null,
          statistic: index >= 9 ? 41.2 : 1.3,
          pValue: index >= 9 ? 1.1e-9 : 0.52,
          adjustedPValue: index >= 9 ? 2.2e-9 : 0.66,
          drifted: index >= 9
        })
      ];
  const drifted = features.filter((feature) => feature.drifted).length;
  return {
    id: `w${index}`,
    deploymentId: 'dep-iris',
    modelVersionId: 'mv-iris-1',
    modelName: 'iris',
    version: 1,
    index,
    startAt: at(3600 - index * 300),
    endAt: at(3600 - index * 300 - 290),
    rows: refused ? 37 : 200,
    status: refused ? 'too_small' : 'judged',
    reason: refused ? '37 rows in this window; drift needs at least 100' : null,
    driftedShare: features.length ? drifted / features.length : 0,
    drifted: drifted > 0,
    features,
    predictions
  };
}

const WINDOWS = Array.from({ length: 11 }, (_, index) => stubWindow(index + 1));

const TRAFFIC = Array.from({ length: 60 }, (_, minute) => {
  const requests = minute < 5 ? 0 : 1800 + Math.round(600 * Math.sin(minute / 6)) + (minute > 40 ? 1500 : 0);
  return {
    at: new Date(Math.floor((NOW - (60 - minute) * 60_000) / 60_000) * 60_000).toISOString(),
    requests,
    serverErrors: minute === 47 ? 40 : Math.round(requests * 0.002),
    clientErrors: Math.round(requests * 0.01),
    p50Ms: requests ? 1.6 + 0.3 * Math.sin(minute / 4) : null,
    p99Ms: requests ? 6.5 + 2 * Math.sin(minute / 5) + (minute === 47 ? 14 : 0) : null
  };
});

const OVERVIEW = {
  deploymentId: 'dep-iris',
  settings: { window: { kind: 'rows', size: 200 }, minRows: 100, largeWindowRows: 5000, falseDiscoveryRate: 0.05, driftShare: 0.5 },
  traffic: TRAFFIC,
  accuracy: Array.from({ length: 8 }, (_, hour) => ({
    at: at((8 - hour) * 3600),
    metric: 'accuracy',
    value: hour < 6 ? 0.96 - 0.004 * hour : 0.81 - 0.05 * (hour - 6),
    labelledRows: 120 + hour * 7
  })),
  windows: WINDOWS,
  latest: WINDOWS[WINDOWS.length - 1],
  loggedRows: 2037,
  labelledRows: 1087,
  firingAlerts: 1
};

const ALERTS = [
  {
    id: 'alert-2',
    ruleId: 'rule-drift',
    ruleName: 'Data drift',
    kind: 'drift_share',
    deploymentId: 'dep-iris',
    deploymentName: 'iris',
    modelVersionId: 'mv-iris-1',
    state: 'firing',
    silenced: false,
    acknowledgedBy: null,
    acknowledgedAt: null,
    value: 0.25,
    threshold: 0,
    feature: null,
    driftedFeatures: ['petal length (cm)', 'predict'],
    message: 'iris: 1 of 4 features drifted in window 9 (petal length (cm)), and the predictions',
    windowId: 'w9',
    firedAt: at(640),
    resolvedAt: null,
    retrainId: null,
    deliveries: [
      {
        id: 'd1',
        alertId: 'alert-2',
        webhookId: 'wh1',
        url: 'https://hooks.example.com/runlab',
        event: 'alert.fired',
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
        lastError: null,
        nextAttemptAt: null,
        createdAt: at(640),
        deliveredAt: at(639)
      },
      {
        id: 'd2',
        alertId: 'alert-2',
        webhookId: 'wh2',
        url: 'http://pager.internal:9000/hook',
        event: 'alert.fired',
        status: 'failed',
        attempts: 4,
        lastStatusCode: null,
        lastError: 'connect ECONNREFUSED 10.0.0.7:9000',
        nextAttemptAt: null,
        createdAt: at(640),
        deliveredAt: null
      }
    ]
  },
  {
    id: 'alert-1',
    ruleId: 'rule-latency',
    ruleName: 'p99 latency above 20 ms',
    kind: 'latency_p99',
    deploymentId: 'dep-iris',
    deploymentName: 'iris',
    modelVersionId: 'mv-iris-1',
    state: 'resolved',
    silenced: false,
    acknowledgedBy: 'admin',
    acknowledgedAt: at(780),
    value: 21.3,
    threshold: 20,
    feature: null,
    driftedFeatures: [],
    message: 'iris: p99 latency 21.3 ms above 20 ms for 1 min',
    windowId: null,
    firedAt: at(800),
    resolvedAt: at(700),
    retrainId: null,
    deliveries: []
  }
];

const slot = (role: string, version: number, percent: number) => ({
  role,
  modelVersionId: `mv-iris-${version}`,
  modelName: 'iris',
  version,
  percent
});

const DEPLOYMENT = {
  id: 'dep-iris',
  name: 'iris',
  target: 'local',
  status: 'ready',
  statusMessage: '',
  endpoint: 'http://127.0.0.1:9',
  requestedRef: 'iris@latest',
  replicas: 1,
  readyReplicas: 1,
  revision: 1,
  slots: [slot('stable', 1, 100)],
  stats: {
    windowSeconds: 60,
    requestsPerSecond: 55.3,
    p50Ms: 1.7,
    p99Ms: 6.9,
    errorRate: 0.002,
    clientErrorRate: 0.01,
    requestsByRole: { stable: 3318 },
    updatedAt: at(2)
  },
  createdAt: at(7200),
  updatedAt: at(2),
  createdBy: 'admin',
  history: [],
  kubernetes: null
};

function histogram(url: URL) {
  const feature = url.searchParams.get('feature')!;
  const role = url.searchParams.get('role') ?? 'input';
  const windowId = url.searchParams.get('window') ?? 'w11';
  const window = WINDOWS.find((candidate) => candidate.id === windowId)!;
  const drift = (role === 'prediction' ? window.predictions : window.features).find((item) => item.name === feature) ?? null;
  if (role === 'prediction') {
    return {
      feature,
      role,
      kind: 'categorical',
      windowId,
      edges: [],
      categories: ['setosa', 'versicolor', 'virginica'],
      reference: [0.33, 0.34, 0.33],
      current: [0.08, 0.22, 0.7],
      drift
    };
  }
  const shifted = drift?.drifted ?? false;
  const edges = Array.from({ length: 13 }, (_, index) => 1 + index * 0.6);
  const bell = (center: number) => edges.slice(0, -1).map((edge) => Math.exp(-(((edge + 0.3 - center) / 1.1) ** 2)));
  const normalize = (values: number[]) => values.map((value) => value / values.reduce((sum, item) => sum + item, 0));
  return {
    feature,
    role,
    kind: 'numeric',
    windowId,
    edges,
    categories: [],
    reference: normalize(bell(3.8)),
    current: normalize(bell(shifted ? 6.4 : 3.9)),
    drift
  };
}

async function stubMonitoringApi(page: Page): Promise<{ retrains: string[] }> {
  const seen = { retrains: [] as string[] };
  const json = (route: Route, body: unknown, status = 200) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  let retrain: Record<string, unknown> | null = null;
  await page.route(/\/api\/deployments(\?.*)?$/, (route) => json(route, { deployments: [DEPLOYMENT] }));
  await page.route(/\/api\/deployments\/dep-iris$/, (route) => json(route, DEPLOYMENT));
  await page.route(/\/api\/deployments\/dep-iris\/monitoring(\?.*)?$/, (route) => json(route, OVERVIEW));
  await page.route(/\/api\/deployments\/dep-iris\/drift(\?.*)?$/, (route) =>
    json(route, { windows: WINDOWS.slice(-1), filling: [{ modelVersionId: 'mv-iris-1', rows: 137, startAt: at(60), closesAt: null }] })
  );
  await page.route(/\/api\/deployments\/dep-iris\/drift\/histogram\?.*$/, (route) =>
    json(route, histogram(new URL(route.request().url())))
  );
  await page.route(/\/api\/alerts(\?.*)?$/, (route) => json(route, { alerts: ALERTS }));
  await page.route(/\/api\/deployments\/dep-iris\/retrains$/, (route) => json(route, { retrains: retrain ? [retrain] : [] }));
  await page.route(/\/api\/deployments\/dep-iris\/retrain$/, (route) => {
    const body = route.request().postDataJSON() as { alertId: string | null };
    seen.retrains.push(body.alertId ?? 'none');
    retrain = {
      id: 'retrain-1',
      deploymentId: 'dep-iris',
      alertId: body.alertId,
      sourceRunId: 'run-0001-stub',
      modelName: 'iris',
      fromModelVersionId: 'mv-iris-1',
      jobId: 'job-4f2a91c0',
      runId: 'run-0002-stub',
      datasets: { iris: 'iris@v2' },
      status: 'queued',
      newModelVersionId: null,
      newVersion: null,
      canaryPercent: 10,
      promote: false,
      error: null,
      createdAt: new Date().toISOString(),
      createdBy: 'admin',
      finishedAt: null
    };
    return json(route, retrain, 201);
  });
  return seen;
}

test('the Monitoring view reads well in both themes (stubbed answers)', async ({ page, runlab }) => {
  const seen = await stubMonitoringApi(page);
  // No notebook: one opening late would take the main area from the view, whose charts then have no size.
  await runlab.open(page, 'lab');
  for (const theme of ['JupyterLab Light', 'JupyterLab Dark'] as const) {
    const suffix = theme === 'JupyterLab Light' ? 'light' : 'dark';
    await setTheme(page, theme);

    // The Deployments panel: the badge, and the Monitoring button opening the view.
    await runCommand(page, 'runlab:open-deployments');
    const card = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="iris"]');
    const badge = card.locator('.jp-runlab-DriftBadge');
    await expect(badge).toHaveText('drift');
    await expect(badge).toHaveAttribute('title', /petal length \(cm\), predict \(prediction\)/);
    await card.getByRole('button', { name: 'Monitoring' }).click();

    const view = page.locator('.jp-runlab-MonitoringView[data-deployment="dep-iris"]');
    await expect(view.locator('.jp-runlab-MonitoringName')).toHaveText('iris');
    await expect(view.locator('.jp-runlab-MonitoringVersions')).toContainText('iris v1 (stable, 100%)');
    await expect(view.locator('.jp-runlab-MonitoringFiring')).toHaveText('1 alert firing');
    await expect(view.locator('.jp-runlab-MonitoringFilling')).toContainText('137 of 200 rows');
    await expect(view.locator('.jp-runlab-MonitoringTraffic .recharts-line').first()).toBeVisible();

    // The heatmap: the refused window is a grey column saying why; petal length drifted from window 9.
    const heatmap = view.locator('.jp-runlab-DriftHeatmap');
    await expect(heatmap.locator('tbody tr')).toHaveCount(5);
    await expect(heatmap.locator('tr[data-feature="petal length (cm)"] .jp-runlab-DriftCell[data-drifted="true"]')).toHaveCount(3);
    await expect(heatmap.locator('tr[data-feature="sepal length (cm)"] .jp-runlab-DriftCell[data-refused="true"]')).toHaveAttribute(
      'title',
      '37 rows in this window; drift needs at least 100'
    );

    // The most drifted feature is shown first, with the verdict in words.
    const histogramView = view.locator('.jp-runlab-MonitoringHistogram .jp-runlab-FeatureHistogram');
    await expect(histogramView).toHaveAttribute('data-feature', 'petal length (cm)');
    await expect(histogramView.locator('.jp-runlab-DriftVerdict')).toHaveText('Kolmogorov–Smirnov D 0.52 ≥ 0.1: drifted');
    await expect(histogramView.locator('.jp-runlab-DriftFigures')).toContainText('adjusted p 1.2e-18');
    await expect(histogramView.locator('.recharts-legend-item-text')).toHaveText(['training (reference)', 'production (window 11)']);
    // A click on another feature's cell shows that feature in that window.
    await heatmap.locator('tr[data-feature="sepal width (cm)"] td').nth(7).locator('button').click();
    await expect(histogramView).toHaveAttribute('data-feature', 'sepal width (cm)');
    await expect(histogramView.locator('.recharts-legend-item-text')).toHaveText(['training (reference)', 'production (window 8)']);
    await expect(histogramView.locator('.jp-runlab-DriftVerdict')).toHaveText('Kolmogorov–Smirnov D 0.07 < 0.1: no drift');
    await heatmap.locator('tr[data-feature="petal length (cm)"] .jp-runlab-DriftHeatmap-feature').click();
    await expect(histogramView).toHaveAttribute('data-feature', 'petal length (cm)');

    await expect(view.locator('.jp-runlab-MonitoringPredictions .jp-runlab-FeatureHistogram[data-feature="predict"]')).toBeVisible();
    await expect(view.locator('.jp-runlab-AlertItem')).toHaveCount(2);
    await expect(view.locator('.jp-runlab-AlertDeliveries li[data-status="failed"]')).toContainText('failed after 4 attempts');
    await expect(view.locator('.jp-runlab-AlertItem[data-state="resolved"]')).toContainText('acknowledged by admin');
    await screenshot(page, `monitoring-view-${suffix}`);

    // Retrain from the firing alert, with the keyboard: the retrain's state appears in the header.
    if (suffix === 'light') {
      await view.locator('.jp-runlab-AlertItem[data-state="firing"] .jp-runlab-AlertRetrain').focus();
      await page.keyboard.press('Enter');
      await expect(view.locator('.jp-runlab-MonitoringRetrainStatus')).toContainText('Retrain queued (job job-4f2a), waiting for a runner');
      expect(seen.retrains).toEqual(['alert-2']);
    }
    await view.locator('.jp-runlab-MonitoringAlerts').scrollIntoViewIfNeeded();
    // No chart tooltip under the pointer in the screenshot.
    await page.mouse.move(1, 1);
    await screenshot(page, `monitoring-alerts-${suffix}`);
    await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'Monitoring: iris' }).locator('.lm-TabBar-tabCloseIcon').click();
  }
  await setTheme(page, 'JupyterLab Light');
});
