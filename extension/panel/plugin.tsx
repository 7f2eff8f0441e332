/** runlab:panel — the Runlab left sidebar: connection, current project, kernel client. */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import React from 'react';
import { measureActivation } from '../activation';
import { CommandIDs as ConnectionCommandIDs } from '../connection/tokens';
import { runlabIcon } from '../shared/icons';
import { addSidePanel } from '../shared/sidePanel';
import { ICurrentProject, IKernelClients, IRunlabConnection } from '../tokens';
import { RunlabPanelView } from './PanelView';
import { CommandIDs, PLUGIN_ID } from './tokens';

/** Between 501 and 899: the range JupyterLab leaves for third-party side panels. */
const PANEL_RANK = 600;

export const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The Runlab sidebar panel.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject],
  optional: [IKernelClients, ILayoutRestorer, ICommandPalette, ISettingRegistry],
  activate: measureActivation(
    PLUGIN_ID,
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
        reconnect: () => void app.commands.execute(ConnectionCommandIDs.reconnect),
        signIn: () => void app.commands.execute(ConnectionCommandIDs.signIn),
        openSettings: () => void app.commands.execute(ConnectionCommandIDs.openSettings),
        useLocalServer: () => void app.commands.execute(ConnectionCommandIDs.useLocalServer)
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
        label: 'Show Panel',
        caption: 'Show the Runlab sidebar',
        execute: () => app.shell.activateById(panel.id)
      });
      palette?.addItem({ command: CommandIDs.openPanel, category: 'Runlab' });

      if (registry) {
        void Promise.all([app.restored, registry.load(PLUGIN_ID)])
          .then(([, settings]) => {
            if (settings.composite.showOnStart === true) {
              app.shell.activateById(panel.id);
            }
          })
          .catch((reason) => console.error('Runlab: could not load panel settings', reason));
      }
    }
  )
};
