import { formatBytes, formatDuration, formatValue, relativeTime } from './format';

describe('formatBytes', () => {
  it('writes bytes as a whole number', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('uses binary units with one decimal', () => {
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1.2 * 1024 * 1024)).toBe('1.2 MiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(formatBytes(99.5 * 1024)).toBe('99.5 KiB');
    expect(formatBytes(150 * 1024)).toBe('150.0 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(2 * 1024 ** 4)).toBe('2.0 TiB');
    expect(formatBytes(2048 * 1024 ** 4)).toBe('2048.0 TiB');
  });

  it('keeps the sign of a negative size', () => {
    expect(formatBytes(-2048)).toBe('-2.0 KiB');
    expect(formatBytes(-100)).toBe('-100 B');
  });
});

describe('times', () => {
  it('says how long ago', () => {
    const now = Date.parse('2025-01-10T12:00:00Z');
    expect(relativeTime('2025-01-10T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2025-01-10T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2025-01-10T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2025-01-09T12:00:00Z', now)).toBe('1 day ago');
  });

  it('says how long a run took, or has been running', () => {
    const startedAt = '2025-01-10T12:00:00Z';
    expect(formatDuration({ startedAt, endedAt: '2025-01-10T12:00:42Z' })).toBe('42s');
    expect(formatDuration({ startedAt, endedAt: '2025-01-10T12:03:05Z' })).toBe('3m 5s');
    expect(formatDuration({ startedAt, endedAt: null }, Date.parse('2025-01-10T14:10:00Z'))).toBe('2h 10m');
  });
});

describe('formatValue', () => {
  it('formats numbers, names non-finite values and dashes missing ones', () => {
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(1234567)).toBe('1.235e+6');
    expect(formatValue('NaN')).toBe('NaN');
    expect(formatValue(null)).toBe('—');
  });
});
