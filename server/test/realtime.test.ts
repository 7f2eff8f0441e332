import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { startServer, type TestServer } from './helpers';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

/** Resolves with the handshake error (or 'connected'), never hangs: reconnection is off. */
function handshake(auth?: Record<string, unknown>, origin?: string): Promise<{ message: string; data?: any } | 'connected'> {
  const socket = connect(server.url, {
    auth,
    reconnection: false,
    transports: ['websocket'],
    extraHeaders: origin ? { origin } : undefined
  });
  return new Promise((resolve) => {
    socket.on('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      socket.disconnect();
      resolve({ message: error.message, data: error.data });
    });
  });
}

test('a handshake without a token is refused as unauthorized', async () => {
  const result = await handshake();
  expect(result).toEqual({ message: 'unauthorized', data: { code: 'unauthorized', message: expect.stringMatching(/auth/) } });
});

test('a handshake with a bad token is refused as unauthorized', async () => {
  const result = await handshake({ token: 'rl_u_wrong' });
  expect(result).toEqual({ message: 'unauthorized', data: expect.objectContaining({ code: 'unauthorized' }) });
});

test('a revoked token is refused; a runner token is forbidden', async () => {
  const created = await server.request('POST', '/api/tokens', { json: { name: 'to-revoke' } });
  expect(await handshake({ token: created.body.secret })).toBe('connected');
  await server.request('DELETE', `/api/tokens/${created.body.token.id}`);
  expect(await handshake({ token: created.body.secret })).toMatchObject({ message: 'unauthorized' });

  const runner = await server.request('POST', '/api/tokens', { json: { name: 'runner', scope: 'runner' } });
  expect(await handshake({ token: runner.body.secret })).toEqual({
    message: 'forbidden',
    data: expect.objectContaining({ code: 'forbidden' })
  });
});

test('a valid user token connects, also from a local browser origin', async () => {
  expect(await handshake({ token: server.adminToken }, 'http://localhost:8888')).toBe('connected');
});

/** A connected socket (reconnection off) and the reasons it was disconnected for. */
async function connected(token: string): Promise<{ socket: ReturnType<typeof connect>; revoked: unknown[]; closed: Promise<string> }> {
  const socket = connect(server.url, { auth: { token }, reconnection: false, transports: ['websocket'] });
  const revoked: unknown[] = [];
  socket.on('auth:revoked', (payload) => revoked.push(payload));
  const closed = new Promise<string>((resolve) => socket.on('disconnect', (reason) => resolve(reason)));
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => resolve());
    socket.on('connect_error', reject);
  });
  return { socket, revoked, closed };
}

test('revoking a token through the API cuts its open sockets at once, and only those', async () => {
  const doomed = await server.request('POST', '/api/tokens', { json: { name: 'open-socket' } });
  const victim = await connected(doomed.body.secret);
  const bystander = await connected(server.adminToken);

  await server.request('DELETE', `/api/tokens/${doomed.body.token.id}`);
  expect(await victim.closed).toBe('io server disconnect');
  expect(victim.revoked).toEqual([{ code: 'unauthorized', message: expect.stringMatching(/revoked.*sign in/) }]);
  expect(bystander.socket.connected).toBe(true);
  bystander.socket.disconnect();
});

test('a token revoked by the CLI (another process, same database) is cut off by the sweep', async () => {
  const doomed = await server.request('POST', '/api/tokens', { json: { name: 'cli-revoked' } });
  const victim = await connected(doomed.body.secret);
  const cli = spawnSync(process.execPath, [CLI, 'token', 'revoke', doomed.body.token.id, '--data-dir', server.dataDir], {
    encoding: 'utf8',
    timeout: 20000
  });
  expect(cli.status).toBe(0);
  const started = Date.now();
  expect(await victim.closed).toBe('io server disconnect');
  expect(Date.now() - started).toBeLessThan(8000);
}, 15000);
