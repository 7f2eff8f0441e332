/**
 * Runner pools (Kubernetes): the list, live on `runner_pool:updated` / `runner_pool:removed`
 * (sent to everyone), and what the Add runner pool dialog sends, from what its form holds.
 */
import type { CreateRunnerPoolRequest, RunnerPool } from '../../server/src/contract';
import { parseKeyValueList, resourcesFrom } from '../kubernetes/format';
import { ServerListModel } from '../shared/serverList';
import { IRunlabConnection } from '../tokens';
import { parseLabels } from './format';
import { IRunnerPoolsModel } from './tokens';

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** The list with `pool` added or replaced, by name. */
export function applyPoolUpdate(pools: readonly RunnerPool[], pool: RunnerPool): RunnerPool[] {
  return [...pools.filter((existing) => existing.id !== pool.id), pool].sort((a, b) => a.name.localeCompare(b.name));
}

export function applyPoolRemoval(pools: readonly RunnerPool[], id: string): RunnerPool[] {
  return pools.filter((pool) => pool.id !== id);
}

/** `2 of 4 pods running` (the cap on parallel pods is the pool's maxParallel). */
export function poolPodsText(pool: Pick<RunnerPool, 'pods' | 'maxParallel'>): string {
  const active = pool.pods.filter((pod) => pod.phase === 'Running' || pod.phase === 'Pending');
  const running = active.filter((pod) => pod.phase === 'Running').length;
  return `${running} of ${pool.maxParallel} running${active.length > running ? `, ${active.length - running} pending` : ''}`;
}

/** `gpu=true, zone=a`. */
export function nodeSelectorText(selector: Readonly<Record<string, string>>): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

/** The Add runner pool form, as typed. */
export interface IPoolValues {
  name: string;
  context: string;
  namespace: string;
  image: string;
  labels: string;
  cpuRequest: string;
  memoryRequest: string;
  nodeSelector: string;
  maxParallel: string;
}

export function defaultPoolValues(): IPoolValues {
  return {
    name: '',
    context: '',
    namespace: '',
    image: '',
    labels: '',
    cpuRequest: '500m',
    memoryRequest: '1Gi',
    nodeSelector: '',
    maxParallel: '4'
  };
}

/** The create request, or a sentence saying what to fix. */
export function poolRequest(values: IPoolValues): { request: CreateRunnerPoolRequest } | { error: string } {
  const name = values.name.trim();
  if (!name) {
    return { error: 'Give the pool a name.' };
  }
  if (!NAME.test(name) || name.length > 63) {
    return { error: `"${name}" is not a Kubernetes name: lower-case letters, digits and - (gpu-pool).` };
  }
  if (!values.context) {
    return { error: 'Choose a Kubernetes context.' };
  }
  if (!values.namespace) {
    return { error: 'Choose a namespace.' };
  }
  const resources = resourcesFrom({ cpuRequest: values.cpuRequest, memoryRequest: values.memoryRequest, cpuLimit: '', memoryLimit: '' });
  if ('error' in resources) {
    return resources;
  }
  const selector = parseKeyValueList(values.nodeSelector);
  if ('error' in selector) {
    return { error: `Node selector: ${selector.error}` };
  }
  const maxParallel = Number(values.maxParallel);
  if (!Number.isInteger(maxParallel) || maxParallel < 1 || maxParallel > 256) {
    return { error: 'Max parallel pods is a whole number from 1 to 256.' };
  }
  const request: CreateRunnerPoolRequest = {
    name,
    kind: 'kubernetes',
    context: values.context,
    namespace: values.namespace,
    labels: parseLabels(values.labels),
    resources: resources.resources,
    nodeSelector: selector.values,
    maxParallel
  };
  if (values.image.trim()) {
    request.image = values.image.trim();
  }
  return { request };
}

export class RunnerPoolsModel extends ServerListModel implements IRunnerPoolsModel {
  constructor(private readonly _connection: IRunlabConnection) {
    super(_connection, 'the runner pools', 'runner pools');
    // A removed pool stays removed: an update sent just before its removal may arrive after it.
    _connection.on('runner_pool:updated', (pool) => !this._removed.has(pool.id) && this._set(applyPoolUpdate(this._pools, pool)), this);
    _connection.on('runner_pool:removed', ({ id }) => this._removeLocally(id), this);
  }

  get pools(): readonly RunnerPool[] {
    return this._pools;
  }

  protected async load(): Promise<void> {
    const { pools } = await this._connection.api.runnerPools.listRunnerPools();
    this._pools = [...pools].sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(request: CreateRunnerPoolRequest): Promise<RunnerPool> {
    const pool = await this._connection.api.runnerPools.createRunnerPool({ body: request });
    this._set(applyPoolUpdate(this._pools, pool));
    return pool;
  }

  async remove(id: string): Promise<void> {
    await this._connection.api.runnerPools.deleteRunnerPool({ params: { id } });
    this._removeLocally(id);
  }

  private _removeLocally(id: string): void {
    this._removed.add(id);
    this._set(applyPoolRemoval(this._pools, id));
  }

  private _set(pools: RunnerPool[]): void {
    this._pools = pools;
    this.emitChanged();
  }

  private _pools: RunnerPool[] = [];
  private readonly _removed = new Set<string>();
}
