/**
 * runlab:datasets — the Datasets sidebar, the dataset diff view, and the dataset version
 * picker in every notebook's toolbar (pins kept in the notebook's metadata, and handed to each
 * notebook's kernel through the kernel feature's contributions).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  IToolbarWidgetRegistry,
  MainAreaWidget,
  showDialog,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import React from 'react';
import { measureActivation } from '../activation';
import { CommandIDs as ProvenanceCommandIDs } from '../provenance/tokens';
import { CommandIDs as RunsCommandIDs } from '../runs/tokens';
import { datasetIcon } from '../shared/icons';
import { addSidePanel } from '../shared/sidePanel';
import { ICurrentProject, IKernelClients, IRunlabConnection } from '../tokens';
import { DatasetsPanelView } from './DatasetsPanel';
import { createDatasetDiffView } from './DiffView';
import { DatasetPinsContribution } from './kernelPins';
import { DatasetsModel } from './model';
import { NotebookProject } from './notebookProject';
import { insertLoadingCell, setNotebookPin } from './notebook';
import { createPinsToolbarItem, openDatasetPicker } from './picker';
import { CommandIDs, IDatasetsModel, PLUGIN_ID } from './tokens';

/** Below the Runs panel in the left sidebar. */
const DATASETS_PANEL_RANK = 602;
/** The toolbar item's name in `jupyter.lab.toolbars` (schema/datasets.json). */
const TOOLBAR_ITEM = 'runlab-datasets';

const str = (value: unknown) => (typeof value === 'string' ? value : '');

export const datasetsPlugin: JupyterFrontEndPlugin<IDatasetsModel> = {
  id: PLUGIN_ID,
  description: 'Datasets: the sidebar of versions, the diff view and the notebook version picker.',
  autoStart: true,
  requires: [IRunlabConnection, ICurrentProject],
  optional: [INotebookTracker, ILayoutRestorer, ICommandPalette, IToolbarWidgetRegistry, IKernelClients],
  provides: IDatasetsModel,
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
      kernels: IKernelClients | null
    ) => {
      // The tracker lets the panel mark the versions the notebook in focus pins.
      const model = new DatasetsModel(connection, project, notebooks);
      // The picker pins from the notebooks' project, where the kernel resolves the pins.
      const pickerModel = new DatasetsModel(connection, new NotebookProject(project));
      // Each notebook's kernel holds its pins, so `runlab.dataset("iris")` loads the pinned version.
      kernels?.addContribution(new DatasetPinsContribution());
      const views = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-datasets' });
      const current = () => notebooks?.currentWidget ?? null;

      const panel = addSidePanel(app, restorer, {
        id: 'jp-runlab-datasets',
        title: 'Datasets',
        caption: 'Runlab datasets',
        icon: datasetIcon,
        rank: DATASETS_PANEL_RANK,
        className: 'jp-runlab-DatasetsPanel',
        body: (
          <DatasetsPanelView
            model={model}
            actions={{
              pinProblem: () => {
                if (current() === null) {
                  return 'Open a notebook to pin a version in it or load it';
                }
                // The kernel looks pinned names up in the notebooks' project, not the one shown.
                return project.project && project.project.id === project.notebookProject?.id
                  ? null
                  : `The notebooks load datasets from project ${project.notebookProjectName}; switch back to it to pin this version`;
              },
              pin: (name, version) => void app.commands.execute(CommandIDs.pinVersion, { name, version }),
              insertSnippet: (name, version) => void app.commands.execute(CommandIDs.insertSnippet, { name, version }),
              compare: (name, from, to) => void app.commands.execute(CommandIDs.compareVersions, { name, from, to }),
              showProvenance: (version) =>
                void app.commands.execute(ProvenanceCommandIDs.showProvenance, { node: `dataset_version:${version.id}` }),
              openRun: (runId) => void app.commands.execute(RunsCommandIDs.openRun, { runId }),
              delete: (name, version) => void app.commands.execute(CommandIDs.deleteDataset, { name, version })
            }}
          />
        )
      });

      app.commands.addCommand(CommandIDs.openDatasets, {
        label: 'Show Datasets',
        caption: 'Show the datasets of the current project',
        icon: datasetIcon,
        execute: () => app.shell.activateById(panel.id)
      });
      app.commands.addCommand(CommandIDs.deleteDataset, {
        label: (args) => (str(args.version) ? `Delete ${str(args.name)}@${str(args.version)}…` : `Delete Dataset ${str(args.name)}…`),
        execute: async (args) => {
          const name = str(args.name);
          const version = str(args.version) || null;
          if (!name || !model.projectName) {
            return;
          }
          const count = model.datasets.find((dataset) => dataset.name === name)?.versionCount ?? 0;
          const what = version ? `${name}@${version}` : `the dataset ${name} and its ${count} version${count === 1 ? '' : 's'}`;
          const answer = await showDialog({
            title: version ? `Delete ${name}@${version}?` : `Delete dataset ${name}?`,
            body:
              `This deletes ${what} from project ${model.projectName}. It cannot be undone. ` +
              'Runs that used it keep their record of it; `npx runlab-server gc` on the server frees the space only it used.',
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
          });
          if (!answer.button.accept) {
            return;
          }
          try {
            await model.delete(name, version);
          } catch (error) {
            await showErrorMessage(`Could not delete ${version ? `${name}@${version}` : name}`, error as Error);
          }
        }
      });
      app.commands.addCommand(CommandIDs.revealVersion, {
        label: 'Reveal Dataset Version',
        execute: (args) => {
          const name = str(args.name);
          if (name) {
            model.reveal(name, str(args.version));
            app.shell.activateById(panel.id);
          }
        }
      });
      app.commands.addCommand(CommandIDs.compareVersions, {
        label: 'Compare Dataset Versions',
        execute: (args) => {
          const [name, from, to] = [str(args.name), str(args.from), str(args.to)];
          const projectName = model.projectName;
          if (!name || !from || !to || !projectName) {
            return;
          }
          const id = `runlab-dataset-diff-${projectName}-${name}-${from}-${to}`;
          const existing = views.find((widget) => widget.id === id);
          if (existing) {
            app.shell.activateById(existing.id);
            return;
          }
          const widget = createDatasetDiffView(connection, projectName, name, from, to);
          void views.add(widget);
          app.shell.add(widget, 'main');
        }
      });
      app.commands.addCommand(CommandIDs.pickForNotebook, {
        label: 'Pin Dataset Versions for This Notebook…',
        caption: 'Choose the dataset versions this notebook loads',
        icon: datasetIcon,
        isEnabled: () => current() !== null,
        execute: (args) => {
          const notebook = current();
          return notebook ? openDatasetPicker(pickerModel, notebook, { name: str(args.name) || undefined }) : undefined;
        }
      });
      app.commands.addCommand(CommandIDs.pinVersion, {
        label: (args) => (args.name ? `Pin ${str(args.name)}@${str(args.version)} in This Notebook` : 'Pin Dataset Version'),
        isEnabled: () => current() !== null,
        execute: (args) => {
          const notebook = current();
          if (notebook && args.name && args.version) {
            setNotebookPin(notebook, str(args.name), str(args.version));
          }
        }
      });
      app.commands.addCommand(CommandIDs.insertSnippet, {
        label: (args) => (args.name ? `Insert Cell Loading ${str(args.name)}@${str(args.version)}` : 'Insert Dataset Snippet'),
        isEnabled: () => current() !== null,
        execute: (args) => {
          const notebook = current();
          if (notebook && args.name && args.version) {
            insertLoadingCell(notebook, str(args.name), str(args.version));
            app.shell.activateById(notebook.id);
          }
        }
      });

      toolbars?.addFactory<NotebookPanel>('Notebook', TOOLBAR_ITEM, (notebook) =>
        createPinsToolbarItem(notebook, () => void openDatasetPicker(pickerModel, notebook))
      );

      palette?.addItem({ command: CommandIDs.openDatasets, category: 'Runlab' });
      palette?.addItem({ command: CommandIDs.pickForNotebook, category: 'Runlab' });
      return model;
    }
  )
};
