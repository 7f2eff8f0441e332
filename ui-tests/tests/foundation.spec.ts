/**
 * The foundation, as a user sees it: the Runlab panel connects, notices when the companion
 * server goes away and reconnects when it comes back; the notebook kernel gets the client with
 * no configuration; a kernel without the package gets the exact install command.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, openRunlabPanel, runCommand, screenshot, test } from './fixtures';

test('the panel shows connected, notices the server stopping and reconnects', async ({ page, runlab }) => {
  await runlab.open(page, 'lab/tree/demo.ipynb');
  await openRunlabPanel(page);
  const status = page.locator('#jp-runlab-panel .jp-runlab-ConnectionStatus');
  await expect(status).toHaveAttribute('data-status', 'connected');
  await expect(status).toContainText('Connected');
  await expect(page.locator('#jp-runlab-panel .jp-runlab-ProjectName')).toHaveText('demo');
  await expect(page.locator('.jp-runlab-StatusItem')).toContainText('Runlab: Connected');
  await screenshot(page, 'panel-connected-light');

  await runlab.stopServer();
  await expect(status).toHaveAttribute('data-status', 'unreachable');
  await expect(page.locator('#jp-runlab-panel')).toContainText('Cannot reach the Runlab server');
  await expect(page.locator('.jp-runlab-StatusItem')).toContainText('Server unreachable');
  await screenshot(page, 'panel-unreachable');

  await runlab.startServer();
  await expect(status).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
  await expect(page.locator('.jp-runlab-StatusItem')).toContainText('Runlab: Connected');
});

test('%runlab status in a notebook cell shows the connection', async ({ page, runlab }) => {
  await runlab.open(page, 'lab/tree/demo.ipynb');
  await openRunlabPanel(page);
  const kernel = page.locator('#jp-runlab-panel .jp-runlab-Kernel');
  await expect(kernel).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
  await expect(kernel).toContainText('demo.ipynb');

  const cell = page.locator('.jp-Notebook .jp-CodeCell').first();
  await cell.locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
  const output = cell.locator('.jp-OutputArea-output');
  await expect(output).toContainText('connected', { timeout: 60_000 });
  await expect(output).toContainText(runlab.serverUrl);
  await expect(output).toContainText(/project:\s+demo/);
  await expect(output).toContainText(/notebook:\s+demo\.ipynb/);
  await expect(output).not.toContainText('Traceback');
  await screenshot(page, 'runlab-status-cell');
});

test('a kernel without the runlab package gets the exact pip command', async ({ page, runlab }) => {
  const notebook = JSON.parse(fs.readFileSync(path.join(runlab.rootDir, 'demo.ipynb'), 'utf8'));
  notebook.metadata.kernelspec = { name: 'python-without-runlab', display_name: 'Python (without runlab)', language: 'python' };
  fs.writeFileSync(path.join(runlab.rootDir, 'bare.ipynb'), JSON.stringify(notebook));

  await runlab.open(page, 'lab/tree/bare.ipynb');
  await openRunlabPanel(page);
  const kernel = page.locator('#jp-runlab-panel .jp-runlab-Kernel');
  await expect(kernel).toHaveAttribute('data-status', 'missing-package', { timeout: 60_000 });
  await expect(kernel).toContainText('does not have the runlab package');
  await expect(kernel.locator('.jp-runlab-Command')).toHaveText(/^".*python.*" -m pip install runlab$/);
  await screenshot(page, 'panel-missing-package');
});

test('signing in with a wrong token says so; the right token connects again', async ({ page, runlab }) => {
  await runlab.open(page, 'lab');
  await openRunlabPanel(page);
  const status = page.locator('#jp-runlab-panel .jp-runlab-ConnectionStatus');
  await expect(status).toHaveAttribute('data-status', 'connected');

  const signIn = async (token: string) => {
    await page.locator('#jp-runlab-panel').getByRole('button', { name: 'Sign in…' }).click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog.getByLabel('Server URL')).toHaveValue(runlab.serverUrl);
    await dialog.getByLabel('Access token').fill(token);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await expect(dialog).toBeHidden();
  };

  await signIn('rl_u_not-a-real-token');
  await expect(status).toHaveAttribute('data-status', 'unauthorized');
  await expect(page.locator('#jp-runlab-panel')).toContainText('npx runlab-server token create');
  await expect(page.locator('.jp-runlab-StatusItem')).toContainText('Not authorized');
  await screenshot(page, 'panel-unauthorized');

  await signIn(runlab.serverToken);
  await expect(status).toHaveAttribute('data-status', 'connected');

  // Revoking the token in use cuts the open connection off at once, and the panel says why.
  const created = await runlab.api<{ secret: string; token: { id: string } }>('/api/tokens', {
    method: 'POST',
    body: { name: 'revoked-while-open' }
  });
  await signIn(created.secret);
  await expect(status).toHaveAttribute('data-status', 'connected');
  await runlab.api(`/api/tokens/${created.token.id}`, { method: 'DELETE' });
  await expect(status).toHaveAttribute('data-status', 'unauthorized', { timeout: 5_000 });
  await expect(page.locator('#jp-runlab-panel')).toContainText('was revoked');

  await signIn(runlab.serverToken);
  await expect(status).toHaveAttribute('data-status', 'connected');
});

test('activation time is measured and printed; the panel reads well in the dark theme', async ({ page, runlab }) => {
  await runlab.open(page, 'lab/tree/demo.ipynb');
  await openRunlabPanel(page);
  const measures = await page.evaluate(() =>
    performance
      .getEntriesByType('measure')
      .filter((entry) => entry.name.startsWith('runlab:activate:'))
      .map((entry) => ({ name: entry.name, duration: entry.duration }))
  );
  const total = measures.reduce((sum, entry) => sum + entry.duration, 0);
  console.log(
    `Runlab extension activation: ${total.toFixed(1)} ms in total (budget < 150 ms)\n` +
      measures.map((entry) => `  ${entry.name}: ${entry.duration.toFixed(1)} ms`).join('\n')
  );
  // One measure per plugin: every Runlab plugin activated.
  expect(measures.map((entry) => entry.name).sort()).toEqual(
    [
      'connection',
      'datasets',
      'deployments',
      'kernel',
      'models',
      'monitoring',
      'panel',
      'projects',
      'provenance',
      'runners',
      'runs',
      'snapshots',
      'statusbar',
      'sweeps'
    ]
      .map((id) => `runlab:activate:runlab:${id}`)
      .sort()
  );

  await runCommand(page, 'apputils:change-theme', { theme: 'JupyterLab Dark' });
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', 'false');
  const status = page.locator('#jp-runlab-panel .jp-runlab-ConnectionStatus');
  await expect(status).toHaveAttribute('data-status', 'connected');
  // Text stays readable: the panel's text colour is light on the dark theme.
  const color = await status.evaluate((node) => getComputedStyle(node).color);
  const [r, g, b] = color.match(/\d+/g)!.map(Number);
  expect((r + g + b) / 3).toBeGreaterThan(150);
  await screenshot(page, 'panel-connected-dark');
  await runCommand(page, 'apputils:change-theme', { theme: 'JupyterLab Light' });
});

test("the Runlab menu lists every feature's commands, each declared in that feature's schema", async ({ page, runlab }) => {
  await runlab.open(page, 'lab/tree/demo.ipynb');
  await page.locator('#jp-MainMenu').getByText('Runlab', { exact: true }).click();
  const menu = page.locator('.lm-Menu:visible').last();
  const labels = await menu.locator('.lm-Menu-itemLabel').allInnerTexts();
  expect(labels.map((label) => label.trim()).filter(Boolean)).toEqual([
    'Show Panel',
    'Show Runs',
    'Runs Table',
    'Compare Selected Runs',
    'Open Run by Id…',
    'Show Datasets',
    'Pin Dataset Versions for This Notebook…',
    'Show Provenance',
    'Show Runners',
    'Run on Runner…',
    'Sweep…',
    'Open Sweep…',
    'Open Job by Id…',
    'Add Runner Pool…',
    'Remove Runner Pool…',
    'Show Models',
    'Show Deployments',
    'Deploy Model…',
    'Open Monitoring…',
    'Switch Project…',
    'Sign In…',
    'Use the Local Server',
    'Reconnect to Server',
    'Load Client into Kernel',
    'Open Settings'
  ]);
  await screenshot(page, 'runlab-menu');
  await menu.getByText('Show Runs', { exact: true }).click();
  await expect(page.locator('#jp-runlab-runs')).toBeVisible();
});
