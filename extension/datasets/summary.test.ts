import { summaryParts, summaryText } from './summary';

describe('dataset version summary', () => {
  it('summarizes the diff against the previous version', () => {
    const summary = {
      added: 2,
      removed: 1,
      changed: 3,
      unchanged: 10,
      bytesAdded: 10,
      bytesRemoved: 5,
      bytesChanged: 7,
      newChunkBytes: 2048
    };
    expect(summaryParts(summary)).toEqual({ added: '+2', removed: '\u22121', changed: '~3', bytes: '2.0 KiB new data' });
    expect(summaryText(summary)).toBe('2 added, 1 removed, 3 changed files; 2.0 KiB new data');
    expect(summaryText(null)).toBe('first version');
    expect(summaryText({ ...summary, added: 0, removed: 0, changed: 0 })).toBe('no file changes');
  });
});
