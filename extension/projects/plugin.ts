/** runlab:projects — provides the current project to the other plugins. */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { measureActivation } from '../activation';
import { ICurrentProject, IRunlabConnection, PluginIDs } from '../tokens';
import { CurrentProjectModel } from './model';

export const projectsPlugin: JupyterFrontEndPlugin<ICurrentProject> = {
  id: PluginIDs.projects,
  description: 'Tracks the Runlab project of the open notebooks.',
  autoStart: true,
  requires: [IRunlabConnection],
  provides: ICurrentProject,
  activate: measureActivation(PluginIDs.projects, (_app, connection: IRunlabConnection) => {
    return new CurrentProjectModel(connection);
  })
};
