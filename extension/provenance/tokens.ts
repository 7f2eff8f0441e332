/** Command ids and plugin id of the provenance feature. */

export namespace CommandIDs {
  /** args: `node`, a node reference such as `run:<id>` or `dataset_version:<id>`. */
  export const showProvenance = 'runlab:show-provenance';
}

export const PLUGIN_ID = 'runlab:provenance';
