/**
 * Alerts: rules per deployment are judged on every drift window (drift_share, feature_drift) and
 * on a timer every RUNLAB_ALERT_EVALUATION_SECONDS (error_rate and latency_p99 from the
 * deployment's serving figures, accuracy from feedback). A rule whose condition holds for
 * `forSeconds` fires one alert; it resolves when the condition clears (for drift rules: at the
 * next judged window without it; refused windows neither fire nor resolve). A firing alert is
 * published live (`alert:fired`) and queued for the webhooks, unless a silence covers it: then it
 * is recorded, marked silenced, and nothing else happens (no notice, no webhook, no action).
 *
 * How long a condition has held ("pending") is kept in memory: after a restart a rule with a
 * duration starts counting again, which errs on the side of a later alert, never a false one.
 *
 * Every deployment gets the rule "Data drift" (drift_share above 0: some feature or prediction
 * drifted) the first time one of its windows is judged or its rules are listed, unless it ever
 * had rules (a removed default rule stays removed).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  Alert,
  AlertListQuery,
  AlertRule,
  CreateSilenceRequest,
  CreateWebhookRequest,
  Deployment,
  DriftWindow,
  ProvenanceNode,
  Silence,
  Webhook,
  WebhookDelivery
} from '../../contract';
import { AppError, notFound } from '../../http/errors';
import type { Principal } from '../../http/registry';
import type { Logger } from '../../logger';
import type { ProvenanceService } from '../../provenance/service';
import type { DomainEvents } from '../../realtime/events';
import {
  checkNewRule,
  checkThreshold,
  crosses,
  DEFAULT_DRIFT_RULE,
  isDriftKind,
  observeServing,
  observeWindow,
  type CreateAlertRuleInput,
  type Observation,
  type UpdateAlertRuleInput
} from './rules';
import type { AlertRecord, AlertStore } from './store';
import { WebhookDispatcher, type WebhookSettings } from './webhooks';

export type AlertListInput = z.output<typeof AlertListQuery>;
export type CreateSilenceInput = z.output<typeof CreateSilenceRequest>;
export type CreateWebhookInput = z.output<typeof CreateWebhookRequest>;

export type Accuracy = { metric: 'accuracy' | 'rmse'; value: number; labelledRows: number };

/** What alerts need of monitoring (server/src/monitoring/service.ts MonitoringService has it). */
export interface AlertMonitoring {
  onWindow(listener: (window: DriftWindow) => void): void;
  latestAccuracy(deploymentId: string, sinceMs: number): Accuracy | null;
}

/** What alerts need of deployments (DeploymentService has it). */
export interface AlertDeployments {
  get(id: string): Deployment;
  list(query: { includeStopped: 'true' | 'false' }): Deployment[];
}

export interface AlertServiceDeps {
  store: AlertStore;
  deployments: AlertDeployments;
  provenance: ProvenanceService;
  events: DomainEvents;
  settings: { evaluationSeconds: number; webhooks: WebhookSettings };
  logger: Logger;
  now?: () => Date;
}

export type FiredListener = (alert: Alert, rule: AlertRule) => void;

/** Accuracy rules look at the labelled predictions of this last stretch of time. */
const ACCURACY_LOOKBACK_MS = 3600_000;

export const alertNodeRef = (id: string): string => `alert:${id}`;

/** Since when a rule's condition holds, and what it last saw (the alert it would fire says so). */
interface Pending {
  sinceMs: number;
  observation: Observation;
}

export class AlertService {
  private readonly store: AlertStore;
  private readonly now: () => Date;
  private readonly dispatcher: WebhookDispatcher;
  private readonly pending = new Map<string, Pending>();
  private readonly firedListeners: FiredListener[] = [];
  private monitoring: AlertMonitoring | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: AlertServiceDeps) {
    this.store = deps.store;
    this.now = deps.now ?? (() => new Date());
    this.dispatcher = new WebhookDispatcher(
      deps.store,
      deps.settings.webhooks,
      deps.logger,
      (delivery) => this.deliveryChanged(delivery),
      this.now
    );
  }

  // ------------------------------------------------------------------------------------------
  // wiring

  /** Drift windows and accuracy come from monitoring; without it only the serving rules are judged. */
  attachMonitoring(monitoring: AlertMonitoring): void {
    this.monitoring = monitoring;
    monitoring.onWindow((window) => {
      try {
        this.judgeWindow(window);
      } catch (error) {
        this.deps.logger.error({ err: error, windowId: window.id }, 'alert rules could not judge a drift window');
      }
    });
  }

  /** Called when a rule fires an alert that is not silenced (retrain actions listen here). */
  onFired(listener: FiredListener): void {
    this.firedListeners.push(listener);
  }

  /** Starts the evaluation timer and resumes the webhook deliveries left pending. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.evaluate();
      } catch (error) {
        this.deps.logger.error({ err: error }, 'alert evaluation failed');
      }
    }, this.deps.settings.evaluationSeconds * 1000);
    this.timer.unref();
    this.dispatcher.wake();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.dispatcher.close();
  }

  // ------------------------------------------------------------------------------------------
  // rules

  listRules(deploymentId: string | undefined): AlertRule[] {
    if (deploymentId !== undefined) {
      this.deployment(deploymentId);
      this.ensureDefaultRule(deploymentId);
    }
    return this.store.rules(deploymentId ?? null);
  }

  createRule(request: CreateAlertRuleInput, actor: Principal): AlertRule {
    this.deployment(request.deploymentId);
    const input = checkNewRule(request);
    // The default drift rule comes first, also when the user adds a rule before any window.
    this.ensureDefaultRule(input.deploymentId);
    const rule: AlertRule = {
      id: randomUUID(),
      deploymentId: input.deploymentId,
      name: input.name,
      kind: input.kind,
      feature: input.feature,
      comparison: input.comparison,
      threshold: input.threshold,
      forSeconds: input.forSeconds,
      action: input.action,
      enabled: input.enabled,
      createdAt: this.now().toISOString(),
      createdBy: actor.name
    };
    this.store.insertRule(rule);
    return rule;
  }

  updateRule(id: string, changes: UpdateAlertRuleInput): AlertRule {
    const rule = this.rule(id);
    const updated: AlertRule = {
      ...rule,
      name: changes.name ?? rule.name,
      threshold: changes.threshold ?? rule.threshold,
      forSeconds: changes.forSeconds ?? rule.forSeconds,
      action: changes.action ?? rule.action,
      enabled: changes.enabled ?? rule.enabled
    };
    checkThreshold(updated.kind, updated.comparison, updated.threshold);
    this.store.updateRule(updated);
    // A changed rule starts its duration again; a disabled one stops firing.
    this.pending.delete(id);
    if (!updated.enabled) this.resolveFiring(updated, 'the rule was disabled');
    return updated;
  }

  /** The rule goes; its alerts stay in the history (a firing one is resolved). */
  deleteRule(id: string): void {
    const rule = this.rule(id);
    this.resolveFiring(rule, 'the rule was removed');
    this.pending.delete(id);
    this.store.deleteRule(id);
  }

  // ------------------------------------------------------------------------------------------
  // alerts

  listAlerts(query: AlertListInput): Alert[] {
    const records = this.store.alerts({ deploymentId: query.deploymentId ?? null, state: query.state ?? null, limit: query.limit });
    return this.withDeliveries(records);
  }

  getAlert(id: string): Alert {
    const record = this.store.alert(id);
    if (!record) throw notFound(`Alert ${id}`);
    return this.withDeliveries([record])[0];
  }

  acknowledge(id: string, actor: Principal): Alert {
    const record = this.store.alert(id);
    if (!record) throw notFound(`Alert ${id}`);
    if (record.acknowledgedBy === null) this.store.acknowledgeAlert(id, actor.name, this.now().toISOString());
    return this.publishUpdated(id);
  }

  firingCount(deploymentId: string): number {
    return this.store.firingCount(deploymentId);
  }

  /** Links the retrain an alert started (RetrainService calls it). */
  linkRetrain(alertId: string, retrainId: string): void {
    if (!this.store.alert(alertId)) return;
    this.store.setRetrain(alertId, retrainId);
    this.publishUpdated(alertId);
  }

  // ------------------------------------------------------------------------------------------
  // silences and webhooks

  listSilences(): Silence[] {
    return this.store.activeSilences(this.now().toISOString());
  }

  createSilence(input: CreateSilenceInput, actor: Principal): Silence {
    if (input.deploymentId !== null) this.deployment(input.deploymentId);
    if (input.ruleId !== null) {
      const rule = this.rule(input.ruleId);
      if (input.deploymentId !== null && rule.deploymentId !== input.deploymentId) {
        throw new AppError('invalid_request', `Alert rule ${rule.name} belongs to another deployment than ${input.deploymentId}`, [
          { path: 'body.ruleId', message: 'a rule of the deployment' }
        ]);
      }
    }
    const at = this.now();
    const silence: Silence = {
      id: randomUUID(),
      deploymentId: input.deploymentId,
      ruleId: input.ruleId,
      reason: input.reason,
      endsAt: new Date(at.getTime() + input.durationSeconds * 1000).toISOString(),
      createdAt: at.toISOString(),
      createdBy: actor.name
    };
    this.store.insertSilence(silence);
    return silence;
  }

  deleteSilence(id: string): void {
    if (!this.store.endSilence(id, this.now().toISOString())) throw notFound(`Silence ${id} (or it has ended)`);
  }

  listWebhooks(): Webhook[] {
    return this.store.webhooks().map(({ secret: _secret, ...webhook }) => webhook);
  }

  /** The secret is returned here, once; it is kept only to sign the payloads. */
  createWebhook(input: CreateWebhookInput, actor: Principal): Webhook & { secret: string } {
    if (input.deploymentId !== null) this.deployment(input.deploymentId);
    const webhook = {
      id: randomUUID(),
      url: input.url,
      deploymentId: input.deploymentId,
      secret: input.secret ?? randomBytes(32).toString('hex'),
      createdAt: this.now().toISOString(),
      createdBy: actor.name
    };
    this.store.insertWebhook(webhook);
    return webhook;
  }

  deleteWebhook(id: string): void {
    if (!this.store.deleteWebhook(id)) throw notFound(`Webhook ${id}`);
  }

  // ------------------------------------------------------------------------------------------
  // evaluation

  /** A drift window closed: judge the deployment's drift rules on it. */
  judgeWindow(window: DriftWindow): void {
    if (window.status === 'judged') this.ensureDefaultRule(window.deploymentId);
    const nowMs = this.now().getTime();
    for (const rule of this.store.rules(window.deploymentId)) {
      if (!rule.enabled || !isDriftKind(rule.kind)) continue;
      this.judge(rule, observeWindow(rule, window), nowMs);
    }
  }

  /** The timer's round: serving and accuracy rules now, and drift rules whose duration has passed. */
  evaluate(): void {
    const nowMs = this.now().getTime();
    for (const deployment of this.deps.deployments.list({ includeStopped: 'false' })) {
      const rules = this.store.rules(deployment.id).filter((rule) => rule.enabled);
      if (rules.length === 0) continue;
      const stable = deployment.slots.find((slot) => slot.role === 'stable');
      const needsAccuracy = rules.some((rule) => rule.kind === 'accuracy');
      const figures = {
        deploymentName: deployment.name,
        modelVersionId: stable?.modelVersionId ?? null,
        errorRate: deployment.stats?.errorRate ?? null,
        p99Ms: deployment.stats?.p99Ms ?? null,
        windowSeconds: deployment.stats?.windowSeconds ?? null,
        accuracy: needsAccuracy && this.monitoring ? this.monitoring.latestAccuracy(deployment.id, nowMs - ACCURACY_LOOKBACK_MS) : null
      };
      for (const rule of rules) {
        if (isDriftKind(rule.kind)) {
          // Drift is seen per window; between windows the last verdict holds, so a duration can pass.
          const pending = this.pending.get(rule.id);
          if (pending) this.judge(rule, pending.observation, nowMs);
        } else {
          this.judge(rule, observeServing(rule, figures), nowMs);
        }
      }
    }
  }

  /** One rule, one observation (null: nothing to judge, the state stays). */
  private judge(rule: AlertRule, observation: Observation | null, nowMs: number): void {
    if (observation === null) return;
    const firing = this.store.firingOfRule(rule.id);
    if (!crosses(rule, observation.value)) {
      this.pending.delete(rule.id);
      if (firing) this.resolve(firing);
      return;
    }
    if (firing) return; // one firing alert per rule
    const pending = this.pending.get(rule.id);
    const sinceMs = pending?.sinceMs ?? nowMs;
    this.pending.set(rule.id, { sinceMs, observation });
    if (nowMs - sinceMs >= rule.forSeconds * 1000) {
      this.pending.delete(rule.id);
      this.fire(rule, observation);
    }
  }

  private fire(rule: AlertRule, observation: Observation): void {
    const deployment = this.findDeployment(rule.deploymentId);
    const at = this.now().toISOString();
    const silenced = this.isSilenced(rule, at);
    const record: AlertRecord = {
      id: randomUUID(),
      ruleId: rule.id,
      ruleName: rule.name,
      kind: rule.kind,
      deploymentId: rule.deploymentId,
      deploymentName: deployment?.name ?? rule.deploymentId,
      modelVersionId: observation.modelVersionId,
      state: 'firing',
      silenced,
      acknowledgedBy: null,
      acknowledgedAt: null,
      value: observation.value,
      threshold: rule.threshold,
      feature: rule.feature,
      driftedFeatures: observation.driftedFeatures,
      message: observation.message,
      windowId: observation.windowId,
      firedAt: at,
      resolvedAt: null,
      retrainId: null
    };
    this.store.transaction(() => {
      this.store.insertAlert(record);
      if (!silenced) this.enqueueDeliveries(record, 'alert.fired');
    });
    const project = deployment ? this.projectOf(deployment) : undefined;
    if (project) this.deps.provenance.link(project.id, `deployment:${rule.deploymentId}`, alertNodeRef(record.id));
    this.deps.logger.info({ alertId: record.id, ruleId: rule.id, deploymentId: rule.deploymentId, silenced }, record.message);
    if (silenced) return;
    const alert = this.getAlert(record.id);
    this.deps.events.publish('alert:fired', alert);
    this.dispatcher.wake();
    for (const listener of this.firedListeners) {
      try {
        listener(alert, rule);
      } catch (error) {
        this.deps.logger.warn({ err: error, alertId: alert.id }, 'an alert listener failed');
      }
    }
  }

  private resolve(record: AlertRecord): void {
    this.store.transaction(() => {
      this.store.resolveAlert(record.id, this.now().toISOString());
      if (!record.silenced) this.enqueueDeliveries({ ...record, state: 'resolved' }, 'alert.resolved');
    });
    this.publishUpdated(record.id);
    this.dispatcher.wake();
  }

  private resolveFiring(rule: AlertRule, why: string): void {
    const firing = this.store.firingOfRule(rule.id);
    if (!firing) return;
    this.deps.logger.info({ alertId: firing.id, ruleId: rule.id }, `alert resolved: ${why}`);
    this.resolve(firing);
  }

  private isSilenced(rule: AlertRule, at: string): boolean {
    return this.store
      .activeSilences(at)
      .some(
        (silence) =>
          (silence.deploymentId === null || silence.deploymentId === rule.deploymentId) &&
          (silence.ruleId === null || silence.ruleId === rule.id)
      );
  }

  /** One delivery per webhook that wants the deployment's alerts; the body is fixed now (it is what is signed). */
  private enqueueDeliveries(record: AlertRecord, event: WebhookDelivery['event']): void {
    const at = this.now().toISOString();
    const current = this.store.alert(record.id) ?? record;
    const body = JSON.stringify({ event, alert: { ...current, deliveries: [] } satisfies Alert });
    for (const webhook of this.store.webhooks()) {
      if (webhook.deploymentId !== null && webhook.deploymentId !== record.deploymentId) continue;
      const delivery: WebhookDelivery = {
        id: randomUUID(),
        alertId: record.id,
        webhookId: webhook.id,
        url: webhook.url,
        event,
        status: 'pending',
        attempts: 0,
        lastStatusCode: null,
        lastError: null,
        nextAttemptAt: at,
        createdAt: at,
        deliveredAt: null
      };
      this.store.insertDelivery(delivery, body);
    }
  }

  private deliveryChanged(delivery: WebhookDelivery): void {
    if (this.store.alert(delivery.alertId)) this.publishUpdated(delivery.alertId);
  }

  private publishUpdated(alertId: string): Alert {
    const alert = this.getAlert(alertId);
    if (!alert.silenced) this.deps.events.publish('alert:updated', alert);
    return alert;
  }

  private ensureDefaultRule(deploymentId: string): void {
    if (this.store.hasHadRules(deploymentId)) return;
    this.store.insertRule({
      id: randomUUID(),
      deploymentId,
      ...DEFAULT_DRIFT_RULE,
      createdAt: this.now().toISOString(),
      createdBy: 'runlab'
    });
  }

  // ------------------------------------------------------------------------------------------
  // provenance

  provenanceNodes(ids: readonly string[]): ProvenanceNode[] {
    const nodes: ProvenanceNode[] = [];
    for (const id of ids) {
      const record = this.store.alert(id);
      if (!record) continue;
      const deployment = this.findDeployment(record.deploymentId);
      const stable = deployment?.slots.find((slot) => slot.role === 'stable');
      nodes.push({
        ref: alertNodeRef(id),
        kind: 'alert',
        label: record.ruleName,
        detail: record.message,
        projectName: (deployment && this.projectOf(deployment)?.name) ?? '',
        createdAt: record.firedAt,
        runId: null,
        datasetName: null,
        versionNumber: null,
        artifactPath: null,
        modelName: stable?.modelName ?? null
      });
    }
    return nodes;
  }

  // ------------------------------------------------------------------------------------------

  private withDeliveries(records: AlertRecord[]): Alert[] {
    const deliveries = this.store.deliveriesOf(records.map((record) => record.id));
    return records.map((record) => ({ ...record, deliveries: deliveries.get(record.id) ?? [] }));
  }

  private rule(id: string): AlertRule {
    const rule = this.store.rule(id);
    if (!rule) throw notFound(`Alert rule ${id}`);
    return rule;
  }

  private deployment(id: string): Deployment {
    return this.deps.deployments.get(id);
  }

  private findDeployment(id: string): Deployment | undefined {
    try {
      return this.deps.deployments.get(id);
    } catch {
      return undefined;
    }
  }

  private projectOf(deployment: Deployment): { id: string; name: string } | undefined {
    const stable = deployment.slots.find((slot) => slot.role === 'stable');
    return stable ? this.store.projectOfVersion(stable.modelVersionId) : undefined;
  }
}
