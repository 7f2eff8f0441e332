/**
 * The `kubernetes` target: writes a deployment's objects (manifests.ts) with server-side apply
 * and follows them through shared watches of Deployments, Pods, Services and Events in their
 * namespace (one watch per kind and namespace, however many deployments live there).
 *
 * From what the watches hold it derives, level-triggered, what the deployments service shows:
 * the rollout (replicas updated, ready, available; complete; failed when Kubernetes reports
 * ProgressDeadlineExceeded), the pods and why one is not ready, the newest events in the
 * cluster's own words (FailedScheduling, image pull errors), and drift: a field of an object
 * that differs from what Runlab wrote, or an object deleted by hand. After a companion-server
 * restart nothing is written: the objects are read again, and drift shows until Reconcile.
 */
import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { DeploymentKubernetes, KubernetesDrift, KubernetesObjectRef } from '../../contract';
import { AppError } from '../../http/errors';
import { deploymentRights, type KubernetesClusters, type WatchPhase } from '../../kubernetes/clusters';
import type { Logger } from '../../logger';
import type { DeploymentRecord, KubernetesConfig } from '../store';
import {
  API_VERSION_OF,
  DEPLOYMENT_LABEL,
  deploymentManifest,
  manifestsOf,
  REVISION_ANNOTATION,
  serviceManifest,
  type ManifestSettings
} from './manifests';

const DEPLOYMENTS = '/apis/apps/v1/namespaces/{namespace}/deployments';
const PODS = '/api/v1/namespaces/{namespace}/pods';
const SERVICES = '/api/v1/namespaces/{namespace}/services';
const EVENTS = '/api/v1/namespaces/{namespace}/events';
const INFERENCE_SERVICES = '/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices';
/** Watch events arriving together make one refresh. */
const REFRESH_DEBOUNCE_MS = 50;
const EVENTS_SHOWN = 20;

type Observed = Omit<
  DeploymentKubernetes,
  'context' | 'namespace' | 'backend' | 'resources' | 'autoscale' | 'ingress' | 'progressDeadlineSeconds' | 'objects'
>;

/** What the target tells the deployments service. */
export interface KubernetesObserver {
  /** Every replica is updated and available on `revision`. */
  ready(id: string, revision: number): void;
  /** A rollout is under way (or stalled, not yet past its deadline). */
  progressing(id: string, message: string): void;
  /** The rollout of the current revision failed (past its deadline), in the cluster's words. */
  failed(id: string, message: string): void;
  /** The drift changed (a hand edit appeared, changed or was undone). */
  drifted(id: string, drift: KubernetesDrift[]): void;
  /** What the cluster says changed: publish it. */
  changed(id: string): void;
}

interface Watched {
  record: DeploymentRecord;
  unsubscribe: (() => void)[];
  timer: NodeJS.Timeout | null;
  observed: Observed;
  /** Recorded objects found deleted (by a DELETED event, or missing when read). */
  gone: Set<string>;
  /** The revision whose failure was reported, so it is reported once. */
  failedRevision: number | null;
  driftKey: string;
}

const refKey = (ref: KubernetesObjectRef): string => `${ref.kind}/${ref.name}`;
const str = (value: unknown): string => (value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));

function emptyObserved(): Observed {
  return { rollout: null, pods: [], events: [], drift: [], observedAt: null, clusterError: null };
}

export interface KubernetesTargetDeps {
  clusters: KubernetesClusters;
  logger: Logger;
  /** The serving image and the URL pods reach the companion server at (known once it listens). */
  settings: () => ManifestSettings;
}

export class KubernetesTarget {
  private observer: KubernetesObserver | null = null;
  private readonly watched = new Map<string, Watched>();

  constructor(private readonly deps: KubernetesTargetDeps) {}

  observe(observer: KubernetesObserver): void {
    this.observer = observer;
  }

  /** Before anything is created: the rights (a 403 naming each missing one), the CRD for KServe. */
  async precheck(kube: Pick<KubernetesConfig, 'context' | 'namespace' | 'backend' | 'autoscale' | 'ingress'>): Promise<void> {
    const { clusters } = this.deps;
    const kserve = kube.backend === 'kserve';
    await clusters.requireAccess(
      kube.context,
      kube.namespace,
      deploymentRights({ autoscale: !!kube.autoscale, ingress: !!kube.ingress, kserve }),
      'deployment'
    );
    if (kserve && !(await clusters.hasKServe(kube.context))) {
      throw new AppError(
        'conflict',
        `The cluster of context "${kube.context}" has no KServe InferenceService CRD (inferenceservices.serving.kserve.io); install KServe, or deploy with "backend": "deployment"`
      );
    }
  }

  /**
   * Writes every object of the record's current revision (the Secret only when `tokenSecret` is
   * given) and follows them. Returns the objects written.
   */
  async apply(record: DeploymentRecord, tokenSecret: string | null): Promise<KubernetesObjectRef[]> {
    const kube = this.kube(record);
    const manifests = manifestsOf(record, this.deps.settings(), tokenSecret);
    for (const manifest of manifests) await this.deps.clusters.apply(kube.context, manifest);
    this.follow(record);
    const state = this.watched.get(record.id);
    if (state) for (const m of manifests) state.gone.delete(refKey({ kind: m.kind ?? '', name: m.metadata?.name ?? '' }));
    this.scheduleRefresh(record.id);
    return manifests.map((m) => ({ kind: m.kind ?? '', name: m.metadata?.name ?? '' }));
  }

  /**
   * After a server restart: follow the record's objects and read each once, so one deleted while
   * the server was away shows as drift. Nothing is written.
   */
  async adopt(record: DeploymentRecord): Promise<void> {
    const kube = this.kube(record);
    this.follow(record);
    const state = this.watched.get(record.id);
    if (!state) return;
    try {
      for (const ref of kube.objects) {
        const found = await this.deps.clusters.read(kube.context, this.objectRef(kube, ref));
        if (!found) state.gone.add(refKey(ref));
      }
      state.observed.clusterError = null;
    } catch (error) {
      state.observed.clusterError = (error as Error).message;
    }
    this.scheduleRefresh(record.id);
  }

  /** Deletes exactly the objects Runlab recorded for it (and checks each is Runlab's first). */
  async remove(record: DeploymentRecord): Promise<void> {
    const kube = this.kube(record);
    for (const ref of [...kube.objects].reverse()) {
      const object = this.objectRef(kube, ref);
      const found = await this.deps.clusters.read(kube.context, object);
      if (!found) continue;
      if (found.metadata?.labels?.[DEPLOYMENT_LABEL] !== record.id) {
        this.deps.logger.warn({ deploymentId: record.id, object: refKey(ref) }, 'left an object alone: it is not this deployment’s');
        continue;
      }
      await this.deps.clusters.remove(kube.context, object);
    }
    this.unfollow(record.id);
  }

  /** What the cluster says about the deployment now (null when it is not followed). */
  observed(id: string): Observed | null {
    return this.watched.get(id)?.observed ?? null;
  }

  /** The record changed (a new revision, settings): keep comparing against the new one. */
  updateRecord(record: DeploymentRecord): void {
    const state = this.watched.get(record.id);
    if (state) {
      state.record = record;
      this.scheduleRefresh(record.id);
    }
  }

  unfollow(id: string): void {
    const state = this.watched.get(id);
    if (!state) return;
    for (const stop of state.unsubscribe) stop();
    if (state.timer) clearTimeout(state.timer);
    this.watched.delete(id);
  }

  /** Server shutdown: stops following; the objects stay in the cluster. */
  close(): void {
    for (const id of [...this.watched.keys()]) this.unfollow(id);
  }

  // ------------------------------------------------------------------------------------------

  private kube(record: DeploymentRecord): KubernetesConfig {
    if (!record.kubernetes) throw new Error(`deployment ${record.id} is not on Kubernetes`);
    return record.kubernetes;
  }

  private objectRef(kube: KubernetesConfig, ref: KubernetesObjectRef): KubernetesObject {
    return { apiVersion: API_VERSION_OF[ref.kind], kind: ref.kind, metadata: { name: ref.name, namespace: kube.namespace } };
  }

  private follow(record: DeploymentRecord): void {
    const existing = this.watched.get(record.id);
    if (existing) {
      existing.record = record;
      return;
    }
    const kube = this.kube(record);
    const { clusters } = this.deps;
    const state: Watched = {
      record,
      unsubscribe: [],
      timer: null,
      observed: emptyObserved(),
      gone: new Set(),
      failedRevision: null,
      driftKey: ''
    };
    this.watched.set(record.id, state);
    const mine = (phase: WatchPhase, object: KubernetesObject, kind: string): void => {
      if (phase === 'ERROR') {
        this.scheduleRefresh(record.id);
        return;
      }
      if (object.metadata?.labels?.[DEPLOYMENT_LABEL] !== record.id) return;
      if (kind) {
        const key = `${kind}/${object.metadata?.name}`;
        if (phase === 'DELETED') state.gone.add(key);
        else state.gone.delete(key);
      }
      this.scheduleRefresh(record.id);
    };
    const paths: [string, string][] =
      kube.backend === 'kserve'
        ? [
            [INFERENCE_SERVICES, 'InferenceService'],
            [PODS, '']
          ]
        : [
            [DEPLOYMENTS, 'Deployment'],
            [SERVICES, 'Service'],
            [PODS, '']
          ];
    for (const [apiPath, kind] of paths) {
      state.unsubscribe.push(clusters.watch(kube.context, kube.namespace, apiPath, (phase, object) => mine(phase, object, kind)));
    }
    // Events carry no labels: the ones about this deployment's objects and pods are picked by name.
    state.unsubscribe.push(
      clusters.watch(
        kube.context,
        kube.namespace,
        EVENTS,
        (phase, object) => {
          const involved = (object as { involvedObject?: { name?: string } }).involvedObject?.name ?? '';
          if (phase === 'ERROR' || involved === state.record.name || involved.startsWith(`${state.record.name}-`)) {
            this.scheduleRefresh(record.id);
          }
        },
        null
      )
    );
  }

  private scheduleRefresh(id: string): void {
    const state = this.watched.get(id);
    if (!state || state.timer) return;
    state.timer = setTimeout(() => {
      state.timer = null;
      try {
        this.refresh(state);
      } catch (error) {
        this.deps.logger.error({ err: error, deploymentId: id }, 'could not read a Kubernetes deployment’s state');
      }
    }, REFRESH_DEBOUNCE_MS);
    state.timer.unref();
  }

  /** Derives rollout, pods, events and drift from what the watches hold, and tells the service. */
  private refresh(state: Watched): void {
    const { record } = state;
    const kube = this.kube(record);
    const { clusters } = this.deps;
    const at = (path: string): KubernetesObject[] => clusters.watched(kube.context, kube.namespace, path);
    const error = [DEPLOYMENTS, PODS, EVENTS].map((p) => clusters.watchError(kube.context, kube.namespace, p)).find(Boolean) ?? null;
    const observed = state.observed;
    observed.clusterError = error;
    observed.observedAt = new Date().toISOString();

    const pods = (at(PODS) as V1Pod[]).filter((pod) => pod.metadata?.labels?.[DEPLOYMENT_LABEL] === record.id);
    observed.pods = pods
      .map((pod) => ({
        name: pod.metadata?.name ?? '',
        phase: pod.metadata?.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Unknown'),
        ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        reason: podReason(pod),
        revision: Number(pod.metadata?.labels?.[REVISION_ANNOTATION] ?? 0),
        node: pod.spec?.nodeName ?? null
      }))
      .sort((a, b) => b.revision - a.revision || a.name.localeCompare(b.name));

    const events = at(EVENTS)
      .map(
        (e) =>
          e as KubernetesObject & {
            involvedObject?: { kind?: string; name?: string };
            type?: string;
            reason?: string;
            message?: string;
            count?: number;
            lastTimestamp?: Date | string;
            eventTime?: Date | string;
            metadata?: { creationTimestamp?: Date | string };
          }
      )
      .filter((e) => {
        const name = e.involvedObject?.name ?? '';
        return name === record.name || name.startsWith(`${record.name}-`);
      })
      .map((e) => ({
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        message: e.message ?? '',
        object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
        count: e.count ?? 1,
        at: new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? Date.now()).toISOString()
      }))
      .sort((a, b) => b.at.localeCompare(a.at));
    observed.events = events.slice(0, EVENTS_SHOWN);
    const warning = events.find((e) => e.type === 'Warning');
    const warningText = warning ? `${warning.reason}: ${warning.message}` : '';

    if (kube.backend === 'kserve') {
      this.refreshInferenceService(state, at(INFERENCE_SERVICES), warningText);
    } else {
      const deployment = (at(DEPLOYMENTS) as V1Deployment[]).find((d) => d.metadata?.labels?.[DEPLOYMENT_LABEL] === record.id);
      const service = at(SERVICES).find((s) => s.metadata?.labels?.[DEPLOYMENT_LABEL] === record.id) as
        (KubernetesObject & { spec?: Record<string, unknown> }) | undefined;
      this.refreshRollout(state, deployment, warningText, pods);
      this.refreshDrift(state, deployment, service);
    }
    this.observer?.changed(record.id);
  }

  private refreshRollout(state: Watched, deployment: V1Deployment | undefined, warning: string, pods: V1Pod[]): void {
    const { record } = state;
    const observed = state.observed;
    if (!deployment) {
      observed.rollout = null;
      return;
    }
    const replicas = deployment.spec?.replicas ?? 0;
    const status = deployment.status ?? {};
    const updated = status.updatedReplicas ?? 0;
    const available = status.availableReplicas ?? 0;
    const templateRevision = Number(deployment.spec?.template?.metadata?.labels?.[REVISION_ANNOTATION] ?? 0);
    const current = templateRevision === record.revision;
    const updatedReady = pods.filter(
      (p) =>
        Number(p.metadata?.labels?.[REVISION_ANNOTATION] ?? 0) === record.revision &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
        !p.metadata?.deletionTimestamp
    ).length;
    const progressing = status.conditions?.find((c) => c.type === 'Progressing');
    const seen = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
    const complete = current && seen && updated === replicas && (status.replicas ?? 0) === replicas && available === replicas;
    const deadline = current && seen && progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded';
    const phase = complete ? 'complete' : deadline ? 'failed' : 'progressing';
    const counts = `${updated}/${replicas} updated, ${updatedReady} ready, ${available} available`;
    const message =
      phase === 'complete'
        ? `${available}/${replicas} replicas available on revision ${record.revision}`
        : phase === 'failed'
          ? `${progressing?.message ?? 'the rollout made no progress'}${warning ? ` — ${warning}` : ''}`
          : `rolling out revision ${record.revision}: ${counts}${warning && updatedReady < replicas ? ` — ${warning}` : ''}`;
    observed.rollout = { phase, replicas, updatedReplicas: updated, readyReplicas: updatedReady, availableReplicas: available, message };
    if (!current) return; // our latest template is not visible yet
    if (phase === 'complete') {
      state.failedRevision = null;
      this.observer?.ready(record.id, record.revision);
    } else if (phase === 'failed') {
      if (state.failedRevision !== record.revision) {
        state.failedRevision = record.revision;
        this.observer?.failed(record.id, `The rollout of revision ${record.revision} failed: ${message}`);
      }
    } else {
      this.observer?.progressing(record.id, message);
    }
  }

  private refreshInferenceService(state: Watched, services: KubernetesObject[], warning: string): void {
    const { record } = state;
    const isvc = services.find((s) => s.metadata?.labels?.[DEPLOYMENT_LABEL] === record.id) as
      (KubernetesObject & { status?: { conditions?: { type: string; status: string; message?: string; reason?: string }[] } }) | undefined;
    const ready = isvc?.status?.conditions?.find((c) => c.type === 'Ready');
    const replicas = record.replicas;
    const phase = ready?.status === 'True' ? 'complete' : 'progressing';
    const message =
      phase === 'complete'
        ? `InferenceService ready on revision ${record.revision}`
        : `waiting for KServe to make InferenceService ${record.name} ready${ready?.message ? `: ${ready.message}` : ''}${warning ? ` — ${warning}` : ''}`;
    state.observed.rollout = { phase, replicas, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0, message };
    state.observed.drift = [...state.gone].map((key) => goneDrift(key));
    if (phase === 'complete') this.observer?.ready(record.id, record.revision);
    else this.observer?.progressing(record.id, message);
    this.reportDrift(state);
  }

  /** Fields Runlab wrote that differ now, and recorded objects that are gone. */
  private refreshDrift(
    state: Watched,
    deployment: V1Deployment | undefined,
    service: (KubernetesObject & { spec?: Record<string, unknown> }) | undefined
  ): void {
    const { record } = state;
    const kube = this.kube(record);
    const drift: KubernetesDrift[] = [...state.gone].map((key) => goneDrift(key));
    const settings = this.deps.settings();
    const templateRevision = Number(deployment?.spec?.template?.metadata?.labels?.[REVISION_ANNOTATION] ?? 0);
    // Before our latest apply shows in the watch the template is older: not a hand edit.
    if (deployment && templateRevision >= record.revision) {
      const want = deploymentManifest(record, settings) as {
        spec: {
          replicas?: number;
          template: { spec: { containers: Record<string, unknown>[] }; metadata: { labels: Record<string, string> } };
        };
      };
      const ref = { kind: 'Deployment', name: record.name };
      const container = deployment.spec?.template?.spec?.containers?.[0] as unknown as Record<string, unknown> | undefined;
      const wantContainer = want.spec.template.spec.containers[0];
      const compare = (field: string, expected: unknown, actual: unknown): void => {
        if (str(expected) !== str(actual)) drift.push({ object: ref, field, expected: str(expected), actual: str(actual) });
      };
      if (!kube.autoscale) compare('spec.replicas', want.spec.replicas, deployment.spec?.replicas);
      compare('spec.template.spec.containers[0].image', wantContainer.image, container?.image);
      compare('spec.template.spec.containers[0].args', wantContainer.args, container?.args);
      compare(
        'spec.template.spec.containers[0].resources',
        normalizeResources(wantContainer.resources),
        normalizeResources(container?.resources)
      );
      compare(`spec.template.metadata.labels[${REVISION_ANNOTATION}]`, String(record.revision), String(templateRevision));
    }
    if (service) {
      const want = serviceManifest(record) as { spec: { selector: Record<string, string>; ports: { port: number; targetPort: number }[] } };
      const ports = (service.spec?.ports as { port?: number; targetPort?: number | string }[] | undefined) ?? [];
      const ref = { kind: 'Service', name: record.name };
      if (str(want.spec.selector) !== str(service.spec?.selector)) {
        drift.push({ object: ref, field: 'spec.selector', expected: str(want.spec.selector), actual: str(service.spec?.selector) });
      }
      if (ports[0]?.port !== 80 || String(ports[0]?.targetPort) !== String(want.spec.ports[0].targetPort)) {
        drift.push({
          object: ref,
          field: 'spec.ports[0]',
          expected: '80 → 8080',
          actual: ports[0] ? `${ports[0].port} → ${ports[0].targetPort}` : '(none)'
        });
      }
    }
    state.observed.drift = drift;
    this.reportDrift(state);
  }

  private reportDrift(state: Watched): void {
    const key = JSON.stringify(state.observed.drift);
    if (key === state.driftKey) return;
    state.driftKey = key;
    this.observer?.drifted(state.record.id, state.observed.drift);
  }
}

function goneDrift(key: string): KubernetesDrift {
  const [kind, ...rest] = key.split('/');
  return { object: { kind, name: rest.join('/') }, field: 'the object', expected: 'present', actual: 'deleted' };
}

/** Resources as Kubernetes returns them (it keeps what was written, but drops empty maps). */
function normalizeResources(resources: unknown): Record<string, Record<string, string>> {
  const r = (resources ?? {}) as Record<string, Record<string, string> | undefined>;
  const out: Record<string, Record<string, string>> = {};
  for (const key of ['limits', 'requests']) {
    const values = r[key];
    if (values && Object.keys(values).length) out[key] = Object.fromEntries(Object.entries(values).sort());
  }
  return out;
}

/** Why a pod is not ready, in the cluster's words: a waiting container's reason, or the scheduler's. */
function podReason(pod: V1Pod): string {
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (waiting?.reason) return waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason;
    const terminated = status.state?.terminated;
    if (terminated?.reason && pod.status?.phase !== 'Succeeded') return terminated.reason;
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return `${scheduled.reason ?? 'Unschedulable'}: ${scheduled.message ?? ''}`.trim();
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && ready.reason) return ready.message ? `${ready.reason}: ${ready.message}` : ready.reason;
  return '';
}
