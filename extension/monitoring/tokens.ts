/** Command ids, plugin id and the model token of the monitoring feature. */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { Alert, Deployment, DriftWindow, FeatureHistogram, MonitoringOverview, Retrain } from '../../server/src/contract';

export namespace CommandIDs {
  /** args: `deploymentId` (optional: without it, the user picks a deployment): the Monitoring view of a deployment. */
  export const openMonitoring = 'runlab:open-monitoring';
}

/** Also the settings id: `schema/monitoring.json`. */
export const PLUGIN_ID = 'runlab:monitoring';

/** A feature (or prediction column) of the histogram, and the window it is read in (null: the newest judged). */
export interface IFeatureChoice {
  feature: string;
  role: 'input' | 'prediction';
  windowId: string | null;
}

/** The window filling now, for the view's "412 of 1000 rows" line. */
export interface IFillingWindow {
  modelVersionId: string;
  rows: number;
  startAt: string | null;
  closesAt: string | null;
}

/** One deployment in production: what its Monitoring view shows, live. */
export interface IDeploymentMonitor {
  readonly deploymentId: string;
  readonly deployment: Deployment | null;
  readonly overview: MonitoringOverview | null;
  readonly filling: readonly IFillingWindow[];
  /** Newest first. */
  readonly alerts: readonly Alert[];
  /** Newest first. */
  readonly retrains: readonly Retrain[];
  readonly selected: IFeatureChoice | null;
  /** The selected feature's reference vs current histogram (null while loading or without windows). */
  readonly histogram: FeatureHistogram | null;
  readonly histogramError: string | null;
  /** One per prediction column of the newest judged window. */
  readonly predictionHistograms: readonly FeatureHistogram[];
  readonly loading: boolean;
  readonly error: string | null;
  /** The last action's failure (Retrain, Acknowledge, Silence), in words. */
  readonly actionError: string | null;
  readonly changed: ISignal<IDeploymentMonitor, void>;
  refresh(): Promise<void>;
  select(choice: IFeatureChoice): void;
  retrain(alertId?: string | null): Promise<Retrain | null>;
  acknowledge(alertId: string): Promise<void>;
  /** Silence this alert's rule on this deployment for `seconds`. */
  silence(alert: Alert, seconds: number): Promise<void>;
}

export interface IMonitoringModel {
  /**
   * The newest drift window of a deployment, for the Deployments panel's badge: `undefined` until
   * read (asking starts the read), null when there is none yet. Live on `drift:window`.
   */
  latestWindow(deploymentId: string): DriftWindow | null | undefined;
  /** A badge's window changed (or was read). */
  readonly latestChanged: ISignal<IMonitoringModel, string>;
  /** The live monitor of one deployment (kept while a view holds it). */
  monitor(deploymentId: string): IDeploymentMonitor;
  /** An alert fired (not silenced), for the live notice. */
  readonly alertFired: ISignal<IMonitoringModel, Alert>;
}

export const IMonitoringModel = new Token<IMonitoringModel>(
  'runlab:IMonitoringModel',
  "Runlab's production monitoring: drift windows, alerts and retrains per deployment, live."
);
