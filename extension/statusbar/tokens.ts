/** Plugin id of the status bar item (also the item's id in the status bar). */

export const PLUGIN_ID = 'runlab:statusbar';
