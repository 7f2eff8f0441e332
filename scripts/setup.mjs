/**
 * The install steps shared by `npm start` and `npm test`: whatever is missing is installed,
 * whatever is already there is reused, so a second run starts in seconds.
 *
 *  1. npm dependencies (when package-lock.json changed since the last install)
 *  2. a project-local Python venv (.venv) with JupyterLab, ipykernel, scikit-learn and Runlab
 *     in editable mode (when python/requirements-dev.txt or pyproject.toml changed)
 *  3. the server and the extension builds (when their sources changed), and the built
 *     labextension linked into the venv so JupyterLab loads it
 *
 * Plain Node with no dependencies, because it runs before `npm install`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VENV = path.join(ROOT, '.venv');
export const VENV_BIN = path.join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
export const PYTHON = path.join(VENV_BIN, 'python');

export function log(message) {
  process.stdout.write(`[runlab] ${message}\n`);
}

export function fail(message) {
  process.stderr.write(`\n[runlab] ${message}\n`);
  process.exit(1);
}

/** Run a command, streaming its output; stop with a clear message if it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error || result.status !== 0) {
    fail(`\`${[command, ...args].join(' ')}\` failed${result.error ? `: ${result.error.message}` : ` (exit ${result.status})`}.`);
  }
  return result;
}

function hashFiles(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : '');
  }
  return hash.digest('hex');
}

/** Newest modification time of any file below these folders (skips build output). */
function newestMtime(paths) {
  let newest = 0;
  const visit = (entry) => {
    if (!fs.existsSync(entry)) return;
    const stat = fs.statSync(entry);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(entry)) {
        if (name !== 'node_modules' && name !== 'dist' && name !== 'lib') visit(path.join(entry, name));
      }
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  paths.forEach(visit);
  return newest;
}

function stampMatches(stampFile, value) {
  return fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === value;
}

function checkPrerequisites() {
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 20) fail(`Runlab needs Node.js 20 or newer; this is ${process.version}. Install a newer Node.js.`);
  for (const [tool, hint] of [['git', 'Install git (e.g. apt-get install git).']]) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) fail(`${tool} is missing. ${hint}`);
  }
}

function findSystemPython() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (probe.status === 0) {
      const [major, minor] = probe.stdout.trim().split('.').map(Number);
      if (major === 3 && minor >= 10) return candidate;
    }
  }
  fail('Runlab needs Python 3.10 or newer as `python3` (or set PYTHON=/path/to/python). Install it, then run this again.');
}

/**
 * npm 11 ends an install with `npm warn install-scripts` for dependencies whose install scripts
 * package.json's `allowScripts` does not list yet. For the companion server's native modules
 * (better-sqlite3: SQLite; zstd-napi: zstd) those scripts download or compile the binary, and npm
 * still runs them: the warning asks for a review, nothing was skipped. Check that the modules
 * load (with the fix if they do not), then say so in one line.
 */
function explainInstallScripts() {
  const probe = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close(); require('zstd-napi')"], {
    cwd: path.join(ROOT, 'server'),
    encoding: 'utf8'
  });
  if (probe.status !== 0) {
    fail(
      `The companion server's native modules (better-sqlite3, zstd-napi) do not load:\n${probe.stderr.trim()}\n` +
        'If npm skipped their install scripts, run `npm install-scripts approve better-sqlite3 zstd-napi` and ' +
        '`npm rebuild better-sqlite3 zstd-napi`; if they failed to compile, install a C++ compiler, make and Python, then run this again.'
    );
  }
  const pending = spawnSync('npm', ['install-scripts', 'ls', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    shell: process.platform === 'win32'
  });
  let names = [];
  try {
    names = JSON.parse(pending.stdout).allowScripts.map((entry) => entry.name);
  } catch {
    /* an npm without install-script approvals, which printed no such warning */
  }
  if (names.length) {
    log(
      `About \`npm warn install-scripts\` above: npm ran the install scripts of ${names.join(', ')} (the native modules are built and load); ` +
        'it only asks that they be approved in package.json. Nothing to do.'
    );
  }
}

function installNodeDependencies() {
  const modules = path.join(ROOT, 'node_modules');
  const stamp = path.join(modules, '.runlab-install-stamp');
  const value = hashFiles([path.join(ROOT, 'package-lock.json')]);
  if (stampMatches(stamp, value)) return;
  let why = 'package-lock.json changed: installing npm dependencies…';
  if (!fs.existsSync(modules)) why = 'Installing npm dependencies (first run; later runs reuse them)…';
  else if (!fs.existsSync(stamp)) why = 'node_modules was installed by hand: installing npm dependencies as package-lock.json lists them…';
  log(why);
  run('npm', ['install', '--no-audit', '--no-fund'], { shell: process.platform === 'win32' });
  explainInstallScripts();
  fs.writeFileSync(stamp, value);
}

function installPythonEnvironment({ tests }) {
  const stamp = path.join(VENV, tests ? '.runlab-install-stamp-tests' : '.runlab-install-stamp');
  const requirements = ['requirements-dev.txt', ...(tests ? ['requirements-test.txt'] : [])].map((name) => path.join(ROOT, 'python', name));
  const value = hashFiles([...requirements, path.join(ROOT, 'pyproject.toml')]);
  if (fs.existsSync(PYTHON) && stampMatches(stamp, value)) return;
  if (!fs.existsSync(PYTHON)) {
    log('Creating the Python environment in .venv …');
    run(findSystemPython(), ['-m', 'venv', VENV]);
  }
  log(`Installing JupyterLab, ipykernel, scikit-learn${tests ? ', the test tools' : ''} and Runlab (editable) into .venv …`);
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...requirements.flatMap((file) => ['-r', file])]);
  run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-build-isolation', '--no-deps', '-e', '.']);
  fs.writeFileSync(stamp, value);
}

function buildIfChanged(name, sources, stampFile, build) {
  const newest = String(newestMtime(sources));
  if (stampMatches(stampFile, newest)) return;
  log(`Building ${name}…`);
  build();
  fs.mkdirSync(path.dirname(stampFile), { recursive: true });
  fs.writeFileSync(stampFile, newest);
}

export function buildAll() {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  buildIfChanged(
    'the companion server',
    [path.join(ROOT, 'server', 'src'), path.join(ROOT, 'server', 'tsconfig.json')],
    path.join(ROOT, 'server', 'dist', '.runlab-build-stamp'),
    () => run('npm', ['run', 'build', '--silent', '-w', 'server'], { shell: process.platform === 'win32' })
  );
  const labextension = path.join(ROOT, 'python', 'runlab', 'labextension');
  buildIfChanged(
    'the JupyterLab extension',
    ['extension', 'schema', 'style', 'server/src/contract', 'package.json', 'tsconfig.json'].map((p) => path.join(ROOT, p)),
    path.join(labextension, '.runlab-build-stamp'),
    () => {
      run(process.execPath, [tsc, '-p', 'tsconfig.json']);
      const staging = spawnSync(
        PYTHON,
        ['-c', 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))'],
        { encoding: 'utf8' }
      ).stdout.trim();
      run(
        process.execPath,
        [path.join(ROOT, 'node_modules', '@jupyterlab', 'builder', 'lib', 'build-labextension.js'), '--core-path', staging, '.'],
        { stdio: ['ignore', 'ignore', 'inherit'] }
      );
      fs.copyFileSync(path.join(ROOT, 'install.json'), path.join(labextension, 'install.json'));
    }
  );
  // What `jupyter labextension develop` does: JupyterLab in .venv loads the build in place.
  const target = path.join(VENV, 'share', 'jupyter', 'labextensions', 'runlab');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  let current = null;
  try {
    current = fs.readlinkSync(target);
  } catch {
    /* absent or not a link */
  }
  if (current !== labextension) {
    fs.rmSync(target, { recursive: true, force: true });
    fs.symlinkSync(labextension, target, 'dir');
  }
}

/**
 * `tests: true` also installs what only the tests need (python/requirements-test.txt);
 * `build: false` installs only (`npm test` lints first, then builds with buildAll()).
 */
export function setup({ tests = false, build = true } = {}) {
  checkPrerequisites();
  installNodeDependencies();
  installPythonEnvironment({ tests });
  if (build) buildAll();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  setup();
  log('Set up.');
}
