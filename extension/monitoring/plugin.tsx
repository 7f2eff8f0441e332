/**
 * runlab:monitoring — production monitoring: a Monitoring view per deployment (main area, from
 * the Deployments panel, the palette or the Runlab menu), the drift badge the Deployments panel
 * shows (through IMonitoringModel), and a JupyterLab notice when an alert fires.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, Notification, showErrorMessage, WidgetTracker } from '@jupyterlab/apputils';
import { measureActivation } from '../activation';
import { describeError } from '../shared/errors';
import { IRunlabConnection } from '../tokens';
import { monitoringIcon } from './icons';
import { MonitoringModel } from './model';
import { createMonitoringView } from './MonitoringView';
import { CommandIDs, IMonitoringModel, PLUGIN_ID } from './tokens';

const str = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

export const monitoringPlugin: JupyterFrontEndPlugin<IMonitoringModel> = {
  id: PLUGIN_ID,
  description: 'Production monitoring: a Monitoring view per deployment (traffic, drift, alerts, Retrain) and live alert notices.',
  autoStart: true,
  requires: [IRunlabConnection],
  optional: [ILayoutRestorer, ICommandPalette],
  provides: IMonitoringModel,
  activate: measureActivation(
    PLUGIN_ID,
    (app: JupyterFrontEnd, connection: IRunlabConnection, restorer: ILayoutRestorer | null, palette: ICommandPalette | null) => {
      const model = new MonitoringModel(connection);
      const views = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-monitoring' });
      const viewDeployments = new WeakMap<MainAreaWidget, string>();

      const open = (deploymentId: string, label = deploymentId) => {
        const existing = views.find((widget) => viewDeployments.get(widget) === deploymentId);
        if (existing) {
          app.shell.activateById(existing.id);
          void model.monitor(deploymentId).refresh();
          return;
        }
        const widget = createMonitoringView(model.monitor(deploymentId), label, () => model.release(deploymentId));
        viewDeployments.set(widget, deploymentId);
        void views.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      };

      app.commands.addCommand(CommandIDs.openMonitoring, {
        label: (args) => (args.deploymentId ? 'Monitoring' : 'Open Monitoring…'),
        caption: 'A deployment in production: traffic, latency, drift per feature against the training data, alerts, Retrain',
        icon: monitoringIcon,
        execute: async (args) => {
          try {
            const deploymentId = str(args.deploymentId);
            if (deploymentId) {
              open(deploymentId);
              return;
            }
            const deployments = await model.deployments();
            if (!deployments.length) {
              Notification.info('No deployments yet: deploy a model (Runlab → Deploy Model…), then monitor it here.', { autoClose: 8000 });
              return;
            }
            const answer = await InputDialog.getItem({
              title: 'Open monitoring',
              label: 'Deployment',
              items: deployments.map((deployment) => deployment.name)
            });
            const chosen = deployments.find((deployment) => deployment.name === answer.value);
            if (answer.button.accept && chosen) {
              open(chosen.id, chosen.name);
            }
          } catch (error) {
            await showErrorMessage('Could not open monitoring', describeError('Could not open monitoring', error, 'monitoring'));
          }
        }
      });

      model.alertFired.connect((_, alert) => {
        Notification.warning(`${alert.deploymentName}: ${alert.message}`, {
          autoClose: false,
          actions: [
            {
              label: 'Open monitoring',
              caption: `The Monitoring view of ${alert.deploymentName}`,
              callback: () => open(alert.deploymentId, alert.deploymentName)
            }
          ]
        });
      });

      if (restorer) {
        void restorer.restore(views, {
          command: CommandIDs.openMonitoring,
          args: (widget) => ({ deploymentId: viewDeployments.get(widget) ?? '' }),
          name: (widget) => viewDeployments.get(widget) ?? widget.id
        });
      }
      palette?.addItem({ command: CommandIDs.openMonitoring, category: 'Runlab' });
      return model;
    }
  )
};
