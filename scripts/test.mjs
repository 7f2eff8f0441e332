/**
 * `npm test`: the same install steps as `npm start`, then every test layer, each a real part:
 *   1. server: jest unit + integration tests (real server on an ephemeral port, real SQLite,
 *      real git, real socket.io-client)
 *   2. extension: jest unit tests
 *   3. python: pytest against a real ipykernel and a real companion server
 *   4. ui: Playwright driving a real JupyterLab with the built extension in headless Chromium
 * Every layer runs even if an earlier one failed; the summary counts them all.
 * `npm test -- server python` runs only the named layers.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, log, PYTHON, ROOT, setup } from './setup.mjs';

const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-test-reports-'));
const nodeBin = (...parts) => path.join(ROOT, 'node_modules', ...parts);

function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].filter(Boolean);
  for (const candidate of candidates) {
    const found = candidate.includes('/') ? (fs.existsSync(candidate) ? candidate : null) : spawnSync('which', [candidate], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return null;
}

/** The system Chromium; installs Debian's package when we are root on Debian. Never downloads a browser build. */
function ensureChromium() {
  let chromium = findChromium();
  if (!chromium && process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
    log('Chromium is missing: installing the Debian package `chromium` …');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    chromium = findChromium();
  }
  if (!chromium) {
    fail('The UI tests need Chromium. Install it (e.g. `apt-get install chromium`) or set CHROMIUM_PATH to its executable.');
  }
  return chromium;
}

function jestCounts(file) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { passed: report.numPassedTests, failed: report.numFailedTests + report.numRuntimeErrorTestSuites, skipped: report.numPendingTests + report.numTodoTests };
}

function pytestCounts(file) {
  const xml = fs.readFileSync(file, 'utf8');
  const attr = name => [...xml.matchAll(new RegExp(`<testsuite [^>]*\\b${name}="(\\d+)"`, 'g'))].reduce((sum, m) => sum + Number(m[1]), 0);
  const total = attr('tests');
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  return { passed: total - failed - skipped, failed, skipped };
}

function playwrightCounts(file) {
  const { stats } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped };
}

const layers = [
  {
    name: 'server',
    report: 'server.json',
    command: report => [process.execPath, [nodeBin('jest', 'bin', 'jest.js'), '-c', 'server/jest.config.js', '--json', `--outputFile=${report}`]],
    counts: jestCounts
  },
  {
    name: 'extension',
    report: 'extension.json',
    command: report => [process.execPath, [nodeBin('jest', 'bin', 'jest.js'), '-c', 'extension/jest.config.js', '--json', `--outputFile=${report}`]],
    counts: jestCounts
  },
  {
    name: 'python',
    report: 'python.xml',
    command: report => [PYTHON, ['-m', 'pytest', 'python/tests', `--junitxml=${report}`]],
    counts: pytestCounts
  },
  {
    name: 'ui',
    report: 'ui.json',
    before: () => ({ CHROMIUM_PATH: ensureChromium() }),
    command: report => [process.execPath, [nodeBin('@playwright', 'test', 'cli.js'), 'test', '-c', 'ui-tests/playwright.config.ts']],
    env: report => ({ RUNLAB_UI_REPORT: report }),
    counts: playwrightCounts
  }
];

const only = process.argv.slice(2);
const unknown = only.filter(name => !layers.some(layer => layer.name === name));
if (unknown.length) fail(`Unknown test layer(s): ${unknown.join(', ')}. Choose from: ${layers.map(l => l.name).join(', ')}.`);

setup({ tests: true });
const results = [];
for (const layer of layers.filter(l => !only.length || only.includes(l.name))) {
  const report = path.join(reports, layer.report);
  const env = { ...process.env, ...(layer.before?.() ?? {}), ...(layer.env?.(report) ?? {}) };
  log(`Running the ${layer.name} tests …`);
  const started = Date.now();
  const [command, args] = layer.command(report);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  let counts = { passed: 0, failed: 1, skipped: 0 };
  try {
    counts = layer.counts(report);
  } catch {
    log(`The ${layer.name} tests wrote no report; counted as failed.`);
  }
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  results.push({ name: layer.name, ...counts, seconds: (Date.now() - started) / 1000 });
}

const total = results.reduce((sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed, skipped: sum.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
process.stdout.write('\nRunlab test summary\n');
for (const r of results) {
  process.stdout.write(`  ${r.name.padEnd(10)} ${String(r.passed).padStart(4)} passed  ${String(r.failed).padStart(3)} failed  ${String(r.skipped).padStart(3)} skipped  (${r.seconds.toFixed(0)} s)\n`);
}
process.stdout.write(`tests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
process.exit(total.failed === 0 && total.skipped === 0 ? 0 : 1);
