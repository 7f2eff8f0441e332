/**
 * Asks `python -m runlab.sweeps.propose` (python/runlab/sweeps/propose.py) for a sweep's next
 * parameters or its parameter importance: one process per question, the whole history on stdin, so
 * nothing of a sweep lives outside SQLite and a restart loses nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ParameterValue, SweepGoal, SweepMethod, SweepRange, TrialStatus } from '../contract';

export interface ProposerTrial {
  params: Record<string, ParameterValue>;
  state: TrialStatus;
  value: number | null;
  /** The objective by step, for stopped trials (Optuna's pruned trials carry it). */
  curve?: Record<string, number>;
}

export interface ProposeRequest {
  method: SweepMethod;
  goal: SweepGoal;
  seed: number;
  trials: number;
  params: Record<string, SweepRange>;
  history: ProposerTrial[];
  /** The first proposal's trial number (seeds its sampler). */
  number: number;
  count: number;
}

/** The proposer could not answer; the message says what to fix. */
export class ProposerError extends Error {}

const TIMEOUT_MS = 120_000;

export class Proposer {
  private readonly running = new Set<ChildProcess>();

  constructor(private readonly python: string) {}

  /** Stops every proposer under way (their requests fail). */
  close(): void {
    for (const child of this.running) child.kill('SIGKILL');
  }

  async propose(request: ProposeRequest): Promise<Record<string, ParameterValue>[]> {
    const answer = await this.ask({ action: 'propose', ...request });
    return answer.proposals as Record<string, ParameterValue>[];
  }

  async importance(request: Pick<ProposeRequest, 'goal' | 'params' | 'history'>): Promise<Record<string, number>> {
    const answer = await this.ask({ action: 'importance', ...request });
    return answer.importance as Record<string, number>;
  }

  private ask(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const python = this.python;
    return new Promise((resolve, reject) => {
      const child = spawn(python, ['-m', 'runlab.sweeps.propose'], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.running.add(child);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error) => {
        clearTimeout(timer);
        this.running.delete(child);
        reject(
          new ProposerError(
            `Could not start the sweep proposer (${python} -m runlab.sweeps.propose): ${error.message}; set RUNLAB_SWEEP_PYTHON to a Python with runlab installed (npm start uses .venv/bin/python)`
          )
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.running.delete(child);
        const text = Buffer.concat(stdout).toString('utf8');
        let answer: Record<string, unknown> | undefined;
        try {
          answer = JSON.parse(text) as Record<string, unknown>;
        } catch {
          answer = undefined;
        }
        if (code === 0 && answer && !('error' in answer)) {
          resolve(answer);
          return;
        }
        const why =
          typeof answer?.error === 'string'
            ? answer.error
            : signal
              ? `stopped by ${signal}${signal === 'SIGKILL' ? ` after ${TIMEOUT_MS / 1000} s` : ''}`
              : Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-3).join(' ') || `exit code ${code}`;
        const hint = /No module named/.test(why)
          ? '; install runlab into that Python (pip install -e .) or set RUNLAB_SWEEP_PYTHON to one that has it'
          : '';
        reject(new ProposerError(`The sweep proposer (${python} -m runlab.sweeps.propose) failed: ${why}${hint}`));
      });
      child.stdin.on('error', () => undefined); // a proposer that exits early; its exit says why
      child.stdin.end(JSON.stringify(request));
    });
  }
}
