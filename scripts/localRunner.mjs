/**
 * The local runner `npm start` runs next to the companion server, so "Run on runner" and
 * "Re-run" work on one machine with no setup: a runner named `local` (label `local`) whose
 * token is kept in the data directory (`local-runner.json`, readable only by this user), and a
 * `runlab runner start` process that is restarted when it stops, like the companion server.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exitReason, RESTART_DELAYS_MS, STABLE_AFTER_MS } from './launch.mjs';
import { ROOT, VENV_BIN } from './setup.mjs';

export const LOCAL_RUNNER_NAME = 'local';
const RUNNER_FILE = 'local-runner.json';

async function api(server, method, route, body) {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * The local runner's token: the one kept in the data directory while its runner still exists,
 * otherwise a new runner (replacing a `local` runner whose token was lost).
 */
export async function ensureLocalRunner(server, dataDir) {
  const file = path.join(dataDir, RUNNER_FILE);
  try {
    const kept = JSON.parse(fs.readFileSync(file, 'utf8'));
    if ((await api(server, 'GET', `/api/runners/${encodeURIComponent(kept.runnerId)}`)).status === 200) return kept;
  } catch {
    // No file yet, or an unreadable one: make a new runner.
  }
  const { body } = await api(server, 'GET', '/api/runners');
  const stale = body?.runners?.find((runner) => runner.name === LOCAL_RUNNER_NAME);
  if (stale) await api(server, 'DELETE', `/api/runners/${encodeURIComponent(stale.id)}`);
  const created = await api(server, 'POST', '/api/runners', { name: LOCAL_RUNNER_NAME, labels: ['local'], maxJobs: 2 });
  if (created.status !== 201) {
    throw new Error(`Could not add the local runner: ${created.body?.error?.message ?? `HTTP ${created.status}`}`);
  }
  const kept = { runnerId: created.body.runner.id, token: created.body.token };
  fs.writeFileSync(file, JSON.stringify(kept), { mode: 0o600 });
  return kept;
}

/** The command line of the local runner, as a user would type it. */
export function localRunnerArgs({ serverUrl, token, workDir }) {
  // A short drain: Ctrl-C on npm start should stop within seconds; a job still running then goes
  // back to the queue when its lease ends, and runs again at the next start.
  return [
    'runner',
    'start',
    '--server',
    serverUrl,
    '--token',
    token,
    '--name',
    LOCAL_RUNNER_NAME,
    '--work-dir',
    workDir,
    '--drain-grace',
    '3'
  ];
}

/**
 * Run the local runner and keep it running; returns { stop() }. It reconnects by itself when
 * the companion server restarts; only its own exit restarts it, after RESTART_DELAYS_MS.
 */
export function superviseLocalRunner({ serverUrl, token, workDir, logFile, report }) {
  fs.mkdirSync(workDir, { recursive: true });
  let child = null;
  let stopping = false;
  let timer = null;
  let restartsInARow = 0;
  const start = () => {
    const out = fs.openSync(logFile, 'a');
    child = spawn(path.join(VENV_BIN, 'runlab'), localRunnerArgs({ serverUrl, token, workDir }), {
      cwd: ROOT,
      stdio: ['ignore', out, out]
    });
    fs.closeSync(out);
    const upSince = Date.now();
    child.once('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - upSince >= STABLE_AFTER_MS) restartsInARow = 0;
      const delay = RESTART_DELAYS_MS[Math.min(restartsInARow, RESTART_DELAYS_MS.length - 1)];
      restartsInARow += 1;
      report(`The local runner stopped (${exitReason({ code, signal })}); restarting it in ${delay / 1000} s. Its log: ${logFile}`);
      timer = setTimeout(start, delay);
    });
  };
  start();
  return {
    get pid() {
      return child?.pid;
    },
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM drains: the runner hands its jobs back; SIGKILL if it takes too long.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    }
  };
}
