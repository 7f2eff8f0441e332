/** Command ids, plugin id and the model token of the deployments feature. */
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import type { CreateDeploymentRequest, Deployment, UpdateTrafficRequest } from '../../server/src/contract';

export namespace CommandIDs {
  /** Show the Deployments sidebar. */
  export const openDeployments = 'runlab:open-deployments';
  /**
   * The Deploy model dialog. args (all optional): `model`, `version` (3, v3, latest or an alias);
   * without them, the latest model logged from the notebook in focus, else the newest model.
   */
  export const deployModel = 'runlab:deploy-model';
  /** args: `id`: the deployment's endpoint and try-it box. */
  export const tryDeployment = 'runlab:try-deployment';
  /** args: `id`: write a Kubernetes deployment's objects again as Runlab wants them (undoes drift). */
  export const reconcileDeployment = 'runlab:reconcile-deployment';
}

/** Also the settings id: `schema/deployments.json`. */
export const PLUGIN_ID = 'runlab:deployments';

export interface IDeploymentsModel {
  /** Deployments, newest first (stopped ones left out); live on `deployment:updated`. */
  readonly deployments: readonly Deployment[];
  readonly loading: boolean;
  readonly error: string | null;
  readonly changed: ISignal<IDeploymentsModel, void>;
  refresh(): Promise<void>;
  /** A deployment as last seen (stopped ones too, once seen). */
  deployment(id: string): Deployment | null;
  create(request: CreateDeploymentRequest): Promise<Deployment>;
  updateTraffic(id: string, request: UpdateTrafficRequest): Promise<Deployment>;
  promote(id: string, reason?: string): Promise<Deployment>;
  rollback(id: string, reason?: string): Promise<Deployment>;
  /** Kubernetes: write the objects again as Runlab wants them. */
  reconcile(id: string, reason?: string): Promise<Deployment>;
  undeploy(id: string): Promise<Deployment>;
}

export const IDeploymentsModel = new Token<IDeploymentsModel>('runlab:IDeploymentsModel', 'The Runlab deployments, updated live.');
