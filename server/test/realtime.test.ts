import { io as connect } from 'socket.io-client';
import { startServer, type TestServer } from './helpers';

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
