/**
 * Sweeps as the extension sees it. The server sends every signed-in browser `sweep:updated` and
 * `sweep:trial`, so no room is joined: each open sweep page has a watch that reads the sweep and
 * its trials once and applies the events after. The best trial's registered model version is
 * read from the provenance graph (its run → model version), for "Promote best". Views render;
 * only this file fetches.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { Sweep, Trial } from '../../server/src/contract';
import { describeError } from '../shared/errors';
import { IRunlabConnection } from '../tokens';
import type { IBestModel, ISweepsModel, ISweepWatch } from './tokens';

/** `trials` with `trial` added or replaced, in trial-number order. */
export function upsertTrial(trials: readonly Trial[], trial: Trial): Trial[] {
  return [...trials.filter((candidate) => candidate.id !== trial.id), trial].sort((a, b) => a.number - b.number);
}

export class SweepWatch implements ISweepWatch {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly sweepId: string
  ) {}

  get sweep(): Sweep | null {
    return this._sweep;
  }
  get trials(): readonly Trial[] {
    return this._trials;
  }
  get bestModel(): IBestModel | null | undefined {
    return this._bestModel;
  }
  get error(): string | null {
    return this._error;
  }
  get actionError(): string | null {
    return this._actionError;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    const api = this._connection.api.sweeps;
    try {
      const [sweep, { trials }] = await Promise.all([
        api.getSweep({ params: { id: this.sweepId } }),
        api.listTrials({ params: { id: this.sweepId } })
      ]);
      this._trials = [...trials].sort((a, b) => a.number - b.number);
      this._error = null;
      this.applySweep(sweep);
    } catch (error) {
      this._error = describeError('Could not load the sweep', error, 'sweeps');
      this._changed.emit();
    }
  }

  pause(): Promise<void> {
    return this._act('Could not pause the sweep', () => this._connection.api.sweeps.pauseSweep({ params: { id: this.sweepId } }));
  }
  resume(): Promise<void> {
    return this._act('Could not resume the sweep', () => this._connection.api.sweeps.resumeSweep({ params: { id: this.sweepId } }));
  }
  cancel(): Promise<void> {
    return this._act('Could not cancel the sweep', () => this._connection.api.sweeps.cancelSweep({ params: { id: this.sweepId } }));
  }

  applySweep(sweep: Sweep): void {
    const bestRun = sweep.best?.runId ?? null;
    this._sweep = sweep;
    this._changed.emit();
    if (bestRun !== this._bestRun) {
      this._bestRun = bestRun;
      void this._readBestModel(bestRun);
    }
  }

  applyTrial(trial: Trial): void {
    this._trials = upsertTrial(this._trials, trial);
    this._changed.emit();
  }

  dispose(): void {
    Signal.clearData(this);
  }

  /** The model version the best trial's run registered (the demo notebook registers one per run). */
  private async _readBestModel(runId: string | null): Promise<void> {
    this._bestModel = runId ? undefined : null;
    this._changed.emit();
    if (!runId) {
      return;
    }
    let found: IBestModel | null = null;
    try {
      const graph = await this._connection.api.provenance.getProvenance({
        query: { node: `run:${runId}`, direction: 'downstream', depth: 1 }
      });
      const version = graph.nodes.find((node) => node.kind === 'model_version' && node.modelName && node.versionNumber !== null);
      found = version ? { name: version.modelName as string, version: version.versionNumber as number } : null;
    } catch {
      // No lineage to read: "Promote best" stays off and the page says why.
    }
    if (this._bestRun === runId) {
      this._bestModel = found;
      this._changed.emit();
    }
  }

  private async _act(what: string, action: () => Promise<Sweep>): Promise<void> {
    try {
      const sweep = await action();
      this._actionError = null;
      this.applySweep(sweep);
    } catch (error) {
      this._actionError = describeError(what, error, 'sweeps');
      this._changed.emit();
    }
  }

  private _sweep: Sweep | null = null;
  private _trials: Trial[] = [];
  private _bestRun: string | null = null;
  private _bestModel: IBestModel | null | undefined = undefined;
  private _error: string | null = null;
  private _actionError: string | null = null;
  private readonly _changed = new Signal<this, void>(this);
}

export class SweepsModel implements ISweepsModel {
  constructor(private readonly _connection: IRunlabConnection) {
    _connection.on('sweep:updated', (sweep) => this._watches.get(sweep.id)?.applySweep(sweep), this);
    _connection.on('sweep:trial', (trial) => this._watches.get(trial.sweepId)?.applyTrial(trial), this);
    // Events missed while disconnected: read again on reconnect.
    _connection.stateChanged.connect((_, state) => {
      if (state.status === 'connected') {
        for (const watch of this._watches.values()) {
          void watch.refresh();
        }
      }
    }, this);
  }

  watch(sweepId: string): SweepWatch {
    let watch = this._watches.get(sweepId);
    if (!watch) {
      watch = new SweepWatch(this._connection, sweepId);
      this._watches.set(sweepId, watch);
    }
    return watch;
  }

  release(sweepId: string): void {
    this._watches.get(sweepId)?.dispose();
    this._watches.delete(sweepId);
  }

  async list(project: string): Promise<Sweep[]> {
    const { sweeps } = await this._connection.api.sweeps.listSweeps({ query: { project } });
    return sweeps;
  }

  private readonly _watches = new Map<string, SweepWatch>();
}
