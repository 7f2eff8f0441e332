/**
 * Lone UTF-16 surrogates (`"\ud800"` in JSON) are not text: SQLite, git and every UTF-8 file
 * would store them as U+FFFD, so what was accepted would read back different. Requests carrying
 * one are refused at the boundary, naming the field.
 */
import type { RequestHandler } from 'express';
import { AppError } from './errors';

/** JSON escapes of surrogates (\uD800–\uDFFF), the only way a lone one reaches a parsed body. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

const SUSPECT = Symbol('lone-surrogate-suspect');

/** In a `u` regex a pair is one code point, so only an unpaired surrogate matches \p{Cs}. */
const LONE_SURROGATE = /\p{Cs}/u;
const wellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);

/** For express.json({ verify }): marks bodies that spell a surrogate escape, the rare case worth a walk. */
export function markSurrogateEscapes(req: object, _res: unknown, body: Buffer): void {
  // Raw bytes first (a fast search); the regex only runs on bodies that have an escape at all.
  if (body.includes('\\u') && SURROGATE_ESCAPE.test(body.toString('latin1'))) {
    (req as Record<symbol, boolean>)[SUSPECT] = true;
  }
}

/** The dotted path of the first string or key in `value` holding a lone surrogate, or null. */
export function loneSurrogatePath(value: unknown, root: string): string | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (typeof item === 'string') {
      if (!wellFormed(item)) return path;
    } else if (Array.isArray(item)) {
      for (let index = item.length - 1; index >= 0; index--) stack.push([item[index], `${path}.${index}`]);
    } else if (typeof item === 'object' && item !== null) {
      for (const key of Object.keys(item)) {
        if (!wellFormed(key)) return `${path}.${key}`;
        stack.push([(item as Record<string, unknown>)[key], `${path}.${key}`]);
      }
    }
  }
  return null;
}

/** After the JSON parser: refuses a body that holds a lone surrogate (400 naming the field). */
export const refuseLoneSurrogates: RequestHandler = (req, _res, next) => {
  if (!(req as unknown as Record<symbol, boolean>)[SUSPECT]) return next();
  const path = loneSurrogatePath(req.body, 'body');
  if (path === null) return next();
  const message =
    'holds a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF), which is not text and cannot be stored; send well-formed Unicode';
  next(new AppError('invalid_request', `Invalid request: ${path}: ${message}`, [{ path, message }]));
};
