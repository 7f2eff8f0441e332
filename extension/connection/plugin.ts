/**
 * runlab:connection — reads Settings → Runlab, owns the ConnectionModel, and offers the
 * reconnect / sign-in / use-the-local-server / settings commands.
 *
 * The local server `npm start` runs is what the settings defaults name (see localServer.ts).
 * At load, a stale localhost address in the user's settings (an earlier local server's, no
 * longer answering) gives way to it; a server the user signed in to on purpose is kept.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { measureActivation } from '../activation';
import { IConnectionSettings, IRunlabConnection } from '../tokens';
import {
  ILocalServer,
  isLocalServer,
  isStaleLocalSetting,
  IUserConnectionSettings,
  localServerFromDefaults,
  serverHealth,
  signInSettings,
  useLocalServerSettings
} from './localServer';
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

function readUser(settings: ISettingRegistry.ISettings): IUserConnectionSettings {
  return settings.user as IUserConnectionSettings;
}

function readLocalServer(settings: ISettingRegistry.ISettings): ILocalServer | null {
  return localServerFromDefaults({ serverUrl: settings.default('serverUrl'), token: settings.default('token') });
}

/** Write the user's connection settings at once (one change, one reconnect). */
async function saveUser(settings: ISettingRegistry.ISettings, user: IUserConnectionSettings): Promise<boolean> {
  if (JSON.stringify(user) === JSON.stringify(settings.user)) {
    return false;
  }
  await settings.save(JSON.stringify(user, null, 2));
  return true;
}

/** Drop the user's server address if it is a stale local one; answers the address dropped. */
async function dropStaleLocalSetting(settings: ISettingRegistry.ISettings, local: ILocalServer | null): Promise<string | null> {
  const configured = readSettings(settings);
  const user = readUser(settings);
  if (!local || user.serverUrl === undefined || isLocalServer(configured.serverUrl, local)) {
    return null; // nothing of the user's own stands between this JupyterLab and its local server
  }
  const [configuredHealth, localHealth] = await Promise.all([serverHealth(configured.serverUrl), serverHealth(local.url)]);
  const stale = isStaleLocalSetting({
    configured,
    user,
    local,
    configuredAnswers: configuredHealth !== null,
    localAnswers: localHealth !== null
  });
  if (!stale) {
    return null;
  }
  await saveUser(settings, useLocalServerSettings(user));
  return configured.serverUrl;
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
    const apply = (loaded: ISettingRegistry.ISettings) => {
      model.setLocalServer(readLocalServer(loaded));
      model.configure(readSettings(loaded));
    };

    // Settings load after activation returns, so start-up is not held up by the network.
    void Promise.all([app.restored, registry.load(PLUGIN_ID)])
      .then(async ([, loaded]) => {
        const local = readLocalServer(loaded);
        const dropped = await dropStaleLocalSetting(loaded, local).catch((reason) => {
          console.error('Runlab: could not check the server in the settings', reason);
          return null;
        });
        settings = loaded;
        apply(loaded);
        loaded.changed.connect(() => apply(loaded), model);
        if (dropped && local) {
          // Toasts show 140 characters: the two addresses and what happened, nothing more.
          Notification.info(`Runlab: ${dropped} (in your settings) no longer answers; now using the local server ${local.url}.`, {
            autoClose: 10000
          });
        }
      })
      .catch((reason) => console.error('Runlab: could not load settings', reason));

    app.commands.addCommand(CommandIDs.reconnect, {
      label: 'Reconnect to Server',
      caption: 'Connect to the Runlab companion server again now',
      execute: () => model.reconnect()
    });
    app.commands.addCommand(CommandIDs.signIn, {
      label: 'Sign In…',
      caption: 'Set the Runlab server URL and access token',
      execute: async () => {
        const entered = await askForSignIn(model.settings, model.localServer);
        if (!entered || !settings) {
          return;
        }
        if (!(await saveUser(settings, signInSettings(readUser(settings), entered, model.localServer)))) {
          model.reconnect(); // the same details again: try them again
        }
      }
    });
    const offersLocalServer = () => settings !== null && model.state.localServerUrl !== null;
    app.commands.addCommand(CommandIDs.useLocalServer, {
      label: 'Use the Local Server',
      caption: () => `Switch to the local Runlab server that \`npm start\` runs (${model.localServer?.url ?? 'none'}) and connect to it`,
      isEnabled: offersLocalServer,
      isVisible: offersLocalServer,
      execute: async () => {
        if (settings && model.localServer) {
          await saveUser(settings, useLocalServerSettings(readUser(settings)));
        }
      }
    });
    model.stateChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.useLocalServer));
    app.commands.addCommand(CommandIDs.openSettings, {
      label: 'Open Settings',
      execute: () => app.commands.execute('settingeditor:open', { query: 'Runlab' })
    });
    for (const command of [CommandIDs.reconnect, CommandIDs.signIn, CommandIDs.useLocalServer, CommandIDs.openSettings]) {
      palette?.addItem({ command, category: 'Runlab' });
    }
    return model;
  })
};
