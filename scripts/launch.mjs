/**
 * Starting and stopping Runlab's processes: the companion server and JupyterLab.
 * Used by `npm start` and by the UI tests, so both run Runlab the same way.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, VENV, VENV_BIN } from './setup.mjs';

export const SERVER_CLI = path.join(ROOT, 'server', 'dist', 'cli.js');

/** Resolve when `predicate()` returns a truthy value; reject after `timeoutMs`. */
export async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A TCP port on 127.0.0.1 that is free now, preferring `preferred`. */
export async function freePort(preferred = 0) {
  const tryListen = (port) =>
    new Promise((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(null));
      probe.listen(port, '127.0.0.1', () => {
        const { port: bound } = probe.address();
        probe.close(() => resolve(bound));
      });
    });
  return (preferred && (await tryListen(preferred))) || tryListen(0);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Where a child's output goes: inherited, ignored, or appended to a log file. */
function outputOf(stdio, logFile) {
  if (logFile) {
    const fd = fs.openSync(logFile, 'a');
    return ['ignore', fd, fd];
  }
  return ['ignore', stdio, stdio];
}

function lastLines(logFile, count = 30) {
  if (!logFile || !fs.existsSync(logFile)) return 'see its output above';
  return 'its last output:\n' + fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
}

function stopProcess(child, timeoutMs = 10000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Start `runlab-server serve` on `dataDir` and wait until it has written server.json.
 * Returns { url, token, pid, child, stop() }.
 */
export async function startCompanionServer({
  dataDir,
  port = 0,
  host = '127.0.0.1',
  logLevel = 'warn',
  stdio = 'inherit',
  logFile = null
}) {
  fs.mkdirSync(dataDir, { recursive: true });
  const serverJson = path.join(dataDir, 'server.json');
  fs.rmSync(serverJson, { force: true });
  const child = spawn(
    process.execPath,
    [SERVER_CLI, 'serve', '--port', String(port), '--host', host, '--data-dir', dataDir, '--log-level', logLevel],
    {
      cwd: ROOT,
      stdio: outputOf(stdio, logFile)
    }
  );
  let exited = null;
  child.once('exit', (code) => (exited = code));
  const info = await waitFor(
    () => {
      if (exited !== null) throw new Error(`The companion server exited (code ${exited}) before it was ready; ${lastLines(logFile)}`);
      const current = readJson(serverJson);
      return current && current.pid === child.pid ? current : null;
    },
    30000,
    'the companion server'
  );
  const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  return { url: info.url, port: info.port, token, pid: child.pid, child, stop: () => stopProcess(child) };
}

/** A companion server already serving this data directory, if any: { url, token, pid }. */
export async function runningCompanionServer(dataDir) {
  const info = readJson(path.join(dataDir, 'server.json'));
  if (!info || !isAlive(info.pid)) return null;
  try {
    const response = await fetch(`${info.url}/api/health`);
    if (!response.ok) return null;
  } catch {
    return null;
  }
  const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  return { url: info.url, port: info.port, token, pid: info.pid };
}

/** Make sure a project with this name exists on the server. */
export async function ensureProject(url, token, name, description = '') {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const found = await fetch(`${url}/api/projects?name=${encodeURIComponent(name)}`, { headers });
  if (!found.ok) throw new Error(`Listing projects failed: HTTP ${found.status} ${await found.text()}`);
  const { projects } = await found.json();
  if (projects.length) return projects[0];
  const created = await fetch(`${url}/api/projects`, { method: 'POST', headers, body: JSON.stringify({ name, description }) });
  if (!created.ok) throw new Error(`Creating project ${name} failed: HTTP ${created.status} ${await created.text()}`);
  return created.json();
}

/** Copy the demo notebook into the workspace unless the user already has one there. */
export function seedWorkspace(workspace) {
  fs.mkdirSync(workspace, { recursive: true });
  const target = path.join(workspace, 'demo.ipynb');
  if (!fs.existsSync(target)) fs.copyFileSync(path.join(ROOT, 'scripts', 'demo', 'demo.ipynb'), target);
}

/**
 * Settings defaults for this JupyterLab (the venv's overrides.json): the extension connects to
 * this companion server with no configuration. A user's own settings still win.
 */
export function writeSettingsDefaults({ serverUrl, token, project }) {
  const file = path.join(VENV, 'share', 'jupyter', 'lab', 'settings', 'overrides.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const overrides = readJson(file) ?? {};
  overrides['runlab:connection'] = { serverUrl, token, project };
  overrides['runlab:panel'] = { showOnStart: true };
  fs.writeFileSync(file, JSON.stringify(overrides, null, 2) + '\n', { mode: 0o600 });
}

/**
 * Start JupyterLab from the venv. Returns { url, token, port, child, stop() } once it answers.
 * `env` adds environment variables (e.g. JUPYTERLAB_SETTINGS_DIR for tests).
 */
export async function startJupyterLab({
  rootDir,
  port,
  defaultPath,
  env = {},
  stdio = 'inherit',
  logFile = null,
  openBrowser = false,
  extraArgs = []
}) {
  const token = randomBytes(16).toString('hex');
  const args = [
    'lab',
    `--ServerApp.root_dir=${rootDir}`,
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    `--IdentityProvider.token=${token}`,
    `--ServerApp.open_browser=${openBrowser ? 'True' : 'False'}`,
    '--LabApp.news_url=',
    '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'
  ];
  if (defaultPath) args.push(`--LabApp.default_url=/lab/tree/${defaultPath}`);
  // Containers and CI machines often run as root; Jupyter refuses that unless told.
  if (process.getuid?.() === 0) args.push('--allow-root');
  args.push(...extraArgs);
  const child = spawn(path.join(VENV_BIN, 'jupyter'), args, {
    cwd: rootDir,
    // The venv's bin first on PATH: JupyterLab terminals then find `runlab` (the Python program)
    // and the venv's python, as they would in an activated environment; then the checkout's
    // node_modules/.bin, for `runlab-server` (the companion server's admin commands).
    env: { ...process.env, PATH: [VENV_BIN, path.join(ROOT, 'node_modules', '.bin'), process.env.PATH ?? ''].join(path.delimiter), ...env },
    stdio: outputOf(stdio, logFile)
  });
  let exited = null;
  child.once('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (exited !== null) throw new Error(`JupyterLab exited (code ${exited}) before it was ready; ${lastLines(logFile)}`);
      try {
        return (await fetch(`${url}/api/status?token=${token}`)).ok;
      } catch {
        return false;
      }
    },
    60000,
    'JupyterLab'
  );
  return { url, token, port, child, stop: () => stopProcess(child) };
}
