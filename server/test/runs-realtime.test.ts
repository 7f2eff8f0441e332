import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, Run, RunMetricsEvent, ServerToClientEvents } from '../src/contract';
import { startServer, type TestServer } from './helpers';

let server: TestServer;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
beforeAll(async () => {
  server = await startServer();
  socket = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', resolve);
    socket.on('connect_error', reject);
  });
});
afterAll(async () => {
  socket.disconnect();
  await server.destroy();
});

const until = async (condition: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test('a socket joined to a project gets run:created and coalesced run:metrics carrying every point', async () => {
  const seed = (await server.request('POST', '/api/runs', { json: { project: 'live' } })).body as Run;
  expect(await socket.emitWithAck('project:join', { projectId: seed.projectId })).toEqual({ ok: true });

  const created: Run[] = [];
  const metrics: RunMetricsEvent[] = [];
  socket.on('run:created', (run) => created.push(run));
  socket.on('run:metrics', (event) => metrics.push(event));
  const run = (await server.request('POST', '/api/runs', { json: { project: 'live' } })).body as Run;
  await until(() => created.some((item) => item.id === run.id));

  for (let batch = 0; batch < 50; batch++) {
    const points = Array.from({ length: 10 }, (_, index) => ({ key: 'loss', value: batch * 10 + index, step: batch * 10 + index }));
    await server.request('POST', `/api/runs/${run.id}/log`, { json: { idempotencyKey: `live-${batch}-batch`, metrics: points } });
  }
  await until(() => metrics.reduce((sum, event) => sum + event.points.length, 0) >= 500);
  await new Promise((resolve) => setTimeout(resolve, 250)); // nothing more should arrive
  const mine = metrics.filter((event) => event.runId === run.id);
  expect(mine.length).toBeLessThan(25);
  const steps = mine.flatMap((event) => event.points.map((point) => point.step)).sort((a, b) => a - b);
  expect(steps).toEqual(Array.from({ length: 500 }, (_, index) => index));
  expect(mine.at(-1)!.metrics.loss).toMatchObject({ latest: 499, step: 499, count: 500, min: 0, max: 499 });
  expect(mine.every((event) => event.projectId === run.projectId)).toBe(true);
  // Messages of one run are at least ~100 ms apart (≤ 10 a second).
  process.stdout.write(`50 batches → ${mine.length} run:metrics messages\n`);
});

test('run rooms stream one run; other projects stay silent; bad join payloads are refused', async () => {
  const other = connect(server.url, { auth: { token: server.adminToken }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve) => other.on('connect', resolve));
  try {
    const quiet = (await server.request('POST', '/api/runs', { json: { project: 'quiet' } })).body as Run;
    const watched = (await server.request('POST', '/api/runs', { json: { project: 'watched' } })).body as Run;
    const seen: string[] = [];
    other.onAny((event: string, payload: { id?: string; runId?: string }) => seen.push(`${event}:${payload.runId ?? payload.id}`));
    expect(await other.emitWithAck('run:join', { runId: watched.id })).toEqual({ ok: true });
    expect(await other.emitWithAck('run:join', { run: 'x' } as never)).toEqual({ ok: false });
    expect(await other.emitWithAck('project:join', 'nope' as never)).toEqual({ ok: false });
    await server.request('POST', `/api/runs/${quiet.id}/log`, {
      json: { idempotencyKey: 'quiet-batch', metrics: [{ key: 'a', value: 1 }] }
    });
    await server.request('POST', `/api/runs/${watched.id}/log`, {
      json: { idempotencyKey: 'watch-batch', metrics: [{ key: 'a', value: 1 }] }
    });
    await until(() => seen.includes(`run:metrics:${watched.id}`));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen.filter((entry) => entry.startsWith('run:'))).toEqual([`run:metrics:${watched.id}`]);
    expect(await other.emitWithAck('run:leave', { runId: watched.id })).toEqual({ ok: true });
  } finally {
    other.disconnect();
  }
});
