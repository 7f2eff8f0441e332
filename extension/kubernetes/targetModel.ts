/**
 * Where in Kubernetes something goes, as a dialog asks it: the kubeconfig's contexts, the
 * chosen context's namespaces, and the access check (SelfSubjectAccessReview, asked by the
 * companion server) for the chosen pair, run again whenever the context, namespace or what
 * would be created changes. Answers that arrive after a newer question are dropped, so a slow
 * check of a context the user left never overwrites the current one.
 */
import { ISignal, Signal } from '@lumino/signaling';
import type { AccessCheckResponse, KubernetesContext } from '../../server/src/contract';
import { RunlabRequestError } from '../request';
import { describeError } from '../shared/errors';
import type { IRunlabConnection } from '../tokens';

export type AccessPurpose = 'deployment' | 'runnerPool';

/** What the objects need beyond the basics; each adds rights to check. */
export interface IAccessOptions {
  autoscale?: boolean;
  ingress?: boolean;
  kserve?: boolean;
}

/** The form's place: the model writes the defaults it picks here, and reads the user's choice. */
export interface IKubernetesPlace {
  context: string;
  namespace: string;
}

/**
 * A sentence for a failed Kubernetes call: the cluster's refusal (403, naming the verb and
 * resource) or unavailability (503) is the server's own sentence; anything else as elsewhere.
 */
export function clusterErrorText(action: string, error: unknown): string {
  if (error instanceof RunlabRequestError && (error.code === 'forbidden' || error.code === 'unavailable' || error.code === 'not_found')) {
    return error.message;
  }
  return describeError(action, error, 'kubernetes');
}

export class KubernetesTargetModel {
  constructor(
    private readonly _connection: IRunlabConnection,
    readonly purpose: AccessPurpose,
    readonly place: IKubernetesPlace
  ) {}

  /** null until read. */
  get contexts(): readonly KubernetesContext[] | null {
    return this._contexts;
  }
  /** Why there are no contexts, in the server's words (what to do). */
  get contextsMessage(): string {
    return this._contextsMessage;
  }
  /** The kubeconfig's path, `in-cluster`, or null. */
  get source(): string | null {
    return this._source;
  }
  /** The chosen context's namespaces; null while they are read. */
  get namespaces(): readonly string[] | null {
    return this._namespaces;
  }
  get access(): AccessCheckResponse | null {
    return this._access;
  }
  get checking(): boolean {
    return this._checking;
  }
  /** The last failure (contexts, namespaces or the check), as a sentence; null when none. */
  get error(): string | null {
    return this._error;
  }
  /** Whether the current context and namespace may take what would be created (false until checked). */
  get allowed(): boolean {
    return !this._checking && this._access?.allowed === true && this._checkedKey === this._key();
  }
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Reads the contexts, picks the current one (unless the place has one), its namespaces, then checks. */
  async start(options: IAccessOptions = {}): Promise<void> {
    this._options = options;
    try {
      const answer = await this._connection.api.kubernetes.listKubernetesContexts();
      this._contexts = answer.contexts;
      this._contextsMessage = answer.message;
      this._source = answer.source;
      this._error = null;
    } catch (error) {
      this._contexts = [];
      this._error = clusterErrorText('Could not list the Kubernetes contexts', error);
    }
    const contexts = this._contexts ?? [];
    if (!contexts.some((context) => context.name === this.place.context)) {
      this.place.context = (contexts.find((context) => context.current) ?? contexts[0])?.name ?? '';
    }
    this._changed.emit();
    if (this.place.context) {
      await this.setContext(this.place.context, this.place.namespace);
    }
  }

  /** A new context: its namespaces (keeping `namespace` when it has it, else its own default), then the check. */
  async setContext(context: string, namespace = ''): Promise<void> {
    this.place.context = context;
    this.place.namespace = namespace;
    this._namespaces = null;
    this._access = null;
    const asked = ++this._namespaceQuestion;
    this._changed.emit();
    let namespaces: string[] = [];
    try {
      namespaces = (await this._connection.api.kubernetes.listKubernetesNamespaces({ params: { context } })).namespaces;
      this._error = null;
    } catch (error) {
      this._error = clusterErrorText(`Could not list the namespaces of ${context}`, error);
    }
    if (asked !== this._namespaceQuestion) {
      return;
    }
    this._namespaces = namespaces;
    if (!namespaces.includes(this.place.namespace)) {
      const own = this._contexts?.find((candidate) => candidate.name === context)?.namespace;
      this.place.namespace = (own && namespaces.includes(own) ? own : namespaces.includes('default') ? 'default' : namespaces[0]) ?? '';
    }
    this._changed.emit();
    await this.check();
  }

  async setNamespace(namespace: string): Promise<void> {
    this.place.namespace = namespace;
    await this.check();
  }

  /** What would be created changed (autoscale, ingress, KServe): check again when it adds rights. */
  async setOptions(options: IAccessOptions): Promise<void> {
    const before = this._key();
    this._options = options;
    if (this._key() !== before) {
      await this.check();
    }
  }

  /** Asks the server whether the current place may take what would be created. */
  async check(): Promise<void> {
    const { context, namespace } = this.place;
    const key = this._key();
    const asked = ++this._accessQuestion;
    if (!context || !namespace) {
      this._access = null;
      this._checking = false;
      this._changed.emit();
      return;
    }
    this._checking = true;
    this._changed.emit();
    let access: AccessCheckResponse | null = null;
    let error: string | null = null;
    try {
      access = await this._connection.api.kubernetes.checkKubernetesAccess({
        body: {
          context,
          namespace,
          purpose: this.purpose,
          autoscale: !!this._options.autoscale,
          ingress: !!this._options.ingress,
          kserve: !!this._options.kserve
        }
      });
    } catch (reason) {
      error = clusterErrorText(`Could not check the rights of ${context} in ${namespace}`, reason);
    }
    if (asked !== this._accessQuestion) {
      return;
    }
    this._access = access;
    this._checkedKey = key;
    this._error = error;
    this._checking = false;
    this._changed.emit();
  }

  private _key(): string {
    const { autoscale, ingress, kserve } = this._options;
    return JSON.stringify([this.place.context, this.place.namespace, !!autoscale, !!ingress, !!kserve]);
  }

  private _contexts: KubernetesContext[] | null = null;
  private _contextsMessage = '';
  private _source: string | null = null;
  private _namespaces: string[] | null = null;
  private _access: AccessCheckResponse | null = null;
  private _checkedKey = '';
  private _checking = false;
  private _error: string | null = null;
  private _options: IAccessOptions = {};
  private _namespaceQuestion = 0;
  private _accessQuestion = 0;
  private readonly _changed = new Signal<this, void>(this);
}
