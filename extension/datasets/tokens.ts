/** Command ids, the model token and the shared interface of the datasets feature. */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { Dataset, DatasetVersion } from '../../server/src/contract';
import type { DatasetPins } from './pins';

export namespace CommandIDs {
  export const openDatasets = 'runlab:open-datasets';
  /** args: `name`, `version` (`v3`): show that version in the Datasets panel. */
  export const revealVersion = 'runlab:reveal-dataset-version';
  /** args: `name`, `from`, `to` (labels). */
  export const compareVersions = 'runlab:compare-dataset-versions';
  /** Opens the picker dialog for the notebook in focus. */
  export const pickForNotebook = 'runlab:pick-dataset-version';
  /** args: `name`, `version`: pin it in the notebook in focus. */
  export const pinVersion = 'runlab:pin-dataset-version';
  /** args: `name`, `version`: a loading cell below the active one. */
  export const insertSnippet = 'runlab:insert-dataset-snippet';
  /** args: `name`, and `version` to delete one version (none: the whole dataset); asks first. */
  export const deleteDataset = 'runlab:delete-dataset';
}

/** Also the settings id: `schema/datasets.json`. */
export const PLUGIN_ID = 'runlab:datasets';

export interface IVersionList {
  versions: readonly DatasetVersion[];
  loading: boolean;
  error: string | null;
}

/** The notebook in focus and the dataset versions its metadata pins. */
export interface INotebookPins {
  /** The notebook's path, to name it in titles. */
  notebook: string;
  pins: DatasetPins;
}

export interface IDatasetsModel {
  /** The current project's datasets, by name; live on `dataset:committed`. */
  readonly datasets: readonly Dataset[];
  readonly loading: boolean;
  /** One sentence a user can act on, when the list could not be loaded. */
  readonly error: string | null;
  /** The project the list belongs to, or null when none is available. */
  readonly projectName: string | null;
  readonly changed: ISignal<IDatasetsModel, void>;
  /** Versions of a dataset (newest first) once `loadVersions` was called, else null. */
  versions(name: string): IVersionList | null;
  loadVersions(name: string, force?: boolean): Promise<void>;
  /** Expanded in the panel. */
  isExpanded(name: string): boolean;
  setExpanded(name: string, expanded: boolean): void;
  /** The version the panel should scroll to and highlight (`name@v3`), set by reveal. */
  readonly revealed: string | null;
  /** The pins of the notebook in focus, or null with none; `changed` follows focus and metadata edits. */
  readonly notebookPins: INotebookPins | null;
  reveal(name: string, version: string): void;
  refresh(): Promise<void>;
  /** Deletes one version (`v3`), or the whole dataset when `version` is null; then reloads. */
  delete(name: string, version: string | null): Promise<void>;
}

export const IDatasetsModel = new Token<IDatasetsModel>(
  'runlab:IDatasetsModel',
  "The current Runlab project's datasets and their versions, updated live."
);
