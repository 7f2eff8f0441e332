/** Pins in notebook metadata, the toolbar label, snippets and the kernel expression. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { datasetVariableName, kernelPinsExpression, loadingSnippet, pinsLabel, readPins, startingDataset, writePins } from './pins';

const venvPython = path.join(__dirname, '..', '..', '.venv', 'bin', 'python');
const python = fs.existsSync(venvPython) ? venvPython : 'python3';

describe('notebook pin metadata', () => {
  it('reads only well-formed pins', () => {
    expect(readPins(undefined)).toEqual({});
    expect(readPins({ datasets: ['iris'] })).toEqual({});
    expect(readPins({ datasets: { iris: 'v3', raw: 3, 'bad/name': 'v1', clean: 'latest', ok: 'v12' } })).toEqual({ iris: 'v3', ok: 'v12' });
  });

  it('pins, re-pins and unpins, keeping the other runlab metadata', () => {
    const first = writePins({ other: 1 }, 'iris', 'v1');
    expect(first).toEqual({ other: 1, datasets: { iris: 'v1' } });
    const second = writePins(first, 'adult', 'v2');
    expect(Object.keys(second.datasets as object)).toEqual(['adult', 'iris']);
    expect(writePins(second, 'iris', 'v3').datasets).toEqual({ adult: 'v2', iris: 'v3' });
    const unpinned = writePins(writePins(second, 'iris', null), 'adult', null);
    expect(unpinned).toEqual({ other: 1 });
    // The input is never changed in place (it is the notebook model's value).
    expect(first).toEqual({ other: 1, datasets: { iris: 'v1' } });
  });

  it('labels the toolbar button with the pins', () => {
    expect(pinsLabel({})).toBe('Data');
    expect(pinsLabel({ iris: 'v3' })).toBe('Data: iris@v3');
    expect(pinsLabel({ a: 'v1', b: 'v2', c: 'v3' })).toBe('Data: a@v1, b@v2 +1');
  });
});

describe('startingDataset', () => {
  it("starts the picker at the notebook's first pin the project has, else the first dataset", () => {
    expect(startingDataset({ iris: 'v1', raw: 'v2' }, ['adult', 'iris', 'raw'])).toBe('iris');
    expect(startingDataset({ gone: 'v1', raw: 'v2' }, ['adult', 'raw'])).toBe('raw');
    expect(startingDataset({ gone: 'v1' }, ['adult', 'iris'])).toBe('adult');
    expect(startingDataset({}, ['adult', 'iris'])).toBe('adult');
    // The list not loaded yet: trust the pin.
    expect(startingDataset({ iris: 'v1' }, [])).toBe('iris');
    expect(startingDataset({}, [])).toBe('');
  });
});

describe('loading snippet', () => {
  it('makes a Python identifier of any dataset name', () => {
    expect(datasetVariableName('iris')).toBe('iris');
    expect(datasetVariableName('Iris-2024.v1')).toBe('iris_2024_v1');
    expect(datasetVariableName('2024-sales')).toBe('dataset_2024_sales');
    expect(datasetVariableName('class')).toBe('class_');
    expect(datasetVariableName('---')).toBe('dataset');
  });

  it('loads the pinned version into <name>_path', () => {
    expect(loadingSnippet('my-data', 'v3')).toBe('import runlab\nmy_data_path = runlab.dataset("my-data@v3").path()');
  });
});

describe('kernelPinsExpression', () => {
  it('hands the pins to _kernel_pins, and is harmless without it', () => {
    const expression = kernelPinsExpression({ iris: 'v3', 'raw.data': 'v1' });
    const withPins = `import json, types, sys\nsys.modules['runlab'] = types.SimpleNamespace(_kernel_pins=lambda pins: pins)\nprint(json.dumps(${expression}))`;
    expect(JSON.parse(execFileSync(python, ['-c', withPins], { encoding: 'utf8' }))).toEqual({ iris: 'v3', 'raw.data': 'v1' });
    const older = `import types, sys\nsys.modules['runlab'] = types.SimpleNamespace()\nprint(repr(${expression}))`;
    expect(execFileSync(python, ['-c', older], { encoding: 'utf8' }).trim()).toBe('None');
    expect(kernelPinsExpression({})).toContain('({})');
  });
});
