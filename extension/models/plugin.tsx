/**
 * runlab:models — the Models sidebar (models, versions, aliases with history and Roll back),
 * a model version's page, and Set alias. Deploying a version is the deployments feature's
 * command (`runlab:deploy-model`).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, MainAreaWidget, showDialog, showErrorMessage, WidgetTracker } from '@jupyterlab/apputils';
import React from 'react';
import { measureActivation } from '../activation';
import { CommandIDs as DatasetsCommandIDs } from '../datasets/tokens';
import { CommandIDs as DeploymentsCommandIDs } from '../deployments/tokens';
import { CommandIDs as ProvenanceCommandIDs } from '../provenance/tokens';
import { CommandIDs as RunsCommandIDs } from '../runs/tokens';
import { describeError } from '../shared/errors';
import { addSidePanel } from '../shared/sidePanel';
import { CommandIDs as SnapshotsCommandIDs } from '../snapshots/tokens';
import { IRunlabConnection } from '../tokens';
import { setAliasDialog } from './aliasDialog';
import { modelsIcon } from './icons';
import { ModelsModel } from './model';
import { ModelsPanelView } from './ModelsPanel';
import { createModelVersionView, IModelVersionActions } from './ModelVersionView';
import { CommandIDs, IModelsModel, PLUGIN_ID } from './tokens';

/** Below the Runners panel in the left sidebar. */
const MODELS_PANEL_RANK = 605;

const str = (value: unknown) => (typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '');

export const modelsPlugin: JupyterFrontEndPlugin<IModelsModel> = {
  id: PLUGIN_ID,
  description: 'The model registry: the Models sidebar, a version’s page, aliases with their history and Roll back.',
  autoStart: true,
  requires: [IRunlabConnection],
  optional: [ILayoutRestorer, ICommandPalette],
  provides: IModelsModel,
  activate: measureActivation(
    PLUGIN_ID,
    (app: JupyterFrontEnd, connection: IRunlabConnection, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
      const registry = new ModelsModel(connection);
      const views = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-model-versions' });
      const viewArgs = new WeakMap<MainAreaWidget, { name: string; version: string }>();

      const setAlias = (name: string, version?: number) =>
        void setAliasDialog(registry, name, { version }).catch((error) =>
          showErrorMessage('Could not set an alias', describeError(`Could not set an alias of ${name}`, error, 'models'))
        );
      const rollback = (name: string, alias: string) =>
        void (async () => {
          const history = registry.history(name) ?? (await registry.loadHistory(name));
          const latest = history.find((move) => move.alias === alias);
          const answer = await showDialog({
            title: `Roll back ${name}@${alias}?`,
            body: latest?.fromVersion
              ? `${alias} goes back from v${latest.toVersion} to v${latest.fromVersion}, the version it pointed at before its last move. The move is recorded in its history.`
              : `${alias} goes back to the version it pointed at before its last move.`,
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Roll back' })]
          });
          if (answer.button.accept) {
            await registry
              .rollbackAlias(name, alias, 'rolled back from the Models panel')
              .catch((error) =>
                showErrorMessage(`Could not roll back ${alias}`, describeError(`Could not roll back ${alias}`, error, 'models'))
              );
          }
        })();
      const deploy = (name: string, version: number) =>
        void app.commands.execute(DeploymentsCommandIDs.deployModel, { model: name, version: `v${version}` });
      const openRun = (runId: string) => void app.commands.execute(RunsCommandIDs.openRun, { runId });
      const versionActions: IModelVersionActions = {
        openRun,
        openSnapshot: (runId) => void app.commands.execute(SnapshotsCommandIDs.openSnapshot, { runId }),
        revealDataset: (name, version) => void app.commands.execute(DatasetsCommandIDs.revealVersion, { name, version }),
        showProvenance: (node) => void app.commands.execute(ProvenanceCommandIDs.showProvenance, { node }),
        deploy,
        setAlias,
        rollback
      };

      const openVersion = (name: string, version: string) => {
        const existing = views.find((widget) => {
          const args = viewArgs.get(widget);
          return args?.name === name && args.version === version;
        });
        if (existing) {
          app.shell.activateById(existing.id);
          return;
        }
        const widget = createModelVersionView(connection, registry, name, version, versionActions);
        viewArgs.set(widget, { name, version });
        void views.add(widget);
        app.shell.add(widget, 'main');
      };

      const panel = addSidePanel(app, restorer, {
        id: 'jp-runlab-models',
        title: 'Models',
        caption: 'Runlab model registry',
        icon: modelsIcon,
        rank: MODELS_PANEL_RANK,
        className: 'jp-runlab-ModelsPanel',
        body: (
          <ModelsPanelView
            registry={registry}
            actions={{ openVersion: (name, version) => openVersion(name, String(version)), openRun, deploy, setAlias, rollback }}
          />
        )
      });

      app.commands.addCommand(CommandIDs.openModels, {
        label: 'Show Models',
        caption: 'Show the model registry: models, versions, aliases and their history',
        icon: modelsIcon,
        execute: () => app.shell.activateById(panel.id)
      });
      app.commands.addCommand(CommandIDs.openModelVersion, {
        label: (args) => (args.name ? `Open Model ${str(args.name)}@${str(args.version) || 'latest'}` : 'Open Model Version…'),
        caption: 'Open a model version’s page: its signature, lineage, metrics and aliases',
        icon: modelsIcon,
        execute: async (args) => {
          let name = str(args.name);
          let version = str(args.version) || 'latest';
          if (!name) {
            const answer = await InputDialog.getText({
              title: 'Open model version',
              label: 'Model (name, name@v3, name@production)',
              placeholder: 'churn@production'
            });
            [name, version = 'latest'] = str(answer.value).split('@');
          }
          if (name) {
            openVersion(name, version.replace(/^v(\d+)$/, '$1'));
          }
        }
      });
      app.commands.addCommand(CommandIDs.setModelAlias, {
        label: 'Set Model Alias…',
        caption: 'Point an alias (production, staging, …) at a model version',
        execute: async (args) => {
          const name = str(args.name);
          if (name) {
            setAlias(name, args.version === undefined ? undefined : Number(str(args.version).replace(/^v/, '')));
          } else {
            app.shell.activateById(panel.id);
          }
        }
      });

      if (restorer) {
        void restorer.restore(views, {
          command: CommandIDs.openModelVersion,
          args: (widget) => ({ ...(viewArgs.get(widget) ?? {}) }),
          name: (widget) => {
            const args = viewArgs.get(widget);
            return args ? `${args.name}@${args.version}` : widget.id;
          }
        });
      }

      palette?.addItem({ command: CommandIDs.openModels, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.openModelVersion, category: 'Runlab' });
      return registry;
    }
  )
};
