/**
 * Deployments as the extension sees them, live on `deployment:updated` (sent to every signed-in
 * browser): status, slots, stats and history. Stopped deployments leave the list but stay
 * known by id, so a view following one sees it stop.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { CreateDeploymentRequest, Deployment, UpdateTrafficRequest } from '../../server/src/contract';
import { describeError } from '../shared/errors';
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

export class DeploymentsModel implements IDeploymentsModel, IDisposable {
  constructor(private readonly _connection: IRunlabConnection) {
    _connection.on('deployment:updated', (deployment) => this._apply(deployment), this);
    _connection.stateChanged.connect((_, state) => {
      if (state.status === 'connected') {
        void this.refresh();
      }
    }, this);
    if (_connection.state.status === 'connected') {
      void this.refresh();
    }
  }

  get deployments(): readonly Deployment[] {
    return this._deployments;
  }
  get loading(): boolean {
    return this._loading;
  }
  get error(): string | null {
    return this._error;
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  deployment(id: string): Deployment | null {
    return this._known.get(id) ?? null;
  }

  async refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      const { deployments } = await this._connection.api.deployments.listDeployments({});
      this._error = null;
      for (const deployment of deployments) {
        this._known.set(deployment.id, deployment);
      }
      this._deployments = sortDeployments(deployments.filter((deployment) => deployment.status !== 'stopped'));
    } catch (error) {
      this._error = describeError('Could not load the deployments', error, 'deployments');
    } finally {
      this._loading = false;
      this._changed.emit();
    }
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

  async undeploy(id: string): Promise<Deployment> {
    return this._apply(await this._connection.api.deployments.deleteDeployment({ params: { id } }));
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _apply(deployment: Deployment): Deployment {
    const known = this._known.get(deployment.id);
    if (!known || !isOlder(deployment, known)) {
      this._known.set(deployment.id, deployment);
    }
    this._deployments = applyDeploymentUpdate(this._deployments, deployment);
    this._changed.emit();
    return this._known.get(deployment.id)!;
  }

  private _deployments: Deployment[] = [];
  private _known = new Map<string, Deployment>();
  private _loading = false;
  private _error: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
