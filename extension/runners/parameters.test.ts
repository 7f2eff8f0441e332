/** The `parameters` cell as the Run dialog reads it, checked against the Python side that injects. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { declaredParameters, parametersCellSource, parsePythonLiteral } from './parameters';

const venvPython = path.join(__dirname, '..', '..', '.venv', 'bin', 'python');

const notebookWith = (source: string, tags = ['parameters']) => ({
  cells: [
    { cell_type: 'markdown', metadata: { tags }, source: 'not code' },
    { cell_type: 'code', metadata: {}, source: 'x = 1' },
    { cell_type: 'code', metadata: { tags }, source: source.split(/(?<=\n)/) },
    { cell_type: 'code', metadata: { tags }, source: 'second = 2' }
  ],
  metadata: {},
  nbformat: 4,
  nbformat_minor: 5
});

const CELL = [
  '%matplotlib inline',
  'epochs = 10  # passes over the data',
  'lr: float = 1',
  'name = "baseline"',
  "tag = 'it\\'s'",
  'use_gpu = True',
  'seed = None',
  'layers = [64, 32,',
  '          16]  # sizes',
  'options = {\'a\': 1, "b": [True, None]}',
  'scale = 1.0',
  'tiny = -1.5e-3',
  'ratio = 1 / 3',
  'big = 1_000_000',
  'pair = (1, 2)',
  'if epochs > 5:',
  '    hidden = 1',
  'a, b = 1, 2',
  'epochs = 20',
  'label: str = 5',
  ''
].join('\n');

describe('declaredParameters', () => {
  it('reads each assignment of the first code cell tagged parameters, with its type and default', () => {
    const declared = Object.fromEntries(declaredParameters(notebookWith(CELL)).map((p) => [p.name, p]));
    expect(Object.keys(declared)).toEqual([
      'lr',
      'name',
      'tag',
      'use_gpu',
      'seed',
      'layers',
      'options',
      'scale',
      'tiny',
      'ratio',
      'big',
      'pair',
      'epochs',
      'label'
    ]);
    // A later assignment wins, as when the cell runs.
    expect(declared.epochs).toMatchObject({ type: 'int', value: 20, expression: '20' });
    // The annotation names the type, whatever the literal.
    expect(declared.lr).toMatchObject({ type: 'float', value: 1 });
    expect(declared.label).toMatchObject({ type: 'str', value: 5 });
    expect(declared.name).toMatchObject({ type: 'str', value: 'baseline', expression: '"baseline"' });
    expect(declared.tag).toMatchObject({ type: 'str', value: "it's" });
    expect(declared.use_gpu).toMatchObject({ type: 'bool', value: true });
    expect(declared.seed).toMatchObject({ type: 'NoneType', value: null });
    expect(declared.layers).toMatchObject({ type: 'list', value: [64, 32, 16], help: 'sizes' });
    expect(declared.options).toMatchObject({ type: 'dict', value: { a: 1, b: [true, null] } });
    expect(declared.scale).toMatchObject({ type: 'float', value: 1 });
    expect(declared.tiny).toMatchObject({ type: 'float', value: -0.0015 });
    expect(declared.big).toMatchObject({ type: 'int', value: 1000000 });
    // Not JSON literals: shown as written, not checked.
    expect(declared.ratio).toMatchObject({ type: null, expression: '1 / 3' });
    expect(declared.pair).toMatchObject({ type: null });
    expect(declared.hidden).toBeUndefined();
  });

  it('gives the types python/runlab/runners/parameters.py gives', () => {
    if (!fs.existsSync(venvPython)) {
      throw new Error(`needs the project venv (${venvPython}): run npm test once to create it`);
    }
    const script =
      'import json, sys\nfrom runlab.runners.parameters import declared_parameters\n' +
      'nb = json.load(sys.stdin)\nprint(json.dumps({n: [d.type_name, d.default] for n, d in declared_parameters(nb).items()}))';
    const python = JSON.parse(execFileSync(venvPython, ['-c', script], { input: JSON.stringify(notebookWith(CELL)), encoding: 'utf8' }));
    const ours = Object.fromEntries(
      declaredParameters(notebookWith(CELL)).map((p) => [p.name, [p.type, p.type === null ? null : p.value]])
    );
    expect(ours).toEqual(python);
  });

  it('finds no parameters without a tagged code cell', () => {
    expect(declaredParameters({ cells: [{ cell_type: 'code', metadata: {}, source: 'x = 1' }] })).toEqual([]);
    expect(parametersCellSource({ cells: [{ cell_type: 'markdown', metadata: { tags: ['parameters'] }, source: 'x = 1' }] })).toBeNull();
    expect(declaredParameters({})).toEqual([]);
  });
});

describe('parsePythonLiteral', () => {
  it('reads what a user types into the dialog', () => {
    expect(parsePythonLiteral('42')).toEqual({ type: 'int', value: 42 });
    expect(parsePythonLiteral(' -3 ')).toEqual({ type: 'int', value: -3 });
    expect(parsePythonLiteral('0.5')).toEqual({ type: 'float', value: 0.5 });
    expect(parsePythonLiteral('.5')).toEqual({ type: 'float', value: 0.5 });
    expect(parsePythonLiteral('1e3')).toEqual({ type: 'float', value: 1000 });
    expect(parsePythonLiteral('"a\\nb"')).toEqual({ type: 'str', value: 'a\nb' });
    expect(parsePythonLiteral("'''multi\nline'''")).toEqual({ type: 'str', value: 'multi\nline' });
    expect(parsePythonLiteral('False')).toEqual({ type: 'bool', value: false });
    expect(parsePythonLiteral('None')).toEqual({ type: 'NoneType', value: null });
    expect(parsePythonLiteral('[]')).toEqual({ type: 'list', value: [] });
    expect(parsePythonLiteral('[1, [2, "x"],]')).toEqual({ type: 'list', value: [1, [2, 'x']] });
    expect(parsePythonLiteral('{}')).toEqual({ type: 'dict', value: {} });
  });

  it('refuses what is not a JSON-compatible literal, saying why', () => {
    expect(() => parsePythonLiteral('true')).toThrow('not a Python literal');
    expect(() => parsePythonLiteral('abc')).toThrow('not a Python literal');
    // A tuple or a set has no JSON form; an unfinished string or two values are no literal.
    expect(() => parsePythonLiteral('(1, 2)')).toThrow('not a Python literal: (1, 2)');
    expect(() => parsePythonLiteral('{1, 2}')).toThrow('not a Python literal: {1, 2}');
    expect(() => parsePythonLiteral("'open")).toThrow("not a Python literal: 'open");
    expect(() => parsePythonLiteral('1 2')).toThrow('not a Python literal: 1 2');
    expect(() => parsePythonLiteral('')).toThrow('not a Python literal: (nothing)');
  });
});
