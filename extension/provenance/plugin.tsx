/** runlab:provenance — the provenance graph view and the command that opens it. */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { measureActivation } from '../activation';
import { CommandIDs as DatasetsCommandIDs } from '../datasets/tokens';
import { CommandIDs as RunsCommandIDs } from '../runs/tokens';
import { provenanceIcon } from '../shared/icons';
import { IRunlabConnection } from '../tokens';
import { createProvenanceView } from './ProvenanceView';
import { CommandIDs, PLUGIN_ID } from './tokens';

const NODE_REF = /^(dataset_version|run|artifact|model_version|deployment):.+$/;

export const provenancePlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Provenance: the graph of what each run, dataset version and artifact was made from.',
  autoStart: true,
  requires: [IRunlabConnection],
  optional: [ICommandPalette],
  activate: measureActivation(PLUGIN_ID, (app: JupyterFrontEnd, connection: IRunlabConnection, palette: ICommandPalette | null) => {
    const views = new WidgetTracker<MainAreaWidget>({ namespace: 'runlab-provenance' });
    const actions = {
      openRun: (runId: string) => void app.commands.execute(RunsCommandIDs.openRun, { runId }),
      revealDatasetVersion: (name: string, version: string) =>
        void app.commands.execute(DatasetsCommandIDs.revealVersion, { name, version }),
      downloadArtifact: (runId: string, path: string) =>
        void app.commands
          .execute(RunsCommandIDs.downloadArtifact, { runId, path })
          .catch((error) => Notification.error(`Could not download ${path}: ${(error as Error).message}`, { autoClose: 8000 }))
    };

    app.commands.addCommand(CommandIDs.showProvenance, {
      label: 'Show Provenance',
      caption: 'What this was made from, and what was made from it',
      icon: provenanceIcon,
      isEnabled: (args) => typeof args.node === 'string' || (app.shell.currentWidget?.id ?? '').startsWith('runlab-run-'),
      execute: (args) => {
        let node = typeof args.node === 'string' ? args.node : '';
        // From the palette there is no node: use the run view in focus, if that is one.
        const currentId = app.shell.currentWidget?.id ?? '';
        if (!node && currentId.startsWith('runlab-run-')) {
          node = `run:${currentId.slice('runlab-run-'.length)}`;
        }
        if (!NODE_REF.test(node)) {
          Notification.info(
            'Open provenance from a run (its Provenance button), a dataset version in the Datasets panel, or an artifact.',
            { autoClose: 6000 }
          );
          return;
        }
        const existing = views.find((widget) => widget.id === `runlab-provenance-${node}`);
        if (existing) {
          app.shell.activateById(existing.id);
          return;
        }
        const widget = createProvenanceView(connection, node, actions);
        void views.add(widget);
        app.shell.add(widget, 'main');
      }
    });
    palette?.addItem({ command: CommandIDs.showProvenance, category: 'Runlab' });
  })
};
