/** runlab:runs — the Runs sidebar, the run view and the compare view. */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { CommandToolbarButton, ICommandPalette, InputDialog, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { tableRowsIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { measureActivation } from '../activation';
import { CommandIDs as ProvenanceCommandIDs } from '../provenance/tokens';
import { CommandIDs as RunnersCommandIDs } from '../runners/tokens';
import { runsIcon } from '../shared/icons';
import { createMainAreaTab } from '../shared/mainArea';
import { addSidePanel } from '../shared/sidePanel';
import { CommandIDs as SnapshotsCommandIDs } from '../snapshots/tokens';
import { ICurrentProject, IRunlabConnection } from '../tokens';
import { createCompareView } from './CompareView';
import { downloadArtifact } from './download';
import { RunsModel } from './model';
import { RunsPanelView } from './RunsPanel';
import { createRunView } from './RunView';
import { TableColumns } from './table/columns';
import { RunsTableWidget } from './table/RunsTable';
import { RunsTableModel } from './table/tableModel';
import { CommandIDs, IRunsModel, PLUGIN_ID } from './tokens';
import { CommandIDs as SweepsCommandIDs } from '../sweeps/tokens';

/** Right below the Runlab panel in the left sidebar. */
const RUNS_PANEL_RANK = 601;
/** The one Runs table tab (opening it again shows it). */
const RUNS_TABLE_ID = 'runlab-runs-table';

export const runsPlugin: JupyterFrontEndPlugin<IRunsModel> = {
  id: PLUGIN_ID,
  description: 'Runs: a live sidebar list, the run view and the compare view.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject],
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette],
  provides: IRunsModel,
  activate: measureActivation(
    PLUGIN_ID,
    (
      app: JupyterFrontEnd,
      connection: IRunlabConnection,
      project: ICurrentProject,
      notebooks: INotebookTracker | null,
      restorer: ILayoutRestorer | null,
      palette: ICommandPalette | null
    ) => {
      const model = new RunsModel(connection, project);
      const tableColumns = new TableColumns();
      const views = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-runs' });
      // What "Compare Selected Runs" compares: the table's ticks while it is the current tab,
      // otherwise the panel's.
      const selection = { panel: [] as string[], table: [] as string[] };
      const selectedRuns = () =>
        app.shell.currentWidget?.id === RUNS_TABLE_ID && selection.table.length > 0 ? selection.table : selection.panel;
      const selectionChanged = (from: 'panel' | 'table') => (runIds: string[]) => {
        selection[from] = runIds;
        app.commands.notifyCommandChanged(CommandIDs.compareSelected);
      };
      app.shell.currentChanged?.connect(() => app.commands.notifyCommandChanged(CommandIDs.compareSelected));

      const panel = addSidePanel(app, restorer, {
        id: 'jp-runlab-runs',
        title: 'Runs',
        caption: 'Runlab runs',
        icon: runsIcon,
        rank: RUNS_PANEL_RANK,
        className: 'jp-runlab-RunsPanel',
        body: (
          <RunsPanelView
            model={model}
            currentNotebook={() => notebooks?.currentWidget?.context.path ?? null}
            notebookChanged={(notebooks?.currentChanged ?? model.changed) as never}
            chosenMetrics={() => tableColumns.metrics(project.name, 2)}
            columnsChanged={tableColumns.changed}
            openRun={(runId) => void app.commands.execute(CommandIDs.openRun, { runId })}
            openSweep={(sweepId, runId) =>
              app.commands.hasCommand(SweepsCommandIDs.openSweep)
                ? void app.commands.execute(SweepsCommandIDs.openSweep, { sweepId })
                : void app.commands.execute(CommandIDs.openRun, { runId })
            }
            compare={(runIds) => void app.commands.execute(CommandIDs.compareRuns, { runIds })}
            selectionChanged={selectionChanged('panel')}
          />
        )
      });

      app.commands.addCommand(CommandIDs.openRuns, {
        label: 'Show Runs',
        caption: 'Show the runs of the current project',
        icon: runsIcon,
        execute: () => app.shell.activateById(panel.id)
      });
      app.commands.addCommand(CommandIDs.openRunsTable, {
        label: 'Runs Table',
        caption: 'The runs of the current project as a table: columns, sort, filter, group by, compare',
        icon: tableRowsIcon,
        execute: () => {
          const existing = views.find((widget) => widget.id === RUNS_TABLE_ID);
          if (existing) {
            app.shell.activateById(existing.id);
            return;
          }
          const content = new RunsTableWidget(new RunsTableModel(connection, project, tableColumns), {
            openRun: (runId) => void app.commands.execute(CommandIDs.openRun, { runId }),
            compare: (runIds) => void app.commands.execute(CommandIDs.compareRuns, { runIds }),
            selectionChanged: selectionChanged('table')
          });
          const widget = createMainAreaTab(content, { id: RUNS_TABLE_ID, label: 'Runs Table', icon: tableRowsIcon });
          widget.disposed.connect(() => selectionChanged('table')([]));
          void views.add(widget);
          app.shell.add(widget, 'main');
        }
      });
      panel.toolbar.addItem(
        'runs-table',
        new CommandToolbarButton({ commands: app.commands, id: CommandIDs.openRunsTable, label: 'Table' })
      );
      app.commands.addCommand(CommandIDs.openRun, {
        label: (args) => (args.runId ? `Open Run ${args.runId}` : 'Open Run by Id…'),
        caption: 'Open a run by its id (from the Runs panel, an MLflow "View run" link, or run.id in Python)',
        execute: async (args) => {
          let runId = String(args.runId ?? '').trim();
          if (!runId) {
            const answer = await InputDialog.getText({ title: 'Open run', label: 'Run id', placeholder: 'e.g. 3f2a9c1e-…' });
            runId = (answer.value ?? '').trim();
          }
          if (!runId) {
            return;
          }
          const existing = views.find((widget) => widget.id === `runlab-run-${runId}`);
          if (existing) {
            app.shell.activateById(existing.id);
            return;
          }
          const widget = createRunView(connection, runId, {
            openSnapshot: (id) => void app.commands.execute(SnapshotsCommandIDs.openSnapshot, { runId: id }),
            restoreSnapshot: (id) => void app.commands.execute(SnapshotsCommandIDs.restoreSnapshot, { runId: id }),
            downloadArtifact: (id, path) => void downloadArtifact(connection, id, path),
            showProvenance: (node) => void app.commands.execute(ProvenanceCommandIDs.showProvenance, { node }),
            rerun: (id) => void app.commands.execute(RunnersCommandIDs.rerunRun, { runId: id }),
            openRun: (id) => void app.commands.execute(CommandIDs.openRun, { runId: id })
          });
          void views.add(widget);
          app.shell.add(widget, 'main');
        }
      });
      app.commands.addCommand(CommandIDs.compareRuns, {
        label: 'Compare Runs',
        execute: (args) => {
          const runIds = (args.runIds as string[] | undefined) ?? [];
          if (runIds.length < 2) {
            return;
          }
          const widget = createCompareView(connection, runIds);
          void views.add(widget);
          app.shell.add(widget, 'main');
        }
      });
      app.commands.addCommand(CommandIDs.compareSelected, {
        label: 'Compare Selected Runs',
        caption: 'Compare the runs ticked in the Runs table (when it is the current tab) or in the Runs panel: two or more',
        isEnabled: () => selectedRuns().length >= 2,
        execute: () => app.commands.execute(CommandIDs.compareRuns, { runIds: selectedRuns() })
      });
      app.commands.addCommand(CommandIDs.downloadArtifact, {
        label: (args) => (args.path ? `Download ${String(args.path)}` : 'Download Run Artifact'),
        execute: (args) => {
          const runId = String(args.runId ?? '');
          const path = String(args.path ?? '');
          return runId && path ? downloadArtifact(connection, runId, path) : undefined;
        }
      });
      palette?.addItem({ command: CommandIDs.openRuns, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.openRun, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.openRunsTable, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.compareSelected, category: 'Runlab' });
      return model;
    }
  )
};
