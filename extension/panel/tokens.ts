/** Command ids and plugin id of the Runlab sidebar panel. */

export namespace CommandIDs {
  export const openPanel = 'runlab:open-panel';
}

/** Also the settings id: `schema/panel.json`. */
export const PLUGIN_ID = 'runlab:panel';
