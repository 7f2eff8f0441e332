/**
 * Deployments: model versions served on a target. Users deploy, change the traffic split,
 * promote a canary, roll back and undeploy; every change is a new revision with an event in the
 * history (who, what in words) and a `deployment:updated` event to browsers. The target (local:
 * processes on this machine) runs the runtimes and reports back what they do, which becomes the
 * deployment's status. The runtime itself polls its spec, so a change never restarts a process:
 * the deployment shows `deploying` until the runtime serves the new revision.
 *
 * Each deployment has a token of scope `deployment` for its runtime. Only its hash is stored, so
 * the secret lives in memory for as long as this server runs; when the server starts again, each
 * live deployment gets a fresh token and the old one is revoked.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import {
  DeploymentName,
  type CreateDeploymentRequest,
  type Deployment,
  type DeploymentSlot,
  type ListDeploymentsQuery,
  type ModelVersion,
  type PredictionRecord,
  type ProvenanceNode,
  type SecondSlotRequest,
  type ServingSpec,
  type TelemetryReport,
  type UpdateTrafficRequest
} from '../contract';
import { OPERATOR, type AuthService } from '../auth/service';
import { AppError, notFound } from '../http/errors';
import type { Principal } from '../http/registry';
import type { Logger } from '../logger';
import type { ProvenanceService } from '../provenance/service';
import type { DomainEvents } from '../realtime/events';
import { deploymentOfToken } from './access';
import { localEndpoint, pickFreePort, portIsFree } from './local';
import { isUniqueViolation, type DeploymentEventKind, type DeploymentRecord, type DeploymentStore } from './store';
import type { ServingObserver, ServingTarget } from './target';
import { TelemetryWindows } from './telemetry';

export type CreateDeploymentInput = z.output<typeof CreateDeploymentRequest>;
export type UpdateTrafficInput = z.output<typeof UpdateTrafficRequest>;
export type SecondSlotInput = z.output<typeof SecondSlotRequest>;
export type ListDeploymentsInput = z.output<typeof ListDeploymentsQuery>;

/** What deployments need from the model registry (models/service.ts ModelService has it). */
export interface DeploymentModels {
  /** By number (3, v3), latest or alias; 404 AppError when missing. */
  getVersion(name: string, selector: string): ModelVersion;
  versionById(id: string): ModelVersion;
  openFile(versionId: string, path: string): { stream: Readable; size: number };
  /** Deleting a model is refused while this says one of its versions is served. */
  setDeployedCheck(check: (modelId: string) => boolean): void;
}

export interface DeploymentSettings {
  /** Seconds between a runtime's spec polls and telemetry reports. */
  pollSeconds: number;
  /** Share of requests (0–1) whose inputs and outputs a runtime logs. */
  predictionSampleRate: number;
  /** Most sampled predictions per second per replica. */
  predictionLimitPerSecond: number;
}

export interface DeploymentServiceDeps {
  store: DeploymentStore;
  models: DeploymentModels;
  auth: AuthService;
  provenance: ProvenanceService;
  events: DomainEvents;
  target: ServingTarget;
  settings: DeploymentSettings;
  logger: Logger;
  now?: () => Date;
}

/** Who the history names for what the server itself observed (a restart, readiness). */
export const SERVER_ACTOR = 'runlab';
/** Events a deployment in a list carries; getDeployment has them all. */
const LIST_HISTORY = 20;
/** Telemetry-driven updates reach browsers at most this often. */
const STATS_PUBLISH_MS = 2000;

export const deploymentNodeRef = (id: string): string => `deployment:${id}`;
export const modelVersionNodeRef = (versionId: string): string => `model_version:${versionId}`;

/** `churn_model.v2` → `churn-model-v2`: a model name as a deployment name. */
export function defaultDeploymentName(model: string): string {
  return model
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

const describeSlot = (slot: DeploymentSlot): string => {
  const what = `${slot.modelName} v${slot.version}`;
  if (slot.role === 'canary') return `canary ${what} at ${slot.percent}%`;
  if (slot.role === 'shadow') return `shadow ${what} on a copy of ${slot.percent}% of requests`;
  return `${what} (stable${slot.percent < 100 ? ` at ${slot.percent}%` : ''})`;
};
const describeSlots = (slots: readonly DeploymentSlot[]): string => slots.map(describeSlot).join(', ');
const withReason = (message: string, reason: string): string => (reason.trim() ? `${message}: ${reason.trim()}` : message);
const round1 = (value: number): number => Math.round(value * 10) / 10;

/** The stable slot and the second one (canary or shadow), if any. */
function split(slots: readonly DeploymentSlot[]): { stable: DeploymentSlot; second: DeploymentSlot | undefined } {
  const stable = slots.find((slot) => slot.role === 'stable');
  if (!stable) throw new Error('a deployment without a stable slot');
  return { stable, second: slots.find((slot) => slot.role !== 'stable') };
}

function slotOf(version: ModelVersion, role: DeploymentSlot['role'], percent: number): DeploymentSlot {
  return { role, modelVersionId: version.id, modelName: version.modelName, version: version.version, percent };
}

/** What the runtime of a deployment is doing now, as far as this server knows (not stored). */
interface RuntimeState {
  readyReplicas: number;
}

export class DeploymentService implements ServingObserver {
  private readonly telemetry: TelemetryWindows;
  private readonly runtime = new Map<string, RuntimeState>();
  private readonly lastPublished = new Map<string, number>();
  private readonly publishTimers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => Date;
  private serverUrl: string | null = null;
  private closed = false;
  /** Token secrets of live deployments, for restarting their runtimes; never written anywhere. */
  private readonly secrets = new Map<string, string>();

  constructor(private readonly deps: DeploymentServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.telemetry = new TelemetryWindows(() => this.now().getTime());
    deps.target.observe(this);
    deps.models.setDeployedCheck((modelId) => deps.store.isModelServed(modelId));
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle of the server

  /**
   * The server listens at `serverUrl`: start the runtime of every live deployment again (each
   * with a fresh token, the old one revoked, since only its hash was kept).
   */
  async start(serverUrl: string): Promise<void> {
    this.serverUrl = serverUrl;
    const { store, auth, logger } = this.deps;
    for (const record of store.listLive()) {
      const at = this.now().toISOString();
      if (record.tokenId && auth.isActive(record.tokenId)) auth.revokeToken(record.tokenId, OPERATOR);
      const { token, secret } = auth.createToken(`deployment-${record.name}`, 'deployment', OPERATOR);
      this.secrets.set(record.id, secret);
      store.update(record.id, { tokenId: token.id, status: 'deploying', statusMessage: 'starting after a server restart' }, at);
      this.addEvent(
        record.id,
        'restarted',
        record.revision,
        'the companion server started again; starting the serving process',
        record.slots,
        SERVER_ACTOR
      );
      this.publish(record.id);
      logger.info({ deploymentId: record.id, name: record.name }, 'starting the serving process of a live deployment');
      this.launch(record.id);
    }
  }

  /** Stops every runtime (server shutdown); deployments stay live and start again with the server. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.publishTimers.values()) clearTimeout(timer);
    this.publishTimers.clear();
    await this.deps.target.stopAll();
  }

  // ------------------------------------------------------------------------------------------
  // users

  list(query: ListDeploymentsInput): Deployment[] {
    const includeStopped = query.includeStopped === 'true';
    return this.deps.store
      .list()
      .filter((record) => includeStopped || record.status !== 'stopped')
      .filter((record) => query.model === undefined || record.slots.some((slot) => slot.modelName === query.model))
      .map((record) => this.view(record, LIST_HISTORY));
  }

  get(id: string): Deployment {
    return this.view(this.record(id));
  }

  async create(input: CreateDeploymentInput, actor: Principal): Promise<Deployment> {
    const { store, models, auth } = this.deps;
    const stableVersion = models.getVersion(input.model, input.version);
    const name = input.name ?? defaultDeploymentName(input.model);
    if (!DeploymentName.safeParse(name).success) {
      throw new AppError('invalid_request', `Model "${input.model}" gives no valid deployment name; give one ("name": "churn-prod")`, [
        { path: 'body.name', message: 'a deployment name: lower-case letters, digits and -' }
      ]);
    }
    this.refuseTakenName(name);
    const slots = input.second
      ? this.slotsWithSecond(slotOf(stableVersion, 'stable', 100), input.second)
      : [slotOf(stableVersion, 'stable', 100)];
    const port = await this.choosePort(input.port);
    this.refuseTakenName(name); // again: choosing the port awaited

    const id = randomUUID();
    const at = this.now().toISOString();
    const endpoint = localEndpoint(port);
    const { token, secret } = auth.createToken(`deployment-${name}`, 'deployment', OPERATOR);
    try {
      store.inTransaction(() => {
        store.insert({
          id,
          name,
          target: input.target,
          status: 'deploying',
          statusMessage: 'starting the serving process',
          endpoint,
          port,
          requestedRef: `${input.model}@${input.version}`,
          replicas: input.replicas,
          revision: 1,
          slots,
          tokenId: token.id,
          createdAt: at,
          updatedAt: at,
          createdBy: actor.name
        });
        const replicas = input.replicas === 1 ? '1 replica' : `${input.replicas} replicas`;
        this.addEvent(
          id,
          'deployed',
          1,
          `deployed ${describeSlots(slots)} on ${input.target} at ${endpoint}, ${replicas}`,
          slots,
          actor.name
        );
        this.recordVersions(id, slots);
      });
    } catch (error) {
      auth.revokeToken(token.id, OPERATOR);
      if (isUniqueViolation(error)) this.refuseTakenName(name);
      throw error;
    }
    this.secrets.set(id, secret);
    this.launch(id);
    this.publish(id);
    return this.get(id);
  }

  /** A new canary or shadow, a new share, or none. */
  updateTraffic(id: string, input: UpdateTrafficInput, actor: Principal): Deployment {
    const record = this.liveRecord(id, 'change its traffic');
    const { stable, second } = split(record.slots);
    if (input.second === null) {
      if (!second) return this.get(id); // nothing to remove: already so
      const slots = [{ ...stable, percent: 100 }];
      return this.change(record, 'split_changed', slots, withReason(`removed ${describeSlot(second)}`, input.reason), actor);
    }
    const slots = this.slotsWithSecond({ ...stable, percent: 100 }, input.second);
    if (JSON.stringify(slots) === JSON.stringify(record.slots)) return this.get(id); // unchanged
    return this.change(record, 'split_changed', slots, withReason(describeSlot(slots[1]), input.reason), actor);
  }

  /** The canary becomes the stable version and takes all the traffic. */
  promote(id: string, reason: string, actor: Principal): Deployment {
    const record = this.liveRecord(id, 'promote');
    const { stable, second } = split(record.slots);
    if (!second || second.role !== 'canary') {
      const what = second
        ? `it has a shadow (${describeSlot(second)}), which never answers clients`
        : `it serves only ${describeSlot(stable)}`;
      throw new AppError(
        'conflict',
        `Deployment ${record.name} has no canary to promote: ${what}; add one with POST /api/deployments/${id}/traffic`
      );
    }
    const slots = [{ ...second, role: 'stable' as const, percent: 100 }];
    const message = withReason(
      `promoted canary ${second.modelName} v${second.version} to stable (100%), replacing v${stable.version}`,
      reason
    );
    return this.change(record, 'promoted', slots, message, actor);
  }

  /**
   * Drops the canary or shadow when there is one; otherwise goes back to the stable version
   * before the last deploy or promote that is still in effect (rolling back twice goes back twice).
   */
  rollback(id: string, reason: string, actor: Principal): Deployment {
    const record = this.liveRecord(id, 'roll back');
    const { stable, second } = split(record.slots);
    if (second) {
      const slots = [{ ...stable, percent: 100 }];
      return this.change(record, 'rolled_back', slots, withReason(`rolled back: dropped ${describeSlot(second)}`, reason), actor);
    }
    const previous = this.previousStable(id);
    if (!previous) {
      throw new AppError(
        'conflict',
        `Deployment ${record.name} has nothing to roll back to: it has served only ${stable.modelName} v${stable.version} as its stable version`
      );
    }
    const slots = [{ ...previous, role: 'stable' as const, percent: 100 }];
    const message = withReason(`rolled back to ${previous.modelName} v${previous.version} from v${stable.version}`, reason);
    return this.change(record, 'rolled_back', slots, message, actor);
  }

  /** Undeploy: the runtime stops and its token is revoked; the record and its history stay. */
  async undeploy(id: string, actor: Principal): Promise<Deployment> {
    const { store, auth, target } = this.deps;
    const record = this.record(id);
    if (record.status === 'stopped') return this.get(id);
    await target.stop(id);
    if (record.tokenId && auth.isActive(record.tokenId)) auth.revokeToken(record.tokenId, OPERATOR);
    this.secrets.delete(id);
    this.runtime.delete(id);
    this.telemetry.forget(id);
    const at = this.now().toISOString();
    store.inTransaction(() => {
      store.update(id, { status: 'stopped', statusMessage: '' }, at);
      this.addEvent(
        id,
        'undeployed',
        record.revision,
        `undeployed; ${record.endpoint ?? 'its endpoint'} no longer answers`,
        record.slots,
        actor.name
      );
    });
    this.publish(id);
    return this.get(id);
  }

  predictions(id: string, limit: number): { predictions: PredictionRecord[]; total: number } {
    this.record(id);
    return { predictions: this.deps.store.predictions(id, limit), total: this.deps.store.predictionCount(id) };
  }

  // ------------------------------------------------------------------------------------------
  // the serving runtime (deployment tokens)

  spec(id: string, principal: Principal): ServingSpec {
    const record = deploymentOfToken(this.deps.store, principal, id);
    const { models, settings } = this.deps;
    return {
      deploymentId: record.id,
      name: record.name,
      revision: record.revision,
      slots: record.slots.map((slot) => {
        const version = models.versionById(slot.modelVersionId);
        return { ...slot, flavor: version.flavor, signature: version.signature, files: version.files };
      }),
      predictionSampleRate: settings.predictionSampleRate,
      predictionLimitPerSecond: settings.predictionLimitPerSecond,
      pollSeconds: settings.pollSeconds
    };
  }

  /** A file of a version the deployment serves now (no other version's, whoever asks). */
  openFile(id: string, versionId: string, path: string, principal: Principal): { stream: Readable; size: number } {
    const record = deploymentOfToken(this.deps.store, principal, id);
    if (!record.slots.some((slot) => slot.modelVersionId === versionId)) {
      throw notFound(
        `Model version ${versionId} in deployment ${record.name} (revision ${record.revision} serves ${describeSlots(record.slots)})`
      );
    }
    return this.deps.models.openFile(versionId, path);
  }

  reportTelemetry(id: string, report: TelemetryReport, principal: Principal): { revision: number; acceptedPredictions: number } {
    const record = deploymentOfToken(this.deps.store, principal, id);
    this.telemetry.add(id, report);
    if (report.predictions.length > 0) this.deps.store.insertPredictions(id, report.predictions);
    this.publishThrottled(id);
    return { revision: record.revision, acceptedPredictions: report.predictions.length };
  }

  // ------------------------------------------------------------------------------------------
  // provenance

  provenanceNodes(ids: readonly string[]): ProvenanceNode[] {
    const nodes: ProvenanceNode[] = [];
    for (const id of ids) {
      const record = this.deps.store.findById(id);
      if (!record) continue;
      const { stable } = split(record.slots);
      let projectName = '';
      try {
        projectName = this.deps.models.versionById(stable.modelVersionId).projectName ?? '';
      } catch {
        // the version was deleted with its model: the deployment still shows
      }
      nodes.push({
        ref: deploymentNodeRef(id),
        kind: 'deployment',
        label: record.name,
        detail: `${describeSlots(record.slots)} · ${record.status}`,
        projectName,
        createdAt: record.createdAt,
        runId: null,
        datasetName: null,
        versionNumber: stable.version,
        artifactPath: null,
        modelName: stable.modelName
      });
    }
    return nodes;
  }

  // ------------------------------------------------------------------------------------------
  // what the target reports (ServingObserver)

  revisionOf(id: string): number | undefined {
    const record = this.deps.store.findById(id);
    return record && record.status !== 'stopped' ? record.revision : undefined;
  }

  ready(id: string, revision: number): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status === 'stopped' || revision < record.revision) return;
    this.setRuntime(id, { readyReplicas: record.replicas });
    const firstTime = !this.deps.store.hasEvent(id, 'ready', record.revision);
    if (record.status === 'ready' && record.statusMessage === '' && !firstTime) return;
    this.deps.store.inTransaction(() => {
      this.deps.store.update(id, { status: 'ready', statusMessage: '' }, this.now().toISOString());
      if (firstTime) {
        const since = this.deps.store.events(id).find((event) => event.revision === record.revision && event.kind !== 'ready');
        const took = since ? ` in ${((this.now().getTime() - Date.parse(since.at)) / 1000).toFixed(1)} s` : '';
        this.addEvent(
          id,
          'ready',
          record.revision,
          `ready${took}: ${describeSlots(record.slots)} at ${record.endpoint}`,
          record.slots,
          SERVER_ACTOR
        );
      }
    });
    this.publish(id);
  }

  loading(id: string, servedRevision: number | null): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status !== 'ready') return;
    const message =
      servedRevision === null ? `loading revision ${record.revision}` : `serving revision ${servedRevision}, loading ${record.revision}`;
    this.setStatus(record, 'deploying', message);
  }

  unresponsive(id: string, message: string): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status === 'stopped' || record.status === 'failed') return;
    this.setRuntime(id, { readyReplicas: 0 });
    this.setStatus(record, 'degraded', message);
  }

  exited(id: string, reason: string, restartInMs: number): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status === 'stopped') return;
    this.setRuntime(id, { readyReplicas: 0 });
    const message = `the serving process exited (${reason}); restarted in ${restartInMs / 1000} s`;
    const status = record.status === 'ready' || record.status === 'degraded' ? 'degraded' : 'deploying';
    this.deps.store.inTransaction(() => {
      this.deps.store.update(id, { status, statusMessage: message }, this.now().toISOString());
      this.addEvent(id, 'restarted', record.revision, message, record.slots, SERVER_ACTOR);
    });
    this.publish(id);
  }

  failed(id: string, message: string): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status === 'stopped') return;
    this.setRuntime(id, { readyReplicas: 0 });
    this.deps.store.inTransaction(() => {
      this.deps.store.update(id, { status: 'failed', statusMessage: message }, this.now().toISOString());
      this.addEvent(id, 'failed', record.revision, message.split('\n')[0], record.slots, SERVER_ACTOR);
    });
    this.publish(id);
  }

  // ------------------------------------------------------------------------------------------
  // internals

  private record(id: string): DeploymentRecord {
    const record = this.deps.store.findById(id);
    if (!record) throw notFound(`Deployment ${id}`);
    return record;
  }

  private liveRecord(id: string, action: string): DeploymentRecord {
    const record = this.record(id);
    if (record.status === 'stopped') {
      throw new AppError(
        'conflict',
        `Deployment ${record.name} was undeployed; cannot ${action} it. Deploy the model again (POST /api/deployments)`
      );
    }
    return record;
  }

  private refuseTakenName(name: string): void {
    const taken = this.deps.store.findLiveByName(name);
    if (taken) {
      throw new AppError(
        'conflict',
        `A deployment named "${name}" is live (${describeSlots(taken.slots)}, ${taken.status}); pick another name, or undeploy it first (DELETE /api/deployments/${taken.id})`
      );
    }
  }

  private async choosePort(requested: number | undefined): Promise<number> {
    const taken = this.deps.store.livePorts();
    if (requested === undefined) return pickFreePort(taken);
    if (taken.includes(requested) || !(await portIsFree(requested))) {
      throw new AppError('conflict', `Port ${requested} is taken on 127.0.0.1; pick another port, or leave "port" out to get a free one`);
    }
    return requested;
  }

  /** The stable slot beside a canary (sharing the traffic) or a shadow (copied a share of it). */
  private slotsWithSecond(stable: DeploymentSlot, second: SecondSlotInput): DeploymentSlot[] {
    const version = this.deps.models.getVersion(stable.modelName, second.version);
    if (version.id === stable.modelVersionId) {
      throw new AppError(
        'conflict',
        `${stable.modelName} v${stable.version} is the stable version already; pick another version for the ${second.mode}`
      );
    }
    const percent = round1(second.percent);
    const stablePercent = second.mode === 'canary' ? round1(100 - percent) : 100;
    return [{ ...stable, percent: stablePercent }, slotOf(version, second.mode, percent)];
  }

  /** A new revision: slots, an event, lineage of new versions, and the runtime told. */
  private change(
    record: DeploymentRecord,
    kind: DeploymentEventKind,
    slots: DeploymentSlot[],
    message: string,
    actor: Principal
  ): Deployment {
    const { store, target } = this.deps;
    const revision = record.revision + 1;
    store.inTransaction(() => {
      store.update(
        record.id,
        { slots, revision, status: 'deploying', statusMessage: `loading revision ${revision}` },
        this.now().toISOString()
      );
      this.addEvent(record.id, kind, revision, message, slots, actor.name);
      this.recordVersions(record.id, slots);
    });
    // A running runtime picks the revision up by itself; one that had failed gets a new start.
    target.revisionChanged(record.id);
    this.publish(record.id);
    return this.get(record.id);
  }

  private addEvent(id: string, kind: DeploymentEventKind, revision: number, message: string, slots: DeploymentSlot[], actor: string): void {
    this.deps.store.insertEvent(id, { kind, revision, message, slots, actor, at: this.now().toISOString() });
  }

  /** Versions served, for lineage (model version → deployment) and the registry's "in use" check. */
  private recordVersions(id: string, slots: readonly DeploymentSlot[]): void {
    const versionIds = slots.map((slot) => slot.modelVersionId);
    this.deps.store.recordVersions(id, versionIds);
    for (const versionId of versionIds) {
      const projectId = this.deps.store.projectOfVersion(versionId);
      if (projectId) this.deps.provenance.link(projectId, modelVersionNodeRef(versionId), deploymentNodeRef(id));
    }
  }

  /**
   * The stable version to roll back to: the history's stable versions as a stack (a deploy or a
   * promote pushes, a rollback that changed the stable version pops); the one under the top.
   */
  private previousStable(id: string): DeploymentSlot | undefined {
    const stack: DeploymentSlot[] = [];
    for (const event of this.deps.store.eventsInOrder(id)) {
      const stable = event.slots.find((slot) => slot.role === 'stable');
      if (!stable) continue;
      const top = stack[stack.length - 1];
      if (event.kind === 'deployed' || event.kind === 'promoted') stack.push(stable);
      else if (event.kind === 'rolled_back' && top && top.modelVersionId !== stable.modelVersionId) stack.pop();
    }
    return stack.length >= 2 ? stack[stack.length - 2] : undefined;
  }

  /** Starts the runtime, once this server knows its own URL (start() launches the rest). */
  private launch(id: string): void {
    const record = this.deps.store.findById(id);
    const secret = this.secrets.get(id);
    if (!this.serverUrl || !record || !secret || record.port === null) return;
    this.deps.target
      .start({ deploymentId: id, port: record.port, replicas: record.replicas, serverUrl: this.serverUrl, tokenSecret: secret })
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error, deploymentId: id }, 'could not start the serving process');
        this.failed(id, `The serving process could not be started: ${(error as Error).message}`);
      });
  }

  private setRuntime(id: string, state: RuntimeState): void {
    this.runtime.set(id, state);
  }

  private setStatus(record: DeploymentRecord, status: DeploymentRecord['status'], message: string): void {
    if (record.status === status && record.statusMessage === message) return;
    this.deps.store.update(record.id, { status, statusMessage: message }, this.now().toISOString());
    this.publish(record.id);
  }

  private view(record: DeploymentRecord, historyLimit = -1): Deployment {
    return {
      id: record.id,
      name: record.name,
      target: record.target,
      status: record.status,
      statusMessage: record.statusMessage,
      endpoint: record.endpoint,
      requestedRef: record.requestedRef,
      replicas: record.replicas,
      readyReplicas: record.status === 'stopped' ? 0 : (this.runtime.get(record.id)?.readyReplicas ?? 0),
      revision: record.revision,
      slots: record.slots,
      stats: record.status === 'stopped' ? null : this.telemetry.stats(record.id),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      createdBy: record.createdBy,
      history: this.deps.store.events(record.id, historyLimit)
    };
  }

  private publish(id: string): void {
    if (this.closed) return;
    const timer = this.publishTimers.get(id);
    if (timer) clearTimeout(timer);
    this.publishTimers.delete(id);
    const record = this.deps.store.findById(id);
    if (!record) return;
    this.lastPublished.set(id, Date.now());
    this.deps.events.publish('deployment:updated', this.view(record, LIST_HISTORY));
  }

  /** Stats change with every report; browsers hear of them at most every STATS_PUBLISH_MS. */
  private publishThrottled(id: string): void {
    const since = Date.now() - (this.lastPublished.get(id) ?? 0);
    if (this.closed) return;
    if (since >= STATS_PUBLISH_MS) {
      this.publish(id);
    } else if (!this.publishTimers.has(id)) {
      const timer = setTimeout(() => this.publish(id), STATS_PUBLISH_MS - since);
      timer.unref();
      this.publishTimers.set(id, timer);
    }
  }
}
