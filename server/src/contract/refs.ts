import { z } from 'zod';

export const IdParams = z.strictObject({ id: z.string().min(1).max(100) });

/**
 * A whole number in a query string, in digits (`?limit=50`); pipe it into its range. Not
 * z.coerce.number(), which also reads '', ' ', '0x10' and '1e3', none of them the integer that
 * the OpenAPI document promises.
 */
export const QueryWholeNumber = z
  .string()
  .regex(/^-?[0-9]+$/, 'expected a whole number in digits')
  .transform(Number);

/**
 * relativePathProblem's rules as one regular expression, for the OpenAPI document: segments of
 * anything but `/`, `\` and NUL, the first not a drive (`C:`), none `.` or `..`.
 */
export const RELATIVE_PATH_PATTERN = String.raw`^(?![A-Za-z]:)(?!\.\.?(?:/|$))[^/\\\x00]+(?:/(?!\.\.?(?:/|$))[^/\\\x00]+)*$`;

/**
 * A relative path coming from a client (artifact names, snapshot files): `/`-separated, never
 * absolute, no `..` or `.` segments, no empty segments, no backslashes or NUL. Checked here so
 * a traversal attempt is a 400 naming the field before any file is touched.
 */
export const RelativePath = z
  .string()
  .min(1)
  .max(1000)
  .superRefine((value, ctx) => {
    const problem = relativePathProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    pattern: RELATIVE_PATH_PATTERN,
    description:
      'A relative path: segments separated by `/`, none empty, `.` or `..`; no leading `/`, no drive letter (`C:`), no backslash, no NUL; 1 to 1000 characters.'
  });

/** Why a client-supplied relative path is unsafe, or null when it is fine. */
export function relativePathProblem(value: string): string | null {
  if (value.includes('\\')) return 'use / as the separator; backslashes are not allowed';
  if (value.includes('\0')) return 'NUL characters are not allowed';
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value)) return 'must be relative, not absolute';
  for (const segment of value.split('/')) {
    if (segment === '') return 'empty path segments (leading, trailing or doubled /) are not allowed';
    if (segment === '..' || segment === '.') return '"." and ".." segments are not allowed';
  }
  return null;
}

/**
 * The largest step and timestamp: 2^53 - 1 (`Number.MAX_SAFE_INTEGER`), the largest whole number
 * that JSON readers, JavaScript and float64 columns all keep exactly. Larger ones (such as
 * `time.time_ns()` as a step) are refused with a 400 naming the field, never stored.
 */
export const MAX_WHOLE_NUMBER = Number.MAX_SAFE_INTEGER;

/** An empty object for user-chosen keys: without a prototype, `__proto__` is just another key. */
export function userKeyed<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * A record keyed by user-chosen keys (params, tags, metric names), parsed into an object without
 * a prototype, so every key the key pattern allows round-trips — `__proto__` and `constructor`
 * included (a plain object would drop or misread them).
 */
export function userRecord<V extends z.ZodType>(key: z.ZodType<string>, value: V) {
  const documented = z.record(key, value);
  return z
    .custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), {
      message: 'expected an object'
    })
    .transform((input, context) => {
      // One pass: each key and value checked once, the parsed value kept.
      const out = userKeyed<z.output<V>>();
      for (const name of Object.keys(input)) {
        const keyResult = key.safeParse(name);
        if (!keyResult.success) {
          for (const issue of keyResult.error.issues) context.addIssue({ code: 'custom', path: [name], message: `key: ${issue.message}` });
        }
        const valueResult = value.safeParse(input[name]);
        if (valueResult.success) {
          out[name] = valueResult.data as z.output<V>;
        } else {
          for (const issue of valueResult.error.issues) {
            context.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
          }
        }
      }
      return out;
    })
    .meta(z.toJSONSchema(documented, { unrepresentable: 'any' }) as Record<string, unknown>);
}

/**
 * An array of at most `maxItems` entries whose entries are not parsed here: zod's per-element
 * parsing costs more than the rest of a large batch's ingest, so the caller checks the entries in
 * its own loop (or stores them as they are). `items` documents them for OpenAPI.
 */
export function shapeOnlyArray<T>(maxItems: number, items: Record<string, unknown>, description?: string) {
  return z
    .custom<T[]>((value) => Array.isArray(value) && value.length <= maxItems, {
      message: `expected an array of at most ${maxItems} entries`
    })
    .meta({ type: 'array', maxItems, items, ...(description ? { description } : {}) });
}
