/** runlab:kernel — loads the Runlab Python client into notebook kernels. */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { measureActivation } from '../activation';
import { IKernelClients, IRunlabConnection } from '../tokens';
import { KernelClientsModel } from './model';
import { CommandIDs, PLUGIN_ID } from './tokens';

export const kernelPlugin: JupyterFrontEndPlugin<IKernelClients> = {
  id: PLUGIN_ID,
  description: 'Loads the Runlab client into notebook kernels, with the server URL and token.',
  autoStart: true,
  requires: [INotebookTracker, IRunlabConnection],
  optional: [ICommandPalette],
  provides: IKernelClients,
  activate: measureActivation(
    PLUGIN_ID,
    (app: JupyterFrontEnd, tracker: INotebookTracker, connection: IRunlabConnection, palette: ICommandPalette | null) => {
      const model = new KernelClientsModel(tracker, connection);
      app.commands.addCommand(CommandIDs.reattachKernel, {
        label: 'Load Client into Kernel',
        caption: "Hand this notebook's kernel the Runlab server URL and token again",
        isEnabled: () => tracker.currentWidget !== null,
        execute: () => {
          const panel = tracker.currentWidget;
          return panel ? model.attach(panel) : undefined;
        }
      });
      palette?.addItem({ command: CommandIDs.reattachKernel, category: 'Runlab' });
      return model;
    }
  )
};
