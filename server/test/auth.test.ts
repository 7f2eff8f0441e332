import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { hashSecret } from '../src/auth/service';
import { expectErrorBody, startServer, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

test('first start writes the local admin token: file 0600 in a 0700 directory', () => {
  const file = path.join(server.dataDir, 'admin-token');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.statSync(server.dataDir).mode & 0o777).toBe(0o700);
  expect(server.adminToken).toMatch(/^rl_u_[A-Za-z0-9_-]{40,}$/);
});

test('whoami names the admin token', async () => {
  const response = await server.request('GET', '/api/auth/whoami');
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ tokenId: expect.any(String), name: 'local-admin', scope: 'user' });
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
  expect(created.body.token).toMatchObject({ name: 'laptop', scope: 'user', lastUsedAt: null, revokedAt: null });
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
