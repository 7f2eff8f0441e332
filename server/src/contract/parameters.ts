/**
 * Notebook parameters, papermill-style, as the server checks them before it queues a job. The
 * rules and messages mirror python/runlab/runners/parameters.py (what the runner injects): the
 * first code cell tagged `parameters` declares them with top-level assignments (`epochs = 10`,
 * `lr: float = 1`); a literal default gives the type, an annotation naming a JSON type overrides
 * it, and a default that is not a literal (or is None) takes anything.
 *
 * The one reading of a `parameters` cell: the server checks a job's parameters with it, and the
 * extension's Run dialog prefills and parses what the user types with it (no runtime imports,
 * so it reaches the browser bundle as it is).
 */
import type { ParameterValue } from './runners';

export const PARAMETERS_TAG = 'parameters';

export type ParameterType = 'int' | 'float' | 'str' | 'bool' | 'NoneType' | 'list' | 'dict';

export interface DeclaredParameter {
  name: string;
  /** null when the default is not a literal (`lr = 1 / 3`): not checked. */
  type: ParameterType | null;
  /** The right-hand side as written, for messages. */
  expression: string;
  /** The default as JSON; null when it is not a literal. */
  value: ParameterValue;
  /** The comment that ends the assignment (`epochs = 10  # passes over the data`), if any. */
  help: string | null;
}

export class ParametersCellError extends Error {}

/** Thrown by `parsePythonLiteral` for text that is not a JSON-compatible Python literal. */
export class LiteralError extends Error {}

const ANNOTATION_TYPES = new Set(['int', 'float', 'str', 'bool', 'list', 'dict']);
const IPYTHON_LINE = /^\s*[%!]/;

type Cell = { cell_type?: unknown; source?: unknown; metadata?: { tags?: unknown } };

const cellsOf = (notebook: Record<string, unknown>): Cell[] => (Array.isArray(notebook.cells) ? (notebook.cells as Cell[]) : []);
const sourceOf = (cell: Cell): string =>
  Array.isArray(cell.source) ? cell.source.join('') : typeof cell.source === 'string' ? cell.source : '';

export function parametersCell(notebook: Record<string, unknown>): string | null {
  const cell = cellsOf(notebook).find(
    (candidate) =>
      candidate.cell_type === 'code' && Array.isArray(candidate.metadata?.tags) && candidate.metadata.tags.includes(PARAMETERS_TAG)
  );
  return cell ? sourceOf(cell) : null;
}

/** The parameters the notebook declares, by name, in declaration order (empty when it has no such cell). */
export function declaredParameters(notebook: Record<string, unknown>): Map<string, DeclaredParameter> {
  const source = parametersCell(notebook);
  const declared = new Map<string, DeclaredParameter>();
  if (source === null) return declared;
  const lines = source.split(/\r?\n/).map((line) => (IPYTHON_LINE.test(line) ? '' : line));
  for (const statement of statements(lines)) {
    const parsed = assignment(statement);
    if (!parsed) continue;
    let type: ParameterType | null = parsed.literal ? (parsed.literal.float ? 'float' : typeOf(parsed.literal.value)) : null;
    if (parsed.annotation !== null && ANNOTATION_TYPES.has(parsed.annotation)) type = parsed.annotation as ParameterType;
    for (const name of parsed.names) {
      // A later assignment wins, as when the cell runs.
      declared.delete(name);
      declared.set(name, { name, type, expression: parsed.expression, value: parsed.literal?.value ?? null, help: parsed.help });
    }
  }
  return declared;
}

/** Top-level statements: lines joined while brackets or triple-quoted strings are open, or after `\`. */
function statements(lines: string[]): string[] {
  const result: string[] = [];
  let current: string[] = [];
  let depth = 0;
  let inTriple: string | null = null;
  for (const line of lines) {
    if (current.length === 0 && (line.trim() === '' || /^\s/.test(line))) continue; // blank, or inside a compound statement
    current.push(line);
    ({ depth, inTriple } = scan(line, depth, inTriple));
    if (depth > 0 || inTriple !== null || /\\\s*$/.test(line)) continue;
    result.push(current.join('\n'));
    current = [];
  }
  if (current.length > 0) result.push(current.join('\n'));
  return result;
}

/** Bracket depth and open triple quote after `line`, skipping strings and comments. */
function scan(line: string, depth: number, inTriple: string | null): { depth: number; inTriple: string | null } {
  let i = 0;
  while (i < line.length) {
    if (inTriple !== null) {
      const end = line.indexOf(inTriple, i);
      if (end === -1) return { depth, inTriple };
      i = end + 3;
      inTriple = null;
      continue;
    }
    const char = line[i];
    if (char === '#') break;
    if (char === '"' || char === "'") {
      if (line.startsWith(char.repeat(3), i)) {
        inTriple = char.repeat(3);
        i += 3;
        continue;
      }
      i += 1;
      while (i < line.length && line[i] !== char) i += line[i] === '\\' ? 2 : 1;
      i += 1;
      continue;
    }
    if ('([{'.includes(char)) depth += 1;
    if (')]}'.includes(char)) depth = Math.max(0, depth - 1);
    i += 1;
  }
  return { depth, inTriple };
}

interface Assignment {
  names: string[];
  annotation: string | null;
  expression: string;
  literal: { value: ParameterValue; float: boolean } | null;
  help: string | null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `a = b = value` or `name: T = value`; anything else (imports, calls, unpacking) is null. */
function assignment(statement: string): Assignment | null {
  const tokens = new Lexer(statement);
  const parts: string[] = [];
  // Split at top-level `=` signs (not `==`, `<=`, …), outside strings and brackets.
  let start = 0;
  for (const { index } of tokens.topLevelEquals()) {
    parts.push(statement.slice(start, index));
    start = index + 1;
  }
  if (parts.length === 0) return null;
  const expression = stripComment(statement.slice(start)).trim();
  if (expression === '') return null;
  let annotation: string | null = null;
  const names: string[] = [];
  for (const [position, raw] of parts.entries()) {
    const target = raw.trim();
    const annotated = /^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$/s.exec(target);
    if (annotated && parts.length === 1 && position === 0) {
      names.push(annotated[1]);
      annotation = annotated[2].trim();
    } else if (IDENTIFIER.test(target)) {
      names.push(target);
    } else {
      return null;
    }
  }
  let literal: Assignment['literal'] = null;
  try {
    const parser = new LiteralParser(expression);
    const value = parser.parse();
    literal = value === undefined ? null : { value, float: parser.floatLiteral };
  } catch {
    literal = null;
  }
  return { names, annotation, expression, literal, help: trailingComment(statement) };
}

/** The text of the comment that ends `text`'s last line, or null. */
function trailingComment(text: string): string | null {
  const last = new Lexer(text).commentStarts().at(-1);
  if (last === undefined || text.slice(last).includes('\n')) return null;
  return text.slice(last + 1).trim() || null;
}

/** A Python literal as typed (`10`, `0.1`, `"logreg"`, `True`, `None`, `[64, 32]`) with its type name. */
export function parsePythonLiteral(text: string): { type: ParameterType; value: ParameterValue } {
  let parser: LiteralParser;
  let value: ParameterValue | undefined;
  try {
    parser = new LiteralParser(text.trim());
    value = parser.parse();
  } catch {
    value = undefined;
  }
  if (value === undefined) {
    // Tuples, sets, names, calls and unfinished strings alike: JSON cannot carry what they mean.
    throw new LiteralError(`not a Python literal: ${text.trim().slice(0, 40) || '(nothing)'}`);
  }
  return { type: parser!.floatLiteral ? 'float' : typeOf(value), value };
}

/** The expression without the comment that ends its last line (comments inside brackets stay, as Python shows them). */
function stripComment(text: string): string {
  const starts = new Lexer(text).commentStarts();
  const last = starts.at(-1);
  return last !== undefined && !text.slice(last).includes('\n') ? text.slice(0, last) : text;
}

/** Just enough of Python's lexical rules to find `=` and `#` outside strings and brackets. */
class Lexer {
  constructor(private readonly text: string) {}

  *topLevelEquals(): Generator<{ index: number }> {
    let depth = 0;
    for (let i = 0; i < this.text.length; i++) {
      const char = this.text[i];
      if (char === '#') {
        const end = this.text.indexOf('\n', i);
        if (end === -1) return;
        i = end;
        continue;
      }
      if (char === '"' || char === "'") {
        i = this.skipString(i) - 1;
        continue;
      }
      if ('([{'.includes(char)) {
        depth += 1;
      } else if (')]}'.includes(char)) {
        depth -= 1;
      } else if (char === '=' && depth === 0) {
        const before = this.text[i - 1] ?? '';
        const after = this.text[i + 1] ?? '';
        if (after === '=' || '=!<>+-*/%&|^@:'.includes(before)) {
          if (after === '=') i += 1;
          if ('+-*/%&|^@'.includes(before) && before !== '') return; // augmented assignment: not a declaration
          continue;
        }
        yield { index: i };
      }
    }
  }

  /** Where each comment starts, outside strings. */
  commentStarts(): number[] {
    const starts: number[] = [];
    for (let i = 0; i < this.text.length; i++) {
      const char = this.text[i];
      if (char === '#') {
        starts.push(i);
        const end = this.text.indexOf('\n', i);
        if (end === -1) break;
        i = end;
      } else if (char === '"' || char === "'") {
        i = this.skipString(i) - 1;
      }
    }
    return starts;
  }

  /** The index just past the string starting at `i`. */
  private skipString(i: number): number {
    const quote = this.text[i];
    if (this.text.startsWith(quote.repeat(3), i)) {
      const end = this.text.indexOf(quote.repeat(3), i + 3);
      return end === -1 ? this.text.length : end + 3;
    }
    let j = i + 1;
    while (j < this.text.length && this.text[j] !== quote && this.text[j] !== '\n') j += this.text[j] === '\\' ? 2 : 1;
    return j + 1;
  }
}

/**
 * Python literals that JSON can carry (numbers, strings, True/False/None, lists, dicts);
 * `parse()` answers undefined for any other expression (tuples, sets, bytes, names, calls).
 */
class LiteralParser {
  private position = 0;
  private depth = 0;
  /** Whether the whole expression is a float literal (`10.0`, `1e3`). */
  floatLiteral = false;

  constructor(private readonly text: string) {}

  parse(): ParameterValue | undefined {
    const value = this.value();
    this.space();
    return this.position === this.text.length ? value : undefined;
  }

  private space(): void {
    while (this.position < this.text.length) {
      const char = this.text[this.position];
      if (char === '#') {
        while (this.position < this.text.length && this.text[this.position] !== '\n') this.position += 1;
      } else if (/\s/.test(char) || (char === '\\' && this.text[this.position + 1] === '\n')) {
        this.position += char === '\\' ? 2 : 1;
      } else {
        return;
      }
    }
  }

  private fail(): never {
    throw new Error('not a literal');
  }

  private value(): ParameterValue {
    this.space();
    const char = this.text[this.position];
    if (char === '[') return this.sequence(']');
    if (char === '{') return this.mapping();
    if (char === '"' || char === "'" || /^[rRuU]['"]/.test(this.text.slice(this.position, this.position + 2))) return this.strings();
    const word = /^(True|False|None)\b/.exec(this.text.slice(this.position));
    if (word) {
      this.position += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    return this.number();
  }

  private number(): number {
    const match =
      /^[-+]?\s*(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*\.?[\d_]*(?:[eE][-+]?\d[\d_]*)?|\.\d[\d_]*(?:[eE][-+]?\d[\d_]*)?)/.exec(
        this.text.slice(this.position)
      );
    if (!match) this.fail();
    const raw = match[0].replace(/[\s_]/g, '');
    this.position += match[0].length;
    const sign = raw.startsWith('-') ? -1 : 1;
    const body = raw.replace(/^[-+]/, '');
    let value: number;
    if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
    else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
    else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
    else value = Number(body);
    if (!Number.isFinite(value)) this.fail();
    const isFloat = /[.eE]/.test(body) && !/^0[xXoObB]/.test(body);
    // 10.0 is a float to Python, though JSON (and JavaScript) cannot tell it from 10.
    if (isFloat && this.depth === 0) this.floatLiteral = true;
    return sign * value;
  }

  /** Adjacent string literals concatenate, as in Python. */
  private strings(): string {
    let result = '';
    do {
      result += this.string();
      this.space();
    } while (this.position < this.text.length && /^([rRuU]?['"])/.test(this.text.slice(this.position)));
    return result;
  }

  private string(): string {
    let raw = false;
    if (/[rRuU]/.test(this.text[this.position])) {
      raw = /[rR]/.test(this.text[this.position]);
      this.position += 1;
    }
    const quote = this.text[this.position];
    const triple = this.text.startsWith(quote.repeat(3), this.position);
    const close = triple ? quote.repeat(3) : quote;
    this.position += close.length;
    let result = '';
    while (this.position < this.text.length && !this.text.startsWith(close, this.position)) {
      const char = this.text[this.position];
      if (!triple && char === '\n') this.fail();
      if (char === '\\' && !raw) {
        const next = this.text[this.position + 1];
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', '\n': '' };
        if (next in escapes) {
          result += escapes[next];
          this.position += 2;
          continue;
        }
        const unicode = /^\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(this.text.slice(this.position));
        if (unicode) {
          result += String.fromCodePoint(parseInt(unicode[1] ?? unicode[2] ?? unicode[3], 16));
          this.position += unicode[0].length;
          continue;
        }
        result += char;
        this.position += 1;
        continue;
      }
      result += char;
      this.position += 1;
    }
    if (this.position >= this.text.length) this.fail();
    this.position += close.length;
    return result;
  }

  private sequence(end: string): ParameterValue[] {
    this.position += 1;
    this.depth += 1;
    const items: ParameterValue[] = [];
    for (;;) {
      this.space();
      if (this.text[this.position] === end) {
        this.position += 1;
        this.depth -= 1;
        return items;
      }
      items.push(this.value());
      this.space();
      if (this.text[this.position] === ',') this.position += 1;
      else if (this.text[this.position] !== end) this.fail();
    }
  }

  private mapping(): { [key: string]: ParameterValue } {
    this.position += 1;
    this.depth += 1;
    const result: { [key: string]: ParameterValue } = {};
    for (;;) {
      this.space();
      if (this.text[this.position] === '}') {
        this.position += 1;
        this.depth -= 1;
        return result;
      }
      const key = this.value();
      // JSON objects have string keys only; {1: 2} is a literal JSON cannot carry as such.
      if (typeof key !== 'string') this.fail();
      this.space();
      if (this.text[this.position] !== ':') this.fail(); // a set
      this.position += 1;
      result[key] = this.value();
      this.space();
      if (this.text[this.position] === ',') this.position += 1;
      else if (this.text[this.position] !== '}') this.fail();
    }
  }
}

function typeOf(value: ParameterValue): ParameterType {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'str';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  return Number.isInteger(value) ? 'int' : 'float';
}

function accepts(type: ParameterType | null, value: ParameterValue): boolean {
  switch (type) {
    case null:
    case 'NoneType':
      return true;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return typeof value === 'number';
    case 'str':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'list':
      return Array.isArray(value);
    case 'dict':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function describe(value: ParameterValue): string {
  if (value === null) return 'null';
  let text = JSON.stringify(value);
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  return `${typeOf(value)} ${text}`;
}

/** difflib.SequenceMatcher's ratio, near enough for "did you mean": 2 × common / total length. */
function similarity(a: string, b: string): number {
  const table: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      table[i][j] = a[i - 1] === b[j - 1] ? table[i - 1][j - 1] + 1 : Math.max(table[i - 1][j], table[i][j - 1]);
    }
  }
  return a.length + b.length === 0 ? 1 : (2 * table[a.length][b.length]) / (a.length + b.length);
}

export interface ParameterProblem {
  name: string;
  message: string;
}

/** A message per supplied parameter the notebook does not declare or whose type is wrong (empty: all good). */
export function checkParameters(
  declared: ReadonlyMap<string, DeclaredParameter>,
  supplied: Readonly<Record<string, ParameterValue>>
): ParameterProblem[] {
  const problems: ParameterProblem[] = [];
  for (const [name, value] of Object.entries(supplied)) {
    const parameter = declared.get(name);
    if (!parameter) {
      if (declared.size === 0) {
        problems.push({
          name,
          message: `\`${name}\` is not a parameter of this notebook; it declares none (no code cell is tagged \`parameters\`)`
        });
        continue;
      }
      let message = `\`${name}\` is not a parameter of this notebook; its parameters are: ${[...declared.keys()].join(', ')}`;
      const close = [...declared.keys()]
        .map((candidate) => ({ candidate, score: similarity(name, candidate) }))
        .filter((entry) => entry.score >= 0.6)
        .sort((x, y) => y.score - x.score)[0];
      if (close) message += ` (did you mean \`${close.candidate}\`?)`;
      problems.push({ name, message });
    } else if (!accepts(parameter.type, value)) {
      problems.push({
        name,
        message: `\`${name}\` must be ${parameter.type} (the parameters cell sets ${parameter.expression}), got ${describe(value)}`
      });
    }
  }
  return problems;
}

/** A parameter value as runs keep params: text (strings as they are, the rest as JSON, Python-style words). */
export function parameterText(value: ParameterValue): string {
  if (typeof value === 'string') return value;
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return JSON.stringify(value);
}

/**
 * A run's param text back as a typed value for a declared parameter (for re-running a run that
 * was not a job): `"0.1"` → 0.1 for a float, `"True"` → true for a bool; undefined when the
 * text does not fit the type.
 */
export function parameterFromText(parameter: DeclaredParameter, text: string): ParameterValue | undefined {
  const parsed = (() => {
    try {
      return new LiteralParser(text.trim()).parse();
    } catch {
      try {
        return JSON.parse(text) as ParameterValue;
      } catch {
        return undefined;
      }
    }
  })();
  const lowered = text.trim().toLowerCase();
  switch (parameter.type) {
    case 'str':
      return text;
    case 'bool':
      return lowered === 'true' ? true : lowered === 'false' ? false : undefined;
    case 'int':
    case 'float':
    case 'list':
    case 'dict':
      return parsed !== undefined && accepts(parameter.type, parsed) ? parsed : undefined;
    default:
      return parsed !== undefined ? parsed : text;
  }
}
