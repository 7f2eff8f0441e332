/**
 * A job's output as text: every attempt's stdout, stderr and errors, appended as the runner
 * reports them, each attempt headed by a line naming it. One file per job under the data
 * directory (`job-logs/<job id>.log`), so a long log costs no database space and survives restarts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JobEvent } from '../contract';

export class JobLog {
  constructor(private readonly dir: string) {}

  private file(jobId: string): string {
    // Job ids are UUIDs the server made; the check keeps a path out of the file name regardless.
    if (!/^[\w-]+$/.test(jobId)) throw new Error(`Not a job id: ${jobId}`);
    return path.join(this.dir, `${jobId}.log`);
  }

  append(jobId: string, text: string): void {
    if (text === '') return;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.appendFileSync(this.file(jobId), text, 'utf8');
  }

  /** The heading of an attempt's part of the log. */
  startAttempt(jobId: string, number: number, runnerName: string): void {
    this.append(jobId, `===== attempt ${number} on runner ${runnerName} (${new Date().toISOString()}) =====\n`);
  }

  /** Output and errors of the events, as a terminal would show them. */
  events(jobId: string, events: readonly JobEvent[]): void {
    const text = events
      .map((event) => {
        if (event.type === 'output') return event.text;
        if (event.type === 'error') {
          const traceback = event.traceback.length > 0 ? `${event.traceback.join('\n')}\n` : '';
          return `${traceback}${event.ename}: ${event.evalue}\n`;
        }
        return '';
      })
      .join('');
    this.append(jobId, text);
  }

  /** A line that says how an attempt ended (or what happened to it). */
  note(jobId: string, text: string): void {
    this.append(jobId, `----- ${text} -----\n`);
  }

  read(jobId: string): string {
    try {
      return fs.readFileSync(this.file(jobId), 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return '';
      throw error;
    }
  }
}
