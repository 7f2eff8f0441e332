import { Signal } from '@lumino/signaling';
import type { Project, Run, RunGroup, RunGroupQuery, RunStatus } from '../../../server/src/contract';
import { RUN_FILTER_PATTERN, RUN_GROUP_BY_PATTERN, RUN_SORT_PATTERN } from '../../../server/src/contract/runs';
import { aggregate } from '../../../server/src/runs/service';
import { RunlabRequestError } from '../../request';
import type { ICurrentProject, IRunlabConnection } from '../../tokens';
import { ColumnId, TableColumns, columnField, columnKey } from './columns';
import { PAGE_SIZE, RunsTableModel } from './tableModel';
import { run, summary } from '../../testing/runs';

const many = (count: number): Run[] => Array.from({ length: count }, (_, i) => run(`r${i}`));

function project(id: string, name: string): Project {
  return { id, name, description: '', createdAt: '', updatedAt: '', headCommit: null };
}

/** The list query as the model sends it. */
type ListQuery = { project: string; sort: string; status?: RunStatus; filter?: string[]; limit: number; offset: number };
type GroupQuery = RunGroupQuery & { metric?: string[]; filter?: string[] };

/** The server refuses what its real grammar refuses, in its own words, as a 400. */
function refuse(field: string, value: string): never {
  throw new RunlabRequestError(400, 'invalid_request', `Invalid request: query.${field}: cannot use ${value}`);
}

function checkFilters(filter: string[] | undefined): void {
  for (const condition of filter ?? []) {
    if (!new RegExp(RUN_FILTER_PATTERN).test(condition)) refuse('filter', condition);
  }
}

/** Groups as the server makes them, with its own aggregate (mean, sample sd) of latest finite values. */
function groupsOf(runs: readonly Run[], query: GroupQuery): RunGroup[] {
  const by = query.by as ColumnId;
  const field = columnField(by) as 'params' | 'tags';
  const values = [...new Set(runs.map((r) => r[field][columnKey(by)] ?? null))];
  return values.map((value) => {
    const members = runs.filter((r) => (r[field][columnKey(by)] ?? null) === value);
    const metrics: RunGroup['metrics'] = {};
    for (const key of query.metric ?? []) {
      const latest = members.map((r) => r.metrics[key]?.latest).filter((v): v is number => typeof v === 'number');
      metrics[key] = aggregate(latest);
    }
    return { value, count: members.length, metrics };
  });
}

/** A fake server: `runs` in the order it would list them; every request is recorded. */
function fakeServer(runs: Run[]) {
  const handlers = new Map<string, (payload: unknown) => void>();
  const joined: string[] = [];
  const left: string[] = [];
  const listed: ListQuery[] = [];
  const grouped: GroupQuery[] = [];
  const server = {
    runs,
    handlers,
    joined,
    left,
    listed,
    grouped,
    /** Replaceable: how the server answers a list query. */
    list: async (query: ListQuery): Promise<{ runs: Run[]; total: number }> => {
      if (!new RegExp(RUN_SORT_PATTERN).test(query.sort)) refuse('sort', query.sort);
      checkFilters(query.filter);
      return { runs: server.runs.slice(query.offset, query.offset + query.limit), total: server.runs.length };
    },
    group: async (query: GroupQuery): Promise<{ groups: RunGroup[]; total: number }> => {
      if (!new RegExp(RUN_GROUP_BY_PATTERN).test(query.by)) refuse('by', query.by);
      checkFilters(query.filter);
      return { groups: groupsOf(server.runs, query), total: server.runs.length };
    },
    emit: (name: string, payload: unknown) => handlers.get(name)!(payload),
    connection: null as unknown as IRunlabConnection
  };
  const connection = {
    settings: { serverUrl: 'http://hub:1', token: 't', project: 'demo' },
    on: (name: string, handler: (payload: unknown) => void, owner: object) => {
      handlers.set(name, handler.bind(owner));
      return { dispose: () => undefined, isDisposed: false };
    },
    join: ({ projectId }: { projectId: string }) => {
      joined.push(projectId);
      return { dispose: () => left.push(projectId), isDisposed: false };
    },
    api: {
      runs: {
        listRuns: ({ query }: { query: ListQuery }) => {
          listed.push(query);
          return server.list(query);
        },
        groupRuns: ({ query }: { query: GroupQuery }) => {
          grouped.push(query);
          return server.group(query);
        }
      }
    }
  };
  server.connection = connection as unknown as IRunlabConnection;
  return server;
}

class FakeProject {
  name = 'demo';
  project: Project | null = project('p1', 'demo');
  changed = new Signal<this, void>(this);
  switchTo(name: string, next: Project | null): void {
    this.name = name;
    this.project = next;
    this.changed.emit();
  }
}

class MemoryStorage {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

/** A promise the test resolves when it wants the server to answer. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

let current: FakeProject;
let columns: TableColumns;
const models: RunsTableModel[] = [];

function open(server: ReturnType<typeof fakeServer>): RunsTableModel {
  const model = new RunsTableModel(server.connection, current as unknown as ICurrentProject, columns);
  models.push(model);
  return model;
}

const names = (model: RunsTableModel, start: number, stop: number) =>
  Array.from({ length: stop - start + 1 }, (_, i) => model.runAt(start + i)?.name);

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  Object.defineProperty(globalThis, 'window', {
    value: {
      localStorage: new MemoryStorage(),
      setTimeout: (handler: () => void, ms: number) => setTimeout(handler, ms),
      clearTimeout: (timer: ReturnType<typeof setTimeout>) => clearTimeout(timer)
    },
    configurable: true,
    writable: true
  });
  current = new FakeProject();
  columns = new TableColumns();
});

afterEach(() => {
  models.splice(0).forEach((model) => model.dispose());
  jest.useRealTimers();
  delete (globalThis as { window?: unknown }).window;
});

describe('RunsTableModel rows', () => {
  it('asks for the first page of the current project, newest first, and shows the rows and total the server gives', async () => {
    const server = fakeServer([run('newest'), run('older'), run('oldest')]);
    const model = open(server);
    expect(model.loading).toBe(true);
    await settle();
    expect(server.listed).toEqual([{ project: 'demo', sort: 'startedAt:desc', limit: PAGE_SIZE, offset: 0 }]);
    expect(model.loading).toBe(false);
    expect(model.error).toBeNull();
    expect(model.total).toBe(3);
    expect(names(model, 0, 3)).toEqual(['newest', 'older', 'oldest', undefined]);
    expect(model.groups).toBeNull();
    expect(server.joined).toEqual(['p1']);
  });

  it('reads further pages only when their rows come into view, each once, and none past the last run', async () => {
    const server = fakeServer(many(250));
    const model = open(server);
    await settle();
    expect(model.runAt(99)?.name).toBe('r99');
    expect(model.runAt(100)).toBeUndefined();

    model.setVisibleRows(90, 130);
    model.setVisibleRows(95, 140); // still loading page 1: not asked again
    await settle();
    expect(server.listed.map((q) => q.offset)).toEqual([0, 100]);
    expect(model.runAt(100)?.name).toBe('r100');
    expect(model.runAt(199)?.name).toBe('r199');

    model.setVisibleRows(150, 320); // page 3 would start at row 300, past the 250 runs
    await settle();
    model.ensureRows(0, 249);
    await settle();
    expect(server.listed.map((q) => q.offset)).toEqual([0, 100, 200]);
    expect(model.runAt(249)?.name).toBe('r249');
    expect(model.runAt(250)).toBeUndefined();
  });

  it('addresses rows across a page boundary by index, so a shift-click range can span pages', async () => {
    const server = fakeServer(many(150));
    const model = open(server);
    await settle();
    model.setVisibleRows(95, 105);
    // While page 1 loads, its rows are not there yet (the view shows them as loading).
    expect(names(model, 98, 101)).toEqual(['r98', 'r99', undefined, undefined]);
    await settle();
    expect(names(model, 95, 105)).toEqual(['r95', 'r96', 'r97', 'r98', 'r99', 'r100', 'r101', 'r102', 'r103', 'r104', 'r105']);
    expect(model.runAt(149)?.name).toBe('r149');
  });
});

describe('RunsTableModel sorting', () => {
  it('sorts a param or metric column descending first and ascending on a second click; names start ascending', async () => {
    const server = fakeServer(many(3));
    const model = open(server);
    await settle();
    const sorts: string[] = [];
    for (const column of ['params.lr', 'params.lr', 'params.lr', 'metrics.acc', 'metrics.acc', 'name', 'name', 'startedAt'] as const) {
      model.sortBy(column);
      sorts.push(`${model.query.sort.column}:${model.query.sort.direction}`);
      await settle();
    }
    expect(sorts).toEqual([
      'params.lr:desc',
      'params.lr:asc',
      'params.lr:desc',
      'metrics.acc:desc',
      'metrics.acc:asc',
      'name:asc',
      'name:desc',
      'startedAt:desc'
    ]);
    // Each order is asked of the server from the top, in the list query's own words.
    expect(server.listed.slice(1).map((q) => [q.sort, q.offset])).toEqual(sorts.map((sort) => [sort, 0]));
    expect(model.error).toBeNull();
  });

  it('shows the new order from the top, without the previous order’s rows, runs lacking the metric where the server puts them', async () => {
    const a = run('a', { metrics: { acc: summary(0.9) } });
    const b = run('b', { metrics: { acc: summary(0.5) } });
    const none = run('none');
    const server = fakeServer([none, b, a]);
    const model = open(server);
    await settle();
    expect(names(model, 0, 2)).toEqual(['none', 'b', 'a']);
    const answer = deferred<{ runs: Run[]; total: number }>();
    server.list = () => answer.promise;
    model.sortBy('metrics.acc');
    expect(server.listed[1].sort).toBe('metrics.acc:desc');
    expect(model.runAt(0)).toBeUndefined();
    expect(model.loading).toBe(true);
    // Highest first; the server puts the run without acc last.
    answer.resolve({ runs: [a, b, none], total: 3 });
    await settle();
    expect(names(model, 0, 2)).toEqual(['a', 'b', 'none']);
    expect(model.runAt(0)!.metrics.acc.latest).toBe(0.9);
    expect(model.loading).toBe(false);
  });

  it('sorts by a tag column, as the server can (a tag header is a sort button like the others)', async () => {
    const server = fakeServer([run('a', { tags: { team: 'vision' } }), run('b', { tags: { team: 'nlp' } })]);
    columns.set('demo', ['tags.team']);
    const model = open(server);
    await settle();
    model.sortBy('tags.team');
    await settle();
    expect(model.error).toBeNull();
    expect(model.total).toBe(2);
    for (const query of server.listed) {
      expect(query.sort).toMatch(new RegExp(RUN_SORT_PATTERN));
    }
  });
});

describe('RunsTableModel filters', () => {
  it('sends the status and each condition as the list query’s filters, and drops them when cleared', async () => {
    const server = fakeServer(many(2));
    const model = open(server);
    await settle();
    model.setQuery({ status: 'finished', filters: ['params.lr>=0.01', 'metrics.acc>0.9', 'tags.team=vision'] });
    await settle();
    expect(server.listed[1]).toEqual({
      project: 'demo',
      sort: 'startedAt:desc',
      status: 'finished',
      filter: ['params.lr>=0.01', 'metrics.acc>0.9', 'tags.team=vision'],
      limit: PAGE_SIZE,
      offset: 0
    });
    expect(model.error).toBeNull();
    model.setQuery({ status: null, filters: [] });
    await settle();
    expect(server.listed[2]).toEqual({ project: 'demo', sort: 'startedAt:desc', limit: PAGE_SIZE, offset: 0 });
  });

  it('shows the server’s own words when it refuses a filter, and no rows; a good filter brings them back', async () => {
    const server = fakeServer(many(3));
    const model = open(server);
    await settle();
    model.setQuery({ filters: ['metrics.acc>high'] });
    await settle();
    expect(model.error).toBe('Invalid request: query.filter: cannot use metrics.acc>high');
    expect(model.total).toBe(0);
    expect(model.loading).toBe(false);

    model.setQuery({ filters: ['metrics.acc>0.5'] });
    expect(model.error).toBeNull();
    await settle();
    expect(model.error).toBeNull();
    expect(model.total).toBe(3);
  });

  it('says how to fix an unreachable server rather than showing an empty table', async () => {
    const server = fakeServer([]);
    server.list = () => Promise.reject(new RunlabRequestError(0, 'unreachable', 'Could not reach http://hub:1.'));
    const model = open(server);
    await settle();
    expect(model.error).toBe(
      'Could not load runs: Could not reach http://hub:1. The Runlab panel (Runlab → Show Panel) says which server is configured and what to do.'
    );
    expect(model.loading).toBe(false);
  });

  it('ignores a late answer to a query the user has since changed', async () => {
    const server = fakeServer([]);
    const slow = deferred<{ runs: Run[]; total: number }>();
    const fast = deferred<{ runs: Run[]; total: number }>();
    server.list = (query) => (query.filter ? fast.promise : slow.promise);
    const model = open(server);
    model.setQuery({ filters: ['params.lr=0.1'] });
    fast.resolve({ runs: [run('filtered')], total: 1 });
    await settle();
    slow.resolve({ runs: [run('unfiltered-1'), run('unfiltered-2')], total: 2 });
    await settle();
    expect(model.total).toBe(1);
    expect(names(model, 0, 1)).toEqual(['filtered', undefined]);
  });
});

describe('RunsTableModel grouping', () => {
  /** Three seeds of team a, two of team b (and a NaN the server leaves out), one run without a team. */
  function seeds() {
    const runs = [
      run('a0', { tags: { team: 'a' }, params: { lr: '0.1', seed: '0' }, metrics: { acc: summary(0.5), loss: summary(2) } }),
      run('a1', { tags: { team: 'a' }, params: { lr: '0.1', seed: '1' }, metrics: { acc: summary(0.7), loss: summary(4) } }),
      run('a2', { tags: { team: 'a' }, params: { lr: '0.1', seed: '2' }, metrics: { acc: summary(0.9), loss: summary(9) } }),
      run('b0', { tags: { team: 'b' }, params: { lr: '0.01', seed: '0' }, metrics: { acc: summary(0.2) } }),
      run('b1', { tags: { team: 'b' }, params: { lr: '0.01', seed: '1' }, metrics: { acc: summary(0.4) } }),
      run('bNaN', { tags: { team: 'b' }, params: { lr: '0.01', seed: '2' }, metrics: { acc: { ...summary(0), latest: 'NaN' } } }),
      run('lone', { params: { lr: '0.1' } })
    ];
    return fakeServer(runs);
  }

  it('groups by a tag with the mean ± sample sd of each chosen metric across the group’s runs', async () => {
    const server = seeds();
    columns.set('demo', ['params.lr', 'metrics.acc', 'tags.team', 'metrics.loss']);
    const model = open(server);
    await settle();
    server.listed.splice(0);
    model.setQuery({ groupBy: 'tags.team' });
    expect(model.loading).toBe(true);
    await settle();
    expect(server.grouped).toEqual([{ project: 'demo', by: 'tags.team', metric: ['acc', 'loss'] }]);
    expect(server.listed).toEqual([]);
    expect(model.loading).toBe(false);
    expect(model.total).toBe(7);

    const group = (value: string | null) => model.groups!.find((g) => g.value === value)!;
    expect(model.groups!.map((g) => [g.value, g.count])).toEqual([
      ['a', 3],
      ['b', 3],
      [null, 1]
    ]);
    // acc of team a: 0.5, 0.7, 0.9 → mean 0.7; deviations ±0.2, 0 → sd √((0.04 + 0 + 0.04) / 2) = 0.2.
    expect(group('a').metrics.acc.count).toBe(3);
    expect(group('a').metrics.acc.mean).toBeCloseTo(0.7, 12);
    expect(group('a').metrics.acc.sd).toBeCloseTo(0.2, 12);
    expect([group('a').metrics.acc.min, group('a').metrics.acc.max]).toEqual([0.5, 0.9]);
    // loss of team a: 2, 4, 9 → mean 5; squares 9 + 1 + 16 = 26 → sd √13.
    expect(group('a').metrics.loss.mean).toBeCloseTo(5, 12);
    expect(group('a').metrics.loss.sd).toBeCloseTo(Math.sqrt(13), 12);
    // acc of team b: 0.2, 0.4 (the NaN left out) → mean 0.3, sd √((0.01 + 0.01) / 1) = √0.02.
    expect(group('b').metrics.acc).toMatchObject({ count: 2, min: 0.2, max: 0.4 });
    expect(group('b').metrics.acc.mean).toBeCloseTo(0.3, 12);
    expect(group('b').metrics.acc.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    // No loss in team b, one run without a team: no mean, no spread.
    expect(group('b').metrics.loss).toEqual({ count: 0, mean: null, sd: null, min: null, max: null });
    expect(group(null).metrics.acc).toEqual({ count: 0, mean: null, sd: null, min: null, max: null });
  });

  it('groups by a param with the filters and status applied, and reads no rows meanwhile', async () => {
    const server = seeds();
    columns.set('demo', ['metrics.acc']);
    const model = open(server);
    await settle();
    server.listed.splice(0);
    model.setQuery({ groupBy: 'params.lr', status: 'finished', filters: ['tags.team!=c'] });
    await settle();
    expect(server.grouped).toEqual([{ project: 'demo', by: 'params.lr', status: 'finished', filter: ['tags.team!=c'], metric: ['acc'] }]);
    const lr = model.groups!.find((g) => g.value === '0.1')!;
    // 0.5, 0.7, 0.9 and the lone run without acc.
    expect(lr.count).toBe(4);
    expect(lr.metrics.acc.count).toBe(3);
    expect(lr.metrics.acc.mean).toBeCloseTo(0.7, 12);
    expect(lr.metrics.acc.sd).toBeCloseTo(0.2, 12);
    // One seed: a mean and no spread.
    server.runs = server.runs.filter((r) => r.id === 'b0');
    model.reload();
    await settle();
    expect(model.groups).toEqual([{ value: '0.01', count: 1, metrics: { acc: { count: 1, mean: 0.2, sd: null, min: 0.2, max: 0.2 } } }]);

    model.setVisibleRows(0, 300);
    model.ensureRows(0, 300);
    await settle();
    expect(server.listed).toEqual([]);
    expect(model.runAt(0)).toBeUndefined();
  });

  it('asks without metrics when no metric column is chosen', async () => {
    const server = seeds();
    const model = open(server);
    model.setQuery({ groupBy: 'tags.team' });
    await settle();
    expect(server.grouped).toEqual([{ project: 'demo', by: 'tags.team' }]);
    expect(model.groups!.every((g) => Object.keys(g.metrics).length === 0)).toBe(true);
  });

  it('fetches aggregates again, once, when metric columns are picked while grouped', async () => {
    const server = seeds();
    const model = open(server);
    model.setQuery({ groupBy: 'tags.team' });
    await settle();
    const changed = jest.fn();
    model.changed.connect(changed);
    columns.toggle('demo', 'metrics.acc');
    columns.toggle('demo', 'metrics.loss');
    expect(changed).toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1000);
    await settle();
    expect(server.grouped.map((q) => q.metric)).toEqual([undefined, ['acc', 'loss']]);
    expect(model.groups!.find((g) => g.value === 'a')!.metrics.acc.mean).toBeCloseTo(0.7, 12);
  });

  it('picking a column without grouping needs no request', async () => {
    const server = seeds();
    const model = open(server);
    await settle();
    columns.toggle('demo', 'metrics.acc');
    await jest.advanceTimersByTimeAsync(1000);
    expect(server.listed).toHaveLength(1);
    expect(server.grouped).toHaveLength(0);
    expect(model.query.groupBy).toBeNull();
  });

  it('shows one row per run again when grouping is turned off', async () => {
    const server = seeds();
    const model = open(server);
    model.setQuery({ groupBy: 'tags.team' });
    await settle();
    expect(model.groups).toHaveLength(3);
    model.setQuery({ groupBy: null });
    expect(model.groups).toBeNull();
    await settle();
    expect(model.total).toBe(7);
    expect(model.runAt(0)?.name).toBe('a0');
    expect(model.loading).toBe(false);
  });

  it('shows the server’s refusal of a grouping, with no groups', async () => {
    const server = seeds();
    const model = open(server);
    await settle();
    model.setQuery({ groupBy: 'tags.team', filters: ['metrics.acc>high'] });
    await settle();
    expect(model.error).toBe('Invalid request: query.filter: cannot use metrics.acc>high');
    expect(model.groups).toEqual([]);
    expect(model.total).toBe(0);
    expect(model.loading).toBe(false);
  });

  it('turning grouping off while the groups load does not leave the table loading', async () => {
    const server = seeds();
    const answer = deferred<{ groups: RunGroup[]; total: number }>();
    server.group = () => answer.promise;
    const model = open(server);
    await settle();
    model.setQuery({ groupBy: 'tags.team' });
    model.setQuery({ groupBy: null });
    answer.resolve({ groups: [], total: 7 });
    await settle();
    expect(model.runAt(0)?.name).toBe('a0');
    expect(model.loading).toBe(false);
  });
});

describe('RunsTableModel columns and projects', () => {
  it('offers the columns seen in loaded runs and the chosen ones: metrics, then params, then tags, each alphabetical', async () => {
    const server = fakeServer([
      run('a', { params: { lr: '0.1', batch: '32' }, tags: { team: 'vision' }, metrics: { loss: summary(1) } }),
      run('b', { params: { lr: '0.2' }, metrics: { acc: summary(0.5) } })
    ]);
    columns.set('demo', ['tags.owner', 'metrics.f1']);
    const model = open(server);
    expect(model.availableColumns).toEqual(['metrics.f1', 'tags.owner']);
    await settle();
    expect(model.availableColumns).toEqual([
      'metrics.acc',
      'metrics.f1',
      'metrics.loss',
      'params.batch',
      'params.lr',
      'tags.owner',
      'tags.team'
    ]);
  });

  it('moves to another project: its room, its runs, its columns, none of the previous project’s', async () => {
    const server = fakeServer([run('a', { params: { lr: '0.1' } })]);
    const model = open(server);
    await settle();
    expect(model.availableColumns).toEqual(['params.lr']);
    server.runs = [run('x', { projectId: 'p2', tags: { team: 'nlp' } })];
    current.switchTo('other', project('p2', 'other'));
    expect(model.projectName).toBe('other');
    expect(model.runAt(0)).toBeUndefined();
    await settle();
    expect(server.listed.map((q) => q.project)).toEqual(['demo', 'other']);
    expect(server.joined).toEqual(['p1', 'p2']);
    expect(server.left).toEqual(['p1']);
    expect(model.runAt(0)?.name).toBe('x');
    expect(model.availableColumns).toEqual(['tags.team']);
  });

  it('switching to a project the server does not have shows no runs, not the previous project’s count', async () => {
    const server = fakeServer(many(3));
    const model = open(server);
    await settle();
    expect(model.total).toBe(3);
    current.switchTo('missing', null);
    await settle();
    expect(server.listed).toHaveLength(1);
    expect(model.total).toBe(0);
  });

  it('stops listening once disposed', async () => {
    const server = fakeServer(many(3));
    const model = open(server);
    await settle();
    model.sortBy('metrics.acc');
    await settle();
    const changed = jest.fn();
    model.changed.connect(changed);
    server.emit('run:created', run('new'));
    model.dispose();
    expect(model.isDisposed).toBe(true);
    expect(server.left).toEqual(['p1']);
    await jest.advanceTimersByTimeAsync(2000);
    current.switchTo('other', project('p2', 'other'));
    columns.toggle('demo', 'metrics.acc');
    await settle();
    expect(server.listed).toHaveLength(2);
    expect(changed).not.toHaveBeenCalled();
  });
});

describe('RunsTableModel live updates', () => {
  const metricsEvent = (runId: string, acc: number, projectId = 'p1') => ({ runId, projectId, metrics: { acc: summary(acc) }, points: [] });

  it('patches a loaded run’s metrics in place, without a request, when the order cannot change', async () => {
    const server = fakeServer([run('a', { metrics: { loss: summary(1) } }), run('b')]);
    const model = open(server);
    await settle();
    const changed = jest.fn();
    model.changed.connect(changed);
    server.emit('run:metrics', metricsEvent('a', 0.8));
    expect(model.runAt(0)!.metrics).toEqual({ loss: summary(1), acc: summary(0.8) });
    expect(changed).toHaveBeenCalledTimes(1);
    server.emit('run:metrics', metricsEvent('b', 0.1, 'p2')); // another project's run of the same id
    expect(model.runAt(1)!.metrics).toEqual({});
    await jest.advanceTimersByTimeAsync(2000);
    expect(server.listed).toHaveLength(1);
  });

  it('reloads once for a burst of metrics when sorted by a metric, keeping the rows on screen meanwhile', async () => {
    const server = fakeServer([run('a'), run('b')]);
    const model = open(server);
    model.sortBy('metrics.acc');
    await settle();
    server.listed.splice(0);
    for (let i = 0; i < 10; i++) {
      server.emit('run:metrics', metricsEvent('b', i / 10));
      await jest.advanceTimersByTimeAsync(50);
    }
    expect(server.listed).toHaveLength(0);
    server.runs = [server.runs[1], server.runs[0]];
    const answer = deferred<{ runs: Run[]; total: number }>();
    server.list = () => answer.promise;
    await jest.advanceTimersByTimeAsync(500);
    expect(server.listed).toEqual([{ project: 'demo', sort: 'metrics.acc:desc', limit: PAGE_SIZE, offset: 0 }]);
    expect(names(model, 0, 1)).toEqual(['a', 'b']);
    answer.resolve({ runs: server.runs, total: 2 });
    await settle();
    expect(names(model, 0, 1)).toEqual(['b', 'a']);
  });

  it('reloads for metrics when filtered by a metric, or grouped', async () => {
    const server = fakeServer([run('a', { tags: { team: 'x' } })]);
    const model = open(server);
    model.setQuery({ filters: [' metrics.acc>0.5'] });
    await settle();
    server.emit('run:metrics', metricsEvent('a', 0.9));
    await jest.advanceTimersByTimeAsync(600);
    expect(server.listed.map((q) => q.filter)).toEqual([undefined, [' metrics.acc>0.5'], [' metrics.acc>0.5']]);

    model.setQuery({ filters: [], groupBy: 'tags.team' });
    await settle();
    server.emit('run:metrics', metricsEvent('a', 0.95));
    await jest.advanceTimersByTimeAsync(600);
    expect(server.grouped).toHaveLength(2);
  });

  it('reads the pages in view again when a run is created or deleted in this project, not in another', async () => {
    const server = fakeServer(many(250));
    const model = open(server);
    model.setVisibleRows(180, 210);
    await settle();
    server.listed.splice(0);
    server.emit('run:created', run('other', { projectId: 'p2' }));
    server.emit('run:deleted', { id: 'x', projectId: 'p2' });
    await jest.advanceTimersByTimeAsync(1000);
    expect(server.listed).toEqual([]);

    server.runs = [run('new'), ...server.runs];
    server.emit('run:created', run('new'));
    await jest.advanceTimersByTimeAsync(600);
    await settle();
    expect(server.listed.map((q) => q.offset).sort()).toEqual([100, 200]);
    expect(model.runAt(100)?.name).toBe('r99');
    // Page 0 is out of view: it is dropped, to be read again when it comes back.
    expect(model.runAt(0)).toBeUndefined();
    expect(model.total).toBe(251);

    server.listed.splice(0);
    server.runs = server.runs.slice(1);
    server.emit('run:deleted', { id: 'new', projectId: 'p1' });
    await jest.advanceTimersByTimeAsync(600);
    await settle();
    expect(server.listed.map((q) => q.offset).sort()).toEqual([100, 200]);
    expect(model.total).toBe(250);
  });

  it('patches an updated run in place, and reloads only when the update may move it', async () => {
    const server = fakeServer([run('a', { status: 'running' }), run('b')]);
    const model = open(server);
    await settle();
    server.emit('run:updated', run('a', { status: 'finished', tags: { note: 'done' } }));
    expect(model.runAt(0)).toMatchObject({ status: 'finished', tags: { note: 'done' } });
    await jest.advanceTimersByTimeAsync(600);
    expect(server.listed).toHaveLength(1);

    model.setQuery({ status: 'running' });
    await settle();
    server.emit('run:updated', run('b', { status: 'killed' }));
    await jest.advanceTimersByTimeAsync(600);
    expect(server.listed.map((q) => q.status)).toEqual([undefined, 'running', 'running']);
  });

  it('a metric first logged live is offered as a column at once', async () => {
    const server = fakeServer([run('a')]);
    const model = open(server);
    await settle();
    server.emit('run:metrics', metricsEvent('a', 0.8));
    expect(model.runAt(0)!.metrics.acc).toEqual(summary(0.8));
    expect(model.availableColumns).toContain('metrics.acc');
  });
});
