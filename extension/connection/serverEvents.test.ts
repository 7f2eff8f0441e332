/** Live events reach the handlers of their name only, until the owner lets go. */
import { Signal } from '@lumino/signaling';
import type { RunMetricsEvent } from '../../server/src/contract';
import { ServerEvents } from './serverEvents';

const metrics: RunMetricsEvent = { runId: 'r1', projectId: 'p', points: [], metrics: {} };

describe('ServerEvents', () => {
  it('calls the handlers of an event with its payload, the owner as this', () => {
    const events = new ServerEvents();
    const owner = { seen: [] as string[] };
    events.on(
      'run:metrics',
      function (this: typeof owner, payload) {
        this.seen.push(payload.runId);
      },
      owner
    );
    events.on('run:deleted', (payload) => owner.seen.push(`deleted ${payload.id}`), owner);
    events.deliver('run:metrics', metrics);
    events.deliver('run:deleted', { id: 'r2', projectId: 'p' });
    expect(owner.seen).toEqual(['r1', 'deleted r2']);
  });

  it('drops events nobody listens to, and names the contract does not know', () => {
    const events = new ServerEvents();
    const seen: unknown[] = [];
    events.on('run:metrics', (payload) => seen.push(payload), seen);
    events.deliver('run:created', {} as never);
    events.deliver('constructor' as never, {} as never);
    expect(seen).toEqual([]);
  });

  it('disconnects an owner on Signal.clearData(owner), and a handler on disposing its handle', () => {
    const events = new ServerEvents();
    const a: string[] = [];
    const b: string[] = [];
    const ownerA = {};
    const ownerB = {};
    events.on('run:metrics', (payload) => a.push(payload.runId), ownerA);
    const handle = events.on('run:metrics', (payload) => b.push(payload.runId), ownerB);
    events.deliver('run:metrics', metrics);
    Signal.clearData(ownerA);
    handle.dispose();
    events.deliver('run:metrics', metrics);
    expect(a).toEqual(['r1']);
    expect(b).toEqual(['r1']);
  });
});
