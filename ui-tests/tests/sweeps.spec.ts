/**
 * Sweeps as a user sees them: the demo notebook's Sweep button, two of its parameters ticked
 * with the ranges the dialog suggests, a 6-trial random sweep on a real local runner (a real
 * `runlab runner start` process, real kernels), the sweep page following it live to the end —
 * progress, best trial, objective per trial, parallel coordinates, importance — then the best
 * run opened from it, Promote best offering the model version the best trial registered, and the
 * sweep as one row of the Runs panel that expands to its trials. Both themes are screenshotted.
 */
import type { Page } from '@playwright/test';
import { expect, removeRunner, runCommand, screenshot, setTheme, startRunnerAgent, test } from './fixtures';

const RUNNER = 'sweep-runner';

async function openSweepDialog(page: Page) {
  await page.locator('.jp-NotebookPanel-toolbar .jp-runlab-SweepButton').click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-runlab-SweepForm')).toBeVisible();
  return dialog;
}

test('a 6-trial random sweep of the demo notebook on a local runner: watch it finish, open the best run', async ({ page, runlab }) => {
  test.setTimeout(600_000);
  const { token } = await runlab.api<{ token: string }>('/api/runners', { method: 'POST', body: { name: RUNNER, labels: ['sweep-ui'] } });
  const agent = startRunnerAgent(runlab.serverUrl, token);
  try {
    await runlab.open(page, 'lab/tree/demo.ipynb');
    await expect
      .poll(
        async () =>
          (await runlab.api<{ runners: { name: string; status: string }[] }>('/api/runners')).runners.find((r) => r.name === RUNNER)
            ?.status,
        { message: `the runner comes online (agent log: ${agent.log})`, timeout: 60_000 }
      )
      .toBe('online');

    // The dialog lists the parameters cell; nothing ticked, so it says what to do.
    const dialog = await openSweepDialog(page);
    await expect(dialog.locator('tr[data-parameter]')).toHaveCount(3);
    await expect(dialog.locator('tr[data-parameter="max_iter"]')).toContainText('int');
    await dialog.getByLabel('Objective').fill('accuracy');
    await dialog.getByRole('button', { name: 'Start sweep' }).click();
    await expect(dialog.getByRole('alert')).toContainText('Tick at least one parameter to sweep');

    // Sweep test_size over the suggested uniform range and seed over whole numbers.
    await dialog.getByLabel('Sweep test_size').check();
    await expect(dialog.getByLabel('Range of test_size')).toHaveValue('uniform');
    await expect(dialog.getByLabel('Low of test_size')).toHaveValue('0.125');
    await dialog.getByLabel('High of test_size').fill('0.6');
    await dialog.getByLabel('Sweep seed').check();
    await expect(dialog.getByLabel('Range of seed')).toHaveValue('intrange');
    // A bad bound is refused in the dialog, which stays open.
    await dialog.getByLabel('Low of seed').fill('ten');
    await dialog.getByRole('button', { name: 'Start sweep' }).click();
    await expect(dialog.getByRole('alert')).toContainText('seed: low must be a whole number');
    await dialog.getByLabel('Low of seed').fill('0');
    await dialog.getByLabel('High of seed').fill('50');
    await dialog.getByLabel('Search method').selectOption('random');
    await dialog.getByLabel('Trials', { exact: true }).fill('6');
    await dialog.getByLabel('Trials at once').fill('2');
    await dialog.getByLabel('Seed', { exact: true }).fill('11');
    await dialog.getByLabel('Runner labels').fill('sweep-ui');
    await screenshot(page, 'sweeps-dialog-light');
    await dialog.getByRole('button', { name: 'Start sweep' }).click();
    await expect(dialog).toHaveCount(0);

    // The sweep page follows it live.
    const view = page.locator('.jp-runlab-SweepView[data-sweep]');
    await expect(view).toBeVisible();
    const sweepId = (await view.getAttribute('data-sweep'))!;
    await expect(view.locator('.jp-runlab-SweepProgress-text')).toContainText('of 6 trials done');
    await expect(view.locator('.jp-runlab-SweepStatus')).toHaveText('Running');
    await expect(view.locator('.jp-runlab-SweepTrials tr[data-trial]').first()).toBeVisible({ timeout: 60_000 });
    await expect(view.locator('.jp-runlab-SweepBest-number'), `a first trial finishes (agent log: ${agent.log})`).toBeVisible({
      timeout: 240_000
    });
    await screenshot(page, 'sweeps-live-light');

    await expect(view.locator('.jp-runlab-SweepStatus'), `the sweep finishes (agent log: ${agent.log})`).toHaveText('Finished', {
      timeout: 480_000
    });
    await expect(view.locator('.jp-runlab-SweepProgress-text')).toContainText('6 of 6 trials done · 0 running · 0 queued');
    const rows = view.locator('.jp-runlab-SweepTrials tr[data-trial]');
    await expect(rows).toHaveCount(6);
    await expect(view.locator('.jp-runlab-SweepTrials tr[data-status="finished"]')).toHaveCount(6);
    // What the server says agrees: exactly six, each with its own run, the best the highest.
    const sweep = await runlab.api<{ done: number; best: { runId: string; value: number; number: number } }>(`/api/sweeps/${sweepId}`);
    const { trials } = await runlab.api<{ trials: { runId: string; value: number; params: Record<string, number> }[] }>(
      `/api/sweeps/${sweepId}/trials`
    );
    expect(sweep.done).toBe(6);
    expect(new Set(trials.map((trial) => trial.runId)).size).toBe(6);
    expect(sweep.best.value).toBe(Math.max(...trials.map((trial) => trial.value)));
    for (const trial of trials) {
      expect(trial.params.test_size).toBeGreaterThanOrEqual(0.125);
      expect(trial.params.test_size).toBeLessThanOrEqual(0.6);
      expect(Number.isInteger(trial.params.seed)).toBe(true);
    }
    await expect(view.locator('.jp-runlab-SweepBest-value')).toContainText(`in trial ${sweep.best.number}`);
    await expect(view.locator('.jp-runlab-SweepBest-params tr[data-parameter]')).toHaveCount(2);
    await expect(view.locator(`.jp-runlab-SweepTrials tr.jp-runlab-mod-best`)).toHaveAttribute('data-trial', String(sweep.best.number));
    // The charts: a dot per trial, a line per trial across the axes, importance per parameter.
    await expect(view.locator('.jp-runlab-SweepObjective .recharts-scatter-symbol')).toHaveCount(6);
    await expect(view.locator('.jp-runlab-ParallelAxis')).toHaveCount(3);
    await expect(view.locator('.jp-runlab-ParallelLine')).toHaveCount(6);
    await expect(view.locator('.jp-runlab-ParallelLine.jp-runlab-mod-best')).toHaveAttribute('data-trial', String(sweep.best.number));
    const importance = view.locator('.jp-runlab-SweepImportance li[data-parameter]');
    if (new Set(trials.map((trial) => trial.value)).size > 1) {
      await expect(importance).toHaveCount(2);
    }
    await screenshot(page, 'sweeps-finished-light');
    await setTheme(page, 'JupyterLab Dark');
    await screenshot(page, 'sweeps-finished-dark');
    await setTheme(page, 'JupyterLab Light');

    // Promote best offers the model version the best trial's run registered (the demo registers iris).
    const promote = view.locator('.jp-runlab-SweepPromote');
    await expect(promote).toBeEnabled({ timeout: 30_000 });
    await expect(promote).toHaveText(/Promote best: iris v\d+…/);
    await promote.click();
    const aliasDialog = page.locator('.jp-Dialog');
    await expect(aliasDialog).toContainText('iris');
    await aliasDialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(aliasDialog).toHaveCount(0);

    // Open the best run: its accuracy is the sweep's best.
    await view.getByRole('button', { name: 'Open best run' }).click();
    const runView = page.locator(`.jp-runlab-RunView[data-run-id="${sweep.best.runId}"]`);
    await expect(runView).toBeVisible();
    await expect(runView).toContainText('accuracy');

    // The Runs panel: the sweep is one row, expanding to its six trials; the row opens the sweep.
    await runCommand(page, 'runlab:open-runs');
    const panel = page.locator('#jp-runlab-runs');
    const sweepRow = panel.locator(`.jp-runlab-RunRow[data-sweep="${sweepId}"]`);
    await expect(sweepRow.locator('.jp-runlab-RunRow-runner')).toHaveText('sweep');
    await expect(sweepRow.locator('.jp-runlab-RunRow-children')).toHaveText('▸ 6');
    await expect(panel.locator('.jp-runlab-RunRow[data-depth="1"]')).toHaveCount(0);
    await expect(panel.locator(`.jp-runlab-RunRow[data-run-id="${sweep.best.runId}"]`)).toHaveCount(0);
    await sweepRow.locator('.jp-runlab-RunRow-children').click();
    await expect(panel.locator('.jp-runlab-RunRow[data-depth="1"]')).toHaveCount(6);
    await expect(panel.locator(`.jp-runlab-RunRow[data-run-id="${sweep.best.runId}"]`)).toHaveAttribute('data-depth', '1');
    await screenshot(page, 'sweeps-runs-panel-light');
    await sweepRow.locator('.jp-runlab-RunRow-main').click();
    await expect(view).toBeVisible();
  } finally {
    await agent.stop();
    await removeRunner(runlab, RUNNER);
  }
});
