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
 * live local deployment gets a fresh token and the old one is revoked. A Kubernetes deployment's
 * token lives in its Secret in the cluster, which its pods read, so it is kept across restarts.
 *
 * The kubernetes target (kubernetes/target.ts) writes objects instead of starting processes:
 * every change is checked against the cluster's access rules first, then recorded, then written
 * (a Kubernetes rolling update), and the rollout it watches becomes the status.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import {
  DeploymentName,
  type CreateDeploymentRequest,
  type Deployment,
  type DeploymentKubernetes,
  type DeploymentSlot,
  type KubernetesDrift,
  type ListDeploymentsQuery,
  type ModelVersion,
  type PredictionRecord,
  type ProvenanceNode,
  type SecondSlotRequest,
  type ServingSpec,
  type TelemetryReport,
  type UpdateDeploymentRequest,
  type UpdateTrafficRequest
} from '../contract';
import { OPERATOR, type AuthService } from '../auth/service';
import { AppError, notFound } from '../http/errors';
import type { Principal } from '../http/registry';
import type { Logger } from '../logger';
import type { ProvenanceService } from '../provenance/service';
import type { DomainEvents } from '../realtime/events';
import { deploymentOfToken } from './access';
import { kubernetesEndpoint, objectRefsOf } from './kubernetes/manifests';
import type { KubernetesObserver, KubernetesTarget } from './kubernetes/target';
import { localEndpoint, pickFreePort, portIsFree } from './local';
import { isUniqueViolation, type DeploymentEventKind, type DeploymentRecord, type DeploymentStore, type KubernetesConfig } from './store';
import type { ServingObserver, ServingTarget } from './target';
import { TelemetryWindows } from './telemetry';

export type CreateDeploymentInput = z.output<typeof CreateDeploymentRequest>;
export type UpdateTrafficInput = z.output<typeof UpdateTrafficRequest>;
export type SecondSlotInput = z.output<typeof SecondSlotRequest>;
export type ListDeploymentsInput = z.output<typeof ListDeploymentsQuery>;
export type UpdateDeploymentInput = z.output<typeof UpdateDeploymentRequest>;

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
  /** The second target: objects in a Kubernetes cluster. */
  kubernetes: KubernetesTarget;
  settings: DeploymentSettings;
  logger: Logger;
  now?: () => Date;
}

/** Keeps the sampled predictions of telemetry reports (monitoring/service.ts MonitoringService). */
export interface PredictionLog {
  /** Stores a report's predictions and counters; answers how many predictions were kept (malformed ones are not). */
  record(deploymentId: string, deploymentName: string, report: TelemetryReport): number;
  /** The newest logged predictions, newest first, and how many are kept in all. */
  newest(deploymentId: string, limit: number): { predictions: PredictionRecord[]; total: number };
}

/** Who the history names for what the server itself observed (a restart, readiness). */
export const SERVER_ACTOR = 'runlab';
/** Events a deployment in a list carries; getDeployment has them all. */
const LIST_HISTORY = 20;
/** Telemetry-driven updates reach browsers at most this often. */
const STATS_PUBLISH_MS = 2000;
/** A rollout's progress (pods, events) reaches browsers at most this often. */
const ROLLOUT_PUBLISH_MS = 250;

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
const describeResources = (resources: KubernetesConfig['resources']): string =>
  [
    ...Object.entries(resources.requests).map(([k, v]) => `${k} request ${v}`),
    ...Object.entries(resources.limits).map(([k, v]) => `${k} limit ${v}`)
  ].join(', ') || 'none';

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

export class DeploymentService implements ServingObserver, KubernetesObserver {
  private readonly telemetry: TelemetryWindows;
  private readonly runtime = new Map<string, RuntimeState>();
  private readonly lastPublished = new Map<string, number>();
  private readonly publishTimers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => Date;
  private serverUrl: string | null = null;
  private closed = false;
  /** Token secrets of live deployments, for restarting their runtimes; never written anywhere. */
  private readonly secrets = new Map<string, string>();
  private predictionLog: PredictionLog | null = null;

  constructor(private readonly deps: DeploymentServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.telemetry = new TelemetryWindows(() => this.now().getTime());
    deps.target.observe(this);
    deps.kubernetes.observe(this);
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
      if (record.target === 'kubernetes') {
        this.adopt(record);
        continue;
      }
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

  /**
   * A Kubernetes deployment after a server restart: its objects are read again (level-triggered)
   * and its status comes from them; nothing is written, so a hand edit shows as drift.
   */
  private adopt(record: DeploymentRecord): void {
    this.addEvent(
      record.id,
      'restarted',
      record.revision,
      'the companion server started again; reading the objects from the cluster',
      record.slots,
      SERVER_ACTOR
    );
    this.deps.logger.info({ deploymentId: record.id, name: record.name }, 'reading a Kubernetes deployment from its cluster');
    void this.deps.kubernetes.adopt(record).then(() => this.publish(record.id));
  }

  /** Stops every runtime (server shutdown); deployments stay live and start again with the server. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.publishTimers.values()) clearTimeout(timer);
    this.publishTimers.clear();
    this.deps.kubernetes.close();
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
    const kubernetes = this.kubernetesConfigOf(input);
    // Kubernetes: the cluster says up front whether everything may be created (403 otherwise).
    if (kubernetes) await this.deps.kubernetes.precheck(kubernetes);
    const port = kubernetes ? null : await this.choosePort(input.port);
    this.refuseTakenName(name); // again: choosing the port or asking the cluster awaited

    const id = randomUUID();
    const at = this.now().toISOString();
    const endpoint = kubernetes ? kubernetesEndpoint(name, kubernetes) : localEndpoint(port as number);
    const { token, secret } = auth.createToken(`deployment-${name}`, 'deployment', OPERATOR);
    try {
      if (kubernetes) {
        kubernetes.objects = objectRefsOf({ id, name, kubernetes, slots, revision: 1, replicas: input.replicas } as DeploymentRecord);
      }
      store.inTransaction(() => {
        store.insert({
          id,
          name,
          target: input.target,
          status: 'deploying',
          statusMessage: kubernetes ? 'writing the objects to the cluster' : 'starting the serving process',
          endpoint,
          port,
          requestedRef: `${input.model}@${input.version}`,
          replicas: input.replicas,
          revision: 1,
          slots,
          tokenId: token.id,
          kubernetes,
          createdAt: at,
          updatedAt: at,
          createdBy: actor.name
        });
        const replicas = input.replicas === 1 ? '1 replica' : `${input.replicas} replicas`;
        const where = kubernetes ? `Kubernetes (context ${kubernetes.context}, namespace ${kubernetes.namespace})` : input.target;
        this.addEvent(id, 'deployed', 1, `deployed ${describeSlots(slots)} on ${where} at ${endpoint}, ${replicas}`, slots, actor.name);
        this.recordVersions(id, slots);
      });
    } catch (error) {
      auth.revokeToken(token.id, OPERATOR);
      if (isUniqueViolation(error)) this.refuseTakenName(name);
      throw error;
    }
    this.secrets.set(id, secret);
    if (kubernetes) await this.writeFirst(id, secret);
    else this.launch(id);
    this.publish(id);
    return this.get(id);
  }

  /** The objects of a new Kubernetes deployment; when the cluster refuses, nothing stays behind. */
  private async writeFirst(id: string, secret: string): Promise<void> {
    const record = this.record(id);
    try {
      await this.deps.kubernetes.apply(record, secret);
    } catch (error) {
      try {
        await this.deps.kubernetes.remove(record);
      } catch (cleanup) {
        this.deps.logger.warn({ err: cleanup, deploymentId: id }, 'could not remove the objects of a deployment the cluster refused');
      }
      this.deps.kubernetes.unfollow(id);
      if (record.tokenId) this.deps.auth.revokeToken(record.tokenId, OPERATOR);
      this.secrets.delete(id);
      this.deps.store.remove(id);
      throw error;
    }
  }

  /** The Kubernetes settings of a create request, as stored (null for other targets). */
  private kubernetesConfigOf(input: CreateDeploymentInput): KubernetesConfig | null {
    if (input.target !== 'kubernetes' || !input.kubernetes) return null;
    const k = input.kubernetes;
    const config: KubernetesConfig = {
      context: k.context,
      namespace: k.namespace,
      backend: k.backend,
      resources: k.resources,
      autoscale: k.autoscale ?? null,
      ingress: k.ingress ?? null,
      progressDeadlineSeconds: k.progressDeadlineSeconds,
      objects: [],
      revisions: { '1': { replicas: input.replicas, resources: k.resources } }
    };
    return config;
  }

  /** A new canary or shadow, a new share, or none. */
  async updateTraffic(id: string, input: UpdateTrafficInput, actor: Principal): Promise<Deployment> {
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
  async promote(id: string, reason: string, actor: Principal): Promise<Deployment> {
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
   * After a failed Kubernetes rollout it goes back to the last revision that was ready, with the
   * replicas and resources it had.
   */
  async rollback(id: string, reason: string, actor: Principal): Promise<Deployment> {
    const record = this.liveRecord(id, 'roll back');
    const { stable, second } = split(record.slots);
    if (record.kubernetes && record.status === 'failed') {
      const last = this.lastReadyRevision(record);
      if (last) {
        const settings = record.kubernetes.revisions[String(last.revision)] ?? {
          replicas: record.replicas,
          resources: record.kubernetes.resources
        };
        const message = withReason(
          `rolled back to revision ${last.revision} (${describeSlots(last.slots)}, ${settings.replicas} replicas), the last that was ready, after the failed rollout of revision ${record.revision}`,
          reason
        );
        return this.change(record, 'rolled_back', last.slots, message, actor, settings);
      }
    }
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
    // Kubernetes: exactly the recorded objects go; a refusal (403, unreachable) changes nothing here.
    if (record.kubernetes) await this.deps.kubernetes.remove(record);
    else await target.stop(id);
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
        record.kubernetes
          ? `undeployed; removed ${record.kubernetes.objects.map((o) => `${o.kind} ${o.name}`).join(', ')} from namespace ${record.kubernetes.namespace}`
          : `undeployed; ${record.endpoint ?? 'its endpoint'} no longer answers`,
        record.slots,
        actor.name
      );
    });
    this.publish(id);
    return this.get(id);
  }

  /** Kubernetes: new replicas or resources, rolled out as a new revision. */
  async update(id: string, input: UpdateDeploymentInput, actor: Principal): Promise<Deployment> {
    const record = this.liveRecord(id, 'change it');
    if (!record.kubernetes) {
      throw new AppError(
        'conflict',
        `Deployment ${record.name} runs on this machine; its replicas are set when it is deployed (undeploy and deploy it again with "replicas")`
      );
    }
    const replicas = input.replicas ?? record.replicas;
    const resources = input.resources ?? record.kubernetes.resources;
    const changes = [
      replicas !== record.replicas ? `replicas ${record.replicas} → ${replicas}` : '',
      JSON.stringify(resources) !== JSON.stringify(record.kubernetes.resources) ? `resources ${describeResources(resources)}` : ''
    ].filter(Boolean);
    if (changes.length === 0) return this.get(id);
    return this.change(record, 'updated', record.slots, withReason(changes.join(', '), input.reason), actor, { replicas, resources });
  }

  /**
   * Kubernetes: writes every object again as Runlab wants it, undoing hand edits (drift). A
   * deleted Secret gets a fresh token (the old one revoked) and a new revision, so the pods
   * restart with it.
   */
  async reconcile(id: string, reason: string, actor: Principal): Promise<Deployment> {
    const record = this.liveRecord(id, 'reconcile');
    if (!record.kubernetes) throw new AppError('conflict', `Deployment ${record.name} runs on this machine: there is nothing to reconcile`);
    await this.deps.kubernetes.precheck(record.kubernetes);
    const drift = this.deps.kubernetes.observed(id)?.drift ?? [];
    const what = drift.length ? drift.map((d) => `${d.object.kind} ${d.object.name} ${d.field}`).join(', ') : 'nothing had drifted';
    let secret = this.secrets.get(id) ?? null;
    const secretGone = drift.some((d) => d.object.kind === 'Secret' && d.field === 'the object');
    if (secretGone && !secret) {
      const { auth } = this.deps;
      if (record.tokenId && auth.isActive(record.tokenId)) auth.revokeToken(record.tokenId, OPERATOR);
      const created = auth.createToken(`deployment-${record.name}`, 'deployment', OPERATOR);
      secret = created.secret;
      this.secrets.set(id, secret);
      this.deps.store.update(id, { tokenId: created.token.id }, this.now().toISOString());
    }
    this.deps.store.inTransaction(() => {
      this.addEvent(id, 'reconciled', record.revision, withReason(`wrote the objects again (${what})`, reason), record.slots, actor.name);
    });
    await this.deps.kubernetes.apply(this.record(id), secret);
    if (secretGone) return this.change(this.record(id), 'updated', record.slots, 'new token in a new Secret: pods restart with it', actor);
    this.publish(id);
    return this.get(id);
  }

  predictions(id: string, limit: number): { predictions: PredictionRecord[]; total: number } {
    this.record(id);
    if (this.predictionLog) return this.predictionLog.newest(id, limit);
    return { predictions: this.deps.store.predictions(id, limit), total: this.deps.store.predictionCount(id) };
  }

  /**
   * Where telemetry's sampled predictions (and counters) go instead of prediction_logs: the
   * monitoring feature's columnar blocks (monitoring/service.ts), which also answers
   * listPredictions. Set once by the composition root; deployments never import monitoring.
   */
  setPredictionLog(log: PredictionLog): void {
    this.predictionLog = log;
  }

  // ------------------------------------------------------------------------------------------
  // the serving runtime (deployment tokens)

  /**
   * The current revision's spec, or `revision`'s: a Kubernetes pod serves the revision its
   * template pins, so old pods keep their versions while a rollout replaces them.
   */
  spec(id: string, principal: Principal, revision?: number): ServingSpec {
    const record = deploymentOfToken(this.deps.store, principal, id);
    const { models, settings } = this.deps;
    const slots = revision === undefined || revision === record.revision ? record.slots : this.slotsOfRevision(record, revision);
    return {
      deploymentId: record.id,
      name: record.name,
      revision: revision ?? record.revision,
      slots: slots.map((slot) => {
        const version = models.versionById(slot.modelVersionId);
        return { ...slot, flavor: version.flavor, signature: version.signature, files: version.files };
      }),
      predictionSampleRate: settings.predictionSampleRate,
      predictionLimitPerSecond: settings.predictionLimitPerSecond,
      pollSeconds: settings.pollSeconds
    };
  }

  /** The slots a past revision served (its first event has them); 404 for one that never was. */
  private slotsOfRevision(record: DeploymentRecord, revision: number): DeploymentSlot[] {
    const event = this.deps.store.eventsInOrder(record.id).find((e) => e.revision === revision);
    if (!event || revision > record.revision) {
      throw notFound(`Revision ${revision} of deployment ${record.name} (its revisions are 1 to ${record.revision})`);
    }
    return event.slots;
  }

  /**
   * A file of a version the deployment serves (no other version's, whoever asks): now, or, for
   * a Kubernetes deployment, in a revision whose pods may still run during a rollout.
   */
  openFile(id: string, versionId: string, path: string, principal: Principal): { stream: Readable; size: number } {
    const record = deploymentOfToken(this.deps.store, principal, id);
    const served = record.kubernetes
      ? this.deps.store.eventsInOrder(id).some((event) => event.slots.some((slot) => slot.modelVersionId === versionId))
      : record.slots.some((slot) => slot.modelVersionId === versionId);
    if (!served) {
      throw notFound(
        `Model version ${versionId} in deployment ${record.name} (revision ${record.revision} serves ${describeSlots(record.slots)})`
      );
    }
    return this.deps.models.openFile(versionId, path);
  }

  reportTelemetry(id: string, report: TelemetryReport, principal: Principal): { revision: number; acceptedPredictions: number } {
    const record = deploymentOfToken(this.deps.store, principal, id);
    this.telemetry.add(id, report);
    let acceptedPredictions = report.predictions.length;
    if (this.predictionLog) acceptedPredictions = this.predictionLog.record(id, record.name, report);
    else if (report.predictions.length > 0) this.deps.store.insertPredictions(id, report.predictions);
    this.publishThrottled(id);
    return { revision: record.revision, acceptedPredictions };
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

  /** Kubernetes: a rollout under way, or a replica no longer available on the current revision. */
  progressing(id: string, message: string): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status === 'stopped' || record.status === 'failed') return;
    const wasReady = record.status === 'ready' || record.status === 'degraded';
    this.setStatus(record, wasReady ? 'degraded' : 'deploying', message);
  }

  /** Kubernetes: an object differs from what Runlab wrote, or was deleted (recorded once per change). */
  drifted(id: string, drift: KubernetesDrift[]): void {
    const record = this.deps.store.findById(id);
    if (!record || record.status === 'stopped' || drift.length === 0) return;
    const fields = drift.map((d) => `${d.object.kind} ${d.object.name} ${d.field}: ${d.expected} → ${d.actual}`).join('; ');
    this.deps.store.inTransaction(() =>
      this.addEvent(
        id,
        'drifted',
        record.revision,
        `changed outside Runlab: ${fields}; Reconcile writes Runlab's objects again`,
        record.slots,
        SERVER_ACTOR
      )
    );
    this.publish(id);
  }

  /** Kubernetes: what the cluster says changed (pods, events, rollout): browsers hear of it soon. */
  changed(id: string): void {
    this.publishThrottled(id, ROLLOUT_PUBLISH_MS);
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
  /**
   * A new revision: slots (and, on Kubernetes, replicas and resources), an event, lineage of new
   * versions, and the target told. On Kubernetes the rights are checked before anything is
   * recorded, and the new pod template is written before this answers (a rolling update).
   */
  private async change(
    record: DeploymentRecord,
    kind: DeploymentEventKind,
    slots: DeploymentSlot[],
    message: string,
    actor: Principal,
    settings?: { replicas: number; resources: KubernetesConfig['resources'] }
  ): Promise<Deployment> {
    const { store, target } = this.deps;
    const revision = record.revision + 1;
    let kubernetes = record.kubernetes ?? undefined;
    if (kubernetes) {
      await this.deps.kubernetes.precheck(kubernetes);
      const now = settings ?? { replicas: record.replicas, resources: kubernetes.resources };
      kubernetes = { ...kubernetes, resources: now.resources, revisions: { ...kubernetes.revisions, [String(revision)]: now } };
    }
    const replicas = settings?.replicas;
    const statusMessage = kubernetes ? `rolling out revision ${revision}` : `loading revision ${revision}`;
    store.inTransaction(() => {
      store.update(record.id, { slots, revision, replicas, kubernetes, status: 'deploying', statusMessage }, this.now().toISOString());
      this.addEvent(record.id, kind, revision, message, slots, actor.name);
      this.recordVersions(record.id, slots);
    });
    if (kubernetes) {
      const updated = this.record(record.id);
      this.deps.kubernetes.updateRecord(updated);
      try {
        await this.deps.kubernetes.apply(updated, null);
      } catch (error) {
        this.failed(
          record.id,
          `Revision ${revision} could not be written to the cluster: ${(error as Error).message} (Reconcile writes it again)`
        );
        throw error;
      }
    } else {
      // A running runtime picks the revision up by itself; one that had failed gets a new start.
      target.revisionChanged(record.id);
    }
    this.publish(record.id);
    return this.get(record.id);
  }

  /** The newest revision before the current one that became ready, and its slots. */
  private lastReadyRevision(record: DeploymentRecord): { revision: number; slots: DeploymentSlot[] } | undefined {
    const events = this.deps.store.eventsInOrder(record.id);
    const ready = events.filter((e) => e.kind === 'ready' && e.revision < record.revision).map((e) => e.revision);
    if (ready.length === 0) return undefined;
    const revision = Math.max(...ready);
    const first = events.find((e) => e.revision === revision);
    return first ? { revision, slots: first.slots } : undefined;
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
      readyReplicas: record.status === 'stopped' ? 0 : this.readyReplicasOf(record),
      revision: record.revision,
      slots: record.slots,
      stats: record.status === 'stopped' ? null : this.telemetry.stats(record.id),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      createdBy: record.createdBy,
      history: this.deps.store.events(record.id, historyLimit),
      kubernetes: this.kubernetesView(record)
    };
  }

  private readyReplicasOf(record: DeploymentRecord): number {
    if (!record.kubernetes) return this.runtime.get(record.id)?.readyReplicas ?? 0;
    return this.deps.kubernetes.observed(record.id)?.rollout?.availableReplicas ?? 0;
  }

  private kubernetesView(record: DeploymentRecord): DeploymentKubernetes | null {
    const kube = record.kubernetes;
    if (!kube) return null;
    const observed = record.status === 'stopped' ? null : this.deps.kubernetes.observed(record.id);
    return {
      context: kube.context,
      namespace: kube.namespace,
      backend: kube.backend,
      resources: kube.resources,
      autoscale: kube.autoscale,
      ingress: kube.ingress,
      progressDeadlineSeconds: kube.progressDeadlineSeconds,
      objects: kube.objects,
      rollout: observed?.rollout ?? null,
      pods: observed?.pods ?? [],
      events: observed?.events ?? [],
      drift: observed?.drift ?? [],
      observedAt: observed?.observedAt ?? null,
      clusterError: observed?.clusterError ?? null
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
  private publishThrottled(id: string, everyMs = STATS_PUBLISH_MS): void {
    const since = Date.now() - (this.lastPublished.get(id) ?? 0);
    if (this.closed) return;
    if (since >= everyMs) {
      this.publish(id);
    } else if (!this.publishTimers.has(id)) {
      const timer = setTimeout(() => this.publish(id), everyMs - since);
      timer.unref();
      this.publishTimers.set(id, timer);
    }
  }
}
