/**
 * `npm start`, as a user runs it: it brings up the companion server and JupyterLab with the
 * demo notebook open and the Runlab panel showing Connected; Ctrl-C stops both cleanly. When the
 * companion server dies, npm start restarts it and JupyterLab, with its kernel, keeps running.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../../scripts/launch.mjs';
import { ROOT } from '../../scripts/setup.mjs';
import { expect, screenshot, test, writeNotebook } from './fixtures';

interface INpmStart {
  /** The process running scripts/start.mjs, as `npm start` runs it. */
  start: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
  temp: string;
  dataDir: string;
  workspace: string;
  serverPort: number;
  jupyterPort: number;
}

/** Run `npm start` (scripts/start.mjs) on free ports with its data and settings in a temporary folder. */
async function npmStart(prepareWorkspace: (workspace: string) => void = () => undefined): Promise<INpmStart> {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-start-'));
  const dataDir = path.join(temp, 'data');
  const workspace = path.join(temp, 'workspace');
  fs.mkdirSync(workspace);
  prepareWorkspace(workspace);
  const serverPort = await freePort();
  const jupyterPort = await freePort();
  const start = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start.mjs')], {
    cwd: ROOT,
    env: {
      ...process.env,
      CI: 'true',
      RUNLAB_DATA_DIR: dataDir,
      RUNLAB_WORKSPACE: workspace,
      RUNLAB_PORT: String(serverPort),
      JUPYTER_PORT: String(jupyterPort),
      // Keep the tester's own JupyterLab settings and layouts out of it.
      JUPYTERLAB_SETTINGS_DIR: path.join(temp, 'settings'),
      JUPYTERLAB_WORKSPACES_DIR: path.join(temp, 'workspaces')
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let output = '';
  start.stdout!.on('data', (chunk) => (output += chunk));
  start.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
  return { start, output: () => output, exited, temp, dataDir, workspace, serverPort, jupyterPort };
}

interface IProcess {
  pid: number;
  ppid: number;
  args: string;
}

/** Every process below `pid` (children, their children, …), from `ps`. */
function descendants(pid: number): IProcess[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)!)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args }));
  const found: IProcess[] = [];
  for (let parents = [pid]; parents.length;) {
    const children = table.filter((row) => parents.includes(row.ppid));
    found.push(...children);
    parents = children.map((child) => child.pid);
  }
  return found;
}

/** Whether a process is running (not gone, not a zombie waiting to be reaped). */
function isAlive(pid: number): boolean {
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .startsWith('Z');
  } catch {
    return false; // ps exits 1 when there is no such process
  }
}

function serverPid(dataDir: string): number | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'server.json'), 'utf8')).pid;
  } catch {
    return null;
  }
}

test('npm start opens the demo notebook with the panel connected, and Ctrl-C stops everything', async ({ page }) => {
  const { start, output, exited, temp, dataDir, serverPort, jupyterPort } = await npmStart();
  try {
    const labUrl = await waitFor(() => /JupyterLab:\s+(\S+)/.exec(output())?.[1], 120_000, 'npm start to print the JupyterLab URL');
    expect(output()).toContain(`Companion server:  http://127.0.0.1:${serverPort}`);
    // The exact command it runs the companion server with, for running it alone.
    expect(output()).toContain(`npx runlab-server serve --port ${serverPort} --host 127.0.0.1 --data-dir ${dataDir} --log-level warn`);

    await page.goto(labUrl);
    await expect(page.locator('.jp-mod-current[role="tab"]', { hasText: 'demo.ipynb' })).toBeVisible({ timeout: 60_000 });
    const status = page.locator('#jp-runlab-panel .jp-runlab-ConnectionStatus');
    await expect(status).toBeVisible();
    await expect(status).toHaveAttribute('data-status', 'connected');
    await expect(page.locator('#jp-runlab-panel .jp-runlab-ProjectName')).toHaveText('demo');
    await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
    await screenshot(page, 'npm-start');
  } catch (error) {
    console.log(output());
    throw error;
  } finally {
    start.kill('SIGINT');
  }
  const stopping = Date.now();
  try {
    expect(await exited).toBe(0);
    // Both stopped cleanly: the server removed its server.json, JupyterLab no longer answers.
    expect(fs.existsSync(path.join(dataDir, 'server.json'))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${jupyterPort}/api/status`)).rejects.toThrow();
  } catch (error) {
    console.log(`npm start took ${Date.now() - stopping} ms to stop; it printed:\n${output()}`);
    throw error;
  }
  fs.rmSync(temp, { recursive: true, force: true });
});

test('npm start restarts a killed companion server while JupyterLab and its kernel keep running; SIGTERM stops everything', async ({
  page
}) => {
  test.setTimeout(300_000);
  const { start, output, exited, temp, dataDir, serverPort, jupyterPort } = await npmStart((workspace) =>
    writeNotebook(path.join(workspace, 'survive.ipynb'), ['answer = 41', '%%track --name after-restart\nprint("answer", answer + 1)'])
  );
  let tree: IProcess[] = [];
  try {
    const labUrl = new URL(
      await waitFor(() => /JupyterLab:\s+(\S+)/.exec(output())?.[1], 120_000, 'npm start to print the JupyterLab URL')
    );
    const labToken = labUrl.searchParams.get('token')!;
    const kernels = async () =>
      (await (await fetch(`${labUrl.origin}/api/kernels`, { headers: { Authorization: `token ${labToken}` } })).json()) as {
        id: string;
        execution_state: string;
      }[];

    await page.goto(`${labUrl.origin}/lab/tree/survive.ipynb?token=${labToken}`);
    await expect(page.locator('.jp-mod-current[role="tab"]', { hasText: 'survive.ipynb' })).toBeVisible({ timeout: 60_000 });
    const status = page.locator('#jp-runlab-panel .jp-runlab-ConnectionStatus');
    await expect(status).toHaveAttribute('data-status', 'connected');
    await expect(page.locator('#jp-runlab-panel .jp-runlab-Kernel')).toHaveAttribute('data-status', 'attached', { timeout: 60_000 });
    // State in the kernel that a restarted kernel would not have.
    const cells = page.locator('.jp-Notebook .jp-CodeCell');
    await cells.nth(0).locator('.jp-InputArea-editor').click();
    await page.keyboard.press('Shift+Enter');
    await expect(cells.nth(0).locator('.jp-InputPrompt')).toHaveText('[1]:');
    const [kernel] = await kernels();
    expect(kernel).toBeDefined();

    // Every status the panel shows from now on, in order.
    await page.evaluate(() => {
      const panel = document.querySelector('#jp-runlab-panel')!;
      const seen: string[] = [];
      (window as unknown as { runlabStatuses: string[] }).runlabStatuses = seen;
      new MutationObserver(() => {
        const current = panel.querySelector('.jp-runlab-ConnectionStatus')?.getAttribute('data-status');
        if (current && seen[seen.length - 1] !== current) seen.push(current);
      }).observe(panel, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
    });

    tree = descendants(start.pid!);
    const killed = serverPid(dataDir)!;
    const lab = tree.find((child) => child.ppid === start.pid && child.args.includes('jupyter-lab'))!;
    const kernelProcess = tree.find((child) => child.ppid === lab.pid && child.args.includes('ipykernel'))!;
    expect(tree.map((child) => child.pid)).toContain(killed);
    expect(kernelProcess).toBeDefined();

    process.kill(killed, 'SIGKILL');
    await waitFor(() => /The companion server is back on/.test(output()), 60_000, 'npm start to restart the companion server');
    expect(output()).toContain(
      `The companion server stopped (killed by SIGKILL); restarting it in 0.5 s on port ${serverPort} with the same data directory. JupyterLab keeps running.`
    );
    expect(output()).toContain(`The companion server is back on http://127.0.0.1:${serverPort}`);
    const restarted = serverPid(dataDir);
    expect(restarted).not.toBe(killed);
    expect(isAlive(restarted!)).toBe(true);

    // The panel noticed the server going and reconnected to the new one.
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { runlabStatuses: string[] }).runlabStatuses), { timeout: 30_000 })
      .toContain('unreachable');
    await expect(status).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
    // JupyterLab kept running with the same kernel, its state intact.
    expect(isAlive(lab.pid)).toBe(true);
    expect(isAlive(kernelProcess.pid)).toBe(true);
    const [same, ...others] = await kernels();
    expect(others).toHaveLength(0);
    expect(same.id).toBe(kernel.id);
    expect(same.execution_state).not.toBe('dead');

    // A new %%track cell's run reaches the restarted server and shows in the Runs panel.
    await cells.nth(1).locator('.jp-InputArea-editor').click();
    await page.keyboard.press('Shift+Enter');
    await expect(cells.nth(1).locator('.jp-OutputArea-output')).toContainText('answer 42', { timeout: 30_000 });
    await page.locator('.jp-SideBar [data-id="jp-runlab-runs"]').click();
    const row = page.locator('#jp-runlab-runs .jp-runlab-RunRow', { hasText: 'after-restart' });
    await expect(row).toHaveAttribute('data-status', 'finished', { timeout: 30_000 });
    await screenshot(page, 'npm-start-server-restarted');
  } catch (error) {
    console.log(output());
    throw error;
  } finally {
    // SIGTERM to npm start's own process (not its process group): it stops what it started.
    tree.push(...descendants(start.pid!));
    start.kill('SIGTERM');
  }
  const stoppedAt = Date.now();
  expect(await exited).toBe(0);
  expect(Date.now() - stoppedAt).toBeLessThan(15_000);
  // No orphans: both companion servers, JupyterLab and its kernel are all gone.
  expect(tree.length).toBeGreaterThanOrEqual(4);
  expect(tree.filter((child) => isAlive(child.pid))).toEqual([]);
  expect(fs.existsSync(path.join(dataDir, 'server.json'))).toBe(false);
  await expect(fetch(`http://127.0.0.1:${serverPort}/api/health`)).rejects.toThrow();
  await expect(fetch(`http://127.0.0.1:${jupyterPort}/api/status`)).rejects.toThrow();
  fs.rmSync(temp, { recursive: true, force: true });
});
