/**
 * runlab:projects — provides the current project to the other plugins, and the Switch Project
 * command (palette and Runlab menu, schema/projects.json).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { measureActivation } from '../activation';
import { PLUGIN_ID as CONNECTION_PLUGIN_ID } from '../connection/tokens';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import { CurrentProjectModel, IProjectChoiceStorage } from './model';
import { pickProject } from './picker';
import { CommandIDs, PLUGIN_ID } from './tokens';

function browserStorage(): IProjectChoiceStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage denied: the choice lasts until the page reloads
  }
}

export const projectsPlugin: JupyterFrontEndPlugin<ICurrentProject> = {
  id: PLUGIN_ID,
  description: 'Tracks the Runlab project this JupyterLab shows, and switches between projects.',
  autoStart: true,
  requires: [IRunlabConnection],
  optional: [ISettingRegistry, ICommandPalette],
  provides: ICurrentProject,
  activate: measureActivation(
    PLUGIN_ID,
    (app: JupyterFrontEnd, connection: IRunlabConnection, registry: ISettingRegistry | null, palette: ICommandPalette | null) => {
      const model = new CurrentProjectModel({
        connection,
        storage: browserStorage(),
        saveNotebookProject: registry ? (name) => registry.set(CONNECTION_PLUGIN_ID, 'project', name) : null
      });
      // The connection plugin reads the setting when it changes; follow it once it has.
      registry?.pluginChanged.connect((_, plugin) => {
        if (plugin === CONNECTION_PLUGIN_ID) {
          setTimeout(() => model.notebookProjectChanged(), 0);
        }
      }, model);

      app.commands.addCommand(CommandIDs.switchProject, {
        label: 'Switch Project…',
        caption: 'Choose the Runlab project this JupyterLab shows (the notebooks keep theirs)',
        isEnabled: () => connection.state.status === 'connected',
        execute: async () => {
          await model.refresh(); // fresh names and run counts for the dialog
          const name = await pickProject(model);
          if (name !== null) {
            model.select(name);
          }
        }
      });
      connection.stateChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.switchProject), model);
      palette?.addItem({ command: CommandIDs.switchProject, category: 'Runlab' });
      return model;
    }
  )
};
