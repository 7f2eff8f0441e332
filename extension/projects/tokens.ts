/** Plugin id of the projects feature; its service, ICurrentProject, is shared (../tokens). */

export const PLUGIN_ID = 'runlab:projects';
