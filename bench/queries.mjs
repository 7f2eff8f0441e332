#!/usr/bin/env node
/**
 * Run-tracking query budgets: runs list with summaries over 10k runs, compare of 50
 * runs, and a 1M-point metric history downsampled to 2,000 points. Builds an app in-process on a
 * temporary data directory, fills it through the runs service, then times real HTTP requests;
 * the figures are server-side (the request log's duration, from request to last byte).
 *
 *   npm run build -w server && node bench/queries.mjs
 */
import { startBenchServer } from './server.mjs';

const RUNS = 10_000;
const METRICS = 20;
const COMPARED = 50;
const COMPARE_STEPS = 200;
const SERIES_POINTS = 1_000_000;
const ROUNDS = 30;

const { app, url, token, durations, close } = await startBenchServer();

const seconds = (start) => (performance.now() - start) / 1000;
let started = performance.now();
const runIds = [];
for (let index = 0; index < RUNS; index++) {
  const run = await app.runs.create({
    project: 'bench',
    params: { lr: String(10 ** -(index % 5)), depth: String(index % 13) },
    tags: { team: index % 2 ? 'a' : 'b' },
    notebookPath: 'train.ipynb',
    source: { kind: 'api', cell: null },
    environment: null,
    frontendId: null,
    moduleFiles: []
  });
  runIds.push(run.id);
  const metrics = [];
  for (let metric = 0; metric < METRICS; metric++) {
    for (let step = 0; step < 3; step++) metrics.push({ key: `metric_${metric}`, value: Math.random(), step });
  }
  app.runs.log(run.id, { idempotencyKey: `seed-${index}`, params: {}, tags: {}, metrics, inputs: [], outputs: [] });
}
console.log(`seeded ${RUNS} runs × ${METRICS} metrics (3 points each) in ${seconds(started).toFixed(1)} s`);

started = performance.now();
const compared = runIds.slice(0, COMPARED);
for (const runId of compared) {
  const metrics = [];
  for (let metric = 0; metric < METRICS; metric++) {
    for (let step = 3; step < COMPARE_STEPS; step++) {
      metrics.push({ key: `metric_${metric}`, value: Math.sin(step / 10) + Math.random(), step });
    }
  }
  app.runs.log(runId, { idempotencyKey: `compare-${runId}`, params: {}, tags: {}, metrics, inputs: [], outputs: [] });
}
console.log(`seeded ${COMPARED} runs with ${COMPARE_STEPS} steps per metric in ${seconds(started).toFixed(1)} s`);

const seriesRun = runIds[COMPARED];
started = performance.now();
const BATCH = 50_000;
for (let offset = 0; offset < SERIES_POINTS; offset += BATCH) {
  const metrics = Array.from({ length: BATCH }, (_, index) => ({
    key: 'long',
    value: Math.sin((offset + index) / 5000) + Math.random() * 0.1,
    step: offset + index
  }));
  app.runs.log(seriesRun, { idempotencyKey: `long-${offset}`, params: {}, tags: {}, metrics, inputs: [], outputs: [] });
}
const ingestSeconds = seconds(started);
console.log(
  `ingested a ${SERIES_POINTS.toLocaleString('en')}-point series in ${ingestSeconds.toFixed(2)} s (${Math.round(SERIES_POINTS / ingestSeconds).toLocaleString('en')} points/s, service level)`
);

// Ingest over HTTP too: JSON parsing and validation included.
started = performance.now();
const HTTP_POINTS = 200_000;
for (let offset = 0; offset < HTTP_POINTS; offset += 20_000) {
  const metrics = Array.from({ length: 20_000 }, (_, index) => ({ key: `http_${index % 10}`, value: Math.random() }));
  const response = await fetch(`${url}/api/runs/${seriesRun}/log`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ idempotencyKey: `http-batch-${offset}`, metrics })
  });
  if (response.status !== 200) throw new Error(`log failed: ${response.status} ${await response.text()}`);
}
const httpIngest = Math.round(HTTP_POINTS / seconds(started));
console.log(`HTTP ingest: ${httpIngest.toLocaleString('en')} points/s (20,000-point batches, end to end)`);

async function measure(name, target, budget) {
  const times = [];
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const response = await fetch(url + target, { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${target}: ${response.status} ${text.slice(0, 300)}`);
    bytes = text.length;
    times.push(durations.get(target));
  }
  times.sort((a, b) => a - b);
  const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { name, p50: p(0.5), p95: p(0.95), budget, bytes };
}

const results = [
  await measure(
    `list 100 of ${RUNS.toLocaleString('en')} runs, sorted by a metric`,
    '/api/runs?project=bench&sort=metrics.metric_7:desc&limit=100',
    100
  ),
  await measure(
    `list with filters (metric ≥, param =)`,
    `/api/runs?project=bench&sort=metrics.metric_3:asc&limit=100&filter=${encodeURIComponent('metrics.metric_1>=0.5')}&filter=${encodeURIComponent('params.depth=3')}`,
    100
  ),
  await measure(
    `compare ${COMPARED} runs (${METRICS} metrics × ${COMPARE_STEPS} steps)`,
    `/api/runs/compare?ids=${compared.join(',')}`,
    200
  ),
  await measure('1M-point history → 2,000 points', `/api/runs/${seriesRun}/metrics/long?maxPoints=2000`, 50),
  await measure(
    '1M-point history, zoom 10k steps (full resolution)',
    `/api/runs/${seriesRun}/metrics/long?maxPoints=10000&minStep=500000&maxStep=509999`,
    50
  )
];

console.log('\nserver-side time per request (ms), %d rounds each', ROUNDS);
console.log(['query'.padEnd(58), 'p50'.padStart(7), 'p95'.padStart(7), 'budget'.padStart(8), 'answer'.padStart(10), ''].join('  '));
for (const result of results) {
  // The budgets are on the median (what a user sees most often); p95 is printed to show the spread.
  const within = result.p50 <= result.budget ? 'ok (p50)' : 'OVER (p50)';
  console.log(
    [
      result.name.padEnd(58),
      result.p50.toFixed(1).padStart(7),
      result.p95.toFixed(1).padStart(7),
      `≤ ${result.budget}`.padStart(8),
      `${(result.bytes / 1024).toFixed(0)} KiB`.padStart(10),
      within
    ].join('  ')
  );
}

await close();
