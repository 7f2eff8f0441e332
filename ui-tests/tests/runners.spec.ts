/**
 * Runners as a user sees them: a runner added from the Runners panel (its one-line command),
 * started as a real `runlab runner start` process with that command's token, a notebook
 * run on it from the notebook toolbar (cells progress in the job view, its run appears in the
 * Runs panel), then Re-run on that run and the comparison of the two runs.
 *
 * The second test shows the same views against stubbed REST answers (no runner needed), for the
 * screenshots in both themes and for what the dialogs do with a refusal.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page, Route } from '@playwright/test';
import { expect, removeRunner, runCommand, screenshot, setTheme, startRunnerAgent, test } from './fixtures';

async function openRunnersPanel(page: Page): Promise<void> {
  await runCommand(page, 'runlab:open-runners');
  await expect(page.locator('#jp-runlab-runners')).toBeVisible();
}

/** Waits for the job to end; a job that did not finish fails the test with the job's own error. */
async function expectJobFinished(job: Locator, agentLog: string): Promise<void> {
  await expect
    .poll(() => job.getAttribute('data-status'), { message: `the job ends (agent log: ${agentLog})`, timeout: 240_000 })
    .toMatch(/^(finished|failed|cancelled|timed_out)$/);
  const status = await job.getAttribute('data-status');
  const error = status === 'finished' ? '' : await job.locator('.jp-runlab-RunError p').first().textContent();
  expect(status, `the job ended ${status}: ${error} (agent log: ${agentLog})`).toBe('finished');
}

test('a runner added from the panel runs the demo notebook; Re-run compares the two runs', async ({ page, runlab }) => {
  test.setTimeout(420_000);
  await runlab.open(page, 'lab/tree/demo.ipynb');
  await openRunnersPanel(page);
  const panel = page.locator('#jp-runlab-runners');
  // Until the server has the runners routes, the panel says so here (and the test stops).
  await expect(panel.getByRole('alert'), 'the server answers /api/runners').toHaveCount(0);
  await expect(panel.locator('.jp-runlab-RunnersEmpty')).toContainText('A runner is a machine');
  await screenshot(page, 'runners-empty-light');

  // Add a runner: name and labels, then the one-line command with its token, shown once.
  await panel.getByRole('button', { name: 'Add runner…' }).click();
  const addDialog = page.locator('.jp-Dialog');
  await addDialog.getByLabel('Runner name').fill('ui-runner');
  await addDialog.getByLabel('Runner labels').fill('uitest, cpu');
  await addDialog.getByRole('button', { name: 'Add runner' }).click();
  const command = page.locator('.jp-runlab-RunnerCommand-text');
  await expect(command).toBeVisible();
  const line = (await command.textContent()) ?? '';
  const parsed = /runlab runner start --server (\S+) --token (\S+)/.exec(line);
  expect(parsed, `the command shown: ${line}`).not.toBeNull();
  const [, server, token] = parsed!;
  expect(server.replace(/\/$/, '')).toBe(runlab.serverUrl.replace(/\/$/, ''));
  await expect(page.locator('.jp-runlab-RunnerCommand')).toContainText('shown only this once');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Done' }).click();
  const row = panel.locator('.jp-runlab-RunnerRow[data-runner="ui-runner"]');
  await expect(row).toBeVisible();
  await expect(row.locator('.jp-runlab-RunnerLabel')).toHaveText(['uitest', 'cpu']);

  // Start that runner as a real process with the command's token.
  const agent = startRunnerAgent(server, token);
  const agentLog = agent.log;
  try {
    await expect(row, `the runner comes online (agent log: ${agentLog})`).toHaveAttribute('data-status', 'online', { timeout: 60_000 });
    await expect(row.locator('.jp-runlab-RunnerCapacity')).toContainText(/\d+ cores? · /);
    await expect(row.locator('.jp-runlab-RunnerHeartbeat')).toContainText(/heartbeat \d+ s ago/);

    // Run the demo notebook on it from the notebook toolbar.
    await page.locator('.jp-NotebookPanel-toolbar .jp-runlab-RunOnRunnerButton').click();
    const runDialog = page.locator('.jp-Dialog');
    await expect(runDialog.locator('.jp-runlab-RunForm')).toContainText('ui-runner');
    await runDialog.getByLabel('Runner labels').fill('uitest');
    await expect(runDialog.locator('tr[data-parameter="max_iter"]')).toContainText('int');
    await runDialog.getByLabel('Parameter max_iter').fill('200');
    await runDialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.locator('.jp-runlab-JobView[data-job-id]')).toBeVisible();
    const firstJobId = (await page.locator('.jp-runlab-JobView[data-job-id]').getAttribute('data-job-id'))!;
    const job = page.locator(`.jp-runlab-JobView[data-job-id="${firstJobId}"]`);
    await expect(job.locator('.jp-runlab-JobProgress-text')).toContainText(/Cell \d+ of \d+/, { timeout: 120_000 });
    await expect(job.locator('.jp-runlab-JobRunner')).toContainText('on ui-runner');
    await screenshot(page, 'runners-job-live-light');
    await expectJobFinished(job, agentLog);
    // The demo commits iris, trains on it and prints the accuracy: all of it ran on the runner.
    await expect(job.locator('.jp-runlab-JobOutput')).toContainText(/accuracy: 0\.\d{3}/);
    await expect(job.locator('.jp-runlab-JobProgress-text')).toContainText(/All \d+ cells ran/);
    await expect(job.locator('.jp-runlab-JobCancel')).toBeDisabled();
    const runId = (await job.getAttribute('data-run-id'))!;

    // Its run appears in the Runs panel.
    await runCommand(page, 'runlab:open-runs');
    const runRow = page.locator(`#jp-runlab-runs .jp-runlab-RunRow[data-run-id="${runId}"]`);
    await expect(runRow).toHaveAttribute('data-status', 'finished');
    // Marked with the runner it ran on, like a local run otherwise.
    await expect(runRow.locator('.jp-runlab-RunRow-runner')).toHaveText('on ui-runner');

    // Re-run it from the run view: a new job, then the comparison of the two runs.
    await job.locator('.jp-runlab-JobOpenRun').click();
    const runView = page.locator(`.jp-runlab-RunView[data-run-id="${runId}"]`);
    await expect(runView.locator('.jp-runlab-RanOn')).toContainText('ran on ui-runner (attempt 1)');
    await runView.locator('.jp-runlab-RerunButton').click();
    const shown = page.locator('.jp-runlab-JobView[data-job-id]:visible');
    await expect(shown).not.toHaveAttribute('data-job-id', firstJobId);
    // The comparison replaces it in front once it finishes: follow it by its id.
    const rerunJob = page.locator(`.jp-runlab-JobView[data-job-id="${await shown.getAttribute('data-job-id')}"]`);
    await expect(rerunJob).not.toHaveAttribute('data-run-id', runId);
    await expectJobFinished(rerunJob, agentLog);
    const compare = page.locator('.jp-runlab-CompareView');
    await expect(compare, `the re-run finishes and is compared (agent log: ${agentLog})`).toBeVisible({ timeout: 240_000 });
    await expect(compare.locator('.jp-runlab-CompareRuns li')).toHaveCount(2);
    await expect(compare.locator(`.jp-runlab-CompareRuns li[data-run-id="${runId}"]`)).toHaveCount(1);
    // Re-produced with the same snapshot, data and parameters: the accuracy is the same.
    await expect(compare.locator('.jp-runlab-CompareVerdict [data-verdict="equal"]')).toContainText('accuracy');
    await expect(compare.locator('.jp-runlab-CompareVerdict [data-verdict="differ"]')).toHaveCount(0);
    await screenshot(page, 'runners-rerun-compare-light');

    // The new run says what it re-runs and where it ran.
    const rerunRunId = (await rerunJob.getAttribute('data-run-id'))!;
    await expect(compare.locator(`.jp-runlab-CompareRuns li[data-run-id="${rerunRunId}"]`)).toHaveCount(1);
    await runCommand(page, 'runlab:open-run', { runId: rerunRunId });
    const rerunView = page.locator(`.jp-runlab-RunView[data-run-id="${rerunRunId}"]`);
    await expect(rerunView.locator('.jp-runlab-RerunOf')).toContainText(`re-run of${runId.slice(0, 8)}`);
    await expect(rerunView.locator('.jp-runlab-RanOn')).toContainText('ran on ui-runner (attempt 1)');
    await screenshot(page, 'runners-rerun-run-light');
  } finally {
    await agent.stop();
    await removeRunner(runlab, 'ui-runner');
  }
});

// ----- The same views against stubbed REST answers, for screenshots in both themes -----

const GiB = 1024 ** 3;
const now = () => new Date(Date.now() - 3000).toISOString();

function stubRunner(name: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    id: `runner-${name}`,
    name,
    labels: [],
    capacity: { cpus: 16, memoryBytes: 64 * GiB, gpus: [], os: 'Linux 6.8 x86_64', python: '3.12.3' },
    maxJobs: 2,
    status,
    lastHeartbeatAt: now(),
    connectedAt: now(),
    createdAt: now(),
    runningJobs: [],
    ...extra
  };
}

const STUB_JOB = {
  id: 'job-0001-stub',
  projectId: 'stub-project',
  projectName: 'demo',
  runId: 'run-0001-stub',
  name: 'demo.ipynb',
  notebookPath: 'demo.ipynb',
  snapshotCommit: '0123456789abcdef0123456789abcdef01234567',
  parameters: { epochs: 20 },
  datasets: { iris: 'v1' },
  labels: ['gpu'],
  env: 'runner',
  priority: 0,
  status: 'running',
  attemptCount: 1,
  maxRetries: 2,
  timeoutS: 3600,
  createdAt: now(),
  startedAt: now(),
  finishedAt: null,
  error: null,
  runnerName: 'gpu-box-1',
  progress: { cells: 6, cell: 3, state: 'running' },
  rerunOf: null,
  attempts: [
    {
      id: 'attempt-1',
      number: 1,
      runnerId: 'runner-gpu-box-1',
      runnerName: 'gpu-box-1',
      status: 'running',
      startedAt: now(),
      endedAt: null,
      error: null
    }
  ]
};

async function stubRunnersApi(page: Page): Promise<void> {
  const runners = [
    stubRunner('gpu-box-1', 'online', {
      labels: ['gpu', 'bigmem'],
      capacity: {
        cpus: 32,
        memoryBytes: 256 * GiB,
        gpus: [
          { model: 'NVIDIA A100', memoryBytes: 40 * GiB },
          { model: 'NVIDIA A100', memoryBytes: 40 * GiB }
        ],
        os: 'Linux 6.8 x86_64',
        python: '3.12.3'
      },
      runningJobs: [STUB_JOB.id]
    }),
    stubRunner('laptop', 'draining', { labels: ['cpu'], maxJobs: 1 }),
    stubRunner('old-vm', 'offline', { capacity: null, lastHeartbeatAt: null })
  ];
  const json = (route: Route, body: unknown, status = 200) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  await page.route(/\/api\/runners(\?.*)?$/, (route) => {
    if (route.request().method() === 'GET') {
      return json(route, { runners });
    }
    const { name, labels } = route.request().postDataJSON() as { name: string; labels: string[] };
    if (runners.some((runner) => runner.name === name)) {
      return json(route, { error: { code: 'conflict', message: `A runner named ${name} already exists.`, details: [] } }, 409);
    }
    const token = 'rl_r_stub0123456789abcdefghijklmnop';
    return json(
      route,
      {
        runner: stubRunner(name, 'offline', { labels, capacity: null, lastHeartbeatAt: null }),
        token,
        command: `runlab runner start --server http://127.0.0.1:8765 --token ${token}`
      },
      201
    );
  });
  await page.route(/\/api\/jobs$/, (route) =>
    json(
      route,
      {
        error: {
          code: 'invalid_request',
          message: '`epochs` must be int (the parameters cell sets 10), got str "ten"',
          details: []
        }
      },
      400
    )
  );
  await page.route(/\/api\/jobs\/job-0001-stub$/, (route) => json(route, STUB_JOB));
  await page.route(/\/api\/jobs\/job-0001-stub\/log$/, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: 'Loaded iris@v1: 150 rows\nepoch 1/20 loss 0.98\nepoch 2/20 loss 0.71\nepoch 3/20 loss 0.55\n'
    })
  );
}

test('the Runners panel, its dialogs and the job view read well in both themes (stubbed answers)', async ({ page, runlab }) => {
  fs.writeFileSync(
    path.join(runlab.rootDir, 'params.ipynb'),
    JSON.stringify({
      cells: [
        {
          cell_type: 'code',
          execution_count: null,
          metadata: { tags: ['parameters'] },
          outputs: [],
          source: 'epochs = 10  # passes over the data\nlr: float = 0.1\nmodel = "logreg"\nshuffle = True\nseed = None\nlayers = [64, 32]'
        },
        { cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: 'print(epochs, lr)' }
      ],
      metadata: {
        kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
        runlab: { datasets: { iris: 'v1' } }
      },
      nbformat: 4,
      nbformat_minor: 5
    })
  );
  await stubRunnersApi(page);
  await runlab.open(page, 'lab/tree/params.ipynb');
  for (const theme of ['JupyterLab Light', 'JupyterLab Dark'] as const) {
    const suffix = theme === 'JupyterLab Light' ? 'light' : 'dark';
    await setTheme(page, theme);
    // The notebook's tab in front (the previous round left the job view there).
    await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'params.ipynb' }).click();
    await openRunnersPanel(page);
    const panel = page.locator('#jp-runlab-runners');
    await expect(panel.locator('.jp-runlab-RunnerRow[data-runner="old-vm"]')).toBeVisible();
    const gpu = panel.locator('.jp-runlab-RunnerRow[data-runner="gpu-box-1"]');
    await expect(gpu.locator('.jp-runlab-RunnerCapacity')).toHaveText('32 cores · 256.0 GiB · 2 GPUs (NVIDIA A100, 40.0 GiB)');
    await expect(gpu.locator('.jp-runlab-RunnerJobs')).toHaveText('1 of 2 jobs running');
    await expect(gpu.locator('.jp-runlab-RunnerHeartbeat')).toContainText(/heartbeat \d+ s ago/);
    await expect(panel.locator('.jp-runlab-RunnerRow[data-runner="old-vm"]')).toContainText('capacity unknown until it connects');
    await screenshot(page, `runners-panel-${suffix}`);

    // The Add runner dialog keeps the user's input and says why the server refused it.
    await panel.getByRole('button', { name: 'Add runner…' }).click();
    const addDialog = page.locator('.jp-Dialog');
    await addDialog.getByLabel('Runner name').fill('gpu-box-1');
    await addDialog.getByRole('button', { name: 'Add runner' }).click();
    await expect(addDialog.getByRole('alert')).toContainText('already exists');
    await expect(addDialog.getByLabel('Runner name')).toHaveValue('gpu-box-1');
    await screenshot(page, `runners-add-dialog-${suffix}`);
    await addDialog.getByLabel('Runner name').fill(`new-box-${suffix}`);
    await addDialog.getByLabel('Runner labels').fill('gpu');
    await addDialog.getByRole('button', { name: 'Add runner' }).click();
    await expect(page.locator('.jp-runlab-RunnerCommand-text')).toHaveText(/^runlab runner start --server \S+ --token rl_r_stub/);
    await screenshot(page, `runners-add-command-${suffix}`);
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Done' }).click();
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);
    await expect(panel.locator(`.jp-runlab-RunnerRow[data-runner="new-box-${suffix}"]`)).toHaveAttribute('data-status', 'offline');

    // Run on Runner: parameters from the cell tagged `parameters`, the pins; a 400 keeps it open.
    await page.locator('.jp-NotebookPanel-toolbar .jp-runlab-RunOnRunnerButton').click();
    const runDialog = page.locator('.jp-Dialog');
    const epochs = runDialog.locator('tr[data-parameter="epochs"]');
    await expect(epochs).toContainText('int');
    await expect(epochs.getByLabel('Parameter epochs')).toHaveValue('10');
    await expect(runDialog.locator('tr[data-parameter="lr"]')).toContainText('float');
    await expect(runDialog.locator('tr[data-parameter="shuffle"]')).toContainText('bool');
    await expect(runDialog.locator('tr[data-parameter="layers"]')).toContainText('list');
    await expect(runDialog.getByLabel('Version of iris')).toHaveValue('v1');
    await epochs.getByLabel('Parameter epochs').fill('"ten"');
    await runDialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(runDialog.getByRole('alert')).toContainText('`epochs` must be int');
    await expect(epochs.getByLabel('Parameter epochs')).toHaveValue('"ten"');
    await screenshot(page, `runners-run-dialog-${suffix}`);
    await runDialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);

    // The job view: status, runner and attempt, cell N of M, the output so far.
    await runCommand(page, 'runlab:open-job', { jobId: STUB_JOB.id });
    const job = page.locator(`.jp-runlab-JobView[data-job-id="${STUB_JOB.id}"]`);
    await expect(job.locator('.jp-runlab-JobStatus')).toHaveText('running');
    await expect(job.locator('.jp-runlab-JobRunner')).toHaveText('on gpu-box-1 · attempt 1 of 3');
    await expect(job.locator('.jp-runlab-JobProgress-text')).toHaveText('Cell 4 of 6');
    await expect(job.locator('.jp-runlab-JobOutput')).toContainText('epoch 3/20 loss 0.55');
    await expect(job.locator('.jp-runlab-JobCancel')).toBeEnabled();
    await screenshot(page, `runners-job-${suffix}`);
  }
  await setTheme(page, 'JupyterLab Light');
});
