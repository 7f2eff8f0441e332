/**
 * runlab:runners — the Runners sidebar (add, drain, remove; Kubernetes runner pools: add, remove), Run on Runner for the notebook in
 * focus (toolbar button and command), the job view, and Re-run for a run.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  IToolbarWidgetRegistry,
  MainAreaWidget,
  showDialog,
  showErrorMessage,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { measureActivation } from '../activation';
import { CommandIDs as RunsCommandIDs } from '../runs/tokens';
import { describeError } from '../shared/errors';
import { addSidePanel } from '../shared/sidePanel';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import React from 'react';
import { addRunnerPoolDialog } from './addPool';
import { addRunnerDialog } from './addRunner';
import { runnersIcon } from './icons';
import { createJobView, IJobActions } from './JobView';
import { RunnersModel } from './model';
import { RunnerPoolsModel } from './pools';
import { runOnRunnerDialog } from './runDialog';
import { RunnersPanelView } from './RunnersPanel';
import { CommandIDs, IRunnersModel, PLUGIN_ID } from './tokens';

/** Below the Datasets panel in the left sidebar. */
const RUNNERS_PANEL_RANK = 604;
/** The toolbar item's name in `jupyter.lab.toolbars` (schema/runners.json). */
const TOOLBAR_ITEM = 'runlab-run-on-runner';

const str = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

export const runnersPlugin: JupyterFrontEndPlugin<IRunnersModel> = {
  id: PLUGIN_ID,
  description: 'Runners: the Runners sidebar, Run on Runner for notebooks, the job view and Re-run.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject],
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette, IToolbarWidgetRegistry],
  provides: IRunnersModel,
  activate: measureActivation(
    PLUGIN_ID,
    (
      app: JupyterFrontEnd,
      connection: IRunlabConnection,
      project: ICurrentProject,
      notebooks: INotebookTracker | null,
      restorer: ILayoutRestorer | null,
      palette: ICommandPalette | null,
      toolbars: IToolbarWidgetRegistry | null
    ) => {
      const model = new RunnersModel(connection);
      const pools = new RunnerPoolsModel(connection);
      const jobViews = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-jobs' });
      const jobIds = new WeakMap<MainAreaWidget, string>();
      const current = () => notebooks?.currentWidget ?? null;
      const jobActions: IJobActions = {
        openRun: (runId) => void app.commands.execute(RunsCommandIDs.openRun, { runId }),
        compare: (original, runId) => void app.commands.execute(RunsCommandIDs.compareRuns, { runIds: [original, runId] })
      };

      /** The job's tab, opened (or found) and shown; its model lets callers wait for the end. */
      const openJob = (jobId: string) => {
        const existing = jobViews.find((widget) => jobIds.get(widget) === jobId);
        if (existing) {
          app.shell.activateById(existing.id);
          return null;
        }
        const view = createJobView(connection, jobId, jobActions);
        jobIds.set(view.widget, jobId);
        void jobViews.add(view.widget);
        app.shell.add(view.widget, 'main');
        return view.model;
      };

      const runOn = async (notebook: NotebookPanel) => {
        const job = await runOnRunnerDialog(connection, model, notebook, project.name);
        if (job) {
          openJob(job.id);
        }
      };

      const panel = addSidePanel(app, restorer, {
        id: 'jp-runlab-runners',
        title: 'Runners',
        caption: 'Runlab runners',
        icon: runnersIcon,
        rank: RUNNERS_PANEL_RANK,
        className: 'jp-runlab-RunnersPanel',
        body: (
          <RunnersPanelView
            model={model}
            pools={pools}
            actions={{
              add: () => void app.commands.execute(CommandIDs.addRunner),
              addPool: () => void app.commands.execute(CommandIDs.addRunnerPool),
              removePool: (pool) => void app.commands.execute(CommandIDs.removeRunnerPool, { id: pool.id }),
              openJob: (jobId) => void app.commands.execute(CommandIDs.openJob, { jobId }),
              drain: (runner) =>
                void model
                  .drain(runner.id)
                  .catch((error) => showErrorMessage(`Could not drain ${runner.name}`, describeError('Drain', error, 'runners'))),
              remove: (runner) =>
                void (async () => {
                  const answer = await showDialog({
                    title: `Remove runner ${runner.name}?`,
                    body:
                      `Its token is revoked and it is disconnected at once` +
                      (runner.runningJobs.length ? `; the ${runner.runningJobs.length} job(s) it runs go back to the queue.` : '.') +
                      ' To use the machine again, add a runner and run the new command there.',
                    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })]
                  });
                  if (answer.button.accept) {
                    await model
                      .remove(runner.id)
                      .catch((error) => showErrorMessage(`Could not remove ${runner.name}`, describeError('Remove', error, 'runners')));
                  }
                })()
            }}
          />
        )
      });

      app.commands.addCommand(CommandIDs.openRunners, {
        label: 'Show Runners',
        caption: 'Show the machines that run notebooks as jobs',
        icon: runnersIcon,
        execute: () => app.shell.activateById(panel.id)
      });
      app.commands.addCommand(CommandIDs.addRunner, {
        label: 'Add Runner…',
        caption: 'Register a machine as a runner: gives the one-line command to start it there',
        execute: () => addRunnerDialog(model)
      });

      app.commands.addCommand(CommandIDs.addRunnerPool, {
        label: 'Add Runner Pool…',
        caption: 'Run queued jobs as pods in a Kubernetes cluster from your kubeconfig',
        icon: runnersIcon,
        execute: async () => {
          const pool = await addRunnerPoolDialog(connection, pools);
          if (pool) {
            app.shell.activateById(panel.id);
          }
        }
      });
      app.commands.addCommand(CommandIDs.removeRunnerPool, {
        label: (args) => {
          const pool = pools.pools.find((candidate) => candidate.id === str(args.id));
          return pool ? `Remove Runner Pool ${pool.name}…` : 'Remove Runner Pool…';
        },
        caption: 'Delete a runner pool: its running pods are deleted and their jobs go back to the queue',
        isEnabled: () => pools.pools.length > 0,
        execute: async (args) => {
          let pool = pools.pools.find((candidate) => candidate.id === str(args.id)) ?? null;
          if (!pool) {
            const names = pools.pools.map((candidate) => candidate.name);
            const answer = await InputDialog.getItem({ title: 'Remove runner pool', label: 'Pool', items: names });
            pool = pools.pools.find((candidate) => candidate.name === answer.value) ?? null;
            if (!answer.button.accept || !pool) {
              return;
            }
          }
          const running = pool.pods.filter((pod) => pod.phase === 'Running' || pod.phase === 'Pending').length;
          const confirm = await showDialog({
            title: `Remove runner pool ${pool.name}?`,
            body:
              `Runlab stops starting pods in ${pool.context} / ${pool.namespace} for it` +
              (running ? `; its ${running} running pod(s) are deleted and their jobs go back to the queue.` : '.'),
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })]
          });
          if (confirm.button.accept) {
            const name = pool.name;
            await pools
              .remove(pool.id)
              .catch((error) => showErrorMessage(`Could not remove ${name}`, describeError('Remove pool', error, 'runner pools')));
          }
        }
      });
      pools.changed.connect(() => app.commands.notifyCommandChanged(CommandIDs.removeRunnerPool));

      app.commands.addCommand(CommandIDs.runOnRunner, {
        label: 'Run on Runner…',
        caption: 'Run this notebook, as it is now, on a runner as a job',
        icon: runnersIcon,
        isEnabled: () => current() !== null,
        execute: () => {
          const notebook = current();
          return notebook ? runOn(notebook) : undefined;
        }
      });
      notebooks?.currentChanged.connect(() => app.commands.notifyCommandChanged(CommandIDs.runOnRunner));

      app.commands.addCommand(CommandIDs.openJob, {
        label: (args) => (args.jobId ? `Open Job ${str(args.jobId)}` : 'Open Job by Id…'),
        caption: "Open a job by its id (from the Runners panel, a run's runlab.job tag, or `runlab jobs`)",
        execute: async (args) => {
          let jobId = str(args.jobId);
          if (!jobId) {
            const answer = await InputDialog.getText({ title: 'Open job', label: 'Job id', placeholder: 'e.g. 3f2a9c1e-…' });
            jobId = str(answer.value);
          }
          if (jobId) {
            openJob(jobId);
          }
        }
      });

      app.commands.addCommand(CommandIDs.rerunRun, {
        label: 'Re-run on a Runner',
        caption: 'Run this run again on a runner, at its notebook version, dataset versions and parameters; then compare the two',
        execute: async (args) => {
          const runId = str(args.runId);
          if (!runId) {
            return;
          }
          try {
            const job = await connection.api.runners.rerunRun({ params: { id: runId }, body: {} });
            const jobModel = openJob(job.id);
            jobModel?.ended.connect((_, ended) => {
              if (ended.status === 'finished') {
                jobActions.compare(runId, ended.runId);
              }
            });
          } catch (error) {
            await showErrorMessage('Could not re-run', describeError('Could not re-run the run', error, 'runners'));
          }
        }
      });

      toolbars?.addFactory<NotebookPanel>('Notebook', TOOLBAR_ITEM, (notebook) => {
        const button = new ToolbarButton({
          icon: runnersIcon,
          label: 'Run on Runner',
          tooltip: 'Run this notebook, as it is now, on a runner as a job',
          // This toolbar's notebook, whichever has the focus.
          onClick: () => void runOn(notebook)
        });
        button.addClass('jp-runlab-RunOnRunnerButton');
        return button;
      });

      if (restorer) {
        void restorer.restore(jobViews, {
          command: CommandIDs.openJob,
          args: (widget) => ({ jobId: jobIds.get(widget) ?? '' }),
          name: (widget) => jobIds.get(widget) ?? widget.id
        });
      }

      palette?.addItem({ command: CommandIDs.openRunners, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.runOnRunner, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.openJob, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.addRunner, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.addRunnerPool, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.removeRunnerPool, category: 'Runlab' });
      return model;
    }
  )
};
