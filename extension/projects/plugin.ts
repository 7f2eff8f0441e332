/** runlab:projects — provides the current project to the other plugins. */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { measureActivation } from '../activation';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import { CurrentProjectModel } from './model';
import { PLUGIN_ID } from './tokens';

export const projectsPlugin: JupyterFrontEndPlugin<ICurrentProject> = {
  id: PLUGIN_ID,
  description: 'Tracks the Runlab project of the open notebooks.',
  autoStart: true,
  requires: [IRunlabConnection],
  provides: ICurrentProject,
  activate: measureActivation(PLUGIN_ID, (_app, connection: IRunlabConnection) => {
    return new CurrentProjectModel(connection);
  })
};
