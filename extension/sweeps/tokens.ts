/** Command ids, plugin id and the model token of the sweeps feature (hyper-parameter sweeps). */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { Sweep, Trial } from '../../server/src/contract';

export namespace CommandIDs {
  /** The "Sweep…" dialog for the notebook in focus: ranges for its `parameters` cell, then the sweep page. */
  export const newSweep = 'runlab:new-sweep';
  /** args: `sweepId` (optional: without it, the user picks one of the project's sweeps): the sweep page. */
  export const openSweep = 'runlab:open-sweep';
}

/** Also the settings id: `schema/sweeps.json`. */
export const PLUGIN_ID = 'runlab:sweeps';

/** The model version the best trial's run registered, for "Promote best". */
export interface IBestModel {
  name: string;
  version: number;
}

/** One sweep as its page shows it, live on `sweep:updated` and `sweep:trial`. */
export interface ISweepWatch {
  readonly sweepId: string;
  readonly sweep: Sweep | null;
  /** In trial-number order. */
  readonly trials: readonly Trial[];
  /** The best trial's registered model version: undefined while unread, null when its run registered none. */
  readonly bestModel: IBestModel | null | undefined;
  readonly error: string | null;
  /** The last action's failure (pause, resume, cancel), in words. */
  readonly actionError: string | null;
  readonly changed: ISignal<ISweepWatch, void>;
  refresh(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  cancel(): Promise<void>;
}

export interface ISweepsModel {
  /** The live watch of one sweep (kept while a page holds it). */
  watch(sweepId: string): ISweepWatch;
  /** A page closed: its watch stops following. */
  release(sweepId: string): void;
  /** The sweeps of a project, newest first (the palette's Open Sweep without an id). */
  list(project: string): Promise<Sweep[]>;
}

export const ISweepsModel = new Token<ISweepsModel>('runlab:ISweepsModel', "Runlab's hyper-parameter sweeps, live.");
