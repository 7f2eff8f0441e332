/**
 * Run list filters and sort orders, parsed from the query string into a structured form the
 * store turns into SQL (with bound parameters only; keys and values never reach SQL text).
 */
import { LogKey } from '../contract';
import { AppError } from '../http/errors';

export type FilterField = 'params' | 'metrics' | 'tags';
export type FilterOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';

export interface RunFilter {
  field: FilterField;
  key: string;
  operator: FilterOperator;
  value: string;
  /** The value as a number when it parses as one (always set for metrics). */
  number: number | null;
}

export type RunSort =
  | { by: 'startedAt' | 'name' | 'status'; direction: 'asc' | 'desc' }
  | { by: 'metrics' | 'params' | 'tags'; key: string; direction: 'asc' | 'desc' };

// The key is the shortest prefix before an operator, so keys may hold spaces, dots and slashes.
const FILTER = /^(params|metrics|tags)\.(.+?)\s*(!=|>=|<=|=|>|<)\s*(.*)$/s;

/** A number as users write it (`0.1`, `-3`, `1e-4`), or null. */
export function parseNumber(text: string): number | null {
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function unquote(text: string): string {
  const trimmed = text.trim();
  const quoted = /^(['"])(.*)\1$/s.exec(trimmed);
  return quoted ? quoted[2] : trimmed;
}

export function parseFilters(raw: string | string[] | undefined): RunFilter[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((text, index) => {
    const path = Array.isArray(raw) ? `query.filter.${index}` : 'query.filter';
    const bad = (message: string): AppError => new AppError('invalid_request', `Invalid request: ${path}: ${message}`, [{ path, message }]);
    const match = FILTER.exec(text.trim());
    if (!match) {
      throw bad('expected params.<key><op><value>, metrics.<key><op><number> or tags.<key><op><value>, op one of = != > >= < <=');
    }
    const [, field, key, operator, rawValue] = match;
    if (!LogKey.safeParse(key).success) throw bad(`"${key}" is not a valid key`);
    const value = unquote(rawValue);
    const number = parseNumber(value);
    if (field === 'metrics' && number === null) throw bad(`metrics compare with numbers; "${value}" is not one`);
    return { field: field as FilterField, key, operator: operator as FilterOperator, value, number };
  });
}

export function parseSort(raw: string): RunSort {
  const bad = (message: string): AppError =>
    new AppError('invalid_request', `Invalid request: query.sort: ${message}`, [{ path: 'query.sort', message }]);
  const match = /^(.+?)(?::(asc|desc))?$/.exec(raw.trim());
  if (!match) throw bad('expected <field>[:asc|:desc]');
  const [, field, direction = field === 'name' ? 'asc' : 'desc'] = match;
  const order = direction as 'asc' | 'desc';
  if (field === 'startedAt' || field === 'name' || field === 'status') return { by: field, direction: order };
  const keyed = /^(metrics|params|tags)\.(.+)$/.exec(field);
  if (keyed && LogKey.safeParse(keyed[2]).success) {
    return { by: keyed[1] as 'metrics' | 'params' | 'tags', key: keyed[2], direction: order };
  }
  throw bad('sort by startedAt, name, status, metrics.<key>, params.<key> or tags.<key>, then :asc or :desc');
}
