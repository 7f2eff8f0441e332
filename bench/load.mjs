#!/usr/bin/env node
/**
 * The API under concurrent load (budget: p99 < 100 ms for reads at 50 clients while
 * ingest continues), measured side by side with an earlier commit's server in the same run.
 *
 * Each server under test is a real `runlab-server serve` process (its own event loop, not this one's)
 * on a temporary data directory, at its default log level, logging to a file. It is seeded with
 * runs that have params, tags, metrics and an environment (~150 packages, as the Python client
 * records), then N clients (default 50), each with its own
 * keep-alive connection, run a closed loop for D seconds (default 60) of:
 *   - list runs      GET  /api/runs?project=…   (the first page: 100 runs with params, tags, summaries)
 *   - get run        GET  /api/runs/:id
 *   - log 500 points POST /api/runs/:id/log     (metricColumns, as python/runlab/runs/batcher.py sends them)
 * plus 10 simulated runners. Runners do not exist yet, so each stands in as a runner-scoped token
 * holding a socket.io connection and sending a heartbeat (GET /api/auth/whoami, a cheap
 * authenticated request) every second — replace this with the real runner heartbeat once
 * runners land. The default socket.io namespace takes user tokens only, so a runner whose token
 * is refused there holds its connection with the user token instead (the report says which).
 *
 * Latency is measured here, per request, with process.hrtime (request written → last byte read),
 * so it includes queueing on the server's event loop, which is what clients feel.
 * Before the N-client phase, a short warm-up (not counted) and a 2-client phase for reference.
 *
 *   node bench/load.mjs [--clients 50] [--duration 60] [--baseline 7ea2a25 | --no-baseline]
 *                       [--reference-clients 2] [--reference-duration 15] [--runs 200]
 *                       [--runners 10] [--mix list=1,get=1,log=1] [--only current|baseline]
 *                       [--current DIR]    (the "current" column from another checkout's server/dist, e.g. a patch in a worktree)
 *                       [--cpu-prof DIR]   (node --cpu-prof for each server, into DIR/<label>/, summarized)
 *   node bench/load.mjs --summarize-profile FILE.cpuprofile   (self and inclusive time per function)
 *   (or BENCH_LOAD_CLIENTS, BENCH_LOAD_SECONDS, BENCH_LOAD_BASELINE=<ref>|none; `npm run bench -- load`)
 *
 * The baseline (default 7ea2a25, the last commit before the hardening work) is cloned with
 * `git clone --shared` into ~/.cache/runlab-bench/server-<commit> and its server built there with
 * tsc; node_modules is a symlink to this checkout's, so building costs seconds and is done once
 * per commit. Figures depend on the machine and on whatever else runs on it: the report prints
 * the cores, the load average and the CPU both sides used, and only the same-run ratio means much.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connectSocket } from 'socket.io-client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_BASELINE = '7ea2a25';
const PROJECT = 'load-bench';
const METRIC_KEYS = ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'learning_rate'];
const BATCH_POINTS = 500;
const SEED_POINTS_PER_KEY = 100;
const WARMUP_SECONDS = 3;
const READ_BUDGET_MS = 100;

// ------------------------------------------------------------------------------------------
// options

function parseOptions(argv) {
  const env = process.env;
  const options = {
    clients: Number(env.BENCH_LOAD_CLIENTS ?? 50),
    duration: Number(env.BENCH_LOAD_SECONDS ?? 60),
    referenceClients: 2,
    referenceDuration: Number(env.BENCH_LOAD_REFERENCE_SECONDS ?? 15),
    runs: 200,
    liveRuns: 20,
    runners: 10,
    baseline: env.BENCH_LOAD_BASELINE === 'none' ? null : env.BENCH_LOAD_BASELINE || DEFAULT_BASELINE,
    mix: { list: 1, get: 1, log: 1 },
    cpuProf: null,
    only: null,
    current: ROOT
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    const number = () => {
      const parsed = Number(value());
      if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${flag} needs a number >= 0`);
      return parsed;
    };
    switch (flag) {
      case '--clients':
        options.clients = number();
        break;
      case '--duration':
        options.duration = number();
        break;
      case '--reference-clients':
        options.referenceClients = number();
        break;
      case '--reference-duration':
        options.referenceDuration = number();
        break;
      case '--runs':
        options.runs = number();
        break;
      case '--live-runs':
        options.liveRuns = number();
        break;
      case '--runners':
        options.runners = number();
        break;
      case '--baseline':
        options.baseline = value();
        break;
      case '--no-baseline':
        options.baseline = null;
        break;
      case '--cpu-prof':
        options.cpuProf = path.resolve(value());
        break;
      case '--only':
        options.only = value();
        break;
      case '--current':
        options.current = path.resolve(value());
        break;
      case '--mix':
        options.mix = { list: 0, get: 0, log: 0 };
        for (const part of value().split(',')) {
          const [name, weight] = part.split('=');
          if (!(name in options.mix) || !(Number(weight) >= 0)) throw new Error(`--mix takes list=W,get=W,log=W; got ${part}`);
          options.mix[name] = Number(weight);
        }
        break;
      case '--summarize-profile':
        process.stdout.write(`${summarizeCpuProfile(path.resolve(value()), 40)}\n`);
        process.exit(0);
      // falls through (unreachable)
      case '--help':
        process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0] + '*/\n');
        process.exit(0);
      // falls through (unreachable)
      default:
        throw new Error(`Unknown option ${flag} (see --help)`);
    }
  }
  if (options.only && !['current', 'baseline'].includes(options.only)) throw new Error('--only takes current or baseline');
  if (options.only === 'baseline' && !options.baseline) throw new Error('--only baseline needs a baseline');
  options.liveRuns = Math.max(1, Math.min(options.liveRuns, options.runs));
  return options;
}

// ------------------------------------------------------------------------------------------
// the servers under test

function git(args, cwd = ROOT) {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The baseline commit's server, built once per commit in a cache folder outside the checkout. */
function baselineServer(ref) {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'runlab-bench');
  const dir = path.join(cacheRoot, `server-${commit}`);
  const cli = path.join(dir, 'server', 'dist', 'cli.js');
  const stamp = path.join(dir, '.runlab-bench-built');
  if (!fs.existsSync(stamp) || !fs.existsSync(cli)) {
    log(`Building the baseline server (${commit.slice(0, 7)}) in ${dir} (once per commit)…`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(cacheRoot, { recursive: true });
    // --shared borrows this repository's objects: no copy, and nothing here changes.
    git(['clone', '--quiet', '--shared', '--no-checkout', ROOT, dir], cacheRoot);
    git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', commit], dir);
    // The server's dependencies are hoisted to the root node_modules: borrow this checkout's.
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    // What `npm run build -w server` does, without npm.
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const built = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'server', 'tsconfig.json')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`Building the baseline server at ${commit} failed`);
    fs.writeFileSync(stamp, `${commit}\n`);
  }
  const changed = git(['diff', '--name-only', commit, '--', 'package-lock.json', 'server/package.json']);
  const note = changed
    ? `dependencies changed since ${commit.slice(0, 7)} (${changed.split('\n').join(', ')}); the baseline runs with this checkout's node_modules`
    : null;
  return { label: `baseline ${commit.slice(0, 7)}`, cli, note };
}

/** The server built in a checkout (this one, or another given with --current): its server/dist as it is now. */
function currentServer(checkout) {
  const cli = path.join(checkout, 'server', 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${path.join(checkout, 'server', 'dist')} is missing: run \`npm run build -w server\` first`);
  const head = git(['rev-parse', '--short', 'HEAD'], checkout);
  const dirty = git(['status', '--porcelain', '--', 'server'], checkout) !== '';
  const where = checkout === ROOT ? '' : ` (${path.basename(checkout)})`;
  // `npm run bench` rebuilds what changed; run directly, say so when the build is older than its sources.
  const built = fs.statSync(cli).mtimeMs;
  const stale = newestFile(path.join(checkout, 'server', 'src')) > built;
  const note = stale ? 'server/dist is older than server/src (run `npm run build -w server`): measured as built' : null;
  return { label: `current ${head}${dirty ? '+edits' : ''}${where}`, cli, note };
}

/** Newest modification time of the source files under a folder (tests are not built). */
function newestFile(folder) {
  let newest = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return newest;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

async function startServer(server, { cpuProf }) {
  if (cpuProf) fs.mkdirSync(cpuProf, { recursive: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-load-'));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir);
  const logFile = path.join(root, 'server.log');
  const output = fs.openSync(logFile, 'a');
  const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
  const child = spawn(process.execPath, [...nodeArgs, server.cli, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, RUNLAB_DATA_DIR: dataDir, RUNLAB_PORT: '0' },
    stdio: ['ignore', output, output]
  });
  fs.closeSync(output);
  let exited = null;
  child.once('exit', (code, signal) => (exited = code ?? signal));
  const deadline = Date.now() + 30_000;
  let info = null;
  const lastOutput = () => fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  while (!info) {
    if (exited !== null) {
      const output = lastOutput();
      fs.rmSync(root, { recursive: true, force: true });
      throw new Error(`the server exited (${exited}) before it was ready; its last output:\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`no server.json after 30 s; its last output:\n${lastOutput()}`);
    }
    const current = readJson(path.join(dataDir, 'server.json'));
    if (current && current.pid === child.pid) info = current;
    else await sleep(100);
  }
  const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  const url = new URL(info.url);
  return {
    ...server,
    url: info.url,
    host: url.hostname,
    port: Number(url.port),
    token,
    pid: child.pid,
    root,
    logFile,
    async stop() {
      if (exited === null) {
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await done;
        clearTimeout(timer);
      }
      fs.rmSync(root, { recursive: true, force: true });
    }
  };
}

/** Resident memory of a process in MB (VmRSS), or null once it is gone. */
function rssMb(pid) {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

// ------------------------------------------------------------------------------------------
// HTTP

/** One request; resolves (never rejects) with its status (or error code), size and latency. */
function send({ host, port, agent, method, path: target, headers, body, keepBody = false }) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
    const request = http.request({ host, port, method, path: target, agent, headers }, (response) => {
      const chunks = [];
      let bytes = 0;
      response.on('data', (chunk) => {
        bytes += chunk.length;
        if (keepBody) chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({ status: response.statusCode, bytes, ms: elapsed(), body: keepBody ? Buffer.concat(chunks).toString('utf8') : undefined })
      );
      response.on('error', (error) => resolve({ status: error.code ?? 'response error', bytes, ms: elapsed() }));
    });
    request.setTimeout(60_000, () => request.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    request.on('error', (error) => resolve({ status: error.code ?? 'request error', bytes: 0, ms: elapsed() }));
    request.end(body);
  });
}

function jsonHeaders(token, body) {
  return {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) })
  };
}

/** A request whose answer this bench needs (setup); throws on anything but the expected status. */
async function api(server, agent, method, target, payload, expected = 200) {
  const body = payload === undefined ? undefined : JSON.stringify(payload);
  const result = await send({
    host: server.host,
    port: server.port,
    agent,
    method,
    path: target,
    headers: jsonHeaders(server.token, body),
    body,
    keepBody: true
  });
  if (result.status !== expected) throw new Error(`${server.label}: ${method} ${target} answered ${result.status}: ${result.body}`);
  return JSON.parse(result.body);
}

// ------------------------------------------------------------------------------------------
// workload

/** The metricColumns of a 500-point batch: 5 keys × 100 steps, interleaved as a training loop logs them. */
function metricColumns(points, startMs) {
  const keyIndex = [];
  const values = [];
  const steps = [];
  const timestamps = [];
  for (let i = 0; i < points; i++) {
    keyIndex.push(i % METRIC_KEYS.length);
    values.push(Math.random());
    // null: one more than the key's latest step (concurrent batches to one run stay in order).
    steps.push(null);
    timestamps.push(startMs + Math.floor(i / METRIC_KEYS.length));
  }
  return { keys: METRIC_KEYS, keyIndex, values, steps, timestamps };
}

/** What the Python client records with each run: the interpreter, the machine and ~150 installed distributions. */
const ENVIRONMENT = {
  python: '3.12.3 (main, Apr 10 2024, 05:33:47) [GCC 13.2.0]',
  platform: 'Linux-6.8.0-x86_64-with-glibc2.39',
  hostname: 'bench-host',
  packages: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`package-${i}`, `${i % 7}.${i % 13}.${i % 5}`]))
};

async function seed(server, options) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const started = performance.now();
  const runIds = new Array(options.runs);
  let next = 0;
  const worker = async () => {
    while (next < options.runs) {
      const index = next++;
      const params = {};
      for (let p = 0; p < 10; p++) params[`param_${p}`] = String((index * 7 + p) % 13);
      params.optimizer = index % 2 ? 'adam' : 'sgd';
      const run = await api(
        server,
        agent,
        'POST',
        '/api/runs',
        {
          project: PROJECT,
          name: `load-${index}`,
          params,
          tags: { team: index % 3 ? 'vision' : 'nlp', stage: 'bench', seed: String(index) },
          notebookPath: 'train.ipynb',
          environment: ENVIRONMENT,
          idempotencyKey: `load-seed-${index}-${randomUUID()}`
        },
        201
      );
      runIds[index] = run.id;
      await api(server, agent, 'POST', `/api/runs/${run.id}/log`, {
        idempotencyKey: randomUUID(),
        metricColumns: metricColumns(METRIC_KEYS.length * SEED_POINTS_PER_KEY, Date.now())
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const listed = await api(server, agent, 'GET', `/api/runs?project=${PROJECT}`);
  if (listed.total !== options.runs) throw new Error(`${server.label}: seeded ${options.runs} runs but the list says ${listed.total}`);
  agent.destroy();
  return { runIds, seconds: (performance.now() - started) / 1000 };
}

/** Simulated runners: a runner token each, a socket.io connection, a heartbeat a second. */
async function startRunners(server, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const runners = [];
  for (let i = 0; i < count; i++) {
    const created = await api(server, agent, 'POST', '/api/tokens', { name: `load-runner-${i}`, scope: 'runner' }, 201);
    runners.push({ secret: created.secret, socket: null, socketToken: null, timer: null });
  }
  agent.destroy();
  const connect = (token) =>
    new Promise((resolve) => {
      const socket = connectSocket(server.url, { auth: { token }, transports: ['websocket'], reconnection: false, timeout: 10_000 });
      socket.once('connect', () => resolve({ socket, error: null }));
      socket.once('connect_error', (error) => {
        socket.close();
        resolve({ socket: null, error: error.message });
      });
    });
  let refusedBecause = null;
  for (const runner of runners) {
    let { socket, error } = await connect(runner.secret);
    runner.socketToken = 'runner';
    if (!socket) {
      refusedBecause = error;
      ({ socket, error } = await connect(server.token));
      runner.socketToken = 'user';
      if (!socket) throw new Error(`${server.label}: a runner's socket.io connection failed: ${error}`);
    }
    runner.socket = socket;
  }
  const state = { recorder: null };
  for (const [index, runner] of runners.entries()) {
    const heartbeatAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const headers = { authorization: `Bearer ${runner.secret}` };
    const beat = async () => {
      const result = await send({
        host: server.host,
        port: server.port,
        agent: heartbeatAgent,
        method: 'GET',
        path: '/api/auth/whoami',
        headers
      });
      state.recorder?.record('heartbeat', result);
    };
    // Spread over the second, as independent runners would be.
    setTimeout(
      () => {
        void beat();
        runner.timer = setInterval(beat, 1000);
      },
      (1000 * index) / runners.length
    );
    runner.agent = heartbeatAgent;
  }
  return {
    socketNote: refusedBecause
      ? `runner tokens were refused by the default socket.io namespace (${refusedBecause}); runners hold their connection with the user token`
      : 'runners hold their socket.io connection with their runner token',
    setRecorder(recorder) {
      state.recorder = recorder;
    },
    stop() {
      for (const runner of runners) {
        clearInterval(runner.timer);
        runner.socket?.close();
        runner.agent?.destroy();
      }
    }
  };
}

class Recorder {
  constructor() {
    this.routes = new Map();
  }
  record(route, { status, ms }) {
    let entry = this.routes.get(route);
    if (!entry) this.routes.set(route, (entry = { latencies: [], errors: new Map() }));
    entry.latencies.push(ms);
    if (status !== 200) entry.errors.set(status, (entry.errors.get(status) ?? 0) + 1);
  }
}

/** N clients in a closed loop for `seconds`; each has its own keep-alive connection. */
async function runPhase(server, runIds, options, clients, seconds, runners) {
  const recorder = new Recorder();
  const weights = Object.entries(options.mix).filter(([, weight]) => weight > 0);
  const totalWeight = weights.reduce((sum, [, weight]) => sum + weight, 0);
  const pick = () => {
    let r = Math.random() * totalWeight;
    for (const [name, weight] of weights) if ((r -= weight) < 0) return name;
    return weights[weights.length - 1][0];
  };
  // The newest runs are the ones still logging, and the ones the first page of the list shows.
  const liveRuns = runIds.slice(-options.liveRuns);
  const columns = JSON.stringify(metricColumns(BATCH_POINTS, Date.now()));
  const listPath = `/api/runs?project=${PROJECT}`;
  const readHeaders = { authorization: `Bearer ${server.token}` };
  const base = { host: server.host, port: server.port };

  const rssSamples = [];
  const sampler = setInterval(() => {
    const rss = rssMb(server.pid);
    if (rss !== null) rssSamples.push(rss);
  }, 200);
  const serverCpuBefore = cpuSeconds(server.pid);
  const clientCpuBefore = process.cpuUsage();
  runners?.setRecorder(recorder);
  const started = performance.now();
  const end = started + seconds * 1000;

  const client = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (performance.now() < end) {
      const kind = pick();
      let result;
      if (kind === 'list') {
        result = await send({ ...base, agent, method: 'GET', path: listPath, headers: readHeaders });
        recorder.record('list runs', result);
      } else if (kind === 'get') {
        const id = runIds[Math.floor(Math.random() * runIds.length)];
        result = await send({ ...base, agent, method: 'GET', path: `/api/runs/${id}`, headers: readHeaders });
        recorder.record('get run', result);
      } else {
        const id = liveRuns[Math.floor(Math.random() * liveRuns.length)];
        const body = `{"idempotencyKey":"${randomUUID()}","metricColumns":${columns}}`;
        result = await send({
          ...base,
          agent,
          method: 'POST',
          path: `/api/runs/${id}/log`,
          headers: jsonHeaders(server.token, body),
          body
        });
        recorder.record('log 500 points', result);
      }
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - started) / 1000;
  runners?.setRecorder(null);
  clearInterval(sampler);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  return {
    clients,
    elapsed,
    routes: recorder.routes,
    rssMax: Math.max(...rssSamples),
    serverCores: (cpuSeconds(server.pid) - serverCpuBefore) / elapsed,
    clientCores: (clientCpu.user + clientCpu.system) / 1e6 / elapsed
  };
}

async function measureServer(server, options) {
  const cpuProf = options.cpuProf ? path.join(options.cpuProf, server.label.replace(/[^A-Za-z0-9.+-]+/g, '-')) : null;
  const started = await startServer(server, { cpuProf });
  try {
    log(`${started.label}: seeding ${options.runs} runs…`);
    const seeded = await seed(started, options);
    const runners = await startRunners(started, options.runners);
    await sleep(1000);
    const rssBefore = rssMb(started.pid);
    const reference =
      options.referenceClients > 0 && options.referenceDuration > 0
        ? `${options.referenceClients} clients × ${options.referenceDuration} s, then `
        : '';
    log(`${started.label}: warm-up ${WARMUP_SECONDS} s, then ${reference}${options.clients} clients × ${options.duration} s…`);
    await runPhase(started, seeded.runIds, options, options.clients, WARMUP_SECONDS, null);
    const referencePhase = reference
      ? await runPhase(started, seeded.runIds, options, options.referenceClients, options.referenceDuration, runners)
      : null;
    const main = await runPhase(started, seeded.runIds, options, options.clients, options.duration, runners);
    await sleep(2000);
    const rssAfter = rssMb(started.pid);
    runners.stop();
    return {
      label: started.label,
      note: started.note,
      socketNote: runners.socketNote,
      seedSeconds: seeded.seconds,
      rssBefore,
      rssAfter,
      reference: referencePhase,
      main
    };
  } finally {
    await started.stop();
  }
}

// ------------------------------------------------------------------------------------------
// report

const ROUTES = ['list runs', 'get run', 'log 500 points', 'heartbeat'];
const READS = ['list runs', 'get run'];

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function stats(latencies, elapsed) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: sorted.length,
    rate: sorted.length / elapsed,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN
  };
}

function summarize(phase) {
  if (!phase) return null;
  const routes = {};
  let all = 0;
  const errors = new Map();
  for (const name of ROUTES) {
    const entry = phase.routes.get(name) ?? { latencies: [], errors: new Map() };
    routes[name] = stats(entry.latencies, phase.elapsed);
    all += entry.latencies.length;
    for (const [status, count] of entry.errors) errors.set(`${name} ${status}`, count);
  }
  const reads = stats(
    READS.flatMap((name) => phase.routes.get(name)?.latencies ?? []),
    phase.elapsed
  );
  return {
    clients: phase.clients,
    elapsed: phase.elapsed,
    rate: all / phase.elapsed,
    routes,
    reads,
    errors,
    rssMax: phase.rssMax,
    serverCores: phase.serverCores,
    clientCores: phase.clientCores
  };
}

const ms = (value) => (Number.isNaN(value) ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(1));
const perSecond = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const mb = (value) => (value === null || value === undefined ? '-' : `${value.toFixed(0)} MB`);

function ratio(baseline, current, lowerIsBetter) {
  if (!Number.isFinite(baseline) || !Number.isFinite(current) || baseline === 0 || current === 0) return '';
  const value = current / baseline;
  return lowerIsBetter ? `${(1 / value).toFixed(2)}× lower` : `${value.toFixed(2)}×`;
}

function table(rows) {
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, String(cell).length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
        .join('   ')
        .trimEnd()
    )
    .join('\n');
}

function phaseRows(phases, title) {
  const rows = [];
  const present = phases.filter(Boolean);
  if (present.length === 0) return rows;
  const two = phases.length === 2 && phases.every(Boolean);
  rows.push([
    `${title} (${present[0].clients} clients, ${present[0].elapsed.toFixed(0)} s)`,
    ...phases.map(() => ''),
    ...(two ? [''] : [])
  ]);
  const add = (label, pickValue, format, lowerIsBetter, suffix = () => '') => {
    const values = phases.map((phase) => (phase ? pickValue(phase) : NaN));
    rows.push([
      `  ${label}`,
      ...values.map((value, i) => (Number.isNaN(value) ? '-' : format(value) + suffix(phases[i]))),
      ...(two ? [ratio(values[0], values[1], lowerIsBetter)] : [])
    ]);
  };
  add('requests/s, all routes', (phase) => phase.rate, perSecond, false);
  for (const name of ROUTES) {
    add(
      `${name}: requests/s (count)`,
      (phase) => phase.routes[name].rate,
      perSecond,
      false,
      (phase) => ` (${phase.routes[name].count})`
    );
    const cell = (phase) => ['p50', 'p90', 'p99', 'max'].map((q) => ms(phase.routes[name][q])).join(' / ');
    rows.push([
      `  ${name}: p50 / p90 / p99 / max ms`,
      ...phases.map((phase) => (phase ? cell(phase) : '-')),
      ...(two ? [`p99 ${ratio(phases[0].routes[name].p99, phases[1].routes[name].p99, true)}`] : [])
    ]);
  }
  add('reads (list + get): p99 ms', (phase) => phase.reads.p99, ms, true);
  rows.push([
    '  errors',
    ...phases.map((phase) =>
      phase ? (phase.errors.size ? [...phase.errors].map(([what, count]) => `${what}: ${count}`).join(', ') : 'none') : '-'
    ),
    ...(two ? [''] : [])
  ]);
  add(
    'server CPU (cores busy)',
    (phase) => phase.serverCores,
    (value) => value.toFixed(2),
    false
  );
  // Less sensitive to other processes on the machine than requests/s: what each request cost.
  add(
    'server CPU ms per request',
    (phase) => (1000 * phase.serverCores) / phase.rate,
    (value) => value.toFixed(2),
    true
  );
  add(
    'load generator CPU (cores busy)',
    (phase) => phase.clientCores,
    (value) => value.toFixed(2),
    false
  );
  return rows;
}

function report(results, options) {
  const summaries = results.map((result) => ({ ...result, main: summarize(result.main), reference: summarize(result.reference) }));
  const mix = Object.entries(options.mix)
    .filter(([, weight]) => weight > 0)
    .map(([name, weight]) => `${name} ${weight}`)
    .join(' : ');
  const lines = [];
  lines.push('');
  lines.push(
    `API under load: closed loop, mix ${mix} (list = first ${Math.min(100, options.runs)} of ${options.runs} runs; log = ${BATCH_POINTS} points as metricColumns into the ${options.liveRuns} newest runs, which the list shows),`
  );
  lines.push(
    `plus ${options.runners} simulated runners (runner token, socket.io connection, GET /api/auth/whoami every 1 s, standing in for runner heartbeats until runners land).`
  );
  lines.push(
    `Latency measured by the client (request → last byte), so it includes queueing. Machine: ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}; node ${process.version}.`
  );
  for (const result of summaries) {
    if (result.note) lines.push(`Note (${result.label}): ${result.note}.`);
    lines.push(`${result.label}: ${result.socketNote}; seeded in ${result.seedSeconds.toFixed(1)} s.`);
  }
  const header = ['', ...summaries.map((result) => result.label), ...(summaries.length === 2 ? ['current ÷ baseline'] : [])];
  const rows = [header];
  rows.push(
    ...phaseRows(
      summaries.map((result) => result.main),
      'Main load'
    )
  );
  rows.push(['server RSS', ...summaries.map(() => ''), ...(summaries.length === 2 ? [''] : [])]);
  rows.push(['  before (seeded, idle)', ...summaries.map((result) => mb(result.rssBefore)), ...(summaries.length === 2 ? [''] : [])]);
  rows.push([
    `  during ${options.clients} clients (max)`,
    ...summaries.map((result) => mb(result.main.rssMax)),
    ...(summaries.length === 2 ? [''] : [])
  ]);
  rows.push(['  after (2 s idle)', ...summaries.map((result) => mb(result.rssAfter)), ...(summaries.length === 2 ? [''] : [])]);
  rows.push(
    ...phaseRows(
      summaries.map((result) => result.reference),
      'Reference'
    )
  );
  lines.push('');
  lines.push(table(rows));
  lines.push('');
  for (const result of summaries) {
    const p99 = result.main.reads.p99;
    const verdict = p99 <= READ_BUDGET_MS ? 'PASS' : 'MISS';
    lines.push(
      `budget: p99 of reads at ${result.main.clients} clients ≤ ${READ_BUDGET_MS} ms — ${verdict} (${ms(p99)} ms, ${result.label})`
    );
  }
  if (summaries.length === 2) {
    const [baseline, current] = summaries;
    const throughput = current.main.rate / baseline.main.rate;
    lines.push(
      `target: ≥ 2× the baseline's throughput on the same mix — ${throughput >= 2 ? 'PASS' : 'MISS'} (${throughput.toFixed(2)}×: ${perSecond(baseline.main.rate)} → ${perSecond(current.main.rate)} requests/s)`
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ------------------------------------------------------------------------------------------
// CPU profiles (--cpu-prof): where the server's time went

/** Where a call frame's code lives, short: `express/lib/router.js`, `dist/runs/store.js`, `node:internal/…`. */
function shortUrl(url) {
  if (!url) return '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('/node_modules/');
  if (modules >= 0) return clean.slice(modules + '/node_modules/'.length);
  const dist = clean.indexOf('/server/dist/');
  if (dist >= 0) return `server/dist/${clean.slice(dist + '/server/dist/'.length)}`;
  return clean;
}

/** What a call frame belongs to: a package, a server source file, node itself, or the VM. */
function areaOf(url) {
  const short = shortUrl(url);
  if (short === '(native)') return '(native / VM)';
  if (short.startsWith('server/dist/')) return short;
  if (short.startsWith('node:')) return 'node internals';
  if (!url.includes('/node_modules/')) return short;
  const parts = short.split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Self time per function and per area, and inclusive time of the server's own functions. */
function summarizeCpuProfile(file, top = 25) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0);
  const keyOf = ({ callFrame }) =>
    `${callFrame.functionName || '(anonymous)'}  ${shortUrl(callFrame.url)}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
  const bySelf = new Map();
  const byArea = new Map();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    bySelf.set(keyOf(node), (bySelf.get(keyOf(node)) ?? 0) + us);
    const area = areaOf(node.callFrame.url);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  // Inclusive time of the server's functions, counted once per stack (recursion is not doubled).
  const inclusive = new Map();
  const onStack = new Map();
  const visit = (id) => {
    const node = nodes.get(id);
    const key = keyOf(node);
    const own = node.callFrame.url.includes('/server/dist/');
    let us = selfUs.get(id) ?? 0;
    if (own) onStack.set(key, (onStack.get(key) ?? 0) + 1);
    for (const child of node.children ?? []) us += visit(child);
    if (own) {
      onStack.set(key, onStack.get(key) - 1);
      if (onStack.get(key) === 0) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
    return us;
  };
  visit(profile.nodes[0].id);
  const rows = (map, count) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, us]) => [`  ${key}`, `${(us / 1000).toFixed(0)} ms`, `${((100 * us) / totalUs).toFixed(1)}%`]);
  const idle = [...bySelf].filter(([key]) => key.startsWith('(idle)')).reduce((sum, [, us]) => sum + us, 0);
  return [
    `${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${((100 * idle) / totalUs).toFixed(1)}% idle`,
    `Top ${top} functions by self time:`,
    table(rows(bySelf, top)),
    'Self time by package / server file:',
    table(rows(byArea, 20)),
    `Top ${top} server functions by inclusive time:`,
    table(rows(inclusive, top))
  ].join('\n');
}

// ------------------------------------------------------------------------------------------

function log(message) {
  process.stdout.write(`[load] ${message}\n`);
}

function sleep(msDelay) {
  return new Promise((resolve) => setTimeout(resolve, msDelay));
}

let options;
const servers = [];
try {
  options = parseOptions(process.argv.slice(2));
  if (options.baseline && options.only !== 'current') servers.push(baselineServer(options.baseline));
  if (options.only !== 'baseline') servers.push(currentServer(options.current));
} catch (error) {
  process.stderr.write(`[load] ${error.message}\n`);
  process.exit(1);
}
const results = [];
for (const server of servers) {
  try {
    results.push(await measureServer(server, options));
  } catch (error) {
    // Report what was measured; one server failing (say, a half-edited tree) should not hide the other.
    process.stderr.write(`[load] ${server.label}: ${error.message}\n`);
  }
}
if (results.length) report(results, options);
if (options.cpuProf) {
  for (const result of results) {
    const folder = path.join(options.cpuProf, result.label.replace(/[^A-Za-z0-9.+-]+/g, '-'));
    for (const name of fs.readdirSync(folder).filter((entry) => entry.endsWith('.cpuprofile'))) {
      process.stdout.write(
        `\nCPU profile of ${result.label} (the whole life of the server, seeding included):\n${summarizeCpuProfile(path.join(folder, name))}\n`
      );
    }
  }
}
if (results.length < servers.length) process.exitCode = 1;
