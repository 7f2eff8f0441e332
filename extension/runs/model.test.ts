import { Signal } from '@lumino/signaling';
import type { Run } from '../../server/src/contract';
import type { ICurrentProject, IRunlabConnection } from '../tokens';
import { RunsModel } from './model';

function run(id: string, projectId = 'p1'): Run {
  return { id, projectId, name: id, status: 'running', metrics: {}, params: {}, tags: {} } as unknown as Run;
}

/** A server whose run list answers only when the test says so, behind a fake connection. */
function slowServer() {
  const handlers = new Map<string, (payload: unknown) => void>();
  const answers: Array<(response: { runs: Run[]; total: number }) => void> = [];
  const connection = {
    on: (name: string, handler: (payload: unknown) => void, owner: object) => {
      handlers.set(name, handler.bind(owner));
      return { dispose: () => undefined, isDisposed: false };
    },
    join: () => ({ dispose: () => undefined, isDisposed: false }),
    api: { runs: { listRuns: () => new Promise((resolve) => answers.push(resolve)) } }
  };
  const project = {
    name: 'demo',
    project: { id: 'p1', name: 'demo' },
    changed: new Signal<object, void>({})
  };
  const model = new RunsModel(connection as unknown as IRunlabConnection, project as unknown as ICurrentProject);
  const emit = (name: string, payload: unknown) => handlers.get(name)!(payload);
  const answer = async (runs: Run[], total = runs.length) => {
    answers.shift()!({ runs, total });
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { model, emit, answer, pending: () => answers.length };
}

describe('RunsModel while its list loads', () => {
  it('keeps a run created after the list was read on the server', async () => {
    const { model, emit, answer } = slowServer();
    emit('run:created', run('new'));
    await answer([run('old')], 1);
    expect(model.runs.map((r) => r.id)).toEqual(['new', 'old']);
    expect(model.total).toBe(2);
  });

  it('keeps an update, a deletion and metrics that arrived while loading', async () => {
    const { model, emit, answer } = slowServer();
    emit('run:updated', { ...run('a'), status: 'finished' });
    emit('run:metrics', { runId: 'b', metrics: { loss: 0.5 }, points: [{ key: 'loss', value: 0.5, step: 0 }] });
    emit('run:deleted', { id: 'c', projectId: 'p1' });
    await answer([run('a'), run('b'), run('c')], 3);
    expect(model.runs.map((r) => [r.id, r.status])).toEqual([
      ['a', 'finished'],
      ['b', 'running']
    ]);
    expect(model.runs[1].metrics).toEqual({ loss: 0.5 });
    expect(model.total).toBe(2);
  });

  it('does not apply a run twice when the list already has it', async () => {
    const { model, emit, answer } = slowServer();
    emit('run:created', run('new'));
    await answer([run('new'), run('old')], 2);
    expect(model.runs.map((r) => r.id)).toEqual(['new', 'old']);
    expect(model.total).toBe(2);
  });

  it('keeps the answer of the newest load when an older one arrives last', async () => {
    const { model, answer, pending } = slowServer();
    void model.refresh();
    expect(pending()).toBe(2);
    await answer([run('stale')]);
    expect(model.loading).toBe(true);
    await answer([run('fresh')]);
    expect(model.runs.map((r) => r.id)).toEqual(['fresh']);
    expect(model.loading).toBe(false);
  });

  it('after loading, a live run is applied once', async () => {
    const { model, emit, answer } = slowServer();
    await answer([run('old')], 1);
    emit('run:created', run('later'));
    expect(model.runs.map((r) => r.id)).toEqual(['later', 'old']);
    expect(model.total).toBe(2);
  });
});
