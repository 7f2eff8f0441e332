/**
 * Which params, metrics and tags the runs table shows, in order, remembered per project in
 * localStorage (a layout choice of this browser, like a column width, not a setting to sync).
 * The sidebar shows the first two chosen metrics, so it reads this too.
 */
import { ISignal, Signal } from '@lumino/signaling';

export type ColumnField = 'params' | 'metrics' | 'tags';

/** `metrics.acc`, `params.lr`, `tags.team`: the list query's own names for them. */
export type ColumnId = `${ColumnField}.${string}`;

export function columnField(id: ColumnId): ColumnField {
  return id.slice(0, id.indexOf('.')) as ColumnField;
}

export function columnKey(id: ColumnId): string {
  return id.slice(id.indexOf('.') + 1);
}

const STORAGE_PREFIX = 'runlab:runs-table-columns:';

export class TableColumns {
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The chosen columns of `project`, in order. */
  chosen(project: string): readonly ColumnId[] {
    let cached = this._cache.get(project);
    if (!cached) {
      cached = [];
      try {
        const stored = JSON.parse(window.localStorage.getItem(STORAGE_PREFIX + project) ?? '[]') as unknown;
        if (Array.isArray(stored)) {
          cached = stored.filter((id): id is ColumnId => typeof id === 'string' && /^(params|metrics|tags)\../.test(id));
        }
      } catch {
        // Unreadable storage (private mode, bad JSON): start with no choice.
      }
      this._cache.set(project, cached);
    }
    return cached;
  }

  /** The first `count` chosen metric keys of `project`. */
  metrics(project: string, count: number): string[] {
    return this.chosen(project)
      .filter((id) => columnField(id) === 'metrics')
      .slice(0, count)
      .map(columnKey);
  }

  set(project: string, columns: readonly ColumnId[]): void {
    const unique = [...new Set(columns)];
    this._cache.set(project, unique);
    try {
      window.localStorage.setItem(STORAGE_PREFIX + project, JSON.stringify(unique));
    } catch {
      // Kept for this session only.
    }
    this._changed.emit();
  }

  toggle(project: string, id: ColumnId): void {
    const current = this.chosen(project);
    this.set(project, current.includes(id) ? current.filter((other) => other !== id) : [...current, id]);
  }

  /** Move a chosen column one place left (-1) or right (+1). */
  move(project: string, id: ColumnId, by: -1 | 1): void {
    const next = [...this.chosen(project)];
    const index = next.indexOf(id);
    const target = index + by;
    if (index < 0 || target < 0 || target >= next.length) {
      return;
    }
    [next[index], next[target]] = [next[target], next[index]];
    this.set(project, next);
  }

  private _cache = new Map<string, ColumnId[]>();
  private _changed = new Signal<this, void>(this);
}
