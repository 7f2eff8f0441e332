/** Command ids and plugin id of the snapshots feature. */

export namespace CommandIDs {
  /** args: `runId`: open the notebook version the run was pinned to, read-only. */
  export const openSnapshot = 'runlab:open-snapshot';
  /** args: `runId`: replace the notebook in the workspace by that version (asks first). */
  export const restoreSnapshot = 'runlab:restore-snapshot';
}

export const PLUGIN_ID = 'runlab:snapshots';
