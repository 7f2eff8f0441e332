import { formatBytes, relativeTime, summaryParts, summaryText } from './format';

describe('dataset formatting', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatBytes(-2048)).toBe('-2.0 KB');
  });

  it('says how long ago', () => {
    const now = Date.parse('2025-01-10T12:00:00Z');
    expect(relativeTime('2025-01-10T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2025-01-10T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2025-01-10T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2025-01-09T12:00:00Z', now)).toBe('1 day ago');
  });

  it('summarizes the diff against the previous version', () => {
    const summary = { added: 2, removed: 1, changed: 3, unchanged: 10, bytesAdded: 10, bytesRemoved: 5, bytesChanged: 7, newChunkBytes: 2048 };
    expect(summaryParts(summary)).toEqual({ added: '+2', removed: '\u22121', changed: '~3', bytes: '2.0 KB new data' });
    expect(summaryText(null)).toBe('first version');
    expect(summaryText({ ...summary, added: 0, removed: 0, changed: 0 })).toBe('no file changes');
  });
});
