/**
 * A notebook's parameters as its first code cell tagged `parameters` declares them
 * (`epochs = 10  # passes`, `lr: float = 0.1`), read the way python/runlab/runners/parameters.py
 * reads them, with the same type names, so the Run dialog can prefill and the server checks.
 * Only simple Python literals are understood; anything else is shown as written and not checked.
 */
import type { ParameterValue } from '../../server/src/contract';

export const PARAMETERS_TAG = 'parameters';

/** The Python type names parameters.py checks against; null: not a literal, anything goes. */
export type ParameterType = 'int' | 'float' | 'str' | 'bool' | 'NoneType' | 'list' | 'dict';

export interface IDeclaredParameter {
  name: string;
  type: ParameterType | null;
  /** The default as JSON; null when it is not a literal. */
  value: ParameterValue;
  /** The right-hand side as written. */
  expression: string;
  /** The trailing `# comment`, if any. */
  help: string | null;
}

const ANNOTATION_TYPES = new Set(['int', 'float', 'str', 'bool', 'list', 'dict']);

/** Thrown by `parsePythonLiteral` for text that is not a JSON-compatible Python literal. */
export class LiteralError extends Error {}

interface INotebookLike {
  cells?: unknown[];
}
interface ICellLike {
  cell_type?: string;
  source?: string | string[];
  metadata?: { tags?: unknown };
}

/** The source of the first code cell tagged `parameters`, or null. */
export function parametersCellSource(notebook: INotebookLike): string | null {
  for (const raw of notebook.cells ?? []) {
    const cell = raw as ICellLike;
    const tags = Array.isArray(cell.metadata?.tags) ? (cell.metadata?.tags as unknown[]) : [];
    if (cell.cell_type === 'code' && tags.includes(PARAMETERS_TAG)) {
      return Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '');
    }
  }
  return null;
}

/** Splits Python source into logical statements (brackets and strings may span lines), each with its trailing comment. */
function statements(source: string): { code: string; comment: string | null }[] {
  const result: { code: string; comment: string | null }[] = [];
  let code = '';
  let comment: string | null = null;
  let depth = 0;
  let i = 0;
  const flush = () => {
    if (code.trim()) {
      result.push({ code, comment });
    }
    code = '';
    comment = null;
  };
  while (i < source.length) {
    const char = source[i];
    if (char === '"' || char === "'") {
      const triple = source.startsWith(char.repeat(3), i);
      const quote = triple ? char.repeat(3) : char;
      let j = i + quote.length;
      while (j < source.length && !source.startsWith(quote, j)) {
        j += source[j] === '\\' ? 2 : 1;
      }
      code += source.slice(i, j + quote.length);
      i = j + quote.length;
      continue;
    }
    if (char === '#') {
      const end = source.indexOf('\n', i);
      const text = source.slice(i + 1, end === -1 ? source.length : end).trim();
      if (code.trim()) {
        comment = text;
      }
      i = end === -1 ? source.length : end;
      continue;
    }
    if ('([{'.includes(char)) {
      depth++;
    } else if (')]}'.includes(char)) {
      depth = Math.max(0, depth - 1);
    }
    if (char === '\n' && depth === 0 && !code.endsWith('\\')) {
      flush();
    } else {
      code += char;
    }
    i++;
  }
  flush();
  return result;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([^=]+?))?\s*=(?!=)\s*([\s\S]+)$/;

/** The parameters a notebook declares; a later assignment to a name wins, as when the cell runs. */
export function declaredParameters(notebook: INotebookLike): IDeclaredParameter[] {
  const source = parametersCellSource(notebook);
  if (source === null) {
    return [];
  }
  const declared = new Map<string, IDeclaredParameter>();
  for (const { code, comment } of statements(source)) {
    // Indented code belongs to a block; IPython lines (`%matplotlib`, `!pip`) are not Python.
    if (/^\s/.test(code) || /^[%!]/.test(code)) {
      continue;
    }
    const match = ASSIGNMENT.exec(code.trim());
    if (!match) {
      continue;
    }
    const [, name, annotation, expression] = match;
    let type: ParameterType | null = null;
    let value: ParameterValue = null;
    try {
      ({ type, value } = parsePythonLiteral(expression));
    } catch {
      // not a literal: shown as written, not checked
    }
    if (annotation && ANNOTATION_TYPES.has(annotation.trim())) {
      type = annotation.trim() as ParameterType;
    }
    declared.delete(name);
    declared.set(name, { name, type, value, expression: expression.trim(), help: comment });
  }
  return [...declared.values()];
}

/** A JSON-compatible Python literal (`10`, `-1.5e-3`, `'a'`, `True`, `None`, `[1, 'x']`, `{'k': 1}`) and its type. */
export function parsePythonLiteral(text: string): { type: ParameterType; value: ParameterValue } {
  const parser = new LiteralParser(text);
  const value = parser.value();
  parser.end();
  return { type: typeOf(value, parser.lastWasFloat), value };
}

/** `writtenAsFloat`: `1.0` is a float in Python but an integer in JavaScript. */
function typeOf(value: ParameterValue, writtenAsFloat: boolean): ParameterType {
  if (value === null) {
    return 'NoneType';
  }
  if (Array.isArray(value)) {
    return 'list';
  }
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'str';
    case 'number':
      return Number.isInteger(value) && !writtenAsFloat ? 'int' : 'float';
    default:
      return 'dict';
  }
}
class LiteralParser {
  constructor(private readonly _text: string) {}

  value(): ParameterValue {
    this._space();
    const rest = this._text.slice(this._at);
    const char = rest[0];
    if (char === '[' || char === '(') {
      if (char === '(') {
        throw new LiteralError('a tuple cannot be sent as JSON');
      }
      return this._sequence();
    }
    if (char === '{') {
      return this._dict();
    }
    if (char === '"' || char === "'") {
      return this._string();
    }
    const keyword = /^(True|False|None)\b/.exec(rest);
    if (keyword) {
      this._at += keyword[0].length;
      return keyword[0] === 'None' ? null : keyword[0] === 'True';
    }
    const number = /^[-+]?\s*(\d[\d_]*\.?[\d_]*(?:[eE][-+]?\d+)?|\.\d[\d_]*(?:[eE][-+]?\d+)?)/.exec(rest);
    if (number) {
      this._at += number[0].length;
      const digits = number[0].replace(/[\s_]/g, '');
      const parsed = Number(digits);
      if (!Number.isFinite(parsed)) {
        throw new LiteralError(`${digits} is not a finite number`);
      }
      this._lastWasFloat = /[.eE]/.test(digits);
      return parsed;
    }
    throw new LiteralError(`not a Python literal: ${rest.slice(0, 30) || '(nothing)'}`);
  }

  /** Nothing but whitespace is left. */
  end(): void {
    this._space();
    if (this._at < this._text.length) {
      throw new LiteralError(`unexpected ${this._text.slice(this._at, this._at + 20)}`);
    }
  }

  /** Whether the last number read was written as a float (`1.0`, `1e3`). */
  get lastWasFloat(): boolean {
    return this._lastWasFloat;
  }

  private _sequence(): ParameterValue[] {
    this._at++;
    const items: ParameterValue[] = [];
    for (;;) {
      this._space();
      if (this._text[this._at] === ']') {
        this._at++;
        return items;
      }
      items.push(this.value());
      this._space();
      const next = this._text[this._at++];
      if (next === ']') {
        return items;
      }
      if (next !== ',') {
        throw new LiteralError('expected , or ] in a list');
      }
    }
  }

  private _dict(): { [key: string]: ParameterValue } {
    this._at++;
    const entries: { [key: string]: ParameterValue } = {};
    for (;;) {
      this._space();
      if (this._text[this._at] === '}') {
        this._at++;
        return entries;
      }
      const key = this.value();
      if (typeof key !== 'string') {
        throw new LiteralError('dict keys must be strings to be sent as JSON');
      }
      this._space();
      if (this._text[this._at++] !== ':') {
        throw new LiteralError('expected : in a dict (a set cannot be sent as JSON)');
      }
      entries[key] = this.value();
      this._space();
      const next = this._text[this._at++];
      if (next === '}') {
        return entries;
      }
      if (next !== ',') {
        throw new LiteralError('expected , or } in a dict');
      }
    }
  }

  private _string(): string {
    const quoteChar = this._text[this._at];
    const quote = this._text.startsWith(quoteChar.repeat(3), this._at) ? quoteChar.repeat(3) : quoteChar;
    let i = this._at + quote.length;
    let out = '';
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
    while (i < this._text.length && !this._text.startsWith(quote, i)) {
      const char = this._text[i];
      if (char === '\\') {
        const next = this._text[i + 1] ?? '';
        out += escapes[next] ?? `\\${next}`;
        i += 2;
      } else if (char === '\n' && quote.length === 1) {
        throw new LiteralError('unterminated string');
      } else {
        out += char;
        i++;
      }
    }
    if (i >= this._text.length) {
      throw new LiteralError('unterminated string');
    }
    this._at = i + quote.length;
    // Adjacent literals concatenate, as in Python: 'a' 'b'.
    this._space();
    const next = this._text[this._at];
    return next === '"' || next === "'" ? out + this._string() : out;
  }

  private _space(): void {
    while (this._at < this._text.length && /\s/.test(this._text[this._at])) {
      this._at++;
    }
  }

  private _at = 0;
  private _lastWasFloat = false;
}
