/**
 * runlab:snapshots — snapshots notebooks when their runs start, and opens or restores the
 * notebook version a run was pinned to.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { measureActivation } from '../activation';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import { createSnapshotView } from './SnapshotView';
import { SnapshotTaker } from './snapshotTaker';
import { CommandIDs, PLUGIN_ID } from './tokens';

export const snapshotsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Pins each run to the exact notebook that produced it; opens and restores those versions.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject, INotebookTracker],
  optional: [IRenderMimeRegistry],
  activate: measureActivation(
    PLUGIN_ID,
    (
      app: JupyterFrontEnd,
      connection: IRunlabConnection,
      project: ICurrentProject,
      notebooks: INotebookTracker,
      rendermime: IRenderMimeRegistry | null
    ) => {
      new SnapshotTaker(connection, project, notebooks);
      const loadRun = (runId: string) => connection.api.runs.getRun({ params: { id: runId } });
      const loadNotebook = (runId: string) => connection.api.snapshots.getSnapshotNotebook({ params: { id: runId } });

      const restore = async (runId: string) => {
        const [run, snapshot] = await Promise.all([loadRun(runId), loadNotebook(runId)]);
        const result = await showDialog({
          title: 'Restore this notebook version?',
          body: `${snapshot.notebookPath} in your workspace will be replaced by the version run "${run.name}" used (${snapshot.commit.slice(0, 10)}). What it holds now, unsaved edits included, can be put back with Undo; outputs are not part of snapshots.`,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Restore' })]
        });
        if (!result.button.accept) {
          return;
        }
        const path = snapshot.notebookPath;
        const open = notebooks.find((panel) => panel.context.path === path);
        // What the restore replaces, as the user sees it (unsaved edits included), for Undo.
        const replaced: unknown = open
          ? open.context.model.toJSON()
          : await app.serviceManager.contents.get(path, { content: true }).then(
              (model) => model.content,
              () => null
            );
        const write = async (content: unknown) => {
          await app.serviceManager.contents.save(path, { type: 'notebook', format: 'json', content });
          const panel = notebooks.find((candidate) => candidate.context.path === path);
          await panel?.context.revert();
          return panel;
        };
        if (!(await write(snapshot.notebook))) {
          await app.commands.execute('docmanager:open', { path });
        }
        Notification.success(`Restored ${path} to the version of run ${run.name}.`, {
          autoClose: 15000,
          actions:
            replaced === null
              ? []
              : [
                  {
                    label: 'Undo',
                    caption: `Put back what ${path} held before the restore`,
                    callback: () =>
                      void write(replaced).then(
                        () => Notification.info(`${path} is back as it was before the restore.`, { autoClose: 5000 }),
                        (error) => Notification.error(`Could not undo the restore: ${(error as Error).message}`, { autoClose: 8000 })
                      )
                  }
                ]
        });
      };

      app.commands.addCommand(CommandIDs.openSnapshot, {
        label: 'Open Notebook Version of Run',
        execute: async (args) => {
          const runId = String(args.runId ?? '');
          const run = await loadRun(runId);
          const widget = createSnapshotView({
            runId,
            runName: run.name,
            load: () => loadNotebook(runId),
            restore: () => void app.commands.execute(CommandIDs.restoreSnapshot, { runId }),
            rendermime
          });
          app.shell.add(widget, 'main');
        }
      });
      app.commands.addCommand(CommandIDs.restoreSnapshot, {
        label: 'Restore Notebook Version of Run',
        execute: (args) =>
          restore(String(args.runId ?? '')).catch((error) =>
            Notification.error(`Could not restore: ${(error as Error).message}`, { autoClose: 8000 })
          )
      });
    }
  )
};
