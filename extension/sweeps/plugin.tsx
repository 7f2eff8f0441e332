/**
 * runlab:sweeps — hyper-parameter sweeps: "Sweep…" for the notebook in focus (toolbar button next
 * to Run on Runner, command, Runlab menu) and the sweep page (main area, restored with the layout;
 * from the dialog, the Runs panel's sweep row, the palette).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  IToolbarWidgetRegistry,
  MainAreaWidget,
  Notification,
  showDialog,
  showErrorMessage,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { measureActivation } from '../activation';
import { CommandIDs as ModelsCommandIDs } from '../models/tokens';
import { IRunnersModel } from '../runners/tokens';
import { metricKeys } from '../runs/metrics';
import { CommandIDs as RunsCommandIDs, IRunsModel } from '../runs/tokens';
import { describeError } from '../shared/errors';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import { sweepsIcon } from './icons';
import { SweepsModel } from './model';
import { sweepDialog } from './sweepDialog';
import { createSweepView, ISweepActions } from './SweepView';
import { CommandIDs, ISweepsModel, PLUGIN_ID } from './tokens';

/** The toolbar item's name in `jupyter.lab.toolbars` (schema/sweeps.json). */
const TOOLBAR_ITEM = 'runlab-sweep';

const str = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

export const sweepsPlugin: JupyterFrontEndPlugin<ISweepsModel> = {
  id: PLUGIN_ID,
  description: 'Hyper-parameter sweeps: the Sweep dialog for notebooks and the sweep page.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject],
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette, IToolbarWidgetRegistry, IRunnersModel, IRunsModel],
  provides: ISweepsModel,
  activate: measureActivation(
    PLUGIN_ID,
    (
      app: JupyterFrontEnd,
      connection: IRunlabConnection,
      project: ICurrentProject,
      notebooks: INotebookTracker | null,
      restorer: ILayoutRestorer | null,
      palette: ICommandPalette | null,
      toolbars: IToolbarWidgetRegistry | null,
      runners: IRunnersModel | null,
      runs: IRunsModel | null
    ) => {
      const model = new SweepsModel(connection);
      const views = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-sweeps' });
      const viewSweeps = new WeakMap<MainAreaWidget, string>();
      const current = () => notebooks?.currentWidget ?? null;
      const actions: ISweepActions = {
        openRun: (runId) => void app.commands.execute(RunsCommandIDs.openRun, { runId }),
        promote: (best) => void app.commands.execute(ModelsCommandIDs.setModelAlias, { name: best.name, version: String(best.version) }),
        confirmCancel: async (sweep) => {
          const answer = await showDialog({
            title: `Cancel sweep ${sweep.name}?`,
            body:
              `Its ${sweep.counts.running + sweep.counts.queued} queued and running trials are cancelled and no new ones start; ` +
              `the ${sweep.done} finished trials and their runs stay. A cancelled sweep cannot be resumed.`,
            buttons: [Dialog.cancelButton({ label: 'Keep running' }), Dialog.warnButton({ label: 'Cancel sweep' })]
          });
          return answer.button.accept;
        }
      };

      const open = (sweepId: string) => {
        const existing = views.find((widget) => viewSweeps.get(widget) === sweepId);
        if (existing) {
          app.shell.activateById(existing.id);
          void model.watch(sweepId).refresh();
          return;
        }
        const widget = createSweepView(model.watch(sweepId), actions, () => model.release(sweepId));
        viewSweeps.set(widget, sweepId);
        void views.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      };

      /** The objective to offer: metrics this notebook's runs logged, most common first. */
      const objectivesOf = (notebook: NotebookPanel) =>
        metricKeys((runs?.runs ?? []).filter((run) => run.notebookPath === notebook.context.path).slice(0, 200));

      const startSweep = async (notebook: NotebookPanel) => {
        const sweep = await sweepDialog(connection, runners, notebook, project.name, objectivesOf(notebook));
        if (sweep) {
          open(sweep.id);
        }
      };

      app.commands.addCommand(CommandIDs.newSweep, {
        label: 'Sweep…',
        caption: 'Run this notebook many times on runners over ranges of its parameters, to find the best values',
        icon: sweepsIcon,
        isEnabled: () => current() !== null,
        execute: () => {
          const notebook = current();
          return notebook ? startSweep(notebook) : undefined;
        }
      });
      notebooks?.currentChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.newSweep));

      app.commands.addCommand(CommandIDs.openSweep, {
        label: (args) => (args.sweepId ? 'Open Sweep' : 'Open Sweep…'),
        caption: "A sweep's page: progress, the best trial, which parameters matter, pause / resume / cancel",
        icon: sweepsIcon,
        execute: async (args) => {
          try {
            const sweepId = str(args.sweepId);
            if (sweepId) {
              open(sweepId);
              return;
            }
            const sweeps = await model.list(project.name);
            if (!sweeps.length) {
              Notification.info(
                `No sweeps in ${project.name} yet: open a notebook with a parameters cell and press Sweep in its toolbar.`,
                {
                  autoClose: 8000
                }
              );
              return;
            }
            const label = (sweep: (typeof sweeps)[number]) => `${sweep.name} (${sweep.status}, ${sweep.done} of ${sweep.spec.trials})`;
            const answer = await InputDialog.getItem({ title: 'Open sweep', label: 'Sweep', items: sweeps.map(label) });
            const chosen = sweeps.find((sweep) => label(sweep) === answer.value);
            if (answer.button.accept && chosen) {
              open(chosen.id);
            }
          } catch (error) {
            await showErrorMessage('Could not open the sweep', describeError('Could not open the sweep', error, 'sweeps'));
          }
        }
      });

      toolbars?.addFactory<NotebookPanel>('Notebook', TOOLBAR_ITEM, (notebook) => {
        const button = new ToolbarButton({
          icon: sweepsIcon,
          label: 'Sweep',
          tooltip: 'Sweep this notebook over ranges of its parameters on runners',
          onClick: () => void startSweep(notebook)
        });
        button.addClass('jp-runlab-SweepButton');
        return button;
      });

      if (restorer) {
        void restorer.restore(views, {
          command: CommandIDs.openSweep,
          args: (widget) => ({ sweepId: viewSweeps.get(widget) ?? '' }),
          name: (widget) => viewSweeps.get(widget) ?? widget.id
        });
      }
      palette?.addItem({ command: CommandIDs.newSweep, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.openSweep, category: 'Runlab' });
      return model;
    }
  )
};
