/**
 * The `local` target: `runlab serve-model --deployment <id>` processes on this machine, one per
 * deployment (it runs `--workers <replicas>` worker processes behind one port). The supervisor
 * starts each, health-checks it (`GET /runlab/status`: often while it loads a revision, less
 * once it serves it), restarts it with backoff when it exits, gives up when it keeps crashing
 * before it ever gets ready, and stops it with SIGTERM, then SIGKILL after a grace period.
 *
 * Each runtime runs in its own process group, so its worker processes go with it: when the
 * leader exits (even by SIGKILL), what is left of its group is killed before the restart, and a
 * runtime left behind by a server that was itself killed is found by its pid file and stopped
 * before its port is served again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../logger';
import type { ServingLaunch, ServingObserver, ServingTarget } from './target';

/** Waits before the 1st, 2nd, 3rd… restart in a row. */
export const RESTART_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 10_000];
/** Exits in a row without ever answering ready that make a deployment `failed`. */
export const MAX_CRASHES_BEFORE_READY = 5;
/** A process up this long counts as healthy: its next restart waits the first delay again. */
const STABLE_AFTER_MS = 10_000;
/** Health checks while a revision loads, and once it is served. */
const LOADING_CHECK_MS = 250;
const READY_CHECK_MS = 2000;
const CHECK_TIMEOUT_MS = 1500;
/** Failed checks in a row, after being ready, that make a deployment degraded. */
const UNRESPONSIVE_AFTER_CHECKS = 3;
/** Lines of its log quoted when a runtime fails. */
const LOG_TAIL_LINES = 15;
const LOG_HEADER = '--- runlab: started';
const MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface LocalTargetOptions {
  /** The Python that runs `-m runlab serve-model` (RUNLAB_SERVING_PYTHON). */
  python: string;
  /** `<data dir>/deployment-logs`: `<id>.log` (its output) and `<id>.pid`. */
  logsDir: string;
  logger: Logger;
  /** How long SIGTERM gets before SIGKILL. */
  stopGraceMs?: number;
}

/** `<python> -m runlab serve-model …`, the arguments of a deployment's runtime. */
export function servingArgs(launch: ServingLaunch): string[] {
  return [
    '-m',
    'runlab',
    'serve-model',
    '--deployment',
    launch.deploymentId,
    '--server',
    launch.serverUrl,
    '--host',
    '127.0.0.1',
    '--port',
    String(launch.port),
    '--workers',
    String(launch.replicas)
  ];
}

/** The endpoint clients reach a local deployment at. */
export const localEndpoint = (port: number): string => `http://127.0.0.1:${port}`;

/** Whether something could listen on 127.0.0.1:`port` now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** A port the OS says is free now, not one of `taken` (ports of other deployments, maybe not serving yet). */
export async function pickFreePort(taken: readonly number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', reject);
      probe.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
        const chosen = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(chosen));
      });
    });
    if (!taken.includes(port)) return port;
  }
  throw new Error('could not find a free port on 127.0.0.1');
}

/** The last lines of a runtime's log, from its latest start. */
export function logTail(file: string, lines = LOG_TAIL_LINES): string {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    const length = Math.min(size, 16 * 1024);
    const buffer = Buffer.alloc(length);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buffer, 0, length, size - length);
    } finally {
      fs.closeSync(fd);
    }
    text = buffer.toString('utf8');
  } catch {
    return '';
  }
  const all = text.split('\n');
  const header = all.map((line) => line.startsWith(LOG_HEADER)).lastIndexOf(true);
  return all
    .slice(header + 1)
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .join('\n');
}

const exitReason = (code: number | null, signal: NodeJS.Signals | null): string =>
  signal ? `signal ${signal}` : code === null ? 'an unknown cause' : `exit code ${code}`;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One deployment's runtime: its process, restarts and health checks. */
class ServingProcess {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private exitsBeforeReady = 0;
  private restartsInRow = 0;
  private failedChecks = 0;
  private readySeen = false;
  private stopped = false;
  private failed = false;
  private healthTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  private checking = false;

  constructor(
    private readonly launch: ServingLaunch,
    private readonly options: LocalTargetOptions & { stopGraceMs: number },
    private readonly observer: ServingObserver
  ) {}

  get logFile(): string {
    return path.join(this.options.logsDir, `${this.launch.deploymentId}.log`);
  }

  private get pidFile(): string {
    return path.join(this.options.logsDir, `${this.launch.deploymentId}.pid`);
  }

  get running(): boolean {
    return !this.stopped && !this.failed;
  }

  async begin(): Promise<void> {
    await this.reapLeftover();
    if (this.stopped) return;
    this.spawn();
  }

  /** A new revision: check often again until the runtime serves it. */
  poke(): void {
    if (this.failed && !this.stopped) {
      // A change is a new chance for a deployment that kept crashing.
      this.failed = false;
      this.exitsBeforeReady = 0;
      this.restartsInRow = 0;
      this.spawn();
      return;
    }
    this.scheduleCheck(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      killGroup(child.pid, 'SIGTERM');
      const killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), this.options.stopGraceMs);
      await this.exited;
      clearTimeout(killTimer);
    }
    fs.rmSync(this.pidFile, { force: true });
  }

  private clearTimers(): void {
    if (this.healthTimer) clearTimeout(this.healthTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.healthTimer = null;
    this.restartTimer = null;
  }

  /** A runtime a killed server left behind still holds the port: stop it first. */
  private async reapLeftover(): Promise<void> {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return;
    let commandLine = '';
    try {
      commandLine = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return; // not Linux, or gone: do not kill what cannot be recognised
    }
    if (!commandLine.includes(`--deployment\0${this.launch.deploymentId}\0`)) return;
    this.options.logger.info({ deploymentId: this.launch.deploymentId, pid }, 'stopping a serving process left by a previous server');
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + this.options.stopGraceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    killGroup(pid, 'SIGKILL');
    while (isAlive(pid) && Date.now() < deadline + 2000) await sleep(50);
  }

  private spawn(): void {
    if (this.stopped) return;
    const { python, logsDir, logger } = this.options;
    const args = servingArgs(this.launch);
    fs.mkdirSync(logsDir, { recursive: true });
    this.rotateLog();
    fs.appendFileSync(this.logFile, `${LOG_HEADER} ${new Date().toISOString()}: ${python} ${args.join(' ')}\n`);
    const log = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(python, args, {
        stdio: ['ignore', log, log],
        detached: true,
        env: { ...process.env, RUNLAB_TOKEN: this.launch.tokenSecret, RUNLAB_SERVER_URL: this.launch.serverUrl, PYTHONUNBUFFERED: '1' }
      });
    } finally {
      fs.closeSync(log);
    }
    this.child = child;
    this.startedAt = Date.now();
    this.failedChecks = 0;
    this.readySeen = false;
    let settled = false;
    this.exited = new Promise<void>((resolve) => {
      const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
        if (settled) return;
        settled = true;
        // Worker processes outlive a leader killed by SIGKILL and would hold the port.
        killGroup(child.pid, 'SIGKILL');
        resolve();
        this.handleExit(child, error ? `it could not be started (${error.message})` : exitReason(code, signal));
      };
      child.once('exit', (code, signal) => onEnd(code, signal));
      child.once('error', (error) => onEnd(null, null, error));
    });
    if (child.pid !== undefined) fs.writeFileSync(this.pidFile, `${child.pid}\n`);
    logger.info({ deploymentId: this.launch.deploymentId, pid: child.pid, port: this.launch.port }, 'serving process started');
    this.scheduleCheck(LOADING_CHECK_MS);
  }

  /** A runtime restarted again and again must not fill the disk: past the limit, the log starts over (one old copy kept). */
  private rotateLog(): void {
    try {
      if (fs.statSync(this.logFile).size > MAX_LOG_BYTES) fs.renameSync(this.logFile, `${this.logFile}.1`);
    } catch {
      // no log yet
    }
  }

  private handleExit(child: ChildProcess, reason: string): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = null;
    if (this.stopped) return;
    const { observer } = this;
    const { logger } = this.options;
    const id = this.launch.deploymentId;
    logger.warn({ deploymentId: id, reason }, 'serving process exited');
    if (!this.readySeen) this.exitsBeforeReady++;
    if (this.exitsBeforeReady >= MAX_CRASHES_BEFORE_READY) {
      this.failed = true;
      const tail = logTail(this.logFile);
      observer.failed(
        id,
        `The serving process exited ${this.exitsBeforeReady} times in a row before it was ready (last: ${reason}); ` +
          `fix the cause, then change the traffic or deploy again. Its log (${this.logFile}) ends with:\n${tail}`
      );
      return;
    }
    if (Date.now() - this.startedAt >= STABLE_AFTER_MS) this.restartsInRow = 0;
    const delay = RESTART_DELAYS_MS[Math.min(this.restartsInRow, RESTART_DELAYS_MS.length - 1)];
    this.restartsInRow++;
    observer.exited(id, reason, delay);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.spawn();
    }, delay);
  }

  private scheduleCheck(ms: number): void {
    if (this.stopped || !this.child) return;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = setTimeout(() => {
      this.healthTimer = null;
      void this.check();
    }, ms);
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const child = this.child;
    const { observer } = this;
    const id = this.launch.deploymentId;
    let next = LOADING_CHECK_MS;
    try {
      const status = await this.fetchStatus();
      if (this.stopped || this.child !== child || !child) return;
      const current = observer.revisionOf(id);
      if (current === undefined) return;
      if (status === null) {
        this.failedChecks++;
        if (this.readySeen && this.failedChecks === UNRESPONSIVE_AFTER_CHECKS) {
          observer.unresponsive(
            id,
            `The serving process (pid ${child.pid}) stopped answering its health check on port ${this.launch.port}`
          );
        }
      } else {
        this.failedChecks = 0;
        if (status.ready && status.revision !== null && status.revision >= current) {
          this.readySeen = true;
          this.exitsBeforeReady = 0;
          observer.ready(id, status.revision);
          next = READY_CHECK_MS;
        } else {
          observer.loading(id, status.revision);
        }
      }
    } finally {
      this.checking = false;
      if (this.child === child) this.scheduleCheck(next);
    }
  }

  /** The runtime's `/runlab/status`, or null when it does not answer (yet). */
  private async fetchStatus(): Promise<{ revision: number | null; ready: boolean } | null> {
    try {
      const response = await fetch(`${localEndpoint(this.launch.port)}/runlab/status`, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      const body = (await response.json().catch(() => null)) as { revision?: unknown; ready?: unknown } | null;
      const header = Number(response.headers.get('x-runlab-revision'));
      const revision = typeof body?.revision === 'number' ? body.revision : Number.isInteger(header) && header > 0 ? header : null;
      return { revision, ready: response.ok && body?.ready === true };
    } catch {
      return null;
    }
  }
}

export class LocalTarget implements ServingTarget {
  private readonly processes = new Map<string, ServingProcess>();
  private readonly options: LocalTargetOptions & { stopGraceMs: number };
  private observer: ServingObserver | null = null;

  constructor(options: LocalTargetOptions) {
    this.options = { stopGraceMs: 5000, ...options };
  }

  observe(observer: ServingObserver): void {
    this.observer = observer;
  }

  async start(launch: ServingLaunch): Promise<void> {
    if (!this.observer) throw new Error('LocalTarget.start() before observe()');
    await this.stop(launch.deploymentId);
    const process = new ServingProcess(launch, this.options, this.observer);
    this.processes.set(launch.deploymentId, process);
    await process.begin();
  }

  revisionChanged(deploymentId: string): void {
    this.processes.get(deploymentId)?.poke();
  }

  async stop(deploymentId: string): Promise<void> {
    const process = this.processes.get(deploymentId);
    if (!process) return;
    this.processes.delete(deploymentId);
    await process.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.stop(id)));
  }

  isRunning(deploymentId: string): boolean {
    return this.processes.get(deploymentId)?.running ?? false;
  }
}
