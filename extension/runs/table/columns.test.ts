import { TableColumns, columnField, columnKey } from './columns';

const PREFIX = 'runlab:runs-table-columns:';

/** This browser's localStorage, as the jest (node) environment has none. */
class MemoryStorage {
  items = new Map<string, string>();
  failReads = false;
  failWrites = false;
  getItem(key: string): string | null {
    if (this.failReads) {
      throw new Error('SecurityError: storage is disabled');
    }
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.failWrites) {
      throw new Error('QuotaExceededError');
    }
    this.items.set(key, value);
  }
}

let storage: MemoryStorage;

beforeEach(() => {
  storage = new MemoryStorage();
  Object.defineProperty(globalThis, 'window', { value: { localStorage: storage }, configurable: true, writable: true });
});

afterAll(() => {
  delete (globalThis as { window?: unknown }).window;
});

describe('columnField and columnKey', () => {
  it('split an id at its first dot, so keys may hold dots and slashes', () => {
    expect([columnField('params.lr'), columnKey('params.lr')]).toEqual(['params', 'lr']);
    expect([columnField('metrics.train/loss'), columnKey('metrics.train/loss')]).toEqual(['metrics', 'train/loss']);
    expect([columnField('tags.model.depth'), columnKey('tags.model.depth')]).toEqual(['tags', 'model.depth']);
  });
});

describe('TableColumns', () => {
  it('starts with no columns, and remembers a choice per project across reloads of the page', () => {
    const columns = new TableColumns();
    expect(columns.chosen('demo')).toEqual([]);
    columns.set('demo', ['metrics.acc', 'params.lr']);
    columns.set('other', ['tags.team']);
    expect(JSON.parse(storage.getItem(`${PREFIX}demo`)!)).toEqual(['metrics.acc', 'params.lr']);

    const reloaded = new TableColumns();
    expect(reloaded.chosen('demo')).toEqual(['metrics.acc', 'params.lr']);
    expect(reloaded.chosen('other')).toEqual(['tags.team']);
    expect(reloaded.chosen('third')).toEqual([]);
  });

  it('picks a column at the end and hides it again, telling listeners each time', () => {
    const columns = new TableColumns();
    const changed = jest.fn();
    columns.changed.connect(changed);
    columns.toggle('demo', 'metrics.acc');
    columns.toggle('demo', 'params.lr');
    columns.toggle('demo', 'tags.team');
    expect(columns.chosen('demo')).toEqual(['metrics.acc', 'params.lr', 'tags.team']);
    columns.toggle('demo', 'params.lr');
    expect(columns.chosen('demo')).toEqual(['metrics.acc', 'tags.team']);
    expect(changed).toHaveBeenCalledTimes(4);
    expect(new TableColumns().chosen('demo')).toEqual(['metrics.acc', 'tags.team']);
  });

  it('moves a column one place left or right, and not past either end', () => {
    const columns = new TableColumns();
    columns.set('demo', ['metrics.acc', 'params.lr', 'tags.team']);
    columns.move('demo', 'tags.team', -1);
    expect(columns.chosen('demo')).toEqual(['metrics.acc', 'tags.team', 'params.lr']);
    columns.move('demo', 'metrics.acc', 1);
    expect(columns.chosen('demo')).toEqual(['tags.team', 'metrics.acc', 'params.lr']);
    expect(new TableColumns().chosen('demo')).toEqual(['tags.team', 'metrics.acc', 'params.lr']);

    const changed = jest.fn();
    columns.changed.connect(changed);
    columns.move('demo', 'tags.team', -1);
    columns.move('demo', 'params.lr', 1);
    columns.move('demo', 'metrics.loss', 1); // not chosen
    expect(columns.chosen('demo')).toEqual(['tags.team', 'metrics.acc', 'params.lr']);
    expect(changed).not.toHaveBeenCalled();
  });

  it('keeps each column once', () => {
    const columns = new TableColumns();
    columns.set('demo', ['metrics.acc', 'params.lr', 'metrics.acc']);
    expect(columns.chosen('demo')).toEqual(['metrics.acc', 'params.lr']);
  });

  it('gives the sidebar the first chosen metrics, in the table’s order', () => {
    const columns = new TableColumns();
    columns.set('demo', ['params.lr', 'metrics.loss', 'tags.team', 'metrics.acc', 'metrics.f1']);
    expect(columns.metrics('demo', 2)).toEqual(['loss', 'acc']);
    expect(columns.metrics('demo', 5)).toEqual(['loss', 'acc', 'f1']);
    columns.move('demo', 'metrics.acc', -1);
    columns.move('demo', 'metrics.acc', -1);
    expect(columns.metrics('demo', 2)).toEqual(['acc', 'loss']);
    expect(columns.metrics('other', 2)).toEqual([]);
  });

  it('ignores what it cannot read back: bad JSON, a non-list, entries that are not column ids', () => {
    storage.setItem(`${PREFIX}broken`, '{not json');
    storage.setItem(`${PREFIX}object`, '{"metrics.acc": true}');
    storage.setItem(`${PREFIX}mixed`, JSON.stringify(['metrics.acc', 42, 'foo.bar', 'params.', 'metricsacc', null, 'tags.team']));
    const columns = new TableColumns();
    expect(columns.chosen('broken')).toEqual([]);
    expect(columns.chosen('object')).toEqual([]);
    expect(columns.chosen('mixed')).toEqual(['metrics.acc', 'tags.team']);
    // A choice made after that replaces what was stored.
    columns.toggle('broken', 'params.lr');
    expect(new TableColumns().chosen('broken')).toEqual(['params.lr']);
  });

  it('still works for the session when the browser refuses storage', () => {
    storage.failReads = true;
    storage.failWrites = true;
    const columns = new TableColumns();
    expect(columns.chosen('demo')).toEqual([]);
    columns.toggle('demo', 'metrics.acc');
    columns.toggle('demo', 'params.lr');
    expect(columns.chosen('demo')).toEqual(['metrics.acc', 'params.lr']);
    expect(storage.items.size).toBe(0);
  });
});
