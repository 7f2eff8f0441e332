/** runlab:panel — the Runlab left sidebar: connection, current project, kernel client. */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import React from 'react';
import { measureActivation } from '../activation';
import { runlabIcon } from '../icons';
import { addSidePanel } from '../sidePanel';
import { CommandIDs, ICurrentProject, IKernelClients, IRunlabConnection, PluginIDs } from '../tokens';
import { RunlabPanelView } from './components';

/** Between 501 and 899: the range JupyterLab leaves for third-party side panels. */
const PANEL_RANK = 600;

export const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.panel,
  description: 'The Runlab sidebar panel.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject],
  optional: [IKernelClients, ILayoutRestorer, ICommandPalette, ISettingRegistry],
  activate: measureActivation(
    PluginIDs.panel,
    (
      app: JupyterFrontEnd,
      connection: IRunlabConnection,
      project: ICurrentProject,
      kernels: IKernelClients | null,
      restorer: ILayoutRestorer | null,
      palette: ICommandPalette | null,
      registry: ISettingRegistry | null
    ) => {
      const actions = {
        reconnect: () => void app.commands.execute(CommandIDs.reconnect),
        signIn: () => void app.commands.execute(CommandIDs.signIn),
        openSettings: () => void app.commands.execute(CommandIDs.openSettings)
      };
      const panel = addSidePanel(app, restorer, {
        id: 'jp-runlab-panel',
        title: 'Runlab',
        caption: 'Runlab',
        icon: runlabIcon,
        rank: PANEL_RANK,
        body: <RunlabPanelView connection={connection} project={project} kernels={kernels} actions={actions} />
      });

      app.commands.addCommand(CommandIDs.openPanel, {
        label: 'Runlab: Show Panel',
        caption: 'Show the Runlab sidebar',
        execute: () => app.shell.activateById(panel.id)
      });
      palette?.addItem({ command: CommandIDs.openPanel, category: 'Runlab' });

      if (registry) {
        void Promise.all([app.restored, registry.load(PluginIDs.panel)])
          .then(([, settings]) => {
            if (settings.composite.showOnStart === true) {
              app.shell.activateById(panel.id);
            }
          })
          .catch(reason => console.error('Runlab: could not load panel settings', reason));
      }
    }
  )
};
