/**
 * The runners list (live on `runner:updated` / `runner:removed`, sent to everyone) and one job
 * as its view shows it (live on `job:updated` / `job:output` in the job's project room).
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { AddRunnerResponse, Job, JobEvent, JobProgress, Runner } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { ServerListModel } from '../shared/serverList';
import { IRunlabConnection } from '../tokens';
import { applyProgressEvents, isJobEnded, mergeLog, outputText } from './format';
import { IRunnersModel } from './tokens';

/** The list with `runner` added or replaced, by name. */
export function applyRunnerUpdate(runners: readonly Runner[], runner: Runner): Runner[] {
  return [...runners.filter((existing) => existing.id !== runner.id), runner].sort((a, b) => a.name.localeCompare(b.name));
}

export function applyRunnerRemoval(runners: readonly Runner[], id: string): Runner[] {
  return runners.filter((runner) => runner.id !== id);
}

export class RunnersModel extends ServerListModel implements IRunnersModel {
  constructor(private readonly _connection: IRunlabConnection) {
    super(_connection, 'the runners', 'runners');
    _connection.on('runner:updated', (runner) => this._set(applyRunnerUpdate(this._runners, runner)), this);
    _connection.on('runner:removed', ({ id }) => this._set(applyRunnerRemoval(this._runners, id)), this);
  }

  get runners(): readonly Runner[] {
    return this._runners;
  }

  protected async load(): Promise<void> {
    const { runners } = await this._connection.api.runners.listRunners();
    this._runners = [...runners].sort((a, b) => a.name.localeCompare(b.name));
  }

  async add(name: string, labels: string[]): Promise<AddRunnerResponse> {
    const answer = await this._connection.api.runners.addRunner({ body: { name, labels } });
    this._set(applyRunnerUpdate(this._runners, answer.runner));
    return answer;
  }

  async drain(id: string): Promise<void> {
    this._set(applyRunnerUpdate(this._runners, await this._connection.api.runners.drainRunner({ params: { id } })));
  }

  async remove(id: string): Promise<void> {
    await this._connection.api.runners.removeRunner({ params: { id } });
    this._set(applyRunnerRemoval(this._runners, id));
  }

  private _set(runners: Runner[]): void {
    this._runners = runners;
    this.emitChanged();
  }

  private _runners: Runner[] = [];
}

/** The last error the executor reported, with its traceback. */
export interface IJobError {
  ename: string;
  evalue: string;
  traceback: string;
}

/** One job, its output and progress, live; `ended` fires once when it reaches an end state. */
export class JobModel implements IDisposable {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly jobId: string
  ) {
    _connection.on('job:updated', (job) => job.id === jobId && this._applyJob(job), this);
    _connection.on('job:output', (payload) => payload.jobId === jobId && this._applyOutput(payload.events), this);
    void this.load();
  }

  get job(): Job | null {
    return this._job;
  }
  /** The job's progress with the live cell events applied. */
  get progress(): JobProgress | null {
    return this._progress;
  }
  get output(): string {
    return this._output;
  }
  get lastError(): IJobError | null {
    return this._lastError;
  }
  get error(): string | null {
    return this._error;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  /** Fires once with the job when it has ended (at once when it had already ended on load). */
  get ended(): ISignal<this, Job> {
    return this._ended;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  async load(): Promise<void> {
    try {
      const job = await this._connection.api.runners.getJob({ params: { id: this.jobId } });
      // The project room carries the job's live events; joined before the log is read, so nothing falls between.
      if (!this._room && !this._isDisposed) {
        this._room = this._connection.join({ projectId: job.projectId });
      }
      this._applyJob(job);
      this._pending = [];
      const log = await (await this._connection.api.runners.getJobLog({ params: { id: this.jobId } })).text();
      this._output = mergeLog(log, this._pending);
      this._pending = null;
      this._error = null;
    } catch (error) {
      this._error = describeError(`Could not load job ${this.jobId}`, error, 'runners');
    }
    this._changed.emit();
  }

  async cancel(): Promise<void> {
    this._applyJob(await this._connection.api.runners.cancelJob({ params: { id: this.jobId } }));
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._room?.dispose();
    Signal.clearData(this);
  }

  private _applyJob(job: Job): void {
    // A list-shaped job (no attempts) does not replace the attempts already known.
    const attempts = job.attempts.length || !this._job ? job.attempts : this._job.attempts;
    this._job = { ...job, attempts };
    this._progress = job.progress;
    this._changed.emit();
    if (isJobEnded(job.status) && !this._endedSent) {
      this._endedSent = true;
      this._ended.emit(this._job);
    }
  }

  private _applyOutput(events: JobEvent[]): void {
    const text = outputText(events);
    if (this._pending) {
      this._pending.push(text);
    } else {
      this._output += text;
    }
    for (const event of events) {
      if (event.type === 'error') {
        this._lastError = { ename: event.ename, evalue: event.evalue, traceback: event.traceback.join('\n') };
      }
    }
    this._progress = applyProgressEvents(this._progress, events);
    this._changed.emit();
  }

  private _job: Job | null = null;
  private _progress: JobProgress | null = null;
  private _output = '';
  /** Live output that arrived while the log was being read. */
  private _pending: string[] | null = null;
  private _lastError: IJobError | null = null;
  private _error: string | null = null;
  private _room: IDisposable | null = null;
  private _endedSent = false;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _ended = new Signal<this, Job>(this);
}
