/**
 * `npm test`: the same install steps as `npm start`, then every test layer, each a real part:
 *   1. lint: ESLint, Prettier, Stylelint, TypeScript type checks of every project, Ruff (each
 *      check is one test in the summary; nothing is written)
 *   2. server: jest unit + integration tests (real server on an ephemeral port, real SQLite,
 *      real git, real socket.io-client)
 *   3. kubernetes: jest integration tests against a real control plane (kube-apiserver, etcd,
 *      controller-manager, scheduler, KWOK nodes) on loopback; its binaries are built from the Go
 *      module proxy into ~/.cache/runlab/kube once per version (scripts/kube/build.mjs)
 *   4. extension: jest unit tests
 *   5. python: pytest against a real ipykernel and a real companion server
 *   6. ui: Playwright driving a real JupyterLab with the built extension in headless Chromium
 * Every layer runs even if an earlier one failed; the summary counts them all.
 * `npm test -- server python` runs only the named layers (`npm run lint` is `npm test -- lint`).
 * `--fix` (`npm run lint:fix`) first applies every automatic fix (eslint --fix, stylelint --fix,
 * prettier --write, ruff check --fix, ruff format), then runs the lint layer to show what is left.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureKubeBinaries } from './kube/build.mjs';
import { buildAll, fail, log, PYTHON, ROOT, setup, VENV_BIN } from './setup.mjs';

const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'runlab-test-reports-'));
const nodeBin = (...parts) => path.join(ROOT, 'node_modules', ...parts);
const RUFF = path.join(VENV_BIN, process.platform === 'win32' ? 'ruff.exe' : 'ruff');
/** Caches of the lint checks (ESLint's, tsc's incremental state): in node_modules, never in the tree. */
const LINT_CACHE = nodeBin('.cache', 'runlab-lint');
const tsc = (project, name) => [
  process.execPath,
  [
    nodeBin('typescript', 'bin', 'tsc'),
    ...['-p', project, '--noEmit', '--incremental', '--tsBuildInfoFile', path.join(LINT_CACHE, `${name}.tsbuildinfo`)],
    ...(process.stdout.isTTY ? ['--pretty'] : [])
  ]
];
const TYPE_ERRORS = 'Type errors have no automatic fix: fix them in the files named above.';
const eslint = (...args) => [process.execPath, [nodeBin('eslint', 'bin', 'eslint.js'), '.', ...args]];
const prettier = (...args) => [process.execPath, [nodeBin('prettier', 'bin', 'prettier.cjs'), ...args, '.']];

/**
 * The lint layer's checks, in order. Each one is a test in the summary: it passes when its
 * command exits 0; `hint` is printed when it fails.
 */
const lintChecks = [
  {
    name: 'eslint',
    command: () => eslint('--max-warnings', '0', '--cache', '--cache-location', path.join(LINT_CACHE, 'eslintcache')),
    hint: 'Run `npm run lint:fix` for the problems marked fixable; fix the rest by hand. Where a rule must not apply, say why: `// eslint-disable-next-line RULE -- reason`.'
  },
  {
    name: 'stylelint',
    command: () => [process.execPath, [nodeBin('stylelint', 'bin', 'stylelint.mjs'), 'style/**/*.css', '--max-warnings', '0']],
    hint: 'Run `npm run lint:fix` (stylelint --fix) for the fixable problems; fix the rest by hand (.stylelintrc.json has the rules).'
  },
  {
    name: 'prettier',
    command: () => prettier('--check'),
    hint: 'These files are not formatted: run `npm run lint:fix` (or `npx prettier --write FILE…`).'
  },
  { name: 'tsc extension', command: () => tsc('tsconfig.json', 'extension'), hint: TYPE_ERRORS },
  { name: 'tsc extension tests', command: () => tsc('tsconfig.test.json', 'extension-tests'), hint: TYPE_ERRORS },
  { name: 'tsc server', command: () => tsc(path.join('server', 'tsconfig.json'), 'server'), hint: TYPE_ERRORS },
  { name: 'tsc server tests', command: () => tsc(path.join('server', 'tsconfig.test.json'), 'server-tests'), hint: TYPE_ERRORS },
  { name: 'tsc ui-tests', command: () => tsc(path.join('ui-tests', 'tsconfig.json'), 'ui-tests'), hint: TYPE_ERRORS },
  {
    name: 'ruff check',
    command: () => [RUFF, ['check', '--no-cache', '--output-format', 'concise', 'python', 'bench']],
    hint: 'Run `npm run lint:fix` (ruff check --fix) for the problems marked [*]; fix the rest by hand, or `# noqa: CODE` with a reason.'
  },
  {
    name: 'ruff format',
    command: () => [RUFF, ['format', '--no-cache', '--check', '--output-format', 'concise', 'python', 'bench']],
    hint: 'These Python files are not formatted: run `npm run lint:fix` (or `.venv/bin/ruff format python bench`).'
  }
];

/** Run one check with its output captured, so two checks can run side by side and each still prints whole. */
function runCheck(check) {
  if (check.name.startsWith('ruff') && !fs.existsSync(RUFF)) {
    const output = `${RUFF} is missing: Ruff comes from python/requirements-test.txt, which \`npm test\` installs into .venv.\n`;
    return Promise.resolve({ ok: false, output, seconds: 0 });
  }
  const [command, args] = check.command();
  const started = Date.now();
  return new Promise((resolve) => {
    let output = '';
    // Output goes through a pipe: keep the colours a terminal would show (FORCE_COLOR), and none in logs.
    const env = process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : process.env;
    const child = spawn(command, args, { cwd: ROOT, env });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => (output += `Could not run ${command}: ${error.message}\n`));
    child.on('close', (status) => resolve({ ok: status === 0, output, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The lint layer: every check, two at a time (the machines have two cores), printed in order. */
async function runLint() {
  fs.mkdirSync(LINT_CACHE, { recursive: true });
  const done = lintChecks.map(() => {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    return { promise, resolve };
  });
  let next = 0;
  const worker = async () => {
    while (next < lintChecks.length) {
      const index = next++;
      done[index].resolve(await runCheck(lintChecks[index]));
    }
  };
  const concurrency = Math.min(2, os.availableParallelism?.() ?? os.cpus().length);
  const workers = Array.from({ length: Math.max(1, concurrency) }, worker);
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const [index, check] of lintChecks.entries()) {
    const { ok, output, seconds } = await done[index].promise;
    log(`lint: ${check.name}`);
    process.stdout.write(output);
    if (ok) {
      counts.passed++;
      log(`lint: ${check.name} passed (${seconds.toFixed(1)} s).`);
    } else {
      counts.failed++;
      process.stdout.write(`\n[runlab] lint: ${check.name} FAILED. ${check.hint}\n\n`);
    }
  }
  await Promise.all(workers);
  return counts;
}

/** Whether every lint tool is installed at the version package.json pins, and Ruff is in .venv. */
function lintToolsInstalled() {
  const { devDependencies } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const tools = [
    'eslint',
    '@eslint/js',
    'typescript-eslint',
    'eslint-config-prettier',
    'eslint-plugin-react',
    'eslint-plugin-react-hooks',
    'globals',
    'prettier',
    'stylelint',
    'stylelint-config-standard',
    'typescript'
  ];
  return (
    fs.existsSync(RUFF) &&
    tools.every((name) => {
      try {
        return JSON.parse(fs.readFileSync(nodeBin(name, 'package.json'), 'utf8')).version === devDependencies[name];
      } catch {
        return false;
      }
    })
  );
}

/**
 * `npm run lint:fix`, in this order: ESLint's fixes, then Prettier; ESLint once more, since a body
 * that Prettier wrapped onto its own line needs braces (curly), and Prettier again, which formats
 * those braces and settles the few member chains whose layout its first pass leaves unstable;
 * Stylelint after Prettier (it adds the empty lines before rules that Prettier spread over lines).
 */
const lintFixes = [
  { name: 'eslint --fix', quiet: true, command: () => eslint('--fix') },
  { name: 'prettier --write', command: () => prettier('--write', '--log-level', 'warn') },
  { name: 'eslint --fix (again)', quiet: true, command: () => eslint('--fix') },
  { name: 'prettier --write (again)', command: () => prettier('--write', '--log-level', 'warn') },
  { name: 'stylelint --fix', command: () => [process.execPath, [nodeBin('stylelint', 'bin', 'stylelint.mjs'), 'style/**/*.css', '--fix']] },
  {
    name: 'ruff check --fix',
    ruff: true,
    command: () => [RUFF, ['check', '--no-cache', '--fix', '--output-format', 'concise', 'python', 'bench']]
  },
  { name: 'ruff format', ruff: true, command: () => [RUFF, ['format', '--no-cache', 'python', 'bench']] }
];

/** Every automatic fix, one after the other; what is left is for the lint layer that follows to show. */
function runLintFixes() {
  for (const step of lintFixes) {
    if (step.ruff && !fs.existsSync(RUFF)) {
      log(`lint:fix: ${step.name} skipped: ${RUFF} is missing (python/requirements-test.txt).`);
      continue;
    }
    log(`lint:fix: ${step.name}`);
    const [command, args] = step.command();
    // ESLint's passes are quiet: the lint layer that follows lists what they left.
    spawnSync(command, args, { cwd: ROOT, stdio: ['inherit', step.quiet ? 'ignore' : 'inherit', 'inherit'] });
  }
}

function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].filter(Boolean);
  for (const candidate of candidates) {
    const found = candidate.includes('/')
      ? fs.existsSync(candidate)
        ? candidate
        : null
      : spawnSync('which', [candidate], { encoding: 'utf8' }).stdout.trim();
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
    spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    });
    chromium = findChromium();
  }
  if (!chromium) {
    fail('The UI tests need Chromium. Install it (e.g. `apt-get install chromium`) or set CHROMIUM_PATH to its executable.');
  }
  return chromium;
}

/** The control plane's binaries (built once per version, then cached); stops with what to do when Go is missing. */
function kubeBinaries() {
  try {
    return { RUNLAB_KUBE_BIN: ensureKubeBinaries() };
  } catch (error) {
    fail(error.message);
  }
}

function jestCounts(file) {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + report.numRuntimeErrorTestSuites,
    skipped: report.numPendingTests + report.numTodoTests
  };
}

function pytestCounts(file) {
  const xml = fs.readFileSync(file, 'utf8');
  const attr = (name) =>
    [...xml.matchAll(new RegExp(`<testsuite [^>]*\\b${name}="(\\d+)"`, 'g'))].reduce((sum, m) => sum + Number(m[1]), 0);
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
    name: 'lint',
    run: runLint
  },
  {
    name: 'server',
    report: 'server.json',
    command: (report) => [
      process.execPath,
      [nodeBin('jest', 'bin', 'jest.js'), '-c', 'server/jest.config.js', '--json', `--outputFile=${report}`]
    ],
    counts: jestCounts
  },
  {
    name: 'kubernetes',
    report: 'kubernetes.json',
    before: kubeBinaries,
    command: (report) => [
      process.execPath,
      [nodeBin('jest', 'bin', 'jest.js'), '-c', 'server/jest.kubernetes.config.js', '--json', `--outputFile=${report}`]
    ],
    counts: jestCounts
  },
  {
    name: 'extension',
    report: 'extension.json',
    command: (report) => [
      process.execPath,
      [nodeBin('jest', 'bin', 'jest.js'), '-c', 'extension/jest.config.js', '--json', `--outputFile=${report}`]
    ],
    counts: jestCounts
  },
  {
    name: 'python',
    report: 'python.xml',
    command: (report) => [PYTHON, ['-m', 'pytest', 'python/tests', `--junitxml=${report}`]],
    counts: pytestCounts
  },
  {
    name: 'ui',
    report: 'ui.json',
    before: () => ({ CHROMIUM_PATH: ensureChromium(), ...kubeBinaries() }),
    command: (report) => [process.execPath, [nodeBin('@playwright', 'test', 'cli.js'), 'test', '-c', 'ui-tests/playwright.config.ts']],
    env: (report) => ({ RUNLAB_UI_REPORT: report }),
    counts: playwrightCounts
  }
];

const fix = process.argv.includes('--fix');
const only = process.argv.slice(2).filter((arg) => arg !== '--fix');
const unknown = only.filter((name) => !layers.some((layer) => layer.name === name));
if (unknown.length) fail(`Unknown test layer(s): ${unknown.join(', ')}. Choose from: ${layers.map((l) => l.name).join(', ')}.`);
if (fix && only.some((name) => name !== 'lint')) {
  fail('`--fix` applies to the lint layer only: `npm run lint:fix` (or `npm test -- lint --fix`).');
}

// `npm run lint` needs no build: it uses the installed tools when they are the versions that
// package.json pins (and Ruff is in .venv), so it also runs while the tree does not build.
const lintOnly = fix || (only.length > 0 && only.every((name) => name === 'lint'));
if (lintOnly && lintToolsInstalled()) log('Lint only: using the installed tools (`npm test` installs and builds).');
// Lint first, on the sources as they are; the build follows, before the first layer that needs it.
else setup({ tests: true, build: false });
let built = lintOnly;
if (fix) runLintFixes();
const results = [];
for (const layer of layers.filter((l) => (fix ? l.name === 'lint' : !only.length || only.includes(l.name)))) {
  if (!layer.run && !built) {
    buildAll();
    built = true;
  }
  log(`Running the ${layer.name} tests …`);
  const started = Date.now();
  if (layer.run) {
    results.push({ name: layer.name, ...(await layer.run()), seconds: (Date.now() - started) / 1000 });
    continue;
  }
  const report = path.join(reports, layer.report);
  const env = { ...process.env, ...(layer.before?.() ?? {}), ...(layer.env?.(report) ?? {}) };
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

const total = results.reduce(
  (sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed, skipped: sum.skipped + r.skipped }),
  { passed: 0, failed: 0, skipped: 0 }
);
process.stdout.write('\nRunlab test summary\n');
for (const r of results) {
  process.stdout.write(
    `  ${r.name.padEnd(10)} ${String(r.passed).padStart(4)} passed  ${String(r.failed).padStart(3)} failed  ${String(r.skipped).padStart(3)} skipped  (${r.seconds.toFixed(0)} s)\n`
  );
}
process.stdout.write(`tests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
process.exit(total.failed === 0 && total.skipped === 0 ? 0 : 1);
