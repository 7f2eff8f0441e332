/**
 * runlab:deployments — the Deployments sidebar (status, split, figures, history; Promote, Roll
 * back, Change split, Undeploy), and Deploy model: a notebook toolbar button, a command in the
 * palette and the Runlab menu, and the models feature's version page all open its dialog.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  IToolbarWidgetRegistry,
  Notification,
  showDialog,
  showErrorMessage,
  ToolbarButton
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import React from 'react';
import type { Deployment } from '../../server/src/contract';
import { measureActivation } from '../activation';
import { CommandIDs as ModelsCommandIDs, IModelsModel } from '../models/tokens';
import { CommandIDs as MonitoringCommandIDs, IMonitoringModel } from '../monitoring/tokens';
import { describeError } from '../shared/errors';
import { addSidePanel } from '../shared/sidePanel';
import { IRunlabConnection } from '../tokens';
import { defaultModelChoice, deployModelDialog } from './deployDialog';
import { DeploymentsPanelView } from './DeploymentsPanel';
import { showDeploymentStatus } from './DeploymentStatusView';
import { secondSlot } from './format';
import { deploymentsIcon } from './icons';
import { DeploymentsModel } from './model';
import { changeSplitDialog } from './splitDialog';
import { CommandIDs, IDeploymentsModel, PLUGIN_ID } from './tokens';

/** Below the Models panel in the left sidebar. */
const DEPLOYMENTS_PANEL_RANK = 606;
/** The toolbar item's name in `jupyter.lab.toolbars` (schema/deployments.json). */
const TOOLBAR_ITEM = 'runlab-deploy-model';

const str = (value: unknown) => (typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '');

export const deploymentsPlugin: JupyterFrontEndPlugin<IDeploymentsModel> = {
  id: PLUGIN_ID,
  description: 'Deployments: the Deployments sidebar and Deploy model (toolbar button, command, dialog with a try-it box).',
  autoStart: true,
  requires: [IRunlabConnection, IModelsModel],
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette, IToolbarWidgetRegistry, IMonitoringModel],
  provides: IDeploymentsModel,
  activate: measureActivation(
    PLUGIN_ID,
    (
      app: JupyterFrontEnd,
      connection: IRunlabConnection,
      registry: IModelsModel,
      notebooks: INotebookTracker | null,
      restorer: ILayoutRestorer | null,
      palette: ICommandPalette | null,
      toolbars: IToolbarWidgetRegistry | null,
      monitoring: IMonitoringModel | null
    ) => {
      const model = new DeploymentsModel(connection);
      const showPanel = () => app.shell.activateById(panel.id);
      const follow = (deployment: Deployment, title: string) =>
        showDeploymentStatus(connection, model, deployment, { title, onShowPanel: showPanel });

      /** The dialog for `notebook` (its latest logged model is the default), or for the model and version asked for. */
      const deploy = async (notebook: NotebookPanel | null, preset: { model?: string; version?: string } = {}) => {
        try {
          const start = await defaultModelChoice(registry, notebook?.context.path ?? null, preset);
          if (!start) {
            Notification.info('No models yet: call runlab.model(...) in a run to log one, then deploy it from here.', { autoClose: 8000 });
            return;
          }
          const deployment = await deployModelDialog(connection, registry, model, start);
          if (deployment) {
            await follow(deployment, `Deploying ${deployment.name}`);
          }
        } catch (error) {
          await showErrorMessage('Could not deploy', describeError('Could not open Deploy model', error, 'deployments'));
        }
      };

      const act = (label: string, action: () => Promise<Deployment>) =>
        void action().catch((error) => showErrorMessage(`Could not ${label.toLowerCase()}`, describeError(label, error, 'deployments')));

      const panel = addSidePanel(app, restorer, {
        id: 'jp-runlab-deployments',
        title: 'Deployments',
        caption: 'Runlab deployments',
        icon: deploymentsIcon,
        rank: DEPLOYMENTS_PANEL_RANK,
        className: 'jp-runlab-DeploymentsPanel',
        body: (
          <DeploymentsPanelView
            model={model}
            monitoring={monitoring}
            actions={{
              monitor: (deployment) => void app.commands.execute(MonitoringCommandIDs.openMonitoring, { deploymentId: deployment.id }),
              deploy: () => void app.commands.execute(CommandIDs.deployModel),
              tryIt: (deployment) => void follow(deployment, `Try ${deployment.name}`),
              openVersion: (name, version) =>
                void app.commands.execute(ModelsCommandIDs.openModelVersion, { name, version: String(version) }),
              promote: (deployment) => act('Promote', () => model.promote(deployment.id, 'promoted from the Deployments panel')),
              rollback: (deployment) =>
                void (async () => {
                  const second = secondSlot(deployment.slots);
                  const rolloutFailed = deployment.status === 'failed' || deployment.kubernetes?.rollout?.phase === 'failed';
                  const answer = await showDialog({
                    title: `Roll back ${deployment.name}?`,
                    body: second
                      ? `The ${second.role} (v${second.version}) is dropped: the stable version takes all the traffic again.`
                      : deployment.kubernetes && rolloutFailed
                        ? `Revision ${deployment.revision} did not roll out: the deployment goes back to the last revision that was ready.`
                        : 'The deployment goes back to its previous stable version.',
                    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Roll back' })]
                  });
                  if (answer.button.accept) {
                    act('Roll back', () => model.rollback(deployment.id, 'rolled back from the Deployments panel'));
                  }
                })(),
              reconcile: (deployment) => void app.commands.execute(CommandIDs.reconcileDeployment, { id: deployment.id }),
              changeSplit: (deployment) =>
                void changeSplitDialog(registry, model, deployment).catch((error) =>
                  showErrorMessage('Could not change the split', describeError('Change split', error, 'deployments'))
                ),
              undeploy: (deployment) =>
                void (async () => {
                  const answer = await showDialog({
                    title: `Undeploy ${deployment.name}?`,
                    body: deployment.kubernetes
                      ? `Runlab deletes what it created in ${deployment.kubernetes.context} / ${deployment.kubernetes.namespace} ` +
                        `(${deployment.kubernetes.objects.map((object) => `${object.kind}/${object.name}`).join(', ') || 'its objects'}), ` +
                        `and nothing else. The deployment's record and history stay.`
                      : `Its serving processes stop and ${deployment.endpoint ?? 'its endpoint'} stops answering. The deployment's record and history stay.`,
                    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Undeploy' })]
                  });
                  if (answer.button.accept) {
                    act('Undeploy', () => model.undeploy(deployment.id));
                  }
                })()
            }}
          />
        )
      });

      app.commands.addCommand(CommandIDs.openDeployments, {
        label: 'Show Deployments',
        caption: 'Show the deployed models: status, traffic split, latency, history',
        icon: deploymentsIcon,
        execute: showPanel
      });
      app.commands.addCommand(CommandIDs.deployModel, {
        label: 'Deploy Model…',
        caption: 'Serve a model version on this machine or a Kubernetes cluster, with an optional canary or shadow, and try it',
        icon: deploymentsIcon,
        execute: (args) => deploy(notebooks?.currentWidget ?? null, { model: str(args.model), version: str(args.version) })
      });
      app.commands.addCommand(CommandIDs.tryDeployment, {
        label: 'Try Deployment',
        caption: "A deployment's endpoint and try-it box",
        execute: async (args) => {
          const deployment =
            model.deployment(str(args.id)) ?? (await connection.api.deployments.getDeployment({ params: { id: str(args.id) } }));
          await follow(deployment, `Try ${deployment.name}`);
        }
      });

      app.commands.addCommand(CommandIDs.reconcileDeployment, {
        label: 'Reconcile Deployment',
        caption: "Write a Kubernetes deployment's objects again as Runlab wants them (undoes changes made outside Runlab)",
        isEnabled: (args) => !args.id || model.deployment(str(args.id))?.target !== 'local',
        execute: (args) => {
          const id = str(args.id);
          if (id) {
            act('Reconcile', () => model.reconcile(id, 'reconciled from the Deployments panel'));
          }
        }
      });

      toolbars?.addFactory<NotebookPanel>('Notebook', TOOLBAR_ITEM, (notebook) => {
        const button = new ToolbarButton({
          icon: deploymentsIcon,
          label: 'Deploy model',
          tooltip: 'Serve the latest model logged from this notebook, and try it',
          // This toolbar's notebook, whichever has the focus.
          onClick: () => void deploy(notebook)
        });
        button.addClass('jp-runlab-DeployModelButton');
        return button;
      });

      palette?.addItem({ command: CommandIDs.openDeployments, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.deployModel, category: 'Runlab' });
      return model;
    }
  )
};
