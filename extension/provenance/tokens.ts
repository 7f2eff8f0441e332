/** Command ids of the provenance feature. */
export namespace ProvenanceCommandIDs {
  /** args: `node`, a node reference such as `run:<id>` or `dataset_version:<id>`. */
  export const showProvenance = 'runlab:show-provenance';
}

export const PROVENANCE_PLUGIN_ID = 'runlab:provenance';
