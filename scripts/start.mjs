/**
 * `npm start`: set everything up, then run Runlab on its embedded default — the companion
 * server (SQLite + file blob store in one data directory) and JupyterLab with Runlab loaded and
 * the demo project's notebook open, and one local runner (`local`) for jobs. Ctrl-C (SIGINT or
 * SIGTERM) stops them all.
 *
 * The companion server is supervised: when it stops on its own (a crash, an out-of-memory kill,
 * someone's `kill`) it is started again on the same port and data directory, and JupyterLab —
 * its kernels and unsaved tabs — keeps running; the panel reconnects by itself. When JupyterLab
 * stops on its own, everything stops (exit 1).
 *
 * Environment: RUNLAB_DATA_DIR (default ~/.runlab), RUNLAB_PORT (default 8765, or the next free
 * port: 8766, 8767, …), RUNLAB_WORKSPACE (default ./workspace), JUPYTER_PORT (default 8888, or
 * the next free port), RUNLAB_SERVING_PYTHON (the Python local deployments serve with; default
 * .venv's), RUNLAB_SWEEP_PYTHON (the Python the sweeps' proposer runs with; default .venv's). A port set explicitly must be free.
 */
import os from 'node:os';
import path from 'node:path';
import {
  companionServerCommand,
  ensureProject,
  exitReason,
  freePort,
  portIsFree,
  runningCompanionServer,
  seedWorkspace,
  spawnJupyterLab,
  superviseCompanionServer,
  writeSettingsDefaults
} from './launch.mjs';
import { ensureLocalRunner, LOCAL_RUNNER_NAME, superviseLocalRunner } from './localRunner.mjs';
import { fail, log, ROOT, setup } from './setup.mjs';

function warn(message) {
  process.stderr.write(`[runlab] ${message}\n`);
}

/** The port a setting asks for: explicit (must be free) or the default (the next free one is fine). */
function portSetting(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return { name, port: fallback, explicit: false };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`Invalid setting ${name}: expected a port from 1 to 65535, got "${raw}".`);
  return { name, port, explicit: true };
}

/** The port to listen on for this setting: the one set explicitly if it is free, else the first free one from the default. */
async function choosePort(setting, what) {
  if (!setting.explicit) return freePort(setting.port);
  if (await portIsFree(setting.port)) return setting.port;
  throw new Error(
    `${setting.name}=${setting.port} is taken: another program listens on 127.0.0.1:${setting.port}, so ${what} cannot use it. ` +
      `Stop that program, set ${setting.name} to another port, or unset ${setting.name} to use the next free port.`
  );
}

/** Everything `npm start` has started, and how it stops them all. */
const running = new Set();
let stopping = false;

async function stopAll(code, message) {
  if (stopping) return;
  stopping = true;
  if (message) warn(message);
  if (running.size) log('Stopping…');
  await Promise.all([...running].map((child) => child.stop()));
  process.exit(code);
}

/**
 * Under `npm start`, npm forwards a SIGTERM or SIGINT sent to it only to the shell that runs this
 * script, and that shell dies without passing it on: seeing the parent gone is how this
 * process learns it was asked to stop.
 */
function stopWhenParentIsGone() {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0, 'npm start was asked to stop (the process that ran this script is gone).');
  }, 500).unref();
}

async function main() {
  setup();
  const dataDir = path.resolve(process.env.RUNLAB_DATA_DIR || path.join(os.homedir(), '.runlab'));
  const workspace = path.resolve(process.env.RUNLAB_WORKSPACE || path.join(ROOT, 'workspace'));
  const serverPort = portSetting('RUNLAB_PORT', 8765);
  const jupyterPort = portSetting('JUPYTER_PORT', 8888);

  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  stopWhenParentIsGone();

  let server = await runningCompanionServer(dataDir);
  let serverLines;
  if (server) {
    const elsewhere =
      serverPort.explicit && server.port !== serverPort.port
        ? `; it listens on port ${server.port}, not RUNLAB_PORT=${serverPort.port}`
        : '';
    log(`Reusing the companion server already running on ${dataDir} (pid ${server.pid})${elsewhere}.`);
    serverLines = `(data in ${dataDir}; already running as pid ${server.pid}, Ctrl-C leaves it running)`;
  } else {
    const port = await choosePort(serverPort, 'the companion server');
    if (port !== serverPort.port) log(`Port ${serverPort.port} is taken; the companion server uses port ${port}.`);
    const logLevel = process.env.RUNLAB_LOG_LEVEL || 'warn';
    const command = companionServerCommand({ dataDir, port, logLevel });
    log(`Starting the companion server: ${command}`);
    const supervised = superviseCompanionServer({ dataDir, port, logLevel, report: warn });
    running.add(supervised);
    server = await supervised.ready;
    serverLines = `(data in ${dataDir}; restarted if it stops)\n    Run it alone:      ${command}`;
  }
  await ensureProject(server.url, server.token, 'demo', 'The demo project that npm start opens.');
  // One local runner, so "Run on Runner" and "Re-run" work with no setup.
  let runnerLine = '';
  try {
    const runner = await ensureLocalRunner(server, dataDir);
    const runnerLog = path.join(dataDir, 'local-runner.log');
    running.add(
      superviseLocalRunner({
        serverUrl: server.url,
        token: runner.token,
        workDir: path.join(dataDir, 'runner'),
        logFile: runnerLog,
        report: warn
      })
    );
    runnerLine = `\n    Local runner:      ${LOCAL_RUNNER_NAME} (log: ${runnerLog})`;
  } catch (error) {
    warn(`${error.message}. Runlab works without it, but jobs wait for a runner: add one with \`runlab runners add NAME\`.`);
  }
  seedWorkspace(workspace);
  writeSettingsDefaults({ serverUrl: server.url, token: server.token, project: 'demo' });

  const port = await choosePort(jupyterPort, 'JupyterLab');
  if (port !== jupyterPort.port) log(`Port ${jupyterPort.port} is taken; JupyterLab uses port ${port}.`);
  const lab = spawnJupyterLab({
    rootDir: workspace,
    port,
    defaultPath: 'demo.ipynb',
    openBrowser: !process.env.CI,
    env: { RUNLAB_URL: server.url, RUNLAB_TOKEN: server.token, RUNLAB_PROJECT: 'demo' }
  });
  running.add(lab);
  void lab.exited.then(
    (end) => void stopAll(1, `JupyterLab stopped unexpectedly (${exitReason(end)}); stopping the companion server too.`)
  );
  await lab.ready;

  process.stdout.write(`
  Runlab is running.

    JupyterLab:        ${lab.url}/lab/tree/demo.ipynb?token=${lab.token}
    Companion server:  ${server.url}   ${serverLines}${runnerLine}
    Admin token:       ${path.join(dataDir, 'admin-token')}
    Workspace:         ${workspace}

  Commands: \`runlab\` (the venv's, on PATH in JupyterLab terminals) tracks runs and versions data;
  \`npx runlab-server\` administers the companion server (token create, gc, fsck).

  Press Ctrl-C to stop.
`);
}

main().catch((error) => {
  // Stopping makes the startup in progress fail; stopAll() exits by itself.
  if (!stopping) void stopAll(1, error.message);
});
