/** Turns zod issues into the contract's field problems (`body.name`, `query.limit`, …). */
import { z } from 'zod';
import type { FieldProblem } from '../contract';
import { AppError } from './errors';

export type RequestPart = 'body' | 'query' | 'params';

function joinPath(part: RequestPart, segments: readonly PropertyKey[]): string {
  return [part, ...segments.map(String)].join('.');
}

export function toFieldProblems(part: RequestPart, error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One entry per unknown field, so the client sees exactly which field to remove.
      for (const key of issue.keys) {
        problems.push({ path: joinPath(part, [...issue.path, key]), message: 'unknown field; remove it' });
      }
    } else {
      problems.push({ path: joinPath(part, issue.path), message: issue.message });
    }
  }
  return problems;
}

/** Parses one part of a request, or throws a 400 `invalid_request` naming every bad field. */
export function validatePart<S extends z.ZodType>(part: RequestPart, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = toFieldProblems(part, result.error);
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw new AppError('invalid_request', `Invalid request: ${first.path}: ${first.message}${more}`, details);
}
