/**
 * Starting and stopping Runlab's processes: the companion server and JupyterLab.
 * Used by `npm start` and by the UI tests, so both run Runlab the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PYTHON, ROOT, VENV, VENV_BIN } from './setup.mjs';

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

/** Whether a program could listen on 127.0.0.1:`port` now (nothing else listens there). */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that is free now: the first of `from`, `from + 1`, … (as `npm start`
 * documents, so a taken 8765 gives 8766, not a random port), or any free port when `from` is 0.
 */
export async function freePort(from = 0, tries = 100) {
  if (!from) {
    return new Promise((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(port));
      });
    });
  }
  for (let port = from; port < from + tries && port <= 65535; port++) {
    if (await portIsFree(port)) return port;
  }
  throw new Error(`No free port from ${from} to ${Math.min(from + tries - 1, 65535)} on 127.0.0.1.`);
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

/** How a child process ended, in words: "exit code 1", "killed by SIGKILL". */
export function exitReason({ code, signal }) {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** Resolves with { code, signal } when `child` has exited (at once if it already has). */
function exitOf(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM, then SIGKILL if the process is still there after `timeoutMs`; resolves once it has exited. */
function stopProcess(child, timeoutMs = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = exitOf(child).then(() => clearTimeout(timer));
  child.kill('SIGTERM');
  return exited;
}

/** A word for the shell: quoted only when it needs to be. */
function shellWord(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function companionServerArgs({ dataDir, port, host, logLevel }) {
  return ['serve', '--port', String(port), '--host', host, '--data-dir', dataDir, '--log-level', logLevel];
}

/**
 * The command that runs the companion server the way `npm start` does, for a user to run it
 * alone (`npx runlab-server` is server/dist/cli.js, the file spawned here).
 */
export function companionServerCommand({ dataDir, port, host = '127.0.0.1', logLevel = 'warn' }) {
  return ['npx', 'runlab-server', ...companionServerArgs({ dataDir, port, host, logLevel })].map(shellWord).join(' ');
}

/**
 * Spawn `runlab-server serve` on `dataDir`. Returns at once with { child, pid, exited, ready,
 * stop() }: `ready` resolves with { url, port, token } once the server has written server.json
 * (and rejects if it exits first), `exited` with { code, signal } when it exits.
 */
export function spawnCompanionServer({ dataDir, port = 0, host = '127.0.0.1', logLevel = 'warn', stdio = 'inherit', logFile = null }) {
  fs.mkdirSync(dataDir, { recursive: true });
  const serverJson = path.join(dataDir, 'server.json');
  // A server killed with SIGKILL leaves its server.json behind: wait for this one's.
  fs.rmSync(serverJson, { force: true });
  const child = spawn(process.execPath, [SERVER_CLI, ...companionServerArgs({ dataDir, port, host, logLevel })], {
    cwd: ROOT,
    stdio: outputOf(stdio, logFile),
    // Local deployments serve with the venv's Python, which has runlab (unless told otherwise).
    env: {
      ...process.env,
      RUNLAB_SERVING_PYTHON: process.env.RUNLAB_SERVING_PYTHON || PYTHON,
      RUNLAB_SWEEP_PYTHON: process.env.RUNLAB_SWEEP_PYTHON || PYTHON
    }
  });
  const exited = exitOf(child);
  let ended = null;
  void exited.then((end) => (ended = end));
  const ready = waitFor(
    () => {
      if (ended) throw new Error(`The companion server exited (${exitReason(ended)}) before it was ready; ${lastLines(logFile)}`);
      const current = readJson(serverJson);
      return current && current.pid === child.pid ? current : null;
    },
    30000,
    'the companion server'
  ).then((info) => ({ url: info.url, port: info.port, token: fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim() }));
  return { child, pid: child.pid, exited, ready, stop: () => stopProcess(child, COMPANION_SERVER_STOP_MS) };
}

/**
 * How long a stopping companion server gets before SIGKILL: longer than its own shutdown grace
 * for unanswered requests (SHUTDOWN_GRACE_MS, 10 s, in server/src/app.ts), so it always gets to
 * cut them, close the database and remove its server.json.
 */
const COMPANION_SERVER_STOP_MS = 20000;

/**
 * Start `runlab-server serve` on `dataDir` and wait until it has written server.json.
 * Takes spawnCompanionServer's options; returns { url, port, token, pid, child, stop() }.
 */
export async function startCompanionServer(options) {
  const server = spawnCompanionServer(options);
  try {
    return { ...(await server.ready), pid: server.pid, child: server.child, stop: server.stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Waits before the 1st, 2nd, 3rd… restart in a row of a companion server that keeps stopping. */
export const RESTART_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 10000];
/** A companion server that stayed up this long counts as healthy: its next restart waits the first delay again. */
export const STABLE_AFTER_MS = 30000;

/**
 * Run the companion server and keep it running: whenever it stops (crash, OOM kill, a signal
 * from someone else) it is started again on the same port and data directory, after
 * RESTART_DELAYS_MS. Clients (the JupyterLab panel, kernels) reconnect to the same URL with the
 * same token. `report(line)` tells the user each time. Returns at once with { ready, stop(),
 * pid }: `ready` is the first start (rejects if that fails); stop() ends the supervision and the
 * server, whatever it is doing.
 */
export function superviseCompanionServer({
  dataDir,
  port, // a fixed port (not 0): clients find the restarted server at the same URL
  host = '127.0.0.1',
  logLevel = 'warn',
  stdio = 'inherit',
  logFile = null,
  report = (line) => process.stderr.write(`${line}\n`),
  restartDelaysMs = RESTART_DELAYS_MS,
  stableAfterMs = STABLE_AFTER_MS
}) {
  const options = { dataDir, port, host, logLevel, stdio, logFile };
  let current = spawnCompanionServer(options);
  let stopping = false;
  let retryTimer = null;
  let restartsInARow = 0;
  let url = null;

  /** Say why, then try again after the next delay: `say(seconds)` is the line for the user. */
  const retry = (say) => {
    const delay = restartDelaysMs[Math.min(restartsInARow, restartDelaysMs.length - 1)];
    restartsInARow += 1;
    report(say(delay / 1000));
    retryTimer = setTimeout(() => void restart(), delay);
  };

  const watch = (server) => {
    const upSince = Date.now();
    void server.exited.then((end) => {
      if (stopping) return;
      if (Date.now() - upSince >= stableAfterMs) restartsInARow = 0;
      retry(
        (seconds) =>
          `The companion server stopped (${exitReason(end)}); restarting it in ${seconds} s on port ${port} with the same data directory. JupyterLab keeps running.`
      );
    });
  };

  const restart = async () => {
    retryTimer = null;
    if (stopping) return;
    if (!(await portIsFree(port))) {
      retry(
        (seconds) =>
          `Port ${port} is taken by another program, so the companion server cannot restart on it; trying again in ${seconds} s (free the port, or press Ctrl-C to stop).`
      );
      return;
    }
    if (stopping) return;
    current = spawnCompanionServer(options);
    try {
      await current.ready;
    } catch {
      if (stopping) return;
      await current.stop(); // it may still be starting, after the 30 s it was given
      const end = await current.exited;
      retry((seconds) => `The companion server did not come back (${exitReason(end)}); trying again in ${seconds} s.`);
      return;
    }
    if (stopping) return;
    report(`The companion server is back on ${url} (pid ${current.pid}).`);
    watch(current);
  };

  const ready = current.ready.then(
    (info) => {
      url = info.url;
      watch(current);
      return info;
    },
    async (error) => {
      await current.stop();
      throw error;
    }
  );
  return {
    ready,
    get pid() {
      return current.pid;
    },
    stop: async () => {
      stopping = true;
      clearTimeout(retryTimer);
      await current.stop();
    }
  };
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
  if (fs.existsSync(target)) return;
  // JupyterLab writes the kernel's language_info into a notebook when the kernel connects, and a
  // notebook whose metadata changes shows as modified: so the copy states the venv's Python.
  const notebook = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'demo', 'demo.ipynb'), 'utf8'));
  const version = spawnSync(PYTHON, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).stdout?.trim();
  if (version) notebook.metadata.language_info.version = version;
  fs.writeFileSync(target, JSON.stringify(notebook, null, 1) + '\n');
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
 * Spawn JupyterLab from the venv. Returns at once with { url, token, port, child, pid, exited,
 * ready, stop() }: `ready` resolves once it answers (and rejects if it exits first), `exited`
 * with { code, signal } when it exits. `env` adds environment variables (e.g.
 * JUPYTERLAB_SETTINGS_DIR for tests).
 */
export function spawnJupyterLab({
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
  const exited = exitOf(child);
  let ended = null;
  void exited.then((end) => (ended = end));
  const url = `http://127.0.0.1:${port}`;
  const ready = waitFor(
    async () => {
      if (ended) throw new Error(`JupyterLab exited (${exitReason(ended)}) before it was ready; ${lastLines(logFile)}`);
      try {
        return (await fetch(`${url}/api/status?token=${token}`)).ok;
      } catch {
        return false;
      }
    },
    60000,
    'JupyterLab'
  );
  return { url, token, port, child, pid: child.pid, exited, ready, stop: () => stopProcess(child) };
}

/**
 * Start JupyterLab from the venv (spawnJupyterLab's options). Returns { url, token, port, child,
 * stop() } once it answers.
 */
export async function startJupyterLab(options) {
  const lab = spawnJupyterLab(options);
  try {
    await lab.ready;
  } catch (error) {
    await lab.stop();
    throw error;
  }
  return { url: lab.url, token: lab.token, port: lab.port, child: lab.child, stop: lab.stop };
}
