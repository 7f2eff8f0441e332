/**
 * The `runlab` worker fixture: a real companion server (SQLite data dir in a temp folder) and a
 * real JupyterLab from the project venv with the built extension, configured the way a user's
 * settings would be. Tests can stop and start the companion server on the same port.
 */
import { test as base, expect, Page } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ensureProject,
  freePort,
  seedWorkspace,
  startCompanionServer as untypedStartCompanionServer,
  startJupyterLab as untypedStartJupyterLab
} from '../../scripts/launch.mjs';
import { VENV } from '../../scripts/setup.mjs';

/**
 * scripts/launch.mjs is plain JavaScript, so TypeScript infers its option types from the defaults:
 * `logFile = null` reads as "always null", `extraArgs = []` as `never[]`, and `defaultPath` (no
 * default) as required. The same functions, typed with the options the tests pass.
 */
type WithOptions<F, O> = F extends (options: infer P) => infer R ? (options: Omit<P, keyof O> & O) => R : never;
const startCompanionServer = untypedStartCompanionServer as WithOptions<typeof untypedStartCompanionServer, { logFile?: string | null }>;
const startJupyterLab = untypedStartJupyterLab as WithOptions<
  typeof untypedStartJupyterLab,
  { defaultPath?: string; logFile?: string | null; extraArgs?: string[] }
>;

export interface RunlabFixture {
  labUrl: string;
  labToken: string;
  serverUrl: string;
  /** The companion server's local admin token (a user token). */
  serverToken: string;
  rootDir: string;
  dataDir: string;
  /** Call the companion server's REST API with the admin token; throws on non-2xx. */
  api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** Open a JupyterLab path (e.g. `lab/tree/demo.ipynb`) logged in. */
  open(page: Page, labPath: string): Promise<void>;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
}

const SITE_PACKAGES = fs
  .readdirSync(path.join(VENV, 'lib'))
  .map((name) => path.join(VENV, 'lib', name, 'site-packages'))
  .find((dir) => fs.existsSync(dir)) as string;

/**
 * A kernel whose Python has ipykernel but not the runlab package: `-S` skips site processing,
 * so the editable install's .pth file is never read. Used to check what the panel says then.
 */
function writeKernelWithoutRunlab(jupyterPath: string): void {
  const dir = path.join(jupyterPath, 'kernels', 'python-without-runlab');
  fs.mkdirSync(dir, { recursive: true });
  const launcher =
    `import sys; sys.path.append(${JSON.stringify(SITE_PACKAGES)}); ` +
    'from ipykernel.kernelapp import launch_new_instance; launch_new_instance()';
  fs.writeFileSync(
    path.join(dir, 'kernel.json'),
    JSON.stringify({
      argv: [path.join(VENV, 'bin', 'python'), '-S', '-c', launcher, '-f', '{connection_file}'],
      display_name: 'Python (without runlab)',
      language: 'python'
    })
  );
}

export const test = base.extend<object, { runlab: RunlabFixture }>({
  runlab: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads which fixtures this one needs from the pattern: none.
    async ({}, use) => {
      const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-ui-'));
      const dataDir = path.join(temp, 'data');
      const rootDir = path.join(temp, 'workspace');
      const settingsDir = path.join(temp, 'settings');
      const jupyterPath = path.join(temp, 'jupyter');
      const serverPort = await freePort();
      const serverLog = path.join(temp, 'server.log');
      let server = await startCompanionServer({ dataDir, port: serverPort, logFile: serverLog });
      let lab: Awaited<ReturnType<typeof startJupyterLab>> | null = null;
      try {
        await ensureProject(server.url, server.token, 'demo');
        seedWorkspace(rootDir);
        writeKernelWithoutRunlab(jupyterPath);
        // The user's settings, as the sign-in dialog would write them.
        fs.mkdirSync(path.join(settingsDir, 'runlab'), { recursive: true });
        fs.writeFileSync(
          path.join(settingsDir, 'runlab', 'connection.jupyterlab-settings'),
          JSON.stringify({ serverUrl: server.url, token: server.token, project: 'demo' })
        );
        fs.mkdirSync(path.join(settingsDir, '@jupyterlab', 'apputils-extension'), { recursive: true });
        fs.writeFileSync(
          path.join(settingsDir, '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'),
          JSON.stringify({ fetchNews: 'false', checkForUpdates: false })
        );
        const started = await startJupyterLab({
          rootDir,
          port: await freePort(),
          logFile: path.join(temp, 'jupyterlab.log'),
          env: {
            JUPYTERLAB_SETTINGS_DIR: settingsDir,
            JUPYTERLAB_WORKSPACES_DIR: path.join(temp, 'workspaces'),
            JUPYTER_PATH: jupyterPath
          },
          extraArgs: ['--LabApp.expose_app_in_browser=True']
        });
        lab = started;
        await use({
          labUrl: started.url,
          labToken: started.token,
          serverUrl: server.url,
          serverToken: server.token,
          rootDir,
          dataDir,
          api: async <T>(apiPath: string, init: { method?: string; body?: unknown } = {}) => {
            const response = await fetch(`${server.url}${apiPath}`, {
              method: init.method ?? 'GET',
              headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
              body: init.body === undefined ? undefined : JSON.stringify(init.body)
            });
            if (!response.ok) {
              throw new Error(`${init.method ?? 'GET'} ${apiPath}: HTTP ${response.status} ${await response.text()}`);
            }
            return (response.status === 204 ? undefined : await response.json()) as T;
          },
          open: async (page, labPath) => {
            // `reset` starts from an empty workspace, so no test sees the layout of the one before.
            await page.goto(`${started.url}/${labPath}?reset&token=${started.token}`);
            await page.locator('#jp-main-dock-panel').waitFor();
            await page.waitForFunction(() => (window as unknown as { jupyterapp?: unknown }).jupyterapp !== undefined);
            await page.evaluate(() => (window as unknown as { jupyterapp: { restored: Promise<void> } }).jupyterapp.restored);
          },
          stopServer: () => server.stop(),
          startServer: async () => {
            server = await startCompanionServer({ dataDir, port: serverPort, logFile: serverLog });
          }
        });
      } finally {
        await lab?.stop();
        await server.stop();
        fs.rmSync(temp, { recursive: true, force: true });
      }
    },
    { scope: 'worker', timeout: 120_000 }
  ]
});

export { expect };

interface ILabWindow {
  jupyterapp: { commands: { execute(id: string, args?: unknown): Promise<unknown> } };
}

/** Run a JupyterLab command, as the command palette would. */
export async function runCommand(page: Page, id: string, args: unknown = {}): Promise<void> {
  await page.evaluate(([id, args]) => (window as unknown as ILabWindow).jupyterapp.commands.execute(id as string, args), [id, args]);
}

/** Open the Runlab sidebar panel with its command (idempotent, unlike clicking the tab). */
export async function openRunlabPanel(page: Page): Promise<void> {
  await runCommand(page, 'runlab:open-panel');
  await expect(page.locator('#jp-runlab-panel')).toBeVisible();
}

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

/** Saved for people to look at (ui-tests/screenshots, not committed). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

export interface ISeedFile {
  path: string;
  content: string;
}

/** A dataset version as the server answers it (the fields the tests use). */
export interface ISeededVersion {
  id: string;
  label: string;
  number: number;
  datasetName: string;
  producedByRunId: string | null;
}

async function rawRequest(runlab: RunlabFixture, method: string, apiPath: string, body: Uint8Array): Promise<unknown> {
  const response = await fetch(`${runlab.serverUrl}${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${runlab.serverToken}`, 'Content-Type': 'application/octet-stream' },
    body: new Uint8Array(body)
  });
  if (!response.ok) {
    throw new Error(`${method} ${apiPath}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.json();
}

/**
 * Commit a dataset version over HTTP, as the Python client would: each (small) file is one
 * chunk, uploaded raw (codec 0) in the contract's framing, then the manifest is committed.
 */
export async function commitDataset(
  runlab: RunlabFixture,
  project: string,
  name: string,
  files: ISeedFile[],
  options: { runId?: string; message?: string } = {}
): Promise<ISeededVersion> {
  const { createHash } = await import('node:crypto');
  const frames: Buffer[] = [];
  const manifest = files.map((file) => {
    const bytes = Buffer.from(file.content, 'utf8');
    const digest = createHash('sha256').update(bytes).digest();
    const header = Buffer.alloc(9);
    header.writeUInt8(0, 0); // codec: raw
    header.writeUInt32BE(bytes.length, 1);
    header.writeUInt32BE(bytes.length, 5);
    frames.push(digest, header, bytes);
    return { path: file.path, size: bytes.length, mode: 0o644, chunks: [[digest.toString('hex'), bytes.length]] };
  });
  await rawRequest(runlab, 'POST', '/api/chunks', Buffer.concat(frames));
  const { version } = await runlab.api<{ version: ISeededVersion }>(
    `/api/projects/${encodeURIComponent(project)}/datasets/${encodeURIComponent(name)}/versions`,
    { method: 'POST', body: { files: manifest, message: options.message ?? '', runId: options.runId ?? null } }
  );
  return version;
}

/** Store a file with a run (the artifact upload route takes raw bytes). */
export async function putArtifact(runlab: RunlabFixture, runId: string, artifactPath: string, content: string): Promise<void> {
  await rawRequest(
    runlab,
    'PUT',
    `/api/runs/${encodeURIComponent(runId)}/artifacts?path=${encodeURIComponent(artifactPath)}`,
    Buffer.from(content, 'utf8')
  );
}

/** Switch JupyterLab's theme and wait until it applies. */
export async function setTheme(page: Page, theme: 'JupyterLab Light' | 'JupyterLab Dark'): Promise<void> {
  await runCommand(page, 'apputils:change-theme', { theme });
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', theme === 'JupyterLab Light' ? 'true' : 'false');
  // JupyterLab shows its splash over the page while the theme's CSS loads.
  await expect(page.locator('#jupyterlab-splash')).toHaveCount(0);
}

/** Open a file in JupyterLab (the open command answers with the widget, which cannot cross to the test). */
export async function openFile(page: Page, filePath: string): Promise<void> {
  await page.evaluate(async (filePath) => {
    await (window as unknown as ILabWindow).jupyterapp.commands.execute('docmanager:open', { path: filePath });
  }, filePath);
}

/** A notebook file of code cells (Python 3 kernel), written straight to disk. */
export function writeNotebook(file: string, sources: string[]): void {
  fs.writeFileSync(
    file,
    JSON.stringify({
      cells: sources.map((source) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source })),
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' } },
      nbformat: 4,
      nbformat_minor: 5
    })
  );
}

/** A companion server a test starts and stops itself (the worker's `runlab` has its own). */
export async function startServerFor(dataDir: string, logFile: string): Promise<{ url: string; token: string; stop(): Promise<void> }> {
  const server = await startCompanionServer({ dataDir, port: await freePort(), logFile });
  await ensureProject(server.url, server.token, 'demo');
  return server;
}

export interface ILabWithDefaults {
  url: string;
  /** Open a JupyterLab path (e.g. `lab`) logged in, from an empty layout. */
  open(page: Page, labPath: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A JupyterLab started as `npm start` starts one: its settings defaults for `runlab:connection`
 * (and `runlab:panel`) name the local companion server, as scripts/launch.mjs writeSettingsDefaults
 * writes them. npm start puts them in the venv's overrides.json, which it and other tests
 * rewrite; here they go in this JupyterLab's own labconfig/default_setting_overrides.json
 * (JupyterLab reads it after overrides.json, so it wins). `settingsDir` holds the user's own
 * settings and may outlive the JupyterLab, as a user's do from one npm start to the next.
 */
export async function startLabWithDefaults(options: {
  temp: string;
  settingsDir: string;
  defaults: { serverUrl: string; token: string; project: string };
}): Promise<ILabWithDefaults> {
  const { temp, settingsDir, defaults } = options;
  const port = await freePort();
  const configDir = path.join(temp, `jupyter-config-${port}`);
  fs.mkdirSync(path.join(configDir, 'labconfig'), { recursive: true });
  fs.writeFileSync(
    path.join(configDir, 'labconfig', 'default_setting_overrides.json'),
    JSON.stringify({ 'runlab:connection': defaults, 'runlab:panel': { showOnStart: true } })
  );
  fs.mkdirSync(path.join(settingsDir, '@jupyterlab', 'apputils-extension'), { recursive: true });
  fs.writeFileSync(
    path.join(settingsDir, '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'),
    JSON.stringify({ fetchNews: 'false', checkForUpdates: false })
  );
  const rootDir = path.join(temp, 'workspace');
  seedWorkspace(rootDir);
  const lab = await startJupyterLab({
    rootDir,
    port,
    logFile: path.join(temp, `jupyterlab-${port}.log`),
    env: {
      JUPYTERLAB_SETTINGS_DIR: settingsDir,
      JUPYTERLAB_WORKSPACES_DIR: path.join(temp, 'workspaces'),
      JUPYTER_CONFIG_DIR: configDir
    },
    extraArgs: ['--LabApp.expose_app_in_browser=True']
  });
  return {
    url: lab.url,
    open: async (page, labPath) => {
      await page.goto(`${lab.url}/${labPath}?reset&token=${lab.token}`);
      await page.locator('#jp-main-dock-panel').waitFor();
      await page.waitForFunction(() => (window as unknown as { jupyterapp?: unknown }).jupyterapp !== undefined);
      await page.evaluate(() => (window as unknown as { jupyterapp: { restored: Promise<void> } }).jupyterapp.restored);
    },
    stop: () => lab.stop()
  };
}

export interface IRunnerAgent {
  /** The agent's own log, named in failure messages. */
  log: string;
  /** SIGTERM drains it; SIGKILL if it is still there after 10 s. */
  stop(): Promise<void>;
}

/** A real `runlab runner start` process with a runner token, logging to a temp work dir. */
export function startRunnerAgent(server: string, token: string): IRunnerAgent {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-runner-'));
  const log = path.join(workDir, 'agent.log');
  const logStream = fs.openSync(log, 'w');
  const agent = spawn(path.join(VENV, 'bin', 'runlab'), ['runner', 'start', '--server', server, '--token', token, '--work-dir', workDir], {
    stdio: ['ignore', logStream, logStream],
    env: { ...process.env, RUNLAB_DATA_DIR: workDir }
  });
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  return {
    log,
    async stop() {
      if (agent.exitCode === null && agent.signalCode === null) {
        agent.kill('SIGTERM');
        const timer = setTimeout(() => agent.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.closeSync(logStream);
    }
  };
}

/** Removes the runner of that name, if it is registered (a spec leaves the runners as it found them). */
export async function removeRunner(runlab: RunlabFixture, name: string): Promise<void> {
  const { runners } = await runlab.api<{ runners: { id: string; name: string }[] }>('/api/runners');
  for (const runner of runners.filter((candidate) => candidate.name === name)) {
    await runlab.api(`/api/runners/${runner.id}`, { method: 'DELETE' });
  }
}
