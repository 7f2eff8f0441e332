#!/usr/bin/env node
/**
 * Companion-server memory with many connected runners (bench/runners.py starts the server and calls
 * this). SIMULATED agents, not `runlab runner start` processes: each is one socket.io-client
 * connection in this one Node process, registered with a runner token of its own (POST /api/runners
 * with the admin token), connected to the /runners namespace with auth { token }, saying
 * runner:hello with a capacity, then heartbeating at the interval the server's welcome asks for.
 * They take no jobs (none are submitted; an offer would be refused). Prints one JSON line.
 *
 *   node bench/runners_memory.mjs --url URL --token ADMIN_TOKEN --pid SERVER_PID [--runners 200] [--hold 15]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { io as connectSocket } from 'socket.io-client';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    pid: { type: 'string' },
    runners: { type: 'string', default: '200' },
    hold: { type: 'string', default: '15' }
  }
});
if (!values.url || !values.token || !values.pid) {
  console.error('usage: node bench/runners_memory.mjs --url URL --token ADMIN_TOKEN --pid SERVER_PID [--runners 200] [--hold 15]');
  process.exit(2);
}
const count = Number(values.runners);
const holdS = Number(values.hold);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** VmRSS of the server process, in MB (kB in /proc/<pid>/status). */
function rssMb() {
  const status = fs.readFileSync(`/proc/${values.pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

async function api(method, path, body) {
  const response = await fetch(`${values.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${values.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

const capacity = { cpus: 4, memoryBytes: 8 * 1024 ** 3, gpus: [], os: 'Linux (simulated)', python: '3.12.0' };
let heartbeats = 0;
let heartbeatErrors = 0;
const heartbeatErrorReasons = {};
let closing = false;
let offers = 0;

function connect(token) {
  return new Promise((resolve, reject) => {
    const socket = connectSocket(`${values.url}/runners`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      timeout: 10_000
    });
    socket.on('job:offer', (_offer, ack) => {
      offers += 1;
      ack({ accepted: false });
    });
    socket.once('connect_error', (error) => reject(new Error(`connect: ${error.message}`)));
    socket.once('connect', () => {
      const hello = { capacity, maxJobs: 1, labels: [], version: 'bench-sim', attempts: [] };
      socket.timeout(10_000).emit('runner:hello', hello, (error, reply) => {
        if (error) return reject(new Error(`runner:hello: ${error.message}`));
        if (!reply.ok) return reject(new Error(`runner:hello refused: ${reply.code} ${reply.message}`));
        const timer = setInterval(() => {
          socket.timeout(10_000).emit('runner:heartbeat', { attempts: [] }, (err, answer) => {
            if (closing) return; // answers lost to our own disconnect do not count
            if (err || !answer?.ok) {
              heartbeatErrors += 1;
              const reason = err ? err.message : `${answer.code}: ${answer.message}`;
              heartbeatErrorReasons[reason] = (heartbeatErrorReasons[reason] ?? 0) + 1;
            } else {
              heartbeats += 1;
            }
          });
        }, reply.heartbeatMs);
        resolve({ socket, timer, heartbeatMs: reply.heartbeatMs, leaseMs: reply.leaseMs });
      });
    });
  });
}

const before = rssMb();
const tag = Date.now().toString(36);
const tokens = [];
const registerStarted = performance.now();
for (let i = 0; i < count; i++) {
  const created = await api('POST', '/api/runners', { name: `sim-${tag}-${String(i).padStart(3, '0')}`, maxJobs: 1 });
  tokens.push(created.token);
}
const registerS = (performance.now() - registerStarted) / 1000;
const afterRegister = rssMb();

const connectStarted = performance.now();
const agents = [];
for (let i = 0; i < tokens.length; i += 20) {
  agents.push(...(await Promise.all(tokens.slice(i, i + 20).map(connect))));
}
const connectS = (performance.now() - connectStarted) / 1000;
const afterConnect = rssMb();
const samples = [];
for (let s = 0; s < holdS; s++) {
  await sleep(1000);
  samples.push(rssMb());
}
const afterHold = samples[samples.length - 1];
const holdMax = Math.max(...samples);
const listed = await api('GET', '/api/runners');
const online = listed.runners.filter((runner) => runner.status === 'online').length;

closing = true;
for (const agent of agents) {
  clearInterval(agent.timer);
  agent.socket.close();
}
await sleep(1000);
const afterDisconnect = rssMb();
console.log(
  JSON.stringify({
    runners: count,
    online,
    heartbeatMs: agents[0]?.heartbeatMs,
    leaseMs: agents[0]?.leaseMs,
    heartbeats,
    heartbeatErrors,
    heartbeatErrorReasons,
    offers,
    holdS,
    registerS,
    connectS,
    rssMb: { before, afterRegister, afterConnect, afterHold, holdMax, afterDisconnect }
  })
);
process.exit(0);
