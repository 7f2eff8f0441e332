/**
 * `npm start`: set everything up, then run Runlab on its embedded default — the companion
 * server (SQLite + file blob store in one data directory) and JupyterLab with Runlab loaded and
 * the demo project's notebook open. Ctrl-C stops both.
 *
 * Environment: RUNLAB_DATA_DIR (default ~/.runlab), RUNLAB_PORT (default 8765, or the next
 * free port), RUNLAB_WORKSPACE (default ./workspace), JUPYTER_PORT (default 8888, or the next
 * free port).
 */
import os from 'node:os';
import path from 'node:path';
import {
  ensureProject,
  freePort,
  runningCompanionServer,
  seedWorkspace,
  startCompanionServer,
  startJupyterLab,
  writeSettingsDefaults
} from './launch.mjs';
import { fail, log, ROOT, setup } from './setup.mjs';

function portSetting(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return { port: fallback, explicit: false };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`Invalid setting ${name}: expected a port from 1 to 65535, got "${raw}".`);
  return { port, explicit: true };
}

async function main() {
  setup();
  const dataDir = path.resolve(process.env.RUNLAB_DATA_DIR || path.join(os.homedir(), '.runlab'));
  const workspace = path.resolve(process.env.RUNLAB_WORKSPACE || path.join(ROOT, 'workspace'));
  const serverPort = portSetting('RUNLAB_PORT', 8765);
  const jupyterPort = portSetting('JUPYTER_PORT', 8888);

  const children = [];
  let stopping = false;
  const stopAll = async (code) => {
    if (stopping) return;
    stopping = true;
    log('Stopping…');
    await Promise.all(children.map((child) => child.stop()));
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  let server = await runningCompanionServer(dataDir);
  if (server) {
    log(`Reusing the companion server already running on ${dataDir} (pid ${server.pid}).`);
  } else {
    const port = serverPort.explicit ? serverPort.port : await freePort(serverPort.port);
    server = await startCompanionServer({ dataDir, port, logLevel: process.env.RUNLAB_LOG_LEVEL || 'warn' });
    children.push(server);
    server.child.once('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`[runlab] The companion server stopped unexpectedly (exit ${code}).\n`);
        void stopAll(1);
      }
    });
  }
  await ensureProject(server.url, server.token, 'demo', 'The demo project that npm start opens.');
  seedWorkspace(workspace);
  writeSettingsDefaults({ serverUrl: server.url, token: server.token, project: 'demo' });

  const port = jupyterPort.explicit ? jupyterPort.port : await freePort(jupyterPort.port);
  const lab = await startJupyterLab({
    rootDir: workspace,
    port,
    defaultPath: 'demo.ipynb',
    openBrowser: !process.env.CI,
    env: { RUNLAB_URL: server.url, RUNLAB_TOKEN: server.token, RUNLAB_PROJECT: 'demo' }
  });
  children.push(lab);
  lab.child.once('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`[runlab] JupyterLab stopped unexpectedly (exit ${code}).\n`);
      void stopAll(1);
    }
  });

  process.stdout.write(`
  Runlab is running.

    JupyterLab:        ${lab.url}/lab/tree/demo.ipynb?token=${lab.token}
    Companion server:  ${server.url}   (data in ${dataDir})
    Admin token:       ${path.join(dataDir, 'admin-token')}
    Workspace:         ${workspace}

  Commands: \`runlab\` (the venv's, on PATH in JupyterLab terminals) tracks runs and versions data;
  \`npx runlab-server\` administers the companion server (token create, gc, fsck).

  Press Ctrl-C to stop.
`);
}

main().catch((error) => fail(error.message));
