#!/usr/bin/env node
/**
 * bench/monitoring.py's Node half: Runlab's own drift judgement (server/dist/monitoring/drift.js,
 * `judgeWindow`) on the matrices the Python half wrote, timed here so the figure is the
 * judgement alone (reading the file and cutting it into columns is not counted).
 *
 *   node bench/monitoring_drift.mjs time    PROFILE.json MATRIX.bin ROWS FEATURES REPS
 *   node bench/monitoring_drift.mjs windows PROFILE.json WINDOWS.bin ROWS FEATURES COUNT
 *
 * A matrix file is float64, column-major (each feature's ROWS values one after another); a
 * windows file is COUNT such matrices back to back. Prints one JSON object on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'server', 'dist');
const { judgeWindow } = require(path.join(dist, 'monitoring', 'drift.js'));

const [mode, profilePath, matrixPath, rowsText, featuresText, repeatText] = process.argv.slice(2);
const rows = Number(rowsText);
const features = Number(featuresText);
const repeat = Number(repeatText);
const profile = JSON.parse(fs.readFileSync(profilePath, 'utf8'));
const names = profile.features.map((feature) => feature.name);
if (names.length !== features) throw new Error(`the profile has ${names.length} features, the matrix ${features}`);

/** The columns of the matrix starting at `offset` (bytes), as views on one buffer: no copy. */
function columnsAt(buffer, offset) {
  const inputs = new Map();
  for (let j = 0; j < features; j++) {
    inputs.set(names[j], { kind: 'numeric', values: new Float64Array(buffer.buffer, buffer.byteOffset + offset + j * rows * 8, rows) });
  }
  return inputs;
}

/** What the UI and the alerts would show of a judgement: the verdict and the drifted features. */
function summary(judgement) {
  return {
    status: judgement.status,
    reason: judgement.reason,
    drifted: judgement.drifted,
    driftedShare: judgement.driftedShare,
    driftedFeatures: judgement.features.filter((f) => f.drifted).map((f) => f.name),
    tests: [...new Set(judgement.features.map((f) => f.test))]
  };
}

const matrixBytes = rows * features * 8;
if (mode === 'time') {
  const buffer = fs.readFileSync(matrixPath);
  const inputs = columnsAt(buffer, 0);
  const seconds = [];
  let last = null;
  for (let rep = 0; rep < repeat; rep++) {
    const began = process.hrtime.bigint();
    last = judgeWindow(profile, inputs, new Map());
    seconds.push(Number(process.hrtime.bigint() - began) / 1e9);
  }
  process.stdout.write(JSON.stringify({ seconds, ...summary(last) }) + '\n');
} else if (mode === 'windows') {
  const descriptor = fs.openSync(matrixPath, 'r');
  const buffer = Buffer.allocUnsafe(matrixBytes);
  const windows = [];
  for (let index = 0; index < repeat; index++) {
    fs.readSync(descriptor, buffer, 0, matrixBytes, index * matrixBytes);
    const began = process.hrtime.bigint();
    const judgement = judgeWindow(profile, columnsAt(buffer, 0), new Map());
    windows.push({ seconds: Number(process.hrtime.bigint() - began) / 1e9, ...summary(judgement) });
  }
  fs.closeSync(descriptor);
  process.stdout.write(JSON.stringify({ windows }) + '\n');
} else {
  throw new Error(`unknown mode ${mode}: time or windows`);
}
