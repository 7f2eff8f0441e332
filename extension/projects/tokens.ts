/** Command ids and plugin id of the projects feature; its service, ICurrentProject, is shared (../tokens). */

export namespace CommandIDs {
  /** Pick the project this JupyterLab session shows, in a dialog. */
  export const switchProject = 'runlab:switch-project';
}

/** Also the settings id: `schema/projects.json`. */
export const PLUGIN_ID = 'runlab:projects';
