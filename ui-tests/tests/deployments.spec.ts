/**
 * Models and deployments as a user sees them: the demo notebook trains and logs `iris` v1,
 * Deploy model in its toolbar serves it on this machine (live progress until ready), the try-it
 * box sends a request from the browser to the endpoint; after training again, v2 is added as a
 * 10% canary from the same dialog, promoted and rolled back from the Deployments panel, whose
 * history shows each step; aliases are moved and rolled back in the Models panel.
 *
 * The second test shows the same views against stubbed REST answers (and a stubbed endpoint),
 * for the screenshots in both themes.
 */
import type { Page, Route } from '@playwright/test';
import { expect, runCommand, screenshot, setTheme, test } from './fixtures';

async function openModelsPanel(page: Page): Promise<void> {
  await runCommand(page, 'runlab:open-models');
  await expect(page.locator('#jp-runlab-models')).toBeVisible();
}

async function openDeploymentsPanel(page: Page): Promise<void> {
  await runCommand(page, 'runlab:open-deployments');
  await expect(page.locator('#jp-runlab-deployments')).toBeVisible();
}

/** Runs every cell of the open notebook and waits for the training cell's line. */
async function trainInDemo(page: Page, runs: number): Promise<void> {
  await runCommand(page, 'notebook:run-all-cells');
  const line = page.locator('.jp-OutputArea-output', { hasText: /accuracy: 0\.\d{3}, logged/ });
  await expect(line, `the demo's training cell ran (run ${runs})`).toBeVisible({ timeout: 180_000 });
  const errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]', { hasText: 'Traceback' });
  await expect(errors).toHaveCount(0);
}

test('deploy the demo model, try it, add v2 as a 10% canary, promote, roll back, and read the history', async ({ page, runlab }) => {
  test.setTimeout(600_000);
  // The registry and deployments routes are other helpers' work: say plainly when they are missing.
  for (const route of ['/api/models', '/api/deployments']) {
    const response = await fetch(`${runlab.serverUrl}${route}`, { headers: { Authorization: `Bearer ${runlab.serverToken}` } });
    expect(response.status, `the companion server answers GET ${route}`).toBe(200);
  }
  await runlab.open(page, 'lab/tree/demo.ipynb');
  await runCommand(page, 'runlab:open-panel');
  await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
  await openModelsPanel(page);
  const models = page.locator('#jp-runlab-models');
  await expect(models.locator('.jp-runlab-ModelsEmpty')).toContainText('No models yet: call runlab.model(...) in a run');

  // Train: the demo's last cell logs iris v1, which appears live in the Models panel.
  await page.locator('.jp-Notebook .jp-CodeCell').first().locator('.jp-InputArea-editor').click();
  await trainInDemo(page, 1);
  const iris = models.locator('.jp-runlab-ModelRow[data-model="iris"]');
  await expect(iris.locator('.jp-runlab-ModelVersionRow[data-version="1"]')).toBeVisible({ timeout: 30_000 });
  await expect(iris.locator('.jp-runlab-ModelVersionRow[data-version="1"] .jp-runlab-ModelMetrics')).toContainText(/accuracy 0\.\d+/);

  // Deploy model from the notebook toolbar: the dialog starts with what this notebook logged.
  await page.locator('.jp-NotebookPanel-toolbar .jp-runlab-DeployModelButton').click();
  let dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByLabel('Model')).toHaveValue('iris');
  await expect(dialog.getByLabel('Version')).toHaveValue('v1');
  await expect(dialog.getByLabel('Target')).toHaveValue('local');
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();

  // Live progress until ready, then the endpoint and the try-it box.
  const progress = page.locator('.jp-Dialog .jp-runlab-DeploymentProgress[data-deployment="iris"]');
  await expect(progress).toBeVisible();
  await expect(progress, 'the deployment gets ready').toHaveAttribute('data-status', /ready|failed/, { timeout: 90_000 });
  const failure = (await progress.getAttribute('data-status')) === 'failed' ? await progress.locator('[role="alert"]').textContent() : '';
  expect(failure, 'the deployment did not fail').toBe('');
  await expect(progress.locator('.jp-runlab-Endpoint-url')).toHaveText(/^http:\/\/127\.0\.0\.1:\d+$/);
  const request = progress.getByLabel('Infer request');
  await expect(request).toHaveValue(/"datatype": "FP64"/);
  await expect(request).toHaveValue(/"shape": \[5, 4\]/);
  await progress.getByRole('button', { name: 'Send' }).click();
  await expect(progress.locator('.jp-runlab-TryIt-status'), 'the endpoint answered the try-it request').toHaveText(/^200/, {
    timeout: 30_000
  });
  await expect(progress.locator('.jp-runlab-TryIt-version')).toHaveText('answered by v1 (stable)');
  await expect(progress.locator('.jp-runlab-TryIt-body')).toContainText('"outputs"');
  await screenshot(page, 'deploy-ready-try-it');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);

  // Train again: v2. Deploy model offers to add it to the live deployment as a 10% canary.
  await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'demo.ipynb' }).click();
  await trainInDemo(page, 2);
  await expect(iris.locator('.jp-runlab-ModelVersionRow[data-version="2"]')).toBeVisible({ timeout: 30_000 });
  await page.locator('.jp-NotebookPanel-toolbar .jp-runlab-DeployModelButton').click();
  dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByLabel('Version')).toHaveValue('v2');
  await expect(dialog.getByLabel('Add to iris')).toBeChecked();
  await expect(dialog.getByLabel('canary', { exact: true })).toBeChecked();
  await expect(dialog.getByLabel('Percent')).toHaveValue('10');
  await screenshot(page, 'deploy-canary-dialog');
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(progress.locator('.jp-runlab-DeploymentSplit')).toHaveText('v1 90% · v2 canary 10%', { timeout: 30_000 });
  await expect(progress).toHaveAttribute('data-status', 'ready', { timeout: 90_000 });
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();

  // The Deployments panel: promote the canary, then roll back.
  await openDeploymentsPanel(page);
  const card = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="iris"]');
  await expect(card.locator('.jp-runlab-DeploymentSplit')).toHaveText('v1 90% · v2 canary 10%');
  // The try-it request was counted: the runtime's telemetry reaches the panel.
  await expect(card.locator('.jp-runlab-DeploymentStats-p50'), 'serving figures arrive from telemetry').toBeVisible({ timeout: 60_000 });
  await card.getByRole('button', { name: 'Promote canary' }).click();
  await expect(card.locator('.jp-runlab-DeploymentSplit')).toHaveText('v2 100%');
  await expect(card).toHaveAttribute('data-status', 'ready', { timeout: 90_000 });
  await card.getByRole('button', { name: 'Roll back' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Roll back' }).click();
  await expect(card.locator('.jp-runlab-DeploymentSplit')).toHaveText('v1 100%');
  await expect(card).toHaveAttribute('data-status', 'ready', { timeout: 90_000 });

  // The history says each step, newest first.
  await card.locator('.jp-runlab-DeploymentHistorySection summary').click();
  const kinds = await card
    .locator('.jp-runlab-DeploymentEvent')
    .evaluateAll((events) => events.map((event) => event.getAttribute('data-kind')));
  const order = ['rolled_back', 'promoted', 'split_changed', 'deployed'].map((kind) => kinds.indexOf(kind));
  expect(
    order.every((index) => index >= 0),
    `history kinds: ${kinds.join(', ')}`
  ).toBe(true);
  expect(
    [...order].sort((a, b) => a - b),
    `newest first: ${kinds.join(', ')}`
  ).toEqual(order);
  await screenshot(page, 'deployments-history');

  // Aliases: production → v1, then v2, then Roll back; each move is in the history.
  await openModelsPanel(page);
  for (const version of [1, 2]) {
    await iris.locator(`.jp-runlab-ModelVersionRow[data-version="${version}"]`).getByRole('button', { name: 'Set alias…' }).click();
    const aliasDialog = page.locator('.jp-Dialog');
    await aliasDialog.getByLabel('Alias', { exact: true }).fill('production');
    await aliasDialog.getByLabel('Reason').fill(`v${version} for the UI test`);
    await aliasDialog.getByRole('button', { name: 'Set alias' }).click();
    await expect(iris.locator(`.jp-runlab-ModelVersionRow[data-version="${version}"] .jp-runlab-AliasChip`)).toHaveText('production');
  }
  await iris.locator('.jp-runlab-AliasRow[data-alias="production"]').getByRole('button', { name: 'Roll back' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Roll back' }).click();
  await expect(iris.locator('.jp-runlab-AliasRow[data-alias="production"]')).toContainText('→ v1');
  const history = iris.locator('.jp-runlab-AliasHistorySection');
  if (!(await history.getAttribute('open'))) {
    await history.locator('summary').click();
  }
  await expect(history.locator('.jp-runlab-AliasMove-versions')).toHaveText(['v2 → v1', 'v1 → v2', 'new → v1']);
  await expect(history.locator('.jp-runlab-AliasMove').first()).toHaveAttribute('data-action', 'rollback');
  await screenshot(page, 'models-alias-history');

  // Undeploy: confirmed, then the card leaves the list.
  await openDeploymentsPanel(page);
  await card.getByRole('button', { name: 'Undeploy…' }).click();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Undeploy' }).click();
  await expect(card).toHaveCount(0, { timeout: 30_000 });
});

// ----- The same views against stubbed REST answers, for screenshots in both themes -----

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const STUB_ENDPOINT = 'http://127.0.0.1:9/';

const IRIS_SIGNATURE = {
  inputs: [{ name: null, kind: 'tensor', datatype: 'FP64', shape: [-1, 4], required: true }],
  outputs: [{ name: null, kind: 'tensor', datatype: 'INT64', shape: [-1], required: true }]
};

function stubVersion(version: number, extra: Record<string, unknown> = {}) {
  return {
    id: `mv-iris-${version}`,
    modelName: 'iris',
    version,
    flavor: 'sklearn',
    description: '',
    tags: {},
    source: 'runlab',
    runId: `run-000${version}-stub`,
    runName: 'logistic-regression',
    projectName: 'demo',
    notebookPath: 'demo.ipynb',
    snapshotCommit: '0123456789abcdef0123456789abcdef01234567',
    datasetVersions: [{ id: 'dv-1', ref: 'iris@v1' }],
    runMetrics: { accuracy: version === 1 ? 0.9474 : 0.9737 },
    signature: IRIS_SIGNATURE,
    inputExample: [
      [5.1, 3.5, 1.4, 0.2],
      [6.2, 2.9, 4.3, 1.3]
    ],
    requirements: ['scikit-learn==1.5.2', 'numpy==2.1.3'],
    hasProfile: true,
    files: [
      { path: 'MLmodel', size: 612, digest: 'a' },
      { path: 'model.pkl', size: 1893, digest: 'b' },
      { path: 'requirements.txt', size: 36, digest: 'c' }
    ],
    sizeBytes: 2541,
    aliases: version === 1 ? ['production'] : ['staging'],
    createdAt: ago(version === 1 ? 7200 : 600),
    createdBy: 'admin',
    ...extra
  };
}

const STUB_MODELS = [
  {
    name: 'iris',
    description: 'Species from petal and sepal sizes.',
    tags: {},
    createdAt: ago(7200),
    updatedAt: ago(600),
    versionCount: 2,
    latestVersion: 2,
    aliases: { production: 1, staging: 2 },
    projects: ['demo']
  },
  {
    name: 'churn',
    description: '',
    tags: { team: 'growth' },
    createdAt: ago(86400),
    updatedAt: ago(86400),
    versionCount: 5,
    latestVersion: 5,
    aliases: {},
    projects: ['demo']
  }
];

const STUB_MOVES = [
  {
    id: 3,
    modelName: 'iris',
    alias: 'staging',
    fromVersion: null,
    toVersion: 2,
    reason: 'new features',
    action: 'set',
    movedBy: 'admin',
    movedAt: ago(500)
  },
  {
    id: 2,
    modelName: 'iris',
    alias: 'production',
    fromVersion: 2,
    toVersion: 1,
    reason: 'p99 regression',
    action: 'rollback',
    movedBy: 'admin',
    movedAt: ago(900)
  },
  {
    id: 1,
    modelName: 'iris',
    alias: 'production',
    fromVersion: null,
    toVersion: 2,
    reason: '',
    action: 'set',
    movedBy: 'admin',
    movedAt: ago(3600)
  }
];

const slot = (role: string, version: number, percent: number) => ({
  role,
  modelVersionId: `mv-iris-${version}`,
  modelName: 'iris',
  version,
  percent
});

const STUB_DEPLOYMENTS = [
  {
    id: 'dep-iris',
    name: 'iris',
    target: 'local',
    status: 'ready',
    statusMessage: '',
    endpoint: STUB_ENDPOINT.replace(/\/$/, ''),
    requestedRef: 'iris@production',
    replicas: 2,
    readyReplicas: 2,
    revision: 3,
    slots: [slot('stable', 1, 90), slot('canary', 2, 10)],
    stats: {
      windowSeconds: 60,
      requestsPerSecond: 184.2,
      p50Ms: 1.8,
      p99Ms: 7.4,
      errorRate: 0.002,
      clientErrorRate: 0.01,
      requestsByRole: { stable: 9950, canary: 1102 },
      updatedAt: ago(2)
    },
    createdAt: ago(3000),
    updatedAt: ago(2),
    createdBy: 'admin',
    history: [
      {
        id: 3,
        kind: 'split_changed',
        revision: 3,
        message: 'canary iris v2 at 10%',
        slots: [slot('stable', 1, 90), slot('canary', 2, 10)],
        actor: 'admin',
        at: ago(300)
      },
      {
        id: 2,
        kind: 'ready',
        revision: 1,
        message: '2 of 2 replicas ready in 1.4 s',
        slots: [slot('stable', 1, 100)],
        actor: 'runlab',
        at: ago(2990)
      },
      {
        id: 1,
        kind: 'deployed',
        revision: 1,
        message: 'iris v1 on local, 2 replicas',
        slots: [slot('stable', 1, 100)],
        actor: 'admin',
        at: ago(3000)
      }
    ]
  },
  {
    id: 'dep-churn',
    name: 'churn-shadow',
    target: 'local',
    status: 'failed',
    statusMessage: 'replica 1 exited with code 1: port 8090 is in use. Undeploy, then deploy again (a free port is chosen).',
    endpoint: null,
    requestedRef: 'churn@latest',
    replicas: 1,
    readyReplicas: 0,
    revision: 1,
    slots: [
      { role: 'stable', modelVersionId: 'mv-churn-5', modelName: 'churn', version: 5, percent: 100 },
      { role: 'shadow', modelVersionId: 'mv-churn-4', modelName: 'churn', version: 4, percent: 25 }
    ],
    stats: null,
    createdAt: ago(4000),
    updatedAt: ago(3900),
    createdBy: 'admin',
    history: []
  }
];

async function stubModelsApi(page: Page): Promise<void> {
  const json = (route: Route, body: unknown, status = 200) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route(/\/api\/models(\?.*)?$/, (route) => json(route, { models: STUB_MODELS }));
  await page.route(/\/api\/models\/iris\/versions$/, (route) => json(route, { versions: [stubVersion(2), stubVersion(1)] }));
  await page.route(/\/api\/models\/churn\/versions$/, (route) => json(route, { versions: [] }));
  await page.route(/\/api\/models\/iris\/versions\/v?(\d+)$/, (route) =>
    json(route, stubVersion(Number(/(\d+)$/.exec(route.request().url())![1])))
  );
  await page.route(/\/api\/models\/\w+\/alias-history(\?.*)?$/, (route) =>
    json(route, { moves: route.request().url().includes('/iris/') ? STUB_MOVES : [] })
  );
  await page.route(/\/api\/deployments(\?.*)?$/, (route) => {
    if (route.request().method() === 'GET') {
      return json(route, { deployments: STUB_DEPLOYMENTS });
    }
    return json(route, { error: { code: 'conflict', message: 'A deployment named iris already exists.', details: [] } }, 409);
  });
  // The serving runtime's endpoint, answering as OIP does (with the CORS headers a browser needs).
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Expose-Headers': 'X-Runlab-Model-Version, X-Runlab-Revision'
  };
  await page.route(`${STUB_ENDPOINT}**`, (route) =>
    route.request().method() === 'OPTIONS'
      ? route.fulfill({ status: 204, headers: cors })
      : route.fulfill({
          status: 200,
          contentType: 'application/json',
          headers: { ...cors, 'X-Runlab-Model-Version': '2' },
          body: JSON.stringify({
            model_name: 'iris',
            model_version: '2',
            id: 'c0ffee',
            outputs: [{ name: 'predict', shape: [2], datatype: 'INT64', data: [0, 1] }]
          })
        })
  );
}

test('the Models and Deployments panels, the version page and the dialogs read well in both themes (stubbed answers)', async ({
  page,
  runlab
}) => {
  await stubModelsApi(page);
  await runlab.open(page, 'lab/tree/demo.ipynb');
  for (const theme of ['JupyterLab Light', 'JupyterLab Dark'] as const) {
    const suffix = theme === 'JupyterLab Light' ? 'light' : 'dark';
    await setTheme(page, theme);
    await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'demo.ipynb' }).click();

    // Models: search, open iris, its versions with metrics and aliases, the alias history.
    await openModelsPanel(page);
    const models = page.locator('#jp-runlab-models');
    await models.getByLabel('Search models').fill('');
    const iris = models.locator('.jp-runlab-ModelRow[data-model="iris"]');
    if ((await iris.locator('.jp-runlab-ModelRow-head').getAttribute('aria-expanded')) !== 'true') {
      await iris.locator('.jp-runlab-ModelRow-head').click();
    }
    await expect(iris.locator('.jp-runlab-ModelVersionRow')).toHaveCount(2);
    await expect(iris.locator('.jp-runlab-ModelVersionRow').first()).toHaveAttribute('data-version', '2');
    await expect(iris.locator('.jp-runlab-ModelVersionRow[data-version="2"] .jp-runlab-ModelMetrics')).toHaveText('accuracy 0.9737');
    await expect(iris.locator('.jp-runlab-AliasRow[data-alias="production"]')).toContainText('→ v1');
    await expect(iris.locator('.jp-runlab-AliasRow[data-alias="production"] .jp-runlab-AliasRollback')).toBeEnabled();
    await expect(iris.locator('.jp-runlab-AliasRow[data-alias="staging"] .jp-runlab-AliasRollback')).toBeDisabled();
    await expect(iris.locator('.jp-runlab-AliasMove-versions')).toHaveText(['new → v2', 'v2 → v1', 'new → v2']);
    await screenshot(page, `models-panel-${suffix}`);
    await models.getByLabel('Search models').fill('growth');
    await expect(models.locator('.jp-runlab-ModelRow')).toHaveCount(1);
    await expect(models.locator('.jp-runlab-ModelRow[data-model="churn"]')).toBeVisible();
    await models.getByLabel('Search models').fill('');

    // The version page: signature, lineage, requirements, Deploy.
    await iris.locator('.jp-runlab-ModelVersionRow[data-version="2"] .jp-runlab-ModelVersionLink').click();
    const view = page.locator('.jp-runlab-ModelVersionView[data-model="iris"][data-version="2"]');
    await expect(view.locator('.jp-runlab-SignatureTable[aria-label="Inputs"] tr[data-field="input"]')).toContainText('FP64');
    await expect(view.locator('.jp-runlab-SignatureTable[aria-label="Inputs"] tr[data-field="input"]')).toContainText('any × 4');
    await expect(view.locator('.jp-runlab-LineageRun')).toHaveText('logistic-regression');
    await expect(view.locator('.jp-runlab-Packages')).toContainText('scikit-learn==1.5.2');
    await screenshot(page, `model-version-${suffix}`);

    // Deploy from the version page: the version is preset; the live deployment is offered.
    await view.locator('.jp-runlab-DeployVersion').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog.getByLabel('Model')).toHaveValue('iris');
    await expect(dialog.getByLabel('Version')).toHaveValue('v2');
    await dialog.getByLabel('A new deployment').check();
    await expect(dialog.getByLabel('Replicas')).toHaveValue('1');
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('already exists');
    await screenshot(page, `deploy-dialog-${suffix}`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);

    // Deployments: status, split, endpoint, figures, the failure's message; Try it.
    await openDeploymentsPanel(page);
    const card = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="iris"]');
    await expect(card.locator('.jp-runlab-DeploymentSplit')).toHaveText('v1 90% · v2 canary 10%');
    await expect(card.locator('.jp-runlab-DeploymentStats-rate')).toHaveText('184 req/s');
    await expect(card.locator('.jp-runlab-DeploymentStats-p99')).toHaveText('7.4 ms');
    await expect(card.locator('.jp-runlab-DeploymentStats-errors')).toHaveText('0.2%');
    await expect(card.getByRole('button', { name: 'Promote canary' })).toBeEnabled();
    const failed = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="churn-shadow"]');
    await expect(failed.locator('.jp-runlab-DeploymentSplit')).toHaveText('v5 100% · v4 shadow (copy of 25%)');
    await expect(failed.getByRole('alert')).toContainText('port 8090 is in use');
    await expect(failed.getByRole('button', { name: 'Promote canary' })).toBeDisabled();
    await card.locator('.jp-runlab-DeploymentHistorySection summary').click();
    await screenshot(page, `deployments-panel-${suffix}`);
    await card.locator('.jp-runlab-DeploymentHistorySection summary').click();

    await card.getByRole('button', { name: 'Try it…' }).click();
    const progress = page.locator('.jp-Dialog .jp-runlab-DeploymentProgress[data-deployment="iris"]');
    await expect(progress.getByLabel('Infer request')).toHaveValue(/"data": \[5\.1, 3\.5, 1\.4, 0\.2, 6\.2, 2\.9, 4\.3, 1\.3\]/);
    await progress.getByRole('button', { name: 'Send' }).click();
    await expect(progress.locator('.jp-runlab-TryIt-status')).toHaveText(/^200/);
    await expect(progress.locator('.jp-runlab-TryIt-version')).toHaveText('answered by v2 (canary)');
    await expect(progress.locator('.jp-runlab-TryIt-body')).toContainText('"predict"');
    await screenshot(page, `deployment-try-it-${suffix}`);
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();

    // Change split: the current share, prefilled.
    await card.getByRole('button', { name: 'Change split…' }).click();
    const split = page.locator('.jp-Dialog');
    await expect(split.getByLabel('Percent')).toHaveValue('10');
    await expect(split.getByLabel('Second version')).toHaveValue('v2');
    await screenshot(page, `deployment-split-dialog-${suffix}`);
    await split.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  }
  await setTheme(page, 'JupyterLab Light');
});
