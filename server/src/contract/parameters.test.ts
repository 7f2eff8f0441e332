import { checkParameters, declaredParameters, parameterFromText, parameterText } from './parameters';

const notebookWith = (source: string, tags = ['parameters']) => ({
  cells: [
    { cell_type: 'markdown', metadata: { tags }, source: 'x = "not code"' },
    { cell_type: 'code', metadata: { tags }, source: source.split(/(?<=\n)/) }
  ]
});

test('the parameters cell declares names with the types of their literal defaults, as Python reads them', () => {
  const declared = declaredParameters(
    notebookWith(
      [
        '%matplotlib inline',
        'import math',
        'epochs = 10  # passes over the data',
        'lr = 1e-3',
        'momentum = 1.0',
        "name = 'mnist' \\",
        '  "-v2"',
        'flags = [True, False, None]',
        'grid = {',
        '    "depth": [1, 2],  # a comment inside',
        '}',
        'ratio = 1 / 3',
        'points: float = 1',
        'seed = None',
        'a = b = 0x10',
        'shape = (1, 2)',
        'if epochs:',
        '    hidden = 1',
        'epochs += 1'
      ].join('\n')
    )
  );
  expect(Object.fromEntries([...declared].map(([name, parameter]) => [name, [parameter.type, parameter.expression]]))).toEqual({
    epochs: ['int', '10'],
    lr: ['float', '1e-3'],
    momentum: ['float', '1.0'],
    name: ['str', `'mnist' \\\n  "-v2"`],
    flags: ['list', '[True, False, None]'],
    grid: ['dict', '{\n    "depth": [1, 2],  # a comment inside\n}'],
    ratio: [null, '1 / 3'],
    points: ['float', '1'],
    seed: ['NoneType', 'None'],
    a: ['int', '0x10'],
    b: ['int', '0x10'],
    shape: [null, '(1, 2)']
  });
});

test('no cell tagged parameters declares nothing', () => {
  expect(declaredParameters(notebookWith('epochs = 1', ['other'])).size).toBe(0);
  expect(checkParameters(new Map(), { epochs: 1 })).toEqual([
    { name: 'epochs', message: '`epochs` is not a parameter of this notebook; it declares none (no code cell is tagged `parameters`)' }
  ]);
});

test('values are checked as the Python runner checks them, with its messages', () => {
  const declared = declaredParameters(notebookWith('epochs = 10\nlr = 0.1\nflag = True\nseed = None\nratio = 1 / 3'));
  expect(checkParameters(declared, { epochs: 3, lr: 2, flag: false, seed: 'anything', ratio: [1] })).toEqual([]);
  expect(checkParameters(declared, { epochs: 'ten', lr: true, flag: 1, epohcs: 1, zzz: 2 })).toEqual([
    { name: 'epochs', message: '`epochs` must be int (the parameters cell sets 10), got str "ten"' },
    { name: 'lr', message: '`lr` must be float (the parameters cell sets 0.1), got bool true' },
    { name: 'flag', message: '`flag` must be bool (the parameters cell sets True), got int 1' },
    {
      name: 'epohcs',
      message: '`epohcs` is not a parameter of this notebook; its parameters are: epochs, lr, flag, seed, ratio (did you mean `epochs`?)'
    },
    { name: 'zzz', message: '`zzz` is not a parameter of this notebook; its parameters are: epochs, lr, flag, seed, ratio' }
  ]);
  expect(checkParameters(declared, { epochs: 2.5 })[0].message).toBe('`epochs` must be int (the parameters cell sets 10), got float 2.5');
});

test('param text round-trips through the declared type', () => {
  const declared = declaredParameters(notebookWith('epochs = 10\nlr = 0.1\nflag = True\nname = "a"\nlayers = [1]\nratio = 1 / 3'));
  const get = (name: string) => declared.get(name)!;
  expect(parameterFromText(get('epochs'), '7')).toBe(7);
  expect(parameterFromText(get('epochs'), '7.5')).toBeUndefined();
  expect(parameterFromText(get('lr'), '0.01')).toBe(0.01);
  expect(parameterFromText(get('flag'), 'False')).toBe(false);
  expect(parameterFromText(get('name'), '0.1')).toBe('0.1');
  expect(parameterFromText(get('layers'), '[64, 32]')).toEqual([64, 32]);
  expect(parameterFromText(get('ratio'), 'hello')).toBe('hello');
  expect([true, null, 3, 'x', [1, 'a'], { k: 1 }].map(parameterText)).toEqual(['True', 'None', '3', 'x', '[1,"a"]', '{"k":1}']);
});
