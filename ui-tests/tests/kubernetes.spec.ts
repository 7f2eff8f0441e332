/**
 * Kubernetes as a user sees it, against a real control plane (kube-apiserver, etcd, controller
 * manager, scheduler; KWOK's two simulated nodes) that the global setup (../kubernetes.ts) starts
 * and hands to the companion server as RUNLAB_KUBECONFIG:
 * - Deploy model with the Kubernetes target: context runlab-test, namespace default, the access
 *   check says yes, Deploy; the rollout is followed live until the Deployment is available
 *   (KWOK makes pods Ready at once: nothing runs in them, but the Deployment's availability is
 *   the controller's real one), then the Deployments panel shows the place, objects, rollout and
 *   pods; Undeploy removes it.
 * - The read-only context runlab-test-viewer: the dialog names the missing rights and Deploy
 *   stays disabled; nothing is created.
 * - A hand edit of the Deployment shows as drift until Reconcile; a rollout that cannot be
 *   scheduled (more CPU than a node has) fails in the cluster's words, and Roll back returns to
 *   the last ready revision.
 * - Add runner pool (its rights checked first), a queued job's pod in it (Pending: no node
 *   matches its node selector), and Remove pool, from the Runners panel.
 *
 * The model is registered over REST the way runlab.model(...) registers one (a scikit-learn model
 * saved by runlab.models.flavors.save_model in the venv, uploaded as a run's artifacts), which is
 * what the demo notebook in deployments.spec.ts does from a kernel.
 */
import type { Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminRequest } from '../../scripts/kube/controlPlane.mjs';
import { VENV } from '../../scripts/setup.mjs';
import { expect, runCommand, RunlabFixture, screenshot, setTheme, test } from './fixtures';

const SAVE_MODEL = `
import json, sys
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from runlab.models.flavors import save_model
rng = np.random.default_rng(7)
X = pd.DataFrame(rng.normal(size=(60, 4)), columns=["a", "b", "c", "d"])
y = (X["a"] + X["b"] > 0).astype(int)
saved = save_model(LogisticRegression().fit(X, y), sys.argv[1], input_example=X.iloc[:3])
print(json.dumps({"flavor": saved.flavor, "signature": saved.signature, "inputExample": saved.input_example,
                  "requirements": saved.requirements}))
`;

/** Saves a model with the venv's runlab and registers it as `name` v1, as runlab.model(...) would. */
async function registerModel(runlab: RunlabFixture, name: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-ui-model-'));
  try {
    const output = execFileSync(path.join(VENV, 'bin', 'python'), ['-c', SAVE_MODEL, path.join(dir, 'model')], { encoding: 'utf8' });
    const saved = JSON.parse(output.trim().split('\n').pop() as string) as Record<string, unknown>;
    const run = await runlab.api<{ id: string }>('/api/runs', { method: 'POST', body: { project: 'demo', name: 'train' } });
    for (const file of fs.readdirSync(path.join(dir, 'model'))) {
      const response = await fetch(
        `${runlab.serverUrl}/api/runs/${run.id}/artifacts?path=${encodeURIComponent(`models/${name}/${file}`)}`,
        {
          method: 'PUT',
          headers: { Authorization: `Bearer ${runlab.serverToken}`, 'Content-Type': 'application/octet-stream' },
          body: new Uint8Array(fs.readFileSync(path.join(dir, 'model', file)))
        }
      );
      expect(response.status, `artifact ${file} uploaded`).toBe(201);
    }
    await runlab.api(`/api/models/${name}/versions`, { method: 'POST', body: { runId: run.id, artifactPath: `models/${name}`, ...saved } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function ensureModel(runlab: RunlabFixture, name: string): Promise<void> {
  const { models } = await runlab.api<{ models: { name: string }[] }>('/api/models');
  if (!models.some((model) => model.name === name)) {
    await registerModel(runlab, name);
  }
}

/** Starts a command without waiting for it (Deploy model's command resolves only when its dialogs close). */
async function startCommand(page: Page, id: string, args: unknown = {}): Promise<void> {
  await page.evaluate(
    ([id, args]) => {
      void (
        window as unknown as { jupyterapp: { commands: { execute(id: string, args: unknown): Promise<unknown> } } }
      ).jupyterapp.commands.execute(id as string, args);
    },
    [id, args]
  );
}

test.beforeAll(() => {
  expect(process.env.RUNLAB_KUBECONFIG, 'the global setup (ui-tests/kubernetes.ts) started a control plane').toBeTruthy();
});

test('deploy to Kubernetes from the Deploy dialog and watch the rollout reach ready', async ({ page, runlab }) => {
  test.setTimeout(300_000);
  await ensureModel(runlab, 'iris');
  await runlab.open(page, 'lab');
  await startCommand(page, 'runlab:deploy-model', { model: 'iris' });
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByLabel('Model')).toHaveValue('iris');
  await dialog.getByLabel('Target').selectOption('kubernetes');

  // The kubeconfig's contexts; the admin one and the default namespace, checked up front.
  const contextSelect = dialog.getByLabel('Kubernetes context');
  await expect(contextSelect.locator('option')).toHaveText([
    'runlab-test (current)',
    'runlab-test-viewer',
    'runlab-test-operator',
    'runlab-test-unreachable'
  ]);
  await contextSelect.selectOption('runlab-test');
  await dialog.getByLabel('Namespace').selectOption('default');
  const access = dialog.locator('.jp-runlab-KubeAccess');
  await expect(access).toHaveAttribute('data-state', 'allowed');
  await expect(access).toContainText('may create everything a deployment needs in namespace default');
  await expect(dialog.getByLabel('CPU request')).toHaveValue('100m');
  await expect(dialog.getByLabel('Memory request')).toHaveValue('256Mi');
  // KServe is offered only where the cluster has its CRD (the control plane installs it).
  await expect(dialog.getByLabel('Backend').locator('option')).toHaveCount(2);
  const deploy = dialog.getByRole('button', { name: 'Deploy', exact: true });
  await expect(deploy).toBeEnabled();
  await screenshot(page, 'kubernetes-deploy-dialog-light');
  await setTheme(page, 'JupyterLab Dark');
  await screenshot(page, 'kubernetes-deploy-dialog-dark');
  await setTheme(page, 'JupyterLab Light');
  await deploy.click();

  // Live progress: the rollout until every replica is available, with the pods' states.
  const progress = page.locator('.jp-Dialog .jp-runlab-DeploymentProgress[data-deployment="iris"]');
  await expect(progress).toBeVisible();
  await expect(progress, 'the rollout reaches ready').toHaveAttribute('data-status', /ready|failed/, { timeout: 120_000 });
  const failure =
    (await progress.getAttribute('data-status')) === 'failed' ? await progress.locator('[role="alert"]').allTextContents() : [];
  expect(failure, 'the rollout did not fail').toEqual([]);
  await expect(progress.locator('.jp-runlab-KubeRollout')).toHaveAttribute('data-phase', 'complete');
  await expect(progress.locator('.jp-runlab-KubePod[data-ready="true"]')).toHaveCount(1);
  await screenshot(page, 'kubernetes-deploy-progress-light');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);

  // The Deployments panel: where it runs, what Runlab created, the rollout, the pods, the events.
  await runCommand(page, 'runlab:open-deployments');
  const card = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="iris"]');
  await expect(card).toHaveAttribute('data-status', 'ready');
  await expect(card.locator('.jp-runlab-KubePlace-where')).toHaveText('runlab-test / default');
  await expect(card.locator('.jp-runlab-KubeObject')).toContainText(['Deployment/iris', 'Service/iris']);
  await expect(card.locator('.jp-runlab-KubeRollout-counts')).toHaveText('1 of 1 updated · 1 ready · 1 available');
  const pod = card.locator('.jp-runlab-KubePod');
  await expect(pod).toHaveCount(1);
  await expect(pod).toHaveAttribute('data-ready', 'true');
  await expect(pod.locator('.jp-runlab-KubePod-state')).toHaveText('Running, ready · revision 1');
  await expect(card.locator('.jp-runlab-KubeEvent').first(), 'the cluster’s events arrive').toBeVisible({ timeout: 30_000 });
  await screenshot(page, 'kubernetes-deployment-panel-light');
  await setTheme(page, 'JupyterLab Dark');
  await screenshot(page, 'kubernetes-deployment-panel-dark');
  await setTheme(page, 'JupyterLab Light');

  // Undeploy: Runlab deletes what it created (the dialog names it), and the card leaves.
  await card.getByRole('button', { name: 'Undeploy…' }).click();
  await expect(page.locator('.jp-Dialog')).toContainText('Deployment/iris');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Undeploy' }).click();
  await expect(card).toHaveCount(0, { timeout: 60_000 });
});

test('a read-only context shows the missing rights and keeps Deploy disabled', async ({ page, runlab }) => {
  await ensureModel(runlab, 'iris');
  const before = await runlab.api<{ deployments: unknown[] }>('/api/deployments?includeStopped=true');
  await runlab.open(page, 'lab');
  await startCommand(page, 'runlab:deploy-model', { model: 'iris' });
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByLabel('Target').selectOption('kubernetes');
  await dialog.getByLabel('Kubernetes context').selectOption('runlab-test-viewer');
  const access = dialog.locator('.jp-runlab-KubeAccess');
  await expect(access).toHaveAttribute('data-state', 'denied');
  await expect(access.locator('.jp-runlab-KubeAccess-message')).toContainText('Context "runlab-test-viewer" may not');
  const missing = access.getByRole('list', { name: 'Missing rights' });
  await expect(missing).toContainText('deployments.apps: create, patch, delete');
  await expect(missing).toContainText('services: create, patch, delete');
  await expect(missing).toContainText('secrets:');
  const deploy = dialog.getByRole('button', { name: 'Deploy', exact: true });
  await expect(deploy).toBeDisabled();
  await screenshot(page, 'kubernetes-deploy-denied-light');

  // A context whose API server does not answer: the server's sentence, and still no Deploy.
  await dialog.getByLabel('Kubernetes context').selectOption('runlab-test-unreachable');
  await expect(dialog.locator('.jp-runlab-KubeFields [role="alert"]').first()).toContainText('does not answer', { timeout: 60_000 });
  await expect(deploy).toBeDisabled();

  // Back to the admin context: allowed again, and what was typed is still there.
  await dialog.getByLabel('CPU request').fill('250m');
  await dialog.getByLabel('Kubernetes context').selectOption('runlab-test');
  await expect(access).toHaveAttribute('data-state', 'allowed');
  await expect(deploy).toBeEnabled();
  await expect(dialog.getByLabel('CPU request')).toHaveValue('250m');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  const after = await runlab.api<{ deployments: unknown[] }>('/api/deployments?includeStopped=true');
  expect(after.deployments, 'nothing was created').toHaveLength(before.deployments.length);
});

/** The cluster as its administrator sees it (kubectl's rights), for hand edits. */
function admin(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<{ status: number; body: unknown }> {
  const dir = process.env.RUNLAB_UI_KUBE_DIR as string;
  const plane = { server: process.env.RUNLAB_UI_KUBE_SERVER, certs: path.join(dir, 'certs') };
  return adminRequest(plane as never, method, apiPath, body, contentType) as Promise<{ status: number; body: unknown }>;
}

test('drift shows until Reconcile; a failed rollout says why and Roll back returns to the last ready revision', async ({
  page,
  runlab
}) => {
  test.setTimeout(300_000);
  await ensureModel(runlab, 'iris');
  const created = await runlab.api<{ id: string }>('/api/deployments', {
    method: 'POST',
    body: {
      model: 'iris',
      name: 'iris-rollout',
      target: 'kubernetes',
      kubernetes: { context: 'runlab-test', namespace: 'default', progressDeadlineSeconds: 10 }
    }
  });
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-deployments');
  const card = page.locator('#jp-runlab-deployments .jp-runlab-DeploymentCard[data-deployment="iris-rollout"]');
  await expect(card).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });

  // A hand edit (kubectl scale) is drift, named by field; Reconcile writes Runlab's objects again.
  const scaled = await admin(
    'PATCH',
    '/apis/apps/v1/namespaces/default/deployments/iris-rollout',
    { spec: { replicas: 2 } },
    'application/merge-patch+json'
  );
  expect(scaled.status).toBe(200);
  const drift = card.locator('.jp-runlab-KubeDrift');
  await expect(drift, 'the hand edit shows as drift').toContainText('Deployment/iris-rollout', { timeout: 60_000 });
  await expect(drift).toContainText('spec.replicas');
  await screenshot(page, 'kubernetes-deployment-drift-light');
  await drift.getByRole('button', { name: 'Reconcile' }).click();
  await expect(drift).toHaveCount(0, { timeout: 60_000 });

  // More CPU than either node has: the new revision's pod cannot be scheduled, the rollout fails.
  await runlab.api(`/api/deployments/${created.id}`, {
    method: 'PATCH',
    body: { resources: { requests: { cpu: '32', memory: '256Mi' }, limits: {} }, reason: 'too big on purpose' }
  });
  const failed = card.locator('.jp-runlab-KubeFailed');
  await expect(failed, 'the rollout fails after its 10 s deadline').toBeVisible({ timeout: 120_000 });
  await expect(failed).toContainText('Insufficient cpu');
  await screenshot(page, 'kubernetes-deployment-failed-light');
  await setTheme(page, 'JupyterLab Dark');
  await screenshot(page, 'kubernetes-deployment-failed-dark');
  await setTheme(page, 'JupyterLab Light');
  await failed.getByRole('button', { name: 'Roll back to the last ready revision' }).click();
  await expect(page.locator('.jp-Dialog')).toContainText('the last revision that was ready');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Roll back' }).click();
  await expect(card.locator('.jp-runlab-KubeFailed')).toHaveCount(0, { timeout: 120_000 });
  await expect(card).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
  await expect(card.locator('.jp-runlab-KubeRollout')).toHaveAttribute('data-phase', 'complete');
  await expect(card.locator('.jp-runlab-KubePod[data-ready="true"]')).toHaveCount(1);
  await runlab.api(`/api/deployments/${created.id}`, { method: 'DELETE' });
});

test('add a Kubernetes runner pool and remove it from the Runners panel', async ({ page, runlab }) => {
  await runlab.open(page, 'lab');
  await runCommand(page, 'runlab:open-runners');
  const panel = page.locator('#jp-runlab-runners');
  await expect(panel.locator('.jp-runlab-PoolsEmpty')).toBeVisible();
  await panel.getByRole('button', { name: 'Add pool…' }).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByLabel('Pool name').fill('ui-pool');
  await dialog.getByLabel('Kubernetes context').selectOption('runlab-test-viewer');
  await expect(dialog.locator('.jp-runlab-KubeAccess')).toHaveAttribute('data-state', 'denied');
  await expect(dialog.locator('.jp-runlab-KubeAccess')).toContainText('jobs.batch');
  await expect(dialog.getByRole('button', { name: 'Add pool' })).toBeDisabled();
  await dialog.getByLabel('Kubernetes context').selectOption('runlab-test');
  await expect(dialog.locator('.jp-runlab-KubeAccess')).toHaveAttribute('data-state', 'allowed');
  await dialog.getByLabel('Labels').fill('gpu');
  await dialog.getByLabel('Node selector').fill('gpu=true');
  await dialog.getByLabel('Max parallel pods').fill('2');
  await dialog.getByRole('button', { name: 'Add pool' }).click();
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);

  const row = panel.locator('.jp-runlab-PoolRow[data-pool="ui-pool"]');
  await expect(row).toHaveAttribute('data-status', 'ok');
  await expect(row.locator('.jp-runlab-KubePlace-where')).toHaveText('runlab-test / default');
  await expect(row).toContainText('at most 2 in parallel · nodes gpu=true');
  await expect(row.locator('.jp-runlab-PoolRow-pods')).toHaveText('0 of 2 running');

  // A queued job no runner takes becomes a Kubernetes Job of the pool; no node has gpu=true, so
  // its pod stays Pending, in the scheduler's words, live in the panel.
  const job = await runlab.api<{ id: string }>('/api/jobs', {
    method: 'POST',
    body: {
      project: 'demo',
      notebookPath: 'pool-job.ipynb',
      notebook: {
        cells: [{ cell_type: 'code', metadata: {}, source: 'print(1)', outputs: [], execution_count: null }],
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        nbformat: 4,
        nbformat_minor: 5
      }
    }
  });
  const pod = row.locator('.jp-runlab-KubePod');
  await expect(pod, 'the pool started a pod for the job').toHaveCount(1, { timeout: 60_000 });
  await expect(pod).toHaveAttribute('data-phase', 'Pending');
  await expect(pod.locator('.jp-runlab-KubePod-state')).toContainText("didn't match Pod's node affinity/selector", { timeout: 30_000 });
  await expect(pod.getByRole('button', { name: `job ${job.id.slice(0, 8)}` })).toBeVisible();
  await expect(row.locator('.jp-runlab-PoolRow-pods')).toHaveText('0 of 2 running, 1 pending');
  // The pod's runner is in the runners list, marked as the pool's.
  await expect(panel.locator('.jp-runlab-RunnerList[aria-label="Runners"] .jp-runlab-RunnerPool')).toHaveText('pool ui-pool');
  await screenshot(page, 'kubernetes-runner-pools-light');
  await setTheme(page, 'JupyterLab Dark');
  await screenshot(page, 'kubernetes-runner-pools-dark');
  await setTheme(page, 'JupyterLab Light');

  await row.getByRole('button', { name: 'Remove pool…' }).click();
  await expect(page.locator('.jp-Dialog')).toContainText('its 1 running pod(s) are deleted and their jobs go back to the queue');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Remove' }).click();
  await expect(row).toHaveCount(0);
  const { pools } = await runlab.api<{ pools: unknown[] }>('/api/runner-pools');
  expect(pools).toHaveLength(0);
});
