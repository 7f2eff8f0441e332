/**
 * Typed configuration from environment variables and command-line flags (flags win).
 *
 * Every setting is validated at start-up; a bad value stops the server with a message naming
 * the setting, so a typo never turns into a confusing failure later.
 */
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { VERSION } from './version';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** Absolute path of the data directory (database, repositories, admin token, server.json). */
  dataDir: string;
  host: string;
  /** 0 asks the OS for a free port; the actual port is written to server.json. */
  port: number;
  logLevel: LogLevel;
  /** Extra browser origins allowed besides localhost ones; `*` allows any origin. */
  allowedOrigins: string[];
  /**
   * Host names the server answers to besides localhost, IP addresses and its bind address
   * (DNS-rebinding defence, http/hosts.ts); lowercase, `.example.org` includes subdomains, `*` any.
   */
  allowedHosts: string[];
  maxBodyBytes: number;
  /** Limit of large JSON bodies: metric batches and notebook snapshots. */
  maxLargeBodyBytes: number;
  /** Largest artifact upload accepted (streamed to disk, so not bounded by maxBodyBytes). */
  maxArtifactBytes: number;
  /** Keep cell outputs and execution counts in notebook snapshots (stripped by default). */
  snapshotKeepOutputs: boolean;
  /** How often runner agents heartbeat (ms). */
  runnerHeartbeatMs: number;
  /** How long a job's attempt survives without a heartbeat from its runner (ms); longer than the heartbeat. */
  runnerLeaseMs: number;
  /** The Python that runs `-m runlab serve-model` for local deployments (npm start passes the venv's). */
  servingPython: string;
  /** The Python that runs `-m runlab.sweeps.propose`, the sweeps' proposer (npm start passes the venv's). */
  sweepPython: string;
  /** Seconds between a serving runtime's spec polls and telemetry reports. */
  servingPollSeconds: number;
  /** Share of requests (0–1) whose inputs and outputs serving runtimes log back as predictions. */
  predictionSampleRate: number;
  /** Most sampled predictions a serving replica logs per second. */
  predictionLimitPerSecond: number;
  /** Days sampled predictions, feedback labels and per-minute traffic are kept (drift windows are kept longer). */
  predictionRetentionDays: number;
  /** Seconds between evaluations of the error-rate, latency and accuracy alert rules. */
  alertEvaluationSeconds: number;
  /** How long a webhook gets to answer one delivery attempt (ms). */
  webhookTimeoutMs: number;
  /** Waits before each retry of a failed webhook delivery (ms); attempts = retries + 1. */
  webhookRetryDelaysMs: number[];
  /** The kubeconfig whose contexts are Kubernetes targets; null: KUBECONFIG, else ~/.kube/config. */
  kubeconfig: string | null;
  /** The image Kubernetes deployments' pods run (`runlab models dockerfile` writes its Dockerfile). */
  servingImage: string;
  /** The image Kubernetes runner pools' pods run, unless a pool names its own. */
  runnerImage: string;
  /** The URL pods use to reach this server; null: the server's own URL. */
  kubernetesServerUrl: string | null;
}

/** Values given on the command line; undefined means "not given". */
export interface ConfigFlags {
  dataDir?: string;
  host?: string;
  port?: string;
  logLevel?: string;
}

/** Exit code for a bad setting, distinct from crashes (1). */
export const EXIT_BAD_CONFIG = 2;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** A container image reference: registry/name:tag or …@sha256:digest. */
const imageSchema = z.string().regex(/^[\w.-]+(:\d+)?(\/[\w.-]+)*(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/);

interface Setting<T> {
  env: string;
  flag?: keyof ConfigFlags;
  flagName?: string;
  defaultValue: string;
  /** What a valid value looks like, for the error message. */
  expected: string;
  schema: z.ZodType<T, string>;
}

const portSchema = z
  .string()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.number().int().min(0).max(65535));

const positiveIntegerSchema = z
  .string()
  .regex(/^\d{1,15}$/)
  .transform(Number)
  .pipe(z.number().int().min(1));

/** A decimal number, e.g. `0.5` or `2`. */
const decimalSchema = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,9})?$/)
  .transform(Number);

const originSchema = z.string().transform((value, ctx) => {
  if (value === '*') return value;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '')) {
      return url.origin;
    }
  } catch {
    // fall through to the issue below
  }
  ctx.addIssue({ code: 'custom', message: 'not an origin' });
  return z.NEVER;
});

/** A host name (a leading `.` includes its subdomains) or IP address; no scheme, no port. */
const hostNameSchema = z.string().transform((value, ctx) => {
  const host = value.toLowerCase();
  const label = '[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?';
  const isName = new RegExp(`^\\.?${label}(\\.${label})*\\.?$`).test(host);
  const isIp = isIP(host) !== 0 || (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6);
  if (host === '*' || isName || isIp) return host;
  ctx.addIssue({ code: 'custom', message: 'not a host name' });
  return z.NEVER;
});

const SETTINGS = {
  dataDir: {
    env: 'RUNLAB_DATA_DIR',
    flag: 'dataDir',
    flagName: '--data-dir',
    defaultValue: '~/.runlab',
    expected: 'a directory path',
    schema: z.string().min(1).transform(expandPath)
  } satisfies Setting<string>,
  host: {
    env: 'RUNLAB_HOST',
    flag: 'host',
    flagName: '--host',
    defaultValue: '127.0.0.1',
    expected: 'a host name or IP address',
    schema: z.string().regex(/^[A-Za-z0-9.:\-[\]]+$/)
  } satisfies Setting<string>,
  port: {
    env: 'RUNLAB_PORT',
    flag: 'port',
    flagName: '--port',
    defaultValue: '8765',
    expected: 'an integer from 0 to 65535',
    schema: portSchema
  } satisfies Setting<number>,
  logLevel: {
    env: 'RUNLAB_LOG_LEVEL',
    flag: 'logLevel',
    flagName: '--log-level',
    defaultValue: 'info',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    schema: z.enum(LOG_LEVELS)
  } satisfies Setting<LogLevel>,
  allowedOrigins: {
    env: 'RUNLAB_ALLOWED_ORIGINS',
    defaultValue: '',
    expected: 'a comma-separated list of origins such as https://lab.example.org, or *',
    schema: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      )
      .pipe(z.array(originSchema))
  } satisfies Setting<string[]>,
  allowedHosts: {
    env: 'RUNLAB_ALLOWED_HOSTS',
    defaultValue: '',
    expected: 'a comma-separated list of host names such as lab.example.org (no scheme or port), or *',
    schema: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      )
      .pipe(z.array(hostNameSchema))
  } satisfies Setting<string[]>,
  maxBodyBytes: {
    env: 'RUNLAB_MAX_BODY_BYTES',
    defaultValue: String(1024 * 1024),
    expected: 'a positive integer number of bytes',
    schema: positiveIntegerSchema
  } satisfies Setting<number>,
  maxLargeBodyBytes: {
    env: 'RUNLAB_MAX_LARGE_BODY_BYTES',
    defaultValue: String(64 * 1024 * 1024),
    expected: 'a positive integer number of bytes',
    schema: positiveIntegerSchema
  } satisfies Setting<number>,
  maxArtifactBytes: {
    env: 'RUNLAB_MAX_ARTIFACT_BYTES',
    defaultValue: String(5 * 1024 ** 3),
    expected: 'a positive integer number of bytes',
    schema: positiveIntegerSchema
  } satisfies Setting<number>,
  snapshotKeepOutputs: {
    env: 'RUNLAB_SNAPSHOT_KEEP_OUTPUTS',
    defaultValue: '0',
    expected: '1 (keep outputs) or 0 (strip them)',
    schema: z.enum(['0', '1']).transform((value) => value === '1')
  } satisfies Setting<boolean>,
  runnerHeartbeatMs: {
    env: 'RUNLAB_RUNNER_HEARTBEAT_MS',
    defaultValue: '5000',
    expected: 'a positive integer number of milliseconds',
    schema: positiveIntegerSchema
  } satisfies Setting<number>,
  runnerLeaseMs: {
    env: 'RUNLAB_RUNNER_LEASE_MS',
    defaultValue: '30000',
    expected: 'a positive integer number of milliseconds, longer than RUNLAB_RUNNER_HEARTBEAT_MS',
    schema: positiveIntegerSchema
  } satisfies Setting<number>,
  servingPython: {
    env: 'RUNLAB_SERVING_PYTHON',
    defaultValue: 'python3',
    expected: 'a Python executable (a path, or a name on PATH) with the runlab package installed',
    schema: z.string().min(1)
  } satisfies Setting<string>,
  sweepPython: {
    env: 'RUNLAB_SWEEP_PYTHON',
    defaultValue: 'python3',
    expected: 'a Python executable (a path, or a name on PATH) with the runlab package (and so Optuna) installed',
    schema: z.string().min(1)
  } satisfies Setting<string>,
  servingPollSeconds: {
    env: 'RUNLAB_SERVING_POLL_SECONDS',
    defaultValue: '2',
    expected: 'a number of seconds from 0.1 to 3600',
    schema: decimalSchema.pipe(z.number().min(0.1).max(3600))
  } satisfies Setting<number>,
  predictionSampleRate: {
    env: 'RUNLAB_PREDICTION_SAMPLE_RATE',
    defaultValue: '1',
    expected: 'a share of requests from 0 (log none) to 1 (log every request)',
    schema: decimalSchema.pipe(z.number().min(0).max(1))
  } satisfies Setting<number>,
  predictionLimitPerSecond: {
    env: 'RUNLAB_PREDICTION_LIMIT',
    defaultValue: '100',
    expected: 'a positive number of sampled predictions per second per serving replica',
    schema: decimalSchema.pipe(z.number().positive().max(1_000_000))
  } satisfies Setting<number>,
  predictionRetentionDays: {
    env: 'RUNLAB_PREDICTION_RETENTION_DAYS',
    defaultValue: '30',
    expected: 'a number of days from 0.001 to 3650 to keep logged predictions, feedback labels and traffic',
    schema: decimalSchema.pipe(z.number().min(0.001).max(3650))
  } satisfies Setting<number>,
  alertEvaluationSeconds: {
    env: 'RUNLAB_ALERT_EVALUATION_SECONDS',
    defaultValue: '15',
    expected: 'a number of seconds from 0.05 to 3600',
    schema: decimalSchema.pipe(z.number().min(0.05).max(3600))
  } satisfies Setting<number>,
  webhookTimeoutMs: {
    env: 'RUNLAB_WEBHOOK_TIMEOUT_MS',
    defaultValue: '5000',
    expected: 'a positive integer number of milliseconds',
    schema: positiveIntegerSchema
  } satisfies Setting<number>,
  webhookRetryDelaysMs: {
    env: 'RUNLAB_WEBHOOK_RETRY_MS',
    defaultValue: '1000,2000,4000,8000',
    expected: 'a comma-separated list of waits in milliseconds before each retry (1000,2000,4000,8000), or none for no retries',
    schema: z
      .string()
      .regex(/^(none|\d{1,9}(\s*,\s*\d{1,9}){0,19})$/)
      .transform((value) => (value === 'none' ? [] : value.split(',').map((part) => Number(part.trim()))))
  } satisfies Setting<number[]>,
  kubeconfig: {
    env: 'RUNLAB_KUBECONFIG',
    defaultValue: '',
    expected: 'the path of a kubeconfig file',
    schema: z.string().transform((value) => (value === '' ? null : expandPath(value)))
  } satisfies Setting<string | null>,
  servingImage: {
    env: 'RUNLAB_SERVING_IMAGE',
    defaultValue: `runlab-serving:${VERSION}`,
    expected: 'a container image reference (registry.example.com/runlab-serving:1.0)',
    schema: imageSchema
  } satisfies Setting<string>,
  runnerImage: {
    env: 'RUNLAB_RUNNER_IMAGE',
    defaultValue: `runlab-runner:${VERSION}`,
    expected: 'a container image reference (registry.example.com/runlab-runner:1.0)',
    schema: imageSchema
  } satisfies Setting<string>,
  kubernetesServerUrl: {
    env: 'RUNLAB_KUBERNETES_SERVER_URL',
    defaultValue: '',
    expected: 'an http(s) URL pods reach this server at (http://runlab.tools.svc:8765)',
    schema: z
      .string()
      .refine((value) => value === '' || /^https?:\/\/[^\s/]+(\/\S*)?$/.test(value))
      .transform((value) => (value === '' ? null : value.replace(/\/+$/, '')))
  } satisfies Setting<string | null>
};

function expandPath(value: string): string {
  const expanded = value === '~' || value.startsWith('~/') ? path.join(os.homedir(), value.slice(1)) : value;
  return path.resolve(expanded);
}

/** Reads and validates every setting; throws one ConfigError listing every bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}): Config {
  const problems: string[] = [];
  const read = <T>(setting: Setting<T>): T => {
    const fromFlag = setting.flag ? flags[setting.flag] : undefined;
    const fromEnv = env[setting.env];
    const raw = fromFlag ?? (fromEnv === undefined || fromEnv === '' ? setting.defaultValue : fromEnv);
    const result = setting.schema.safeParse(raw);
    if (result.success) return result.data;
    const name = setting.flagName ? `${setting.env} (${setting.flagName})` : setting.env;
    problems.push(`Invalid setting ${name}: expected ${setting.expected}, got ${JSON.stringify(raw)}`);
    return undefined as T;
  };
  const config: Config = {
    dataDir: read(SETTINGS.dataDir),
    host: read(SETTINGS.host),
    port: read(SETTINGS.port),
    logLevel: read(SETTINGS.logLevel),
    allowedOrigins: read(SETTINGS.allowedOrigins),
    allowedHosts: read(SETTINGS.allowedHosts),
    maxBodyBytes: read(SETTINGS.maxBodyBytes),
    maxLargeBodyBytes: read(SETTINGS.maxLargeBodyBytes),
    maxArtifactBytes: read(SETTINGS.maxArtifactBytes),
    snapshotKeepOutputs: read(SETTINGS.snapshotKeepOutputs),
    runnerHeartbeatMs: read(SETTINGS.runnerHeartbeatMs),
    runnerLeaseMs: read(SETTINGS.runnerLeaseMs),
    servingPython: read(SETTINGS.servingPython),
    sweepPython: read(SETTINGS.sweepPython),
    servingPollSeconds: read(SETTINGS.servingPollSeconds),
    predictionSampleRate: read(SETTINGS.predictionSampleRate),
    predictionLimitPerSecond: read(SETTINGS.predictionLimitPerSecond),
    predictionRetentionDays: read(SETTINGS.predictionRetentionDays),
    alertEvaluationSeconds: read(SETTINGS.alertEvaluationSeconds),
    webhookTimeoutMs: read(SETTINGS.webhookTimeoutMs),
    webhookRetryDelaysMs: read(SETTINGS.webhookRetryDelaysMs),
    kubeconfig: read(SETTINGS.kubeconfig),
    servingImage: read(SETTINGS.servingImage),
    runnerImage: read(SETTINGS.runnerImage),
    kubernetesServerUrl: read(SETTINGS.kubernetesServerUrl)
  };
  if (problems.length === 0 && config.runnerLeaseMs <= config.runnerHeartbeatMs) {
    problems.push(
      `Invalid setting RUNLAB_RUNNER_LEASE_MS: expected more than RUNLAB_RUNNER_HEARTBEAT_MS (${config.runnerHeartbeatMs}), got ${config.runnerLeaseMs}`
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
