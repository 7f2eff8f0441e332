import { diffNotebooks } from './notebookDiff';

const nb = (...sources: string[]) => ({ cells: sources.map((source) => ({ cell_type: 'code', source })) });

describe('diffNotebooks', () => {
  it('finds unchanged, changed, added and removed cells in order', () => {
    const diff = diffNotebooks(nb('import a', 'lr = 0.1\nfit()', 'old()'), nb('import a', 'lr = 0.01\nfit()', 'plot()', 'new()'));
    expect(diff.map((d) => d.kind)).toEqual(['same', 'changed', 'changed', 'added']);
    const changed = diff[1];
    expect(changed.before).toBe('lr = 0.1\nfit()');
    expect(changed.after).toBe('lr = 0.01\nfit()');
    expect(changed.lines!.filter((l) => l.removed).map((l) => l.value)).toEqual(['lr = 0.1\n']);
    expect(changed.lines!.filter((l) => l.added).map((l) => l.value)).toEqual(['lr = 0.01\n']);
    expect(diff[3]).toMatchObject({ kind: 'added', after: 'new()' });
  });

  it('treats nbformat source arrays like strings and reports identical notebooks as all same', () => {
    const a = { cells: [{ cell_type: 'markdown', source: ['# Title\n', 'text'] }] };
    const b = { cells: [{ cell_type: 'markdown', source: '# Title\ntext' }] };
    expect(diffNotebooks(a, b)).toEqual([
      { kind: 'same', cellType: 'markdown', before: '# Title\ntext', after: '# Title\ntext', lines: null }
    ]);
  });

  it('reports a removed cell', () => {
    expect(diffNotebooks(nb('a', 'b'), nb('a')).map((d) => d.kind)).toEqual(['same', 'removed']);
  });
});
