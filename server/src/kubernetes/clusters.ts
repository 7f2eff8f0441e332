/**
 * The Kubernetes clusters Runlab may use: the contexts of the user's kubeconfig (RUNLAB_KUBECONFIG,
 * else KUBECONFIG, else ~/.kube/config), or the pod's service account when the companion server
 * itself runs in a cluster (context `in-cluster`). Everything Runlab does in a cluster goes
 * through here: server-side apply with field manager `runlab`, reads, deletes, watches shared per
 * (context, namespace, kind), and the SelfSubjectAccessReview precheck that makes a missing right
 * a clear 403 before anything is written. Errors of the cluster become AppErrors that say what to
 * do: 403 names the verb and resource, an API server that does not answer is 503.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubernetesObject
} from '@kubernetes/client-node';
import type { AccessCheckResponse, KubernetesContext, MissingRight } from '../contract';
import { AppError, notFound } from '../http/errors';
import type { Logger } from '../logger';

export const FIELD_MANAGER = 'runlab';
export const IN_CLUSTER = 'in-cluster';
/** Labels on everything Runlab creates: `kubectl get all -l app.kubernetes.io/managed-by=runlab`. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'runlab';
const REQUEST_TIMEOUT_MS = 10_000;

/** One right to check: `create` on `deployments` in group `apps`. */
export interface Right {
  verb: string;
  resource: string;
  group?: string;
}

/** Rights a deployment's objects need in its namespace. */
export function deploymentRights(options: { autoscale?: boolean; ingress?: boolean; kserve?: boolean }): Right[] {
  const verbs = ['get', 'list', 'watch', 'create', 'patch', 'delete'];
  const resources: Right[] = [
    { resource: 'secrets', verb: '' },
    { resource: 'pods', verb: '' },
    { resource: 'events', verb: '' }
  ];
  if (options.kserve) resources.push({ resource: 'inferenceservices', group: 'serving.kserve.io', verb: '' });
  else resources.push({ resource: 'deployments', group: 'apps', verb: '' }, { resource: 'services', verb: '' });
  if (options.autoscale && !options.kserve) resources.push({ resource: 'horizontalpodautoscalers', group: 'autoscaling', verb: '' });
  if (options.ingress && !options.kserve) resources.push({ resource: 'ingresses', group: 'networking.k8s.io', verb: '' });
  return resources.flatMap((r) =>
    verbs
      .filter((verb) => !((r.resource === 'pods' || r.resource === 'events') && !['get', 'list', 'watch'].includes(verb)))
      .map((verb) => ({ ...r, verb }))
  );
}

/** Rights a runner pool needs: Jobs and their Secrets, and reading pods. */
export function runnerPoolRights(): Right[] {
  const all = ['get', 'list', 'watch', 'create', 'delete'];
  return [
    ...all.map((verb) => ({ verb, resource: 'jobs', group: 'batch' })),
    ...all.map((verb) => ({ verb, resource: 'secrets' })),
    ...['get', 'list', 'watch', 'delete'].map((verb) => ({ verb, resource: 'pods' }))
  ];
}

const resourceName = (right: Right): string => (right.group ? `${right.resource}.${right.group}` : right.resource);

/** A watched object and how it changed. */
export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR';
type WatchListener = (phase: WatchPhase, object: KubernetesObject) => void;

interface SharedWatch {
  listeners: Set<WatchListener>;
  /** The objects it has seen, by name: what the listeners read between events. */
  objects: Map<string, KubernetesObject>;
  abort: AbortController | null;
  stopped: boolean;
  retryTimer: NodeJS.Timeout | null;
  /** Why the watch is down now (the API server does not answer), or null while it runs. */
  error: string | null;
  labelSelector: string | undefined;
}

export class KubernetesClusters {
  private base: KubeConfig | null = null;
  private source: string | null = null;
  private loadMessage = '';
  private readonly configs = new Map<string, KubeConfig>();
  private readonly watches = new Map<string, SharedWatch>();
  /** Requests sent to API servers (reads, writes, access reviews, watch starts). */
  apiCalls = 0;

  constructor(
    private readonly options: { kubeconfig: string | null; logger: Logger; inCluster?: boolean },
    env: NodeJS.ProcessEnv = process.env
  ) {
    this.load(env);
  }

  private load(env: NodeJS.ProcessEnv): void {
    const candidates = [this.options.kubeconfig, env.KUBECONFIG?.split(path.delimiter)[0], path.join(os.homedir(), '.kube', 'config')];
    const file = candidates.find((candidate) => candidate && fs.existsSync(candidate));
    const config = new KubeConfig();
    if (file) {
      try {
        config.loadFromFile(file);
        this.base = config;
        this.source = file;
        return;
      } catch (error) {
        this.loadMessage = `The kubeconfig ${file} could not be read: ${(error as Error).message}. Fix it, or point RUNLAB_KUBECONFIG at another one.`;
        return;
      }
    }
    if (
      this.options.inCluster !== false &&
      env.KUBERNETES_SERVICE_HOST &&
      fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')
    ) {
      config.loadFromCluster();
      this.base = config;
      this.source = IN_CLUSTER;
      return;
    }
    this.loadMessage = this.options.kubeconfig
      ? `RUNLAB_KUBECONFIG names ${this.options.kubeconfig}, which does not exist. Point it at your kubeconfig (kubectl config view --flatten > FILE).`
      : 'No kubeconfig found (RUNLAB_KUBECONFIG, KUBECONFIG or ~/.kube/config): set RUNLAB_KUBECONFIG to one to deploy to Kubernetes.';
  }

  /** The contexts, where they come from, and why there are none. */
  contexts(): { contexts: KubernetesContext[]; source: string | null; message: string } {
    if (!this.base) return { contexts: [], source: null, message: this.loadMessage };
    const current = this.base.getCurrentContext();
    const contexts = this.base.getContexts().map((context) => ({
      name: context.name,
      cluster: context.cluster,
      server: this.base?.getCluster(context.cluster)?.server ?? '',
      user: context.user,
      namespace: context.namespace ?? 'default',
      current: context.name === current
    }));
    return { contexts, source: this.source, message: contexts.length ? '' : `The kubeconfig ${this.source} has no contexts.` };
  }

  /** The kubeconfig of one context (its current context set), or a 404 that lists the others. */
  config(context: string): KubeConfig {
    const cached = this.configs.get(context);
    if (cached) return cached;
    const base = this.base;
    if (!base) throw new AppError('not_found', this.loadMessage);
    if (!base.getContextObject(context)) {
      const names = base.getContexts().map((c) => c.name);
      throw notFound(`Kubernetes context "${context}" (the kubeconfig ${this.source} has ${names.length ? names.join(', ') : 'none'})`);
    }
    const config = new KubeConfig();
    if (this.source === IN_CLUSTER) config.loadFromCluster();
    else config.loadFromString(base.exportConfig());
    config.setCurrentContext(context);
    this.configs.set(context, config);
    return config;
  }

  /** The API server URL of a context, for messages. */
  serverOf(context: string): string {
    return this.config(context).getCurrentCluster()?.server ?? 'its API server';
  }

  /** Runs one call against a context's API server, counted, with its errors in Runlab's words. */
  async call<T>(context: string, what: string, fn: (config: KubeConfig) => Promise<T>): Promise<T> {
    const config = this.config(context);
    this.apiCalls++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(config),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
            REQUEST_TIMEOUT_MS
          );
        })
      ]);
    } catch (error) {
      throw this.explain(context, what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A cluster's error as an AppError: 403 → forbidden, unreachable → unavailable, 404 → not_found. */
  explain(context: string, what: string, error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof ApiException) {
      const body = parseBody(error.body);
      const message = body?.message ?? String(error.body).slice(0, 500);
      if (error.code === 403) {
        return new AppError(
          'forbidden',
          `Kubernetes context "${context}" may not ${what}: ${message}. Ask a cluster admin for the right, or pick another context.`
        );
      }
      if (error.code === 401) {
        return new AppError(
          'forbidden',
          `Kubernetes context "${context}" is not signed in to ${this.serverOf(context)} (401): renew its credentials in the kubeconfig.`
        );
      }
      if (error.code === 404) return new AppError('not_found', `Kubernetes: ${what}: ${message}`);
      if (error.code === 409) return new AppError('conflict', `Kubernetes: ${what}: ${message}`);
      if (error.code === 422 || error.code === 400) return new AppError('invalid_request', `Kubernetes refused to ${what}: ${message}`);
      return new AppError('unavailable', `Kubernetes context "${context}" answered ${error.code} to ${what}: ${message}`);
    }
    const cause = error as { code?: string; cause?: { code?: string }; message?: string };
    const code = cause.code ?? cause.cause?.code ?? '';
    return new AppError(
      'unavailable',
      `The Kubernetes API server of context "${context}" (${this.serverOf(context)}) does not answer (${code || cause.message || 'no answer'}), so Runlab could not ${what}. Check that the cluster is running and reachable from this machine, then try again.`
    );
  }

  async namespaces(context: string): Promise<string[]> {
    try {
      const list = await this.call(context, 'list namespaces', (config) => config.makeApiClient(CoreV1Api).listNamespace());
      return list.items
        .map((ns) => ns.metadata?.name ?? '')
        .filter(Boolean)
        .sort();
    } catch (error) {
      // A user who may not list namespaces still has the context's own.
      if (error instanceof AppError && error.code === 'forbidden') {
        return [this.config(context).getContextObject(context)?.namespace ?? 'default'];
      }
      throw error;
    }
  }

  /** Asks the API server, one SelfSubjectAccessReview per right, which of them the context lacks. */
  async missingRights(context: string, namespace: string, rights: Right[]): Promise<MissingRight[]> {
    const reviews = await Promise.all(
      rights.map((right) =>
        this.call(context, 'review its own access', (config) =>
          config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { namespace, verb: right.verb, resource: right.resource, group: right.group ?? '' } }
            }
          })
        ).then((review) => ({ right, allowed: review.status?.allowed === true }))
      )
    );
    return reviews.filter((r) => !r.allowed).map(({ right }) => ({ verb: right.verb, resource: resourceName(right), namespace }));
  }

  /** The access check the Deploy dialog shows, in words. */
  async checkAccess(context: string, namespace: string, rights: Right[], purpose: string): Promise<AccessCheckResponse> {
    const missing = await this.missingRights(context, namespace, rights);
    const kserveAvailable = await this.hasKServe(context);
    return { allowed: missing.length === 0, missing, message: accessMessage(context, namespace, missing, purpose), kserveAvailable };
  }

  /** Refuses (403, naming each missing verb and resource) before anything is created. */
  async requireAccess(context: string, namespace: string, rights: Right[], purpose: string): Promise<void> {
    const missing = await this.missingRights(context, namespace, rights);
    if (missing.length > 0) throw new AppError('forbidden', `${accessMessage(context, namespace, missing, purpose)} Nothing was created.`);
  }

  async hasKServe(context: string): Promise<boolean> {
    try {
      await this.call(context, 'look for the KServe CRD', (config) =>
        KubernetesObjectApi.makeApiClient(config).read({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: 'inferenceservices.serving.kserve.io' }
        })
      );
      return true;
    } catch (error) {
      if (error instanceof AppError && (error.code === 'not_found' || error.code === 'forbidden')) return false;
      throw error;
    }
  }

  /** Server-side apply (field manager `runlab`, forced: Runlab owns the fields it writes). */
  async apply<T extends KubernetesObject>(context: string, object: T): Promise<T> {
    return this.call(context, `apply ${object.kind} ${object.metadata?.name}`, (config) =>
      KubernetesObjectApi.makeApiClient(config).patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)
    ) as Promise<T>;
  }

  /** The object, or null when it does not exist. */
  async read(context: string, ref: KubernetesObject): Promise<KubernetesObject | null> {
    try {
      return await this.call(context, `read ${ref.kind} ${ref.metadata?.name}`, (config) =>
        KubernetesObjectApi.makeApiClient(config).read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.metadata?.name ?? '', namespace: ref.metadata?.namespace }
        })
      );
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    }
  }

  /** Deletes the object (its dependents in the background); one already gone is fine. */
  async remove(context: string, ref: KubernetesObject): Promise<void> {
    try {
      await this.call(context, `delete ${ref.kind} ${ref.metadata?.name}`, (config) =>
        KubernetesObjectApi.makeApiClient(config).delete(ref, undefined, undefined, undefined, undefined, 'Background')
      );
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return;
      throw error;
    }
  }

  /** Objects of a kind in a namespace, by label selector. */
  async list(
    context: string,
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
    fieldSelector?: string
  ): Promise<KubernetesObject[]> {
    const result = await this.call(context, `list ${kind}s in ${namespace}`, (config) =>
      KubernetesObjectApi.makeApiClient(config).list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        fieldSelector,
        labelSelector
      )
    );
    return result.items;
  }

  /**
   * Listens to the objects of one kind Runlab manages in a namespace (label managed-by=runlab).
   * Every listener of the same (context, namespace, kind) shares one watch, so 50 deployments in
   * a namespace cost one watch per kind, not 50. A watch that ends is started again (after 1 s).
   * `labelSelector: null` watches every object of the kind (Events carry no labels).
   * Returns what stops listening.
   */
  watch(
    context: string,
    namespace: string,
    resourcePath: string,
    listener: WatchListener,
    labelSelector: string | null = `${MANAGED_BY_LABEL}=${MANAGED_BY}`
  ): () => void {
    const key = `${context}\u0000${namespace}\u0000${resourcePath}`;
    let shared = this.watches.get(key);
    if (!shared) {
      shared = {
        listeners: new Set(),
        objects: new Map(),
        abort: null,
        stopped: false,
        retryTimer: null,
        error: null,
        labelSelector: labelSelector ?? undefined
      };
      this.watches.set(key, shared);
      this.startWatch(context, namespace, resourcePath, shared);
    }
    shared.listeners.add(listener);
    const watch = shared;
    return () => {
      watch.listeners.delete(listener);
      if (watch.listeners.size === 0) {
        watch.stopped = true;
        if (watch.retryTimer) clearTimeout(watch.retryTimer);
        watch.abort?.abort();
        this.watches.delete(key);
      }
    };
  }

  /** Why a shared watch is down now, or null. */
  watchError(context: string, namespace: string, resourcePath: string): string | null {
    return this.watches.get(`${context}\u0000${namespace}\u0000${resourcePath}`)?.error ?? null;
  }

  /** The objects a shared watch has seen (empty when none is running). */
  watched(context: string, namespace: string, resourcePath: string): KubernetesObject[] {
    return [...(this.watches.get(`${context}\u0000${namespace}\u0000${resourcePath}`)?.objects.values() ?? [])];
  }

  private startWatch(context: string, namespace: string, resourcePath: string, shared: SharedWatch): void {
    if (shared.stopped) return;
    const retry = (): void => {
      if (shared.stopped || shared.retryTimer) return;
      shared.retryTimer = setTimeout(() => {
        shared.retryTimer = null;
        this.startWatch(context, namespace, resourcePath, shared);
      }, 1000);
      shared.retryTimer.unref();
    };
    let config: KubeConfig;
    try {
      config = this.config(context);
    } catch {
      return;
    }
    this.apiCalls++;
    const apiPath = resourcePath.replace('{namespace}', namespace);
    new Watch(config)
      .watch(
        apiPath,
        shared.labelSelector ? { labelSelector: shared.labelSelector, allowWatchBookmarks: false } : { allowWatchBookmarks: false },
        (phase: string, object: KubernetesObject) => {
          shared.error = null;
          const name = object.metadata?.name ?? '';
          if (phase === 'DELETED') shared.objects.delete(name);
          else if (phase === 'ADDED' || phase === 'MODIFIED') shared.objects.set(name, object);
          else return;
          for (const listener of shared.listeners) listener(phase, object);
        },
        (error: unknown) => {
          if (error && !shared.stopped) {
            shared.error = this.explain(context, `watch ${apiPath}`, error).message;
            this.options.logger.debug({ err: error, apiPath, context }, 'a Kubernetes watch ended; starting it again');
            for (const listener of shared.listeners) listener('ERROR', {});
          }
          retry();
        }
      )
      .then((abort) => {
        shared.abort = abort;
        if (shared.stopped) abort.abort();
      })
      .catch((error: unknown) => {
        if (!shared.stopped) {
          shared.error = this.explain(context, `watch ${apiPath}`, error).message;
          for (const listener of shared.listeners) listener('ERROR', {});
        }
        retry();
      });
  }

  /** Ends every watch (server shutdown). */
  close(): void {
    for (const shared of this.watches.values()) {
      shared.stopped = true;
      if (shared.retryTimer) clearTimeout(shared.retryTimer);
      shared.abort?.abort();
    }
    this.watches.clear();
  }
}

function parseBody(body: unknown): { message?: string; reason?: string } | null {
  if (body && typeof body === 'object') return body as { message?: string };
  try {
    return JSON.parse(String(body)) as { message?: string };
  } catch {
    return null;
  }
}

export function accessMessage(context: string, namespace: string, missing: MissingRight[], purpose: string): string {
  if (missing.length === 0) return `Context "${context}" may create everything a ${purpose} needs in namespace ${namespace}.`;
  const byResource = new Map<string, string[]>();
  for (const m of missing) byResource.set(m.resource, [...(byResource.get(m.resource) ?? []), m.verb]);
  const list = [...byResource].map(([resource, verbs]) => `${verbs.join(', ')} ${resource}`).join('; ');
  return `Context "${context}" may not ${list} in namespace ${namespace}, which a ${purpose} needs. Ask a cluster admin for a Role with these rights (or pick another context or namespace).`;
}
