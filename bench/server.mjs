/**
 * An in-process companion server for benchmarks: built from server/dist on a temporary data
 * directory, with the request log captured so figures are server-side (request to last byte).
 * Build first: `npm run build -w server` (npm run bench does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'server', 'dist');

/** `env`: more settings (RUNLAB_KUBECONFIG, …) on top of the bench defaults. */
export async function startBenchServer(env = {}) {
  const { createApp } = require(path.join(dist, 'app.js'));
  const { loadConfig } = require(path.join(dist, 'config.js'));
  const { ensureDataDir } = require(path.join(dist, 'data-dir.js'));
  const { openDatabase } = require(path.join(dist, 'db', 'database.js'));
  const { createLogger } = require(path.join(dist, 'logger.js'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-bench-'));
  /** url → server-side ms of the latest request to it */
  const durations = new Map();
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line);
        if (entry.msg === 'request') durations.set(entry.url, entry.ms);
      }
      callback();
    }
  });
  const config = loadConfig({ RUNLAB_PORT: '0', RUNLAB_DATA_DIR: path.join(root, 'data'), RUNLAB_LOG_LEVEL: 'info', ...env });
  const layout = ensureDataDir(config.dataDir);
  const app = createApp({ config, db: openDatabase(layout.databaseFile), logger: createLogger('info', sink) });
  const { url } = await app.listen();
  const token = fs.readFileSync(layout.adminTokenFile, 'utf8').trim();
  return {
    app,
    url,
    token,
    root,
    dataDir: config.dataDir,
    durations,
    async close() {
      await app.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  };
}

/** p50 and p95 of a list of numbers. */
export function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p95: at(0.95) };
}
