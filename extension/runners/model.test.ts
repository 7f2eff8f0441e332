/** The runners list and the job model, live events applied against a fake connection. */
import { Signal } from '@lumino/signaling';
import type { Job, JobEvent, Runner } from '../../server/src/contract';
import type { IRunlabConnection, Room } from '../tokens';
import { applyRunnerRemoval, applyRunnerUpdate, JobModel, RunnersModel } from './model';
import { buildJobRequest, notebookDatasetPins } from './jobRequest';
import { declaredParameters } from './parameters';

type Handler = (payload: unknown) => void;

function runner(name: string, extra: Partial<Runner> = {}): Runner {
  return {
    id: `id-${name}`,
    name,
    labels: [],
    capacity: null,
    maxJobs: 1,
    status: 'online',
    lastHeartbeatAt: null,
    connectedAt: null,
    createdAt: '2026-01-01T00:00:00Z',
    runningJobs: [],
    poolId: null,
    ...extra
  };
}

function job(extra: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    projectId: 'p1',
    projectName: 'demo',
    runId: 'run-2',
    name: 'demo.ipynb',
    notebookPath: 'demo.ipynb',
    snapshotCommit: 'a'.repeat(40),
    parameters: {},
    datasets: {},
    labels: [],
    env: 'runner',
    priority: 0,
    status: 'queued',
    attemptCount: 0,
    maxRetries: 2,
    timeoutS: null,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: null,
    finishedAt: null,
    error: null,
    runnerName: null,
    progress: null,
    rerunOf: null,
    attempts: [],
    ...extra
  };
}

function fakeConnection(api: Record<string, (...args: unknown[]) => Promise<unknown>>) {
  const handlers = new Map<string, Handler[]>();
  const rooms: Room[] = [];
  const connection = {
    state: { status: 'connected' },
    stateChanged: new Signal<object, unknown>({}),
    api: { runners: api },
    on: (name: string, handler: Handler) => {
      handlers.set(name, [...(handlers.get(name) ?? []), handler]);
      return { dispose: () => undefined, isDisposed: false };
    },
    join: (room: Room) => {
      rooms.push(room);
      return { dispose: () => rooms.splice(rooms.indexOf(room), 1), isDisposed: false };
    }
  } as unknown as IRunlabConnection;
  const emit = (name: string, payload: unknown) => (handlers.get(name) ?? []).forEach((handler) => handler(payload));
  return { connection, emit, rooms };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('runner list events', () => {
  it('adds, replaces by id and removes, kept in name order', () => {
    const list = applyRunnerUpdate(applyRunnerUpdate([], runner('zeta')), runner('alpha'));
    expect(list.map((r) => r.name)).toEqual(['alpha', 'zeta']);
    const drained = applyRunnerUpdate(list, runner('zeta', { status: 'draining' }));
    expect(drained.map((r) => [r.name, r.status])).toEqual([
      ['alpha', 'online'],
      ['zeta', 'draining']
    ]);
    expect(applyRunnerRemoval(drained, 'id-alpha').map((r) => r.name)).toEqual(['zeta']);
  });

  it('RunnersModel loads on connect and follows runner:updated / runner:removed', async () => {
    const { connection, emit } = fakeConnection({ listRunners: async () => ({ runners: [runner('b'), runner('a')] }) });
    const model = new RunnersModel(connection);
    await settle();
    expect(model.runners.map((r) => r.name)).toEqual(['a', 'b']);
    emit('runner:updated', runner('b', { status: 'offline' }));
    expect(model.runners.find((r) => r.name === 'b')?.status).toBe('offline');
    emit('runner:removed', { id: 'id-a' });
    expect(model.runners.map((r) => r.name)).toEqual(['b']);
  });
});

describe('JobModel', () => {
  it('joins the project room, reads the log, then streams output and progress; ended fires once', async () => {
    let answerLog: (text: string) => void = () => undefined;
    const { connection, emit, rooms } = fakeConnection({
      getJob: async () => job({ status: 'running', progress: { cells: 2, cell: 0, state: 'running' } }),
      getJobLog: () => new Promise((resolve) => (answerLog = (text) => resolve({ text: async () => text })))
    });
    const model = new JobModel(connection, 'job-1');
    const ended: string[] = [];
    model.ended.connect((_, value) => ended.push(value.status));
    await settle();
    expect(rooms).toEqual([{ projectId: 'p1' }]);
    const output = (text: string): { jobId: string; attemptId: string; events: JobEvent[] } => ({
      jobId: 'job-1',
      attemptId: 'at-1',
      events: [{ type: 'output', index: 0, stream: 'stdout', text }]
    });
    // Arrives while the log is on its way, and the log already has it.
    emit('job:output', output('one\n'));
    answerLog('one\n');
    await settle();
    await settle();
    expect(model.output).toBe('one\n');
    emit('job:output', output('two\n'));
    emit('job:output', { ...output('other'), jobId: 'job-9' });
    expect(model.output).toBe('one\ntwo\n');
    emit('job:output', { jobId: 'job-1', attemptId: 'at-1', events: [{ type: 'cell', index: 1, of: 2, state: 'running' }] });
    expect(model.progress).toEqual({ cells: 2, cell: 1, state: 'running' });
    emit('job:updated', job({ status: 'finished', progress: { cells: 2, cell: 1, state: 'done' } }));
    emit('job:updated', job({ status: 'finished' }));
    expect(model.job?.status).toBe('finished');
    expect(ended).toEqual(['finished']);
    model.dispose();
    expect(rooms).toEqual([]);
  });
});

describe('the Run on Runner request', () => {
  const notebook = {
    cells: [{ cell_type: 'code', metadata: { tags: ['parameters'] }, source: 'epochs = 10\nlr = 0.1\nname = "a"' }],
    metadata: { runlab: { datasets: { iris: 'v3', bad: 3 } } }
  };
  const declared = declaredParameters(notebook);
  const target = { project: 'demo', notebookPath: 'demo.ipynb', notebook };

  it('sends the parameters changed from the cell, the pins, labels, env and timeout', () => {
    const request = buildJobRequest(
      {
        labels: 'gpu, bigmem',
        parameters: { epochs: '20', lr: '0.1', name: "'b'" },
        datasets: { ...notebookDatasetPins(notebook.metadata), iris: 'v2' },
        env: 'recreate',
        timeoutMinutes: '1.5'
      },
      declared,
      target
    );
    expect(request).toEqual({
      ...target,
      parameters: { epochs: 20, name: 'b' },
      datasets: { iris: 'v2' },
      labels: ['gpu', 'bigmem'],
      env: 'recreate',
      timeoutS: 90
    });
  });

  it('says which value is not a literal, and refuses a bad timeout', () => {
    const values = { labels: '', parameters: { epochs: 'ten' }, datasets: {}, env: 'runner' as const, timeoutMinutes: '' };
    expect(() => buildJobRequest(values, declared, target)).toThrow(/^Parameter epochs: not a Python literal/);
    expect(() => buildJobRequest({ ...values, parameters: {}, timeoutMinutes: '-1' }, declared, target)).toThrow(/^Timeout/);
  });
});
