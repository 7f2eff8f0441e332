/** Command ids and plugin id of the connection feature; its service, IRunlabConnection, is shared (../tokens). */

export namespace CommandIDs {
  export const reconnect = 'runlab:reconnect';
  export const signIn = 'runlab:sign-in';
  export const openSettings = 'runlab:open-settings';
  /** Switch the settings back to the local server `npm start` runs, and connect to it. */
  export const useLocalServer = 'runlab:use-local-server';
}

/** Also the settings id: `schema/connection.json`. */
export const PLUGIN_ID = 'runlab:connection';
