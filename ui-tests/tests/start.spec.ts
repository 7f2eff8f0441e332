/**
 * `npm start`, as a user runs it: it brings up the companion server and JupyterLab with the
 * demo notebook open and the Runlab panel showing Connected; Ctrl-C stops both cleanly.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../../scripts/launch.mjs';
import { ROOT } from '../../scripts/setup.mjs';
import { expect, screenshot, test } from './fixtures';

test('npm start opens the demo notebook with the panel connected, and Ctrl-C stops everything', async ({ page }) => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-start-'));
  const dataDir = path.join(temp, 'data');
  const serverPort = await freePort();
  const jupyterPort = await freePort();
  const start = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs')], {
    cwd: ROOT,
    env: {
      ...process.env,
      CI: 'true',
      RUNLAB_DATA_DIR: dataDir,
      RUNLAB_WORKSPACE: path.join(temp, 'workspace'),
      RUNLAB_PORT: String(serverPort),
      JUPYTER_PORT: String(jupyterPort),
      // Keep the tester's own JupyterLab settings and layouts out of it.
      JUPYTERLAB_SETTINGS_DIR: path.join(temp, 'settings'),
      JUPYTERLAB_WORKSPACES_DIR: path.join(temp, 'workspaces')
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let output = '';
  start.stdout.on('data', (chunk) => (output += chunk));
  start.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
  try {
    const labUrl = await waitFor(() => /JupyterLab:\s+(\S+)/.exec(output)?.[1], 120_000, 'npm start to print the JupyterLab URL');
    expect(output).toContain(`Companion server:  http://127.0.0.1:${serverPort}`);

    await page.goto(labUrl);
    await expect(page.locator('.jp-mod-current[role="tab"]', { hasText: 'demo.ipynb' })).toBeVisible({ timeout: 60_000 });
    const status = page.locator('#jp-runlab-panel .jp-runlab-ConnectionStatus');
    await expect(status).toBeVisible();
    await expect(status).toHaveAttribute('data-status', 'connected');
    await expect(page.locator('#jp-runlab-panel .jp-runlab-ProjectName')).toHaveText('demo');
    await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
    await screenshot(page, 'npm-start');
  } catch (error) {
    console.log(output);
    throw error;
  } finally {
    start.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  // Both stopped cleanly: the server removed its server.json, JupyterLab no longer answers.
  expect(fs.existsSync(path.join(dataDir, 'server.json'))).toBe(false);
  await expect(fetch(`http://127.0.0.1:${jupyterPort}/api/status`)).rejects.toThrow();
  fs.rmSync(temp, { recursive: true, force: true });
});
