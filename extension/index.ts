/** Runlab's JupyterLab plugins; wiring only — logic lives in each feature's model. */
import { connectionPlugin } from './connection/plugin';
import { datasetsPlugin } from './datasets/plugin';
import { deploymentsPlugin } from './deployments/plugin';
import { kernelPlugin } from './kernel/plugin';
import { modelsPlugin } from './models/plugin';
import { monitoringPlugin } from './monitoring/plugin';
import { panelPlugin } from './panel/plugin';
import { projectsPlugin } from './projects/plugin';
import { provenancePlugin } from './provenance/plugin';
import { runnersPlugin } from './runners/plugin';
import { runsPlugin } from './runs/plugin';
import { snapshotsPlugin } from './snapshots/plugin';
import { statusbarPlugin } from './statusbar/plugin';
import { sweepsPlugin } from './sweeps/plugin';

export default [
  connectionPlugin,
  projectsPlugin,
  kernelPlugin,
  panelPlugin,
  statusbarPlugin,
  runsPlugin,
  snapshotsPlugin,
  datasetsPlugin,
  provenancePlugin,
  runnersPlugin,
  sweepsPlugin,
  modelsPlugin,
  deploymentsPlugin,
  monitoringPlugin
];
