import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { io as connect } from 'socket.io-client';
import { startServer, type TestServer } from './helpers';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.destroy());

type Transport = 'websocket' | 'polling';

/** Resolves with the handshake error (or 'connected'), never hangs: reconnection is off. */
function handshake(
  auth?: Record<string, unknown>,
  origin?: string,
  transport: Transport = 'websocket',
  url = server.url
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- socket.io's connect_error data is untyped
): Promise<{ message: string; data?: any; description?: unknown } | 'connected'> {
  const socket = connect(url, {
    auth,
    reconnection: false,
    transports: [transport],
    // In Node, extraHeaders set the Origin on both transports (a browser sets it itself).
    extraHeaders: origin ? { origin } : undefined
  });
  return new Promise((resolve) => {
    socket.on('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { data?: unknown; description?: unknown }) => {
      socket.disconnect();
      resolve({ message: error.message, data: error.data, description: error.description });
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

describe('live connections obey the same origin rules as HTTP CORS', () => {
  test('a valid token from a foreign origin is refused over polling, with a 403 saying what to set', async () => {
    const result = await handshake({ token: server.adminToken }, 'http://evil.example', 'polling');
    expect(result).toMatchObject({ message: 'xhr poll error', description: 403 });
    // Local browser origins, and no Origin at all (the Python client, a runner), still connect.
    const user = await server.request('POST', '/api/tokens', { json: { name: 'polling-user' } });
    expect(await handshake({ token: user.body.secret }, 'http://localhost:8888', 'polling')).toBe('connected');
    expect(await handshake({ token: server.adminToken }, 'http://127.0.0.1:8888', 'polling')).toBe('connected');
    expect(await handshake({ token: server.adminToken }, undefined, 'polling')).toBe('connected');
    // What a user sees in the browser's network panel, or a Node client gets back:
    const refused = await rawSocketRequest(server.url, 'polling', { origin: 'http://evil.example' });
    expect(refused).toEqual({
      status: 403,
      body: { error: { code: 'forbidden', message: expect.stringMatching(/http:\/\/evil\.example.*RUNLAB_ALLOWED_ORIGINS/) } }
    });
  });

  test('a valid token from a foreign origin is refused over websocket, before the upgrade', async () => {
    const result = await handshake({ token: server.adminToken }, 'http://evil.example', 'websocket');
    expect(result).toMatchObject({ message: 'websocket error' });
    expect(String((result as { description: { message?: string } }).description?.message)).toMatch(/403/);
    const refused = await rawSocketRequest(server.url, 'websocket', { origin: 'http://evil.example' });
    expect(refused).toEqual({
      status: 403,
      body: { error: { code: 'forbidden', message: expect.stringMatching(/RUNLAB_ALLOWED_ORIGINS/) } }
    });
    expect(await rawSocketRequest(server.url, 'websocket', { origin: 'http://localhost:8888' })).toEqual({ status: 101 });
  });

  test('an origin listed in RUNLAB_ALLOWED_ORIGINS connects over both transports; others stay refused', async () => {
    const listed = await startServer({ env: { RUNLAB_ALLOWED_ORIGINS: 'https://lab.example.org' } });
    try {
      for (const transport of ['websocket', 'polling'] as const) {
        expect(await handshake({ token: listed.adminToken }, 'https://lab.example.org', transport, listed.url)).toBe('connected');
        expect(await handshake({ token: listed.adminToken }, 'https://evil.example', transport, listed.url)).not.toBe('connected');
      }
    } finally {
      await listed.destroy();
    }
  });

  test('a handshake naming another Host is refused on both transports (DNS-rebinding defence)', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      const refused = await rawSocketRequest(server.url, transport, { host: `evil.example:${server.info.port}` });
      expect(refused).toEqual({
        status: 403,
        body: { error: { code: 'forbidden', message: expect.stringMatching(/evil\.example.*RUNLAB_ALLOWED_HOSTS/) } }
      });
    }
    expect(await rawSocketRequest(server.url, 'websocket', { host: `localhost:${server.info.port}` })).toEqual({ status: 101 });
    expect((await rawSocketRequest(server.url, 'polling', { host: `localhost:${server.info.port}` })).status).toBe(200);
  });
});

/**
 * The first request of a socket.io connection, sent by hand so the test can set any Host and
 * read a refusal's body: the polling handshake, or the websocket upgrade (101 when accepted).
 */
function rawSocketRequest(url: string, transport: Transport, headers: Record<string, string>): Promise<{ status: number; body?: unknown }> {
  const upgrade =
    transport === 'websocket'
      ? {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64')
        }
      : {};
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/socket.io/?EIO=4&transport=${transport}`, { headers: { ...upgrade, ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        resolve(status === 200 ? { status } : { status, body: JSON.parse(text) });
      });
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.on('error', reject);
    request.end();
  });
}

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
