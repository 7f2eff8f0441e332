#!/usr/bin/env node
/**
 * `npm run bench`: set up (plus MLflow and DVC for the side-by-side figures), then run every benchmark
 * and print its figures. Benchmarks never fail on wall-clock time; they only report.
 *   npm run bench -- ingest      (or queries, snapshots, kernel, datasets, load, runners, serving, kubernetes, monitoring, sweeps)   runs one of them
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fail, log, PYTHON, ROOT, run, setup } from '../scripts/setup.mjs';

const benchmarks = {
  queries: [process.execPath, [path.join(ROOT, 'bench', 'queries.mjs')]],
  snapshots: [process.execPath, [path.join(ROOT, 'bench', 'snapshots.mjs')]],
  ingest: [PYTHON, [path.join(ROOT, 'bench', 'ingest.py')]],
  kernel: [PYTHON, [path.join(ROOT, 'bench', 'kernel_overhead.py')]],
  datasets: [PYTHON, [path.join(ROOT, 'bench', 'datasets.py')]],
  load: [process.execPath, [path.join(ROOT, 'bench', 'load.mjs')]],
  runners: [PYTHON, [path.join(ROOT, 'bench', 'runners.py')]],
  serving: [PYTHON, [path.join(ROOT, 'bench', 'serving.py')]],
  kubernetes: [process.execPath, ['--expose-gc', path.join(ROOT, 'bench', 'kubernetes.mjs')]],
  monitoring: [PYTHON, [path.join(ROOT, 'bench', 'monitoring.py')]],
  sweeps: [PYTHON, [path.join(ROOT, 'bench', 'sweeps.py')]]
};
/** Benchmarks that compare with MLflow, DVC or papermill, which are installed only when one of them runs. */
const NEEDS_MLFLOW_OR_DVC = new Set(['ingest', 'kernel', 'datasets', 'runners', 'serving']);

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in benchmarks));
if (unknown.length) fail(`Unknown benchmark(s): ${unknown.join(', ')}. Choose from: ${Object.keys(benchmarks).join(', ')}.`);

const selected = chosen.length ? chosen : Object.keys(benchmarks);
setup({ tests: true });
if (selected.some((name) => NEEDS_MLFLOW_OR_DVC.has(name))) {
  log('Installing MLflow, DVC and papermill for the side-by-side figures (first run only takes a while)…');
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', 'python/requirements-bench.txt']);
}
for (const name of selected) {
  const [command, args] = benchmarks[name];
  log(`Benchmark: ${name}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) log(`The ${name} benchmark exited with ${result.status}.`);
}
