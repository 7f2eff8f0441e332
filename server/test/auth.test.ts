import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { hashSecret } from '../src/auth/service';
import { ensureDataDir } from '../src/data-dir';
import { MIGRATIONS, migrate } from '../src/db/migrations';
import { expectErrorBody, makeTempDir, removeDir, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

test('first start writes the local admin token: file 0600 in a 0700 directory', () => {
  const file = path.join(server.dataDir, 'admin-token');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.statSync(server.dataDir).mode & 0o777).toBe(0o700);
  expect(server.adminToken).toMatch(/^rl_a_[A-Za-z0-9_-]{40,}$/);
});

test('whoami names the admin token, which has scope admin', async () => {
  const response = await server.request('GET', '/api/auth/whoami');
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ tokenId: expect.any(String), name: 'local-admin', scope: 'admin' });
});

test('a missing token is 401 and says what to send', async () => {
  const response = await server.request('GET', '/api/projects', { token: null });
  expectErrorBody(response, 401, 'unauthorized');
  expect(response.body.error.message).toMatch(/Authorization: Bearer/);
});

test('a malformed header and an unknown token are 401', async () => {
  const basic = await server.request('GET', '/api/projects', { token: null, headers: { authorization: 'Basic abc' } });
  expectErrorBody(basic, 401, 'unauthorized');
  const unknown = await server.request('GET', '/api/projects', { token: 'rl_u_not-a-real-token' });
  expectErrorBody(unknown, 401, 'unauthorized');
  expect(unknown.body.error.message).toMatch(/Invalid token/);
});

test('tokens: create, list, use, revoke; a revoked token is 401 saying so', async () => {
  const created = await server.request('POST', '/api/tokens', { json: { name: 'laptop' } });
  expect(created.status).toBe(201);
  expect(created.body.secret).toMatch(/^rl_u_/);
  const admin = await server.request('GET', '/api/auth/whoami');
  expect(created.body.token).toMatchObject({
    name: 'laptop',
    scope: 'user',
    lastUsedAt: null,
    revokedAt: null,
    createdBy: admin.body.tokenId
  });
  expect(created.body.secret.startsWith(created.body.token.prefix)).toBe(true);
  const id = created.body.token.id;

  const whoami = await server.request('GET', '/api/auth/whoami', { token: created.body.secret });
  expect(whoami.body).toEqual({ tokenId: id, name: 'laptop', scope: 'user' });

  const list = await server.request('GET', '/api/tokens');
  expect(list.status).toBe(200);
  const listed = list.body.tokens.find((token: { id: string }) => token.id === id);
  expect(listed.lastUsedAt).not.toBeNull();
  expect(list.text).not.toContain(created.body.secret);
  expect(list.text).not.toContain(server.adminToken);

  const revoke = await server.request('DELETE', `/api/tokens/${id}`);
  expect(revoke.status).toBe(204);
  expect(revoke.text).toBe('');

  const afterRevoke = await server.request('GET', '/api/projects', { token: created.body.secret });
  expectErrorBody(afterRevoke, 401, 'unauthorized');
  expect(afterRevoke.body.error.message).toMatch(/revoked/);

  const listAgain = await server.request('GET', '/api/tokens');
  expect(listAgain.body.tokens.find((token: { id: string }) => token.id === id).revokedAt).not.toBeNull();
});

test('revoking an unknown token is 404', async () => {
  expectErrorBody(await server.request('DELETE', '/api/tokens/no-such-token'), 404, 'not_found');
});

test('a runner token cannot use user routes (403) but can ask who it is', async () => {
  const created = await server.request('POST', '/api/tokens', { json: { name: 'gpu-box', scope: 'runner' } });
  expect(created.status).toBe(201);
  expect(created.body.secret).toMatch(/^rl_r_/);
  const runner = created.body.secret;
  expectErrorBody(await server.request('GET', '/api/projects', { token: runner }), 403, 'forbidden');
  expectErrorBody(await server.request('POST', '/api/tokens', { token: runner, json: { name: 'x' } }), 403, 'forbidden');
  const whoami = await server.request('GET', '/api/auth/whoami', { token: runner });
  expect(whoami.body.scope).toBe('runner');
});

test('the database holds hashes of secrets, never the secrets', async () => {
  const created = await server.request('POST', '/api/tokens', { json: { name: 'hash-check' } });
  const db = new BetterSqlite3(path.join(server.dataDir, 'runlab.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(created.body.secret);
    expect(dump).not.toContain(server.adminToken);
    const row = rows.find((candidate) => candidate.id === created.body.token.id)!;
    expect(row.secret_hash).toBe(hashSecret(created.body.secret));
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    db.close();
  }
});

/** A token created by `by` (the admin token when omitted): its id and secret. */
async function createToken(name: string, by?: string, scope?: string): Promise<{ id: string; secret: string }> {
  const response = await server.request('POST', '/api/tokens', { token: by, json: { name, ...(scope ? { scope } : {}) } });
  expect(response.status).toBe(201);
  return { id: response.body.token.id, secret: response.body.secret };
}

const listedIds = async (token: string): Promise<string[]> =>
  (await server.request('GET', '/api/tokens', { token })).body.tokens.map((listed: { id: string }) => listed.id);

describe('a user token manages only its own tokens', () => {
  test('it lists itself and the tokens it created, directly or through them; an admin lists every token', async () => {
    const alice = await createToken('alice');
    const laptop = await createToken('alice-laptop', alice.secret);
    const vm = await createToken('alice-vm', alice.secret, 'runner');
    const ci = await createToken('alice-ci', laptop.secret);
    const bob = await createToken('bob');

    expect((await listedIds(alice.secret)).sort()).toEqual([alice.id, laptop.id, vm.id, ci.id].sort());
    expect((await listedIds(laptop.secret)).sort()).toEqual([laptop.id, ci.id].sort());
    expect(await listedIds(bob.secret)).toEqual([bob.id]);
    const everyone = await listedIds(server.adminToken);
    expect(everyone).toEqual(expect.arrayContaining([alice.id, laptop.id, vm.id, ci.id, bob.id]));
    const list = await server.request('GET', '/api/tokens', { token: alice.secret });
    expect(list.body.tokens.find((token: { id: string }) => token.id === vm.id)).toMatchObject({ scope: 'runner', createdBy: alice.id });
  });

  test("revoking someone else's token is 403 and leaves it working; its own tokens and itself it may revoke", async () => {
    const alice = await createToken('alice-2');
    const laptop = await createToken('alice-2-laptop', alice.secret);
    const ci = await createToken('alice-2-ci', laptop.secret);
    const bob = await createToken('bob-2');
    const admin = await server.request('GET', '/api/auth/whoami');

    for (const victim of [bob.id, admin.body.tokenId]) {
      const refused = await server.request('DELETE', `/api/tokens/${victim}`, { token: alice.secret });
      expectErrorBody(refused, 403, 'forbidden');
      expect(refused.body.error.message).toMatch(/may revoke only itself and the tokens it created.*Ask an admin/);
    }
    // Nor may a token revoke the one that created it.
    expectErrorBody(await server.request('DELETE', `/api/tokens/${alice.id}`, { token: laptop.secret }), 403, 'forbidden');
    expect((await server.request('GET', '/api/auth/whoami', { token: bob.secret })).status).toBe(200);
    expect((await server.request('GET', '/api/auth/whoami')).status).toBe(200);

    expect((await server.request('DELETE', `/api/tokens/${ci.id}`, { token: alice.secret })).status).toBe(204);
    expectErrorBody(await server.request('GET', '/api/projects', { token: ci.secret }), 401, 'unauthorized');
    expect((await server.request('DELETE', `/api/tokens/${alice.id}`, { token: alice.secret })).status).toBe(204);
    expectErrorBody(await server.request('GET', '/api/projects', { token: alice.secret }), 401, 'unauthorized');
    // An admin revokes anyone's token.
    expect((await server.request('DELETE', `/api/tokens/${bob.id}`)).status).toBe(204);
  });

  test('a user token creates user and runner tokens but not admin tokens; an admin token creates admin tokens', async () => {
    const alice = await createToken('alice-3');
    const refused = await server.request('POST', '/api/tokens', { token: alice.secret, json: { name: 'sneaky', scope: 'admin' } });
    expectErrorBody(refused, 403, 'forbidden');
    expect(refused.body.error.message).toMatch(
      /Only an admin token can create admin tokens.*runlab-server token create --name <name> --scope admin/
    );
    expect((await server.request('GET', '/api/tokens')).body.tokens.map((token: { name: string }) => token.name)).not.toContain('sneaky');

    const second = await createToken('second-admin', undefined, 'admin');
    expect(second.secret).toMatch(/^rl_a_/);
    expect((await server.request('GET', '/api/auth/whoami', { token: second.secret })).body.scope).toBe('admin');
    // An admin token can do everything a user token can, and manages every token.
    expect((await server.request('POST', '/api/projects', { token: second.secret, json: { name: 'made-by-admin' } })).status).toBe(201);
    expect(await listedIds(second.secret)).toEqual(expect.arrayContaining([alice.id]));
    expect((await server.request('DELETE', `/api/tokens/${alice.id}`, { token: second.secret })).status).toBe(204);
  });
});

test('the last active admin token cannot be revoked through the API (409), so token management stays reachable', async () => {
  const own = await startServer();
  try {
    const local = (await own.request('GET', '/api/auth/whoami')).body.tokenId;
    const refused = await own.request('DELETE', `/api/tokens/${local}`);
    expectErrorBody(refused, 409, 'conflict');
    expect(refused.body.error.message).toMatch(/last active admin token.*npx runlab-server token create --name <name> --scope admin/);
    expect((await own.request('GET', '/api/tokens')).status).toBe(200);

    const standby = await own.request('POST', '/api/tokens', { json: { name: 'standby', scope: 'admin' } });
    expect((await own.request('DELETE', `/api/tokens/${local}`, { token: standby.body.secret })).status).toBe(204);
    // Now the standby token is the last one; revoking the already revoked one again stays a no-op.
    expectErrorBody(await own.request('DELETE', `/api/tokens/${standby.body.token.id}`, { token: standby.body.secret }), 409, 'conflict');
    expect((await own.request('DELETE', `/api/tokens/${local}`, { token: standby.body.secret })).status).toBe(204);
    expect((await own.request('GET', '/api/auth/whoami', { token: standby.body.secret })).body.scope).toBe('admin');
  } finally {
    await own.destroy();
  }
});

test('a data directory from before the admin scope: its local admin token becomes admin, nothing else does', async () => {
  const root = makeTempDir();
  try {
    const dataDir = path.join(root, 'data');
    const layout = ensureDataDir(dataDir);
    const db = new BetterSqlite3(layout.databaseFile);
    migrate(
      db,
      MIGRATIONS.filter((migration) => migration.version < 9)
    );
    const insert = db.prepare(
      `INSERT INTO tokens (id, name, scope, secret_hash, prefix, created_at) VALUES (?, ?, 'user', ?, 'rl_u_xxxxx', ?)`
    );
    insert.run('old-admin', 'local-admin', hashSecret('rl_u_old-admin-secret'), '2024-01-01T00:00:00.000Z');
    // Before, any token could create one with that name: a name is no proof of being the local admin.
    insert.run('impostor', 'local-admin', hashSecret('rl_u_impostor-secret'), '2024-01-02T00:00:00.000Z');
    insert.run('old-laptop', 'laptop', hashSecret('rl_u_old-laptop-secret'), '2024-01-03T00:00:00.000Z');
    db.close();
    fs.writeFileSync(layout.adminTokenFile, 'rl_u_old-admin-secret\n', { mode: 0o600 });

    const upgraded = await startServer({ dataDir });
    try {
      expect(upgraded.adminToken).toBe('rl_u_old-admin-secret');
      expect((await upgraded.request('GET', '/api/auth/whoami')).body).toEqual({
        tokenId: 'old-admin',
        name: 'local-admin',
        scope: 'admin'
      });
      expect((await upgraded.request('GET', '/api/auth/whoami', { token: 'rl_u_impostor-secret' })).body.scope).toBe('user');
      const everyone = (await upgraded.request('GET', '/api/tokens')).body.tokens;
      expect(everyone.map((token: { id: string; createdBy: string | null }) => [token.id, token.createdBy])).toEqual([
        ['old-admin', null],
        ['impostor', null],
        ['old-laptop', null]
      ]);
      // Tokens from before have no known creator: a user token sees only itself.
      const own = (await upgraded.request('GET', '/api/tokens', { token: 'rl_u_old-laptop-secret' })).body.tokens;
      expect(own.map((token: { id: string }) => token.id)).toEqual(['old-laptop']);
      expectErrorBody(await upgraded.request('DELETE', '/api/tokens/old-admin', { token: 'rl_u_impostor-secret' }), 403, 'forbidden');
      expect(upgraded.logs.some((line) => line.msg === 'gave the local admin token scope admin')).toBe(true);
    } finally {
      await upgraded.stop();
    }
  } finally {
    removeDir(root);
  }
});

/** A request with a chosen Host header (fetch does not let a caller set one). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer; the assertions that read it check its shape
function requestWithHost(url: string, urlPath: string, host: string, token?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host };
    if (token) headers.authorization = `Bearer ${token}`;
    const request = http.request(url + urlPath, { headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('Host header (DNS-rebinding defence)', () => {
  test('a request naming another host is 403 naming RUNLAB_ALLOWED_HOSTS, even with a valid token and on the health check', async () => {
    for (const urlPath of ['/api/projects', '/api/health', '/api/2.0/mlflow/experiments/search']) {
      const refused = await requestWithHost(server.url, urlPath, `evil.example:${server.info.port}`, server.adminToken);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: { code: 'forbidden', message: expect.stringMatching(/evil\.example.*RUNLAB_ALLOWED_HOSTS/) } });
    }
    // The server's own names, on any port, and IP addresses (which rebinding cannot produce) are answered.
    for (const name of ['localhost', '127.0.0.1', '[::1]', '10.1.2.3']) {
      expect((await requestWithHost(server.url, '/api/projects', `${name}:${server.info.port}`, server.adminToken)).status).toBe(200);
    }
  });

  test('RUNLAB_ALLOWED_HOSTS adds names (a leading dot covers subdomains); * allows any', async () => {
    const named = await startServer({ env: { RUNLAB_ALLOWED_HOSTS: 'lab.example.org, .corp.example' } });
    const open = await startServer({ env: { RUNLAB_ALLOWED_HOSTS: '*' } });
    try {
      for (const host of ['lab.example.org', 'LAB.example.org:443', 'runlab.corp.example:8765']) {
        expect((await requestWithHost(named.url, '/api/health', host)).status).toBe(200);
      }
      expect((await requestWithHost(named.url, '/api/health', 'evil.example')).status).toBe(403);
      expect((await requestWithHost(open.url, '/api/health', 'evil.example')).status).toBe(200);
    } finally {
      await named.destroy();
      await open.destroy();
    }
  });
});
