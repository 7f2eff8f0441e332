/** How runners and jobs read: capacity, heartbeats, progress, and the live output merged with the log. */
import type { Job, JobEvent } from '../../server/src/contract';
import {
  applyProgressEvents,
  capacityText,
  heartbeatText,
  jobProgressFraction,
  jobProgressText,
  mergeLog,
  outputText,
  parseLabels,
  runningJobsText
} from './format';

const GiB = 1024 ** 3;

describe('capacityText', () => {
  it('names cores, memory with the shared byte formatter, and GPUs', () => {
    expect(capacityText({ cpus: 8, memoryBytes: 16 * GiB, gpus: [], os: 'Linux', python: '3.12.1' })).toBe('8 cores · 16.0 GiB · no GPU');
    expect(
      capacityText({
        cpus: 1,
        memoryBytes: 512 * 1024 ** 2,
        gpus: [
          { model: 'A100', memoryBytes: 40 * GiB },
          { model: 'A100', memoryBytes: 40 * GiB }
        ],
        os: 'Linux',
        python: '3.11'
      })
    ).toBe('1 core · 512.0 MiB · 2 GPUs (A100, 40.0 GiB)');
    expect(capacityText(null)).toBe('capacity unknown until it connects');
  });
});

describe('heartbeatText', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('counts seconds, then minutes', () => {
    expect(heartbeatText('2026-01-01T11:59:57Z', now)).toBe('3 s ago');
    expect(heartbeatText('2026-01-01T12:00:00.400Z', now)).toBe('0 s ago');
    expect(heartbeatText('2026-01-01T11:50:00Z', now)).toBe('10 min ago');
    expect(heartbeatText(null, now)).toBe('never');
  });
});

describe('runningJobsText', () => {
  it('says how full the runner is', () => {
    expect(runningJobsText({ runningJobs: [], maxJobs: 1 })).toBe('idle');
    expect(runningJobsText({ runningJobs: ['a'], maxJobs: 1 })).toBe('1 of 1 job running');
    expect(runningJobsText({ runningJobs: ['a'], maxJobs: 4 })).toBe('1 of 4 jobs running');
  });
});

describe('job progress', () => {
  const at = (status: Job['status'], progress: Job['progress']) => ({ status, progress });
  it('reads "cell N of M" as the notebook runs', () => {
    expect(jobProgressText(at('queued', null))).toBe('Waiting for a runner');
    expect(jobProgressText(at('running', null))).toBe('Starting…');
    expect(jobProgressText(at('running', { cells: 12, cell: null, state: 'starting' }))).toBe('Starting kernel (12 cells)');
    expect(jobProgressText(at('running', { cells: 12, cell: 2, state: 'running' }))).toBe('Cell 3 of 12');
    expect(jobProgressText(at('finished', { cells: 12, cell: 11, state: 'done' }))).toBe('All 12 cells ran');
    expect(jobProgressText(at('failed', { cells: 12, cell: 4, state: 'error' }))).toBe('Stopped at cell 5 of 12');
    expect(jobProgressFraction({ cells: 4, cell: 1, state: 'running' })).toBe(0.25);
    expect(jobProgressFraction({ cells: 4, cell: 3, state: 'done' })).toBe(1);
    expect(jobProgressFraction(null)).toBe(0);
  });

  it('moves on with the live cell events, ahead of the next job:updated', () => {
    const events: JobEvent[] = [
      { type: 'started', cells: 3 },
      { type: 'cell', index: 0, of: 3, state: 'running' },
      { type: 'cell', index: 0, of: 3, state: 'done' },
      { type: 'cell', index: 1, of: 3, state: 'running' }
    ];
    expect(applyProgressEvents(null, events)).toEqual({ cells: 3, cell: 1, state: 'running' });
    expect(applyProgressEvents(null, [{ type: 'cell', index: 2, of: 3, state: 'done' }])).toEqual({ cells: 3, cell: 2, state: 'done' });
    expect(applyProgressEvents(null, [{ type: 'cell', index: 1, of: 3, state: 'error' }])?.state).toBe('error');
    const before = { cells: 3, cell: 1, state: 'running' as const };
    expect(applyProgressEvents(before, [{ type: 'output', index: 1, stream: 'stdout', text: 'x' }])).toBe(before);
  });
});

describe('job output', () => {
  it('is stdout, stderr and tracebacks without colour codes', () => {
    const events: JobEvent[] = [
      { type: 'output', index: 0, stream: 'stdout', text: 'epoch 1\n' },
      { type: 'cell', index: 0, of: 1, state: 'error' },
      { type: 'error', index: 0, ename: 'ValueError', evalue: 'bad', traceback: ['\u001b[0;31mValueError\u001b[0m: bad'] },
      { type: 'error', index: 0, ename: 'KeyError', evalue: "'x'", traceback: [] }
    ];
    expect(outputText(events)).toBe("epoch 1\nValueError: bad\nKeyError: 'x'\n");
  });

  it('keeps what arrived live during the log fetch only when the log does not have it yet', () => {
    expect(mergeLog('a\nb\n', ['b\n', 'c\n'])).toBe('a\nb\nc\n');
    expect(mergeLog('a\nb\nc\n', ['b\n', 'c\n'])).toBe('a\nb\nc\n');
    expect(mergeLog('', ['x', 'y'])).toBe('xy');
    expect(mergeLog('x', [])).toBe('x');
  });
});

describe('parseLabels', () => {
  it('takes commas or spaces', () => {
    expect(parseLabels(' gpu, bigmem  gpu ')).toEqual(['gpu', 'bigmem']);
    expect(parseLabels('')).toEqual([]);
  });
});
