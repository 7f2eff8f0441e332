/** Runs the built CLI (dist/cli.js); `npm test -w server` builds it first. */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { makeTempDir, packageVersion, removeDir } from './helpers';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
let root: string;
let dataDir: string;

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build -w server\` first`);
});
beforeEach(() => {
  root = makeTempDir();
  dataDir = path.join(root, 'data');
});
afterEach(() => removeDir(root));

function runlab(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, RUNLAB_DATA_DIR: dataDir, ...env },
    timeout: 20000
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectNoStackTrace(output: string): void {
  expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

test('the program is runlab-server; the old spelling `runlab` still works and says it is deprecated', () => {
  const help = runlab(['--help']);
  expect(help.stdout).toMatch(/Usage: runlab-server /);
  expect(help.stderr).toBe('');
  // `npx runlab …` runs the same file through a bin link named runlab.
  const legacy = path.join(root, 'runlab');
  fs.symlinkSync(CLI, legacy);
  const old = spawnSync(process.execPath, [legacy, '--version'], { encoding: 'utf8', env: { ...process.env, RUNLAB_DATA_DIR: dataDir } });
  expect(old.status).toBe(0);
  expect(old.stdout.trim()).toBe(runlab(['--version']).stdout.trim());
  expect(old.stderr).toMatch(/now `runlab-server`.*goes away in the next release/);
});

test('--help lists the commands; --version prints the package version', () => {
  const help = runlab(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/Usage: runlab/);
  expect(help.stdout).toMatch(/serve/);
  expect(help.stdout).toMatch(/token/);
  const version = runlab(['--version']);
  expect(version.code).toBe(0);
  expect(version.stdout.trim()).toBe(packageVersion());
});

test.each([
  [['token', 'create', '--name', 'x', '--scope', 'root'], /Allowed choices are admin, user, runner/],
  [['token', 'create'], /required option '--name <name>'/],
  [['token', 'create', '--name', 'no/slashes'], /--name/],
  [['serve', '--log-level', 'loud'], /Allowed choices/],
  [['bogus'], /unknown command 'bogus'/]
])('bad arguments %j fail with a message and no stack trace', (args, message) => {
  const result = runlab(args);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).toMatch(/--help/);
  expectNoStackTrace(result.stderr);
});

test('a bad setting stops serve with exit code 2, naming the setting', () => {
  const result = runlab(['serve', '--port', 'abc']);
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe('Invalid setting RUNLAB_PORT (--port): expected an integer from 0 to 65535, got "abc"');
  const fromEnv = runlab(['serve'], { RUNLAB_MAX_BODY_BYTES: 'lots' });
  expect(fromEnv.code).toBe(2);
  expect(fromEnv.stderr).toMatch(/^Invalid setting RUNLAB_MAX_BODY_BYTES: /);
});

test('token create / list / revoke work on the data directory without a server', () => {
  const created = runlab(['token', 'create', '--name', 'ci runner', '--scope', 'runner']);
  expect(created.code).toBe(0);
  const secret = created.stdout.trim();
  expect(secret).toMatch(/^rl_r_[A-Za-z0-9_-]{40,}$/);
  expect(created.stderr).toMatch(/cannot be shown again/);

  const list = runlab(['token', 'list', '--data-dir', dataDir]);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/^ID\s+NAME\s+SCOPE/);
  const line = list.stdout.split('\n').find((row) => row.includes('ci runner'))!;
  expect(line).toMatch(/runner/);
  expect(line).toMatch(/active/);
  expect(list.stdout).not.toContain(secret);
  const id = line.split(/\s+/)[0];

  const revoked = runlab(['token', 'revoke', id]);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toMatch(/Revoked token "ci runner"/);
  expect(
    runlab(['token', 'list'])
      .stdout.split('\n')
      .find((row) => row.includes('ci runner'))
  ).toMatch(/revoked/);

  const unknown = runlab(['token', 'revoke', 'no-such-id']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/No token with id no-such-id; run `runlab-server token list`/);
  expectNoStackTrace(unknown.stderr);
});

test('the CLI can do everything with tokens, including revoking the last admin token, and says how to recover', () => {
  const admin = runlab(['token', 'create', '--name', 'ops', '--scope', 'admin']);
  expect(admin.code).toBe(0);
  expect(admin.stdout.trim()).toMatch(/^rl_a_[A-Za-z0-9_-]{40,}$/);
  expect(admin.stderr).toMatch(/Created admin token "ops"/);
  const line = runlab(['token', 'list'])
    .stdout.split('\n')
    .find((row) => row.includes('ops'))!;
  expect(line).toMatch(/\badmin\b/);

  const revoked = runlab(['token', 'revoke', line.split(/\s+/)[0]]);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toMatch(/Revoked token "ops"/);
  expect(revoked.stderr).toMatch(/No active admin token is left.*runlab-server token create --name <name> --scope admin/);
});

test('serve --port 0 listens, answers, and exits 0 on SIGTERM removing server.json', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, RUNLAB_DATA_DIR: '', RUNLAB_PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const listening = await new Promise<{ url: string }>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(entry);
      });
      child.on('exit', () => reject(new Error(`server exited early: ${stderr}`)));
    });
    const info = JSON.parse(fs.readFileSync(path.join(dataDir, 'server.json'), 'utf8'));
    expect(info.url).toBe(listening.url);
    expect(info.pid).toBe(child.pid);
    const health = await fetch(`${info.url}/api/health`);
    expect(await health.json()).toEqual({ status: 'ok', version: info.version, serverId: expect.stringMatching(/^[0-9a-f]{32}$/) });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'server.json'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'admin-token'))).toBe(true);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
