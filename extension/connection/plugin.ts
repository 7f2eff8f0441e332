/**
 * runlab:connection — reads Settings → Runlab, owns the ConnectionModel, and offers the
 * reconnect / sign-in / settings commands.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { measureActivation } from '../activation';
import { IConnectionSettings, IRunlabConnection } from '../tokens';
import { ConnectionModel } from './model';
import { askForSignIn } from './signIn';
import { CommandIDs, PLUGIN_ID } from './tokens';

function readSettings(settings: ISettingRegistry.ISettings): IConnectionSettings {
  return {
    serverUrl: ((settings.composite.serverUrl as string) ?? '').trim(),
    token: ((settings.composite.token as string) ?? '').trim(),
    project: ((settings.composite.project as string) ?? '').trim() || 'demo'
  };
}

export const connectionPlugin: JupyterFrontEndPlugin<IRunlabConnection> = {
  id: PLUGIN_ID,
  description: 'Connects JupyterLab to the Runlab companion server.',
  autoStart: true,
  requires: [ISettingRegistry],
  optional: [ICommandPalette],
  provides: IRunlabConnection,
  activate: measureActivation(PLUGIN_ID, (app: JupyterFrontEnd, registry: ISettingRegistry, palette: ICommandPalette | null) => {
    const model = new ConnectionModel({ serverUrl: '', token: '', project: 'demo' });
    let settings: ISettingRegistry.ISettings | null = null;

    // Settings load after activation returns, so start-up is not held up by the network.
    void Promise.all([app.restored, registry.load(PLUGIN_ID)])
      .then(([, loaded]) => {
        settings = loaded;
        model.configure(readSettings(loaded));
        loaded.changed.connect(() => model.configure(readSettings(loaded)), model);
      })
      .catch((reason) => console.error('Runlab: could not load settings', reason));

    app.commands.addCommand(CommandIDs.reconnect, {
      label: 'Runlab: Reconnect to Server',
      caption: 'Connect to the Runlab companion server again now',
      execute: () => model.reconnect()
    });
    app.commands.addCommand(CommandIDs.signIn, {
      label: 'Runlab: Sign In…',
      caption: 'Set the Runlab server URL and access token',
      execute: async () => {
        const changes = await askForSignIn(model.settings);
        if (!changes || !settings) {
          return;
        }
        for (const [key, value] of Object.entries(changes)) {
          await settings.set(key, value as string);
        }
      }
    });
    app.commands.addCommand(CommandIDs.openSettings, {
      label: 'Runlab: Open Settings',
      execute: () => app.commands.execute('settingeditor:open', { query: 'Runlab' })
    });
    for (const command of [CommandIDs.reconnect, CommandIDs.signIn, CommandIDs.openSettings]) {
      palette?.addItem({ command, category: 'Runlab' });
    }
    return model;
  })
};
