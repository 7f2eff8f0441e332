/** runlab:statusbar — the connection state in JupyterLab's status bar; click to open the panel. */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ReactWidget } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import { measureActivation } from '../activation';
import { CommandIDs as PanelCommandIDs } from '../panel/tokens';
import { STATUS_LABELS, StatusDot } from '../shared/StatusDot';
import { IRunlabConnection } from '../tokens';
import { PLUGIN_ID } from './tokens';

export const statusbarPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Shows the Runlab connection in the status bar.',
  autoStart: true,
  requires: [IRunlabConnection, IStatusBar],
  activate: measureActivation(PLUGIN_ID, (app: JupyterFrontEnd, connection: IRunlabConnection, statusBar: IStatusBar) => {
    const item = ReactWidget.create(
      <UseSignal signal={connection.stateChanged} initialArgs={connection.state}>
        {(_, state) => {
          const current = state ?? connection.state;
          return (
            <button
              className="jp-runlab-StatusItem"
              title={current.message}
              onClick={() => void app.commands.execute(PanelCommandIDs.openPanel)}
            >
              <StatusDot status={current.status} />
              Runlab: {STATUS_LABELS[current.status]}
            </button>
          );
        }}
      </UseSignal>
    );
    item.addClass('jp-runlab-StatusBar');
    statusBar.registerStatusItem(PLUGIN_ID, { item, align: 'left', rank: 50 });
  })
};
