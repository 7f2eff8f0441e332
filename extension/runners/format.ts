/** How runners and jobs read in the panel, the dialogs and the job view. */
import type { Job, JobEvent, JobProgress, JobStatus, Runner, RunnerCapacity } from '../../server/src/contract';
import { formatBytes, relativeTime } from '../shared/format';

export const JOB_STATUS_LABELS: Record<JobStatus, string> = {
  queued: 'queued',
  running: 'running',
  finished: 'finished',
  failed: 'failed',
  cancelled: 'cancelled',
  timed_out: 'timed out'
};

/** A job in one of these states will not change any more. */
export function isJobEnded(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

/** `8 cores · 15.5 GiB · 1 GPU (NVIDIA A100, 40.0 GiB)`; says so until the agent first connects. */
export function capacityText(capacity: RunnerCapacity | null): string {
  if (!capacity) {
    return 'capacity unknown until it connects';
  }
  const parts = [`${capacity.cpus} ${capacity.cpus === 1 ? 'core' : 'cores'}`, formatBytes(capacity.memoryBytes)];
  const gpus = capacity.gpus ?? [];
  if (gpus.length) {
    const models = [...new Set(gpus.map((gpu) => `${gpu.model}, ${formatBytes(gpu.memoryBytes)}`))].join('; ');
    parts.push(`${gpus.length} ${gpus.length === 1 ? 'GPU' : 'GPUs'} (${models})`);
  } else {
    parts.push('no GPU');
  }
  return parts.join(' · ');
}

/** `3 s ago` for a heartbeat (they come every few seconds), then as other times read; `never` before the first. */
export function heartbeatText(iso: string | null, now = Date.now()): string {
  if (!iso) {
    return 'never';
  }
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) {
    return '';
  }
  return seconds < 60 ? `${seconds} s ago` : relativeTime(iso, now);
}

/** `1 job running`, `2 jobs running`, `idle`. */
export function runningJobsText(runner: Pick<Runner, 'runningJobs' | 'maxJobs'>): string {
  const count = runner.runningJobs.length;
  return count ? `${count} of ${runner.maxJobs} ${runner.maxJobs === 1 ? 'job' : 'jobs'} running` : 'idle';
}

/** Where a job is, in words: `Waiting for a runner`, `Cell 3 of 12`, `All 12 cells ran`. */
export function jobProgressText(job: Pick<Job, 'status' | 'progress'>): string {
  const progress = job.progress;
  if (job.status === 'queued') {
    return 'Waiting for a runner';
  }
  if (!progress) {
    return job.status === 'running' ? 'Starting…' : '';
  }
  const { cells, cell, state } = progress;
  const cellsText = `${cells} ${cells === 1 ? 'cell' : 'cells'}`;
  if (state === 'starting' || cell === null) {
    return state === 'done' ? `All ${cellsText} ran` : `Starting kernel (${cellsText})`;
  }
  if (state === 'done') {
    return `All ${cellsText} ran`;
  }
  if (state === 'error') {
    return `Stopped at cell ${cell + 1} of ${cells}`;
  }
  return `Cell ${cell + 1} of ${cells}`;
}

/** Fraction of the cells done, 0–1, for the progress bar. */
export function jobProgressFraction(progress: JobProgress | null): number {
  if (!progress || !progress.cells) {
    return 0;
  }
  if (progress.state === 'done') {
    return 1;
  }
  return progress.cell === null ? 0 : Math.min(1, progress.cell / progress.cells);
}

/** Progress after the executor's live events, ahead of the next `job:updated`. */
export function applyProgressEvents(progress: JobProgress | null, events: readonly JobEvent[]): JobProgress | null {
  let next = progress;
  for (const event of events) {
    if (event.type === 'started') {
      next = { cells: event.cells, cell: null, state: 'starting' };
    } else if (event.type === 'cell') {
      const last = event.state === 'done' && event.index + 1 >= event.of;
      next = { cells: event.of, cell: event.index, state: last ? 'done' : event.state === 'error' ? 'error' : 'running' };
    }
  }
  return next;
}

// eslint-disable-next-line no-control-regex -- tracebacks carry terminal colour codes
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Terminal colour codes out, so tracebacks read as plain text. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The text live output events add to the job's log (stdout, stderr and errors with their traceback). */
export function outputText(events: readonly JobEvent[]): string {
  let text = '';
  for (const event of events) {
    if (event.type === 'output') {
      text += event.text;
    } else if (event.type === 'error') {
      text += `${stripAnsi(event.traceback.join('\n')) || `${event.ename}: ${event.evalue}`}\n`;
    }
  }
  return text;
}

/**
 * The log fetched with getJobLog, followed by what arrived live while it was on its way and is
 * not already in it (the fetch and the events race; a chunk the log ends with was already counted).
 */
export function mergeLog(log: string, pending: readonly string[]): string {
  let text = log;
  let tail = log;
  for (const chunk of pending) {
    if (!chunk) {
      continue;
    }
    const at = tail.indexOf(chunk);
    if (at !== -1) {
      tail = tail.slice(at + chunk.length);
      continue;
    }
    text += chunk;
    tail = '';
  }
  return text;
}

/** Labels as typed: `gpu, bigmem` or `gpu bigmem`. */
export function parseLabels(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}
