#!/usr/bin/env node
/**
 * Notebook snapshot commits (budget: < 50 ms for a 1 MB notebook). Each round starts
 * a run and snapshots a 1 MB notebook with one cell edited, as the browser does when a run
 * starts; then the same notebook again, unchanged, which reuses the commit. Side by side: what a
 * user would do by hand — `git add` + `git commit` of the same file with the real git.
 *
 *   npm run build -w server && node bench/snapshots.mjs
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { percentiles, startBenchServer } from './server.mjs';

const ROUNDS = 30;
const CELLS = 200;
const CELL_BYTES = 5_000;

function notebook(round) {
  const filler = 'x = [i * i for i in range(100)]  # feature engineering step\n';
  const cells = Array.from({ length: CELLS }, (_, index) => ({
    cell_type: 'code',
    execution_count: index + 1,
    id: `cell-${index}`,
    metadata: {},
    outputs: [{ output_type: 'stream', name: 'stdout', text: `output of cell ${index}\n` }],
    // Cell 7 changes each round: the edit between two runs.
    source: `# cell ${index}${index === 7 ? ` round ${round}` : ''}\n` + filler.repeat(Math.floor(CELL_BYTES / filler.length))
  }));
  return {
    cells,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  };
}

const server = await startBenchServer();
const notebookBytes = JSON.stringify(notebook(0)).length;
const changed = [];
const unchanged = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [times, nb] of [
    [changed, notebook(round)],
    [unchanged, notebook(round)]
  ]) {
    const run = await server.app.runs.create({
      project: 'bench',
      params: {},
      tags: {},
      notebookPath: 'train.ipynb',
      source: { kind: 'api', cell: null },
      environment: null,
      frontendId: null,
      moduleFiles: []
    });
    const target = `/api/runs/${run.id}/snapshot`;
    const response = await fetch(server.url + target, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        notebookPath: 'train.ipynb',
        notebook: nb,
        files: [{ path: 'features.py', content: 'def build():\n    return 1\n' }]
      })
    });
    if (response.status !== 201) throw new Error(`snapshot failed: ${response.status} ${await response.text()}`);
    const body = await response.json();
    if (times === unchanged && !body.reused) throw new Error('an unchanged notebook should reuse its commit');
    times.push(server.durations.get(target));
  }
}

// By hand: the same notebook written, then git add + git commit, with the real git.
const repo = path.join(server.root, 'by-hand');
fs.mkdirSync(repo);
const git = (...args) => {
  const result = spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd: repo, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
};
git('init', '-q');
const byHand = [];
for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now();
  fs.writeFileSync(path.join(repo, 'train.ipynb'), JSON.stringify(notebook(round), null, 1));
  git('add', 'train.ipynb');
  git('commit', '-q', '-m', `round ${round}`);
  byHand.push(performance.now() - started);
}
await server.close();

const row = (name, times, budget = '') => {
  const { p50, p95 } = percentiles(times);
  console.log(`${name.padEnd(58)} ${p50.toFixed(1).padStart(7)} ${p95.toFixed(1).padStart(7)} ${budget.padStart(9)}`);
};
console.log(`\nsnapshot of a ${(notebookBytes / 1e6).toFixed(2)} MB notebook (${CELLS} cells) plus one module, ${ROUNDS} rounds (ms)`);
console.log(`${'what'.padEnd(58)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'budget'.padStart(9)}`);
row('Runlab: one cell edited → new commit (server-side)', changed, '< 50');
row('Runlab: unchanged → commit reused (server-side)', unchanged);
row('by hand: write + git add + git commit (real git)', byHand);
