/**
 * Deployments as the extension sees them, live on `deployment:updated` (sent to every signed-in
 * browser): status, slots, stats and history. Stopped deployments leave the list but stay
 * known by id, so a view following one sees it stop.
 */
import type { CreateDeploymentRequest, Deployment, UpdateTrafficRequest } from '../../server/src/contract';
import { ServerListModel } from '../shared/serverList';
import { IRunlabConnection } from '../tokens';
import { IDeploymentsModel } from './tokens';

/** Newest first. */
export function sortDeployments(deployments: readonly Deployment[]): Deployment[] {
  return [...deployments].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name));
}

/**
 * The list with `deployment` added or replaced; an older copy (a lower revision, or an earlier
 * update of the same revision) never replaces a newer one, whichever arrives last.
 */
export function applyDeploymentUpdate(deployments: readonly Deployment[], deployment: Deployment): Deployment[] {
  const existing = deployments.find((candidate) => candidate.id === deployment.id);
  if (existing && isOlder(deployment, existing)) {
    return [...deployments];
  }
  const others = deployments.filter((candidate) => candidate.id !== deployment.id);
  return sortDeployments(deployment.status === 'stopped' ? others : [...others, deployment]);
}

function isOlder(candidate: Deployment, current: Deployment): boolean {
  return candidate.revision < current.revision || (candidate.revision === current.revision && candidate.updatedAt < current.updatedAt);
}

export class DeploymentsModel extends ServerListModel implements IDeploymentsModel {
  constructor(private readonly _connection: IRunlabConnection) {
    super(_connection, 'the deployments', 'deployments');
    _connection.on('deployment:updated', (deployment) => this._apply(deployment), this);
  }

  get deployments(): readonly Deployment[] {
    return this._deployments;
  }

  deployment(id: string): Deployment | null {
    return this._known.get(id) ?? null;
  }

  protected async load(): Promise<void> {
    const { deployments } = await this._connection.api.deployments.listDeployments({});
    for (const deployment of deployments) {
      this._known.set(deployment.id, deployment);
    }
    this._deployments = sortDeployments(deployments.filter((deployment) => deployment.status !== 'stopped'));
  }

  async create(request: CreateDeploymentRequest): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.createDeployment({ body: request }));
  }

  async updateTraffic(id: string, request: UpdateTrafficRequest): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.updateDeploymentTraffic({ params: { id }, body: request }));
  }

  async promote(id: string, reason = ''): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.promoteDeployment({ params: { id }, body: { reason } }));
  }

  async rollback(id: string, reason = ''): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.rollbackDeployment({ params: { id }, body: { reason } }));
  }

  async reconcile(id: string, reason = ''): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.reconcileDeployment({ params: { id }, body: { reason } }));
  }

  async undeploy(id: string): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.deleteDeployment({ params: { id } }));
  }

  private _apply(deployment: Deployment): Deployment {
    const known = this._known.get(deployment.id);
    if (!known || !isOlder(deployment, known)) {
      this._known.set(deployment.id, deployment);
    }
    this._deployments = applyDeploymentUpdate(this._deployments, deployment);
    this.emitChanged();
    return this._known.get(deployment.id)!;
  }

  private _deployments: Deployment[] = [];
  private _known = new Map<string, Deployment>();
}
