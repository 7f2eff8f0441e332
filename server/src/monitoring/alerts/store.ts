/** SQL of alerts (migration 19): rules, alerts, silences, webhooks and their deliveries. */
import type { Database } from '../../db/database';
import type { Alert, AlertRule, Silence, Webhook, WebhookDelivery } from '../../contract';

interface RuleRow {
  id: string;
  deployment_id: string;
  name: string;
  kind: AlertRule['kind'];
  feature: string | null;
  comparison: AlertRule['comparison'];
  threshold: number;
  for_seconds: number;
  action: AlertRule['action'];
  enabled: number;
  created_at: string;
  created_by: string;
}

interface AlertRow {
  id: string;
  rule_id: string;
  rule_name: string;
  kind: Alert['kind'];
  deployment_id: string;
  deployment_name: string;
  model_version_id: string | null;
  state: Alert['state'];
  silenced: number;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  value: number;
  threshold: number;
  feature: string | null;
  drifted_features: string;
  message: string;
  window_id: string | null;
  fired_at: string;
  resolved_at: string | null;
  retrain_id: string | null;
}

interface DeliveryRow {
  id: string;
  alert_id: string;
  webhook_id: string;
  url: string;
  event: WebhookDelivery['event'];
  body: string;
  status: WebhookDelivery['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** A delivery with what it sends (the signed body) and where (the secret to sign with). */
export interface PendingDelivery extends WebhookDelivery {
  body: string;
  secret: string | null;
}

export type AlertRecord = Omit<Alert, 'deliveries'>;
export type WebhookRecord = Webhook & { secret: string };

const toRule = (row: RuleRow): AlertRule => ({
  id: row.id,
  deploymentId: row.deployment_id,
  name: row.name,
  kind: row.kind,
  feature: row.feature,
  comparison: row.comparison,
  threshold: row.threshold,
  forSeconds: row.for_seconds,
  action: row.action,
  enabled: row.enabled === 1,
  createdAt: row.created_at,
  createdBy: row.created_by
});

const toAlert = (row: AlertRow): AlertRecord => ({
  id: row.id,
  ruleId: row.rule_id,
  ruleName: row.rule_name,
  kind: row.kind,
  deploymentId: row.deployment_id,
  deploymentName: row.deployment_name,
  modelVersionId: row.model_version_id,
  state: row.state,
  silenced: row.silenced === 1,
  acknowledgedBy: row.acknowledged_by,
  acknowledgedAt: row.acknowledged_at,
  value: row.value,
  threshold: row.threshold,
  feature: row.feature,
  driftedFeatures: JSON.parse(row.drifted_features) as string[],
  message: row.message,
  windowId: row.window_id,
  firedAt: row.fired_at,
  resolvedAt: row.resolved_at,
  retrainId: row.retrain_id
});

const toDelivery = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  alertId: row.alert_id,
  webhookId: row.webhook_id,
  url: row.url,
  event: row.event,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  nextAttemptAt: row.next_attempt_at,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at
});

export class AlertStore {
  constructor(private readonly db: Database) {}

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** The project of a model version (its run's, else the one it names), for provenance links. */
  projectOfVersion(versionId: string): { id: string; name: string } | undefined {
    return this.db
      .prepare(
        `SELECT p.id AS id, p.name AS name FROM model_versions v
         JOIN projects p ON p.id = COALESCE((SELECT r.project_id FROM runs r WHERE r.id = v.run_id), (SELECT q.id FROM projects q WHERE q.name = v.project_name))
         WHERE v.id = ?`
      )
      .get(versionId) as { id: string; name: string } | undefined;
  }

  // rules

  insertRule(rule: AlertRule): void {
    this.db
      .prepare(
        `INSERT INTO alert_rules (id, deployment_id, name, kind, feature, comparison, threshold, for_seconds, action, enabled, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        rule.id,
        rule.deploymentId,
        rule.name,
        rule.kind,
        rule.feature,
        rule.comparison,
        rule.threshold,
        rule.forSeconds,
        rule.action,
        rule.enabled ? 1 : 0,
        rule.createdAt,
        rule.createdBy
      );
  }

  updateRule(rule: AlertRule): void {
    this.db
      .prepare('UPDATE alert_rules SET name = ?, threshold = ?, for_seconds = ?, action = ?, enabled = ? WHERE id = ?')
      .run(rule.name, rule.threshold, rule.forSeconds, rule.action, rule.enabled ? 1 : 0, rule.id);
  }

  deleteRule(id: string): void {
    this.db.prepare('DELETE FROM alert_rules WHERE id = ?').run(id);
  }

  rule(id: string): AlertRule | undefined {
    const row = this.db.prepare('SELECT * FROM alert_rules WHERE id = ?').get(id) as RuleRow | undefined;
    return row && toRule(row);
  }

  rules(deploymentId: string | null): AlertRule[] {
    const rows = (
      deploymentId === null
        ? this.db.prepare('SELECT * FROM alert_rules ORDER BY created_at, rowid').all()
        : this.db.prepare('SELECT * FROM alert_rules WHERE deployment_id = ? ORDER BY created_at, rowid').all(deploymentId)
    ) as RuleRow[];
    return rows.map(toRule);
  }

  /** Deployments that ever had a rule, so the default one is added only once (not again after its removal). */
  hasHadRules(deploymentId: string): boolean {
    const rules = this.db.prepare('SELECT 1 FROM alert_rules WHERE deployment_id = ? LIMIT 1').get(deploymentId);
    const alerts = this.db.prepare('SELECT 1 FROM alerts WHERE deployment_id = ? LIMIT 1').get(deploymentId);
    return rules !== undefined || alerts !== undefined;
  }

  // alerts

  insertAlert(alert: AlertRecord): void {
    this.db
      .prepare(
        `INSERT INTO alerts (id, rule_id, rule_name, kind, deployment_id, deployment_name, model_version_id, state, silenced,
           acknowledged_by, acknowledged_at, value, threshold, feature, drifted_features, message, window_id, fired_at, resolved_at, retrain_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        alert.id,
        alert.ruleId,
        alert.ruleName,
        alert.kind,
        alert.deploymentId,
        alert.deploymentName,
        alert.modelVersionId,
        alert.state,
        alert.silenced ? 1 : 0,
        alert.acknowledgedBy,
        alert.acknowledgedAt,
        alert.value,
        alert.threshold,
        alert.feature,
        JSON.stringify(alert.driftedFeatures),
        alert.message,
        alert.windowId,
        alert.firedAt,
        alert.resolvedAt,
        alert.retrainId
      );
  }

  alert(id: string): AlertRecord | undefined {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row && toAlert(row);
  }

  firingOfRule(ruleId: string): AlertRecord | undefined {
    const row = this.db.prepare("SELECT * FROM alerts WHERE rule_id = ? AND state = 'firing'").get(ruleId) as AlertRow | undefined;
    return row && toAlert(row);
  }

  alerts(query: { deploymentId: string | null; state: Alert['state'] | null; limit: number }): AlertRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM alerts WHERE (@deploymentId IS NULL OR deployment_id = @deploymentId) AND (@state IS NULL OR state = @state)
         ORDER BY fired_at DESC, rowid DESC LIMIT @limit`
      )
      .all(query) as AlertRow[];
    return rows.map(toAlert);
  }

  firingCount(deploymentId: string): number {
    return this.db.prepare("SELECT COUNT(*) FROM alerts WHERE deployment_id = ? AND state = 'firing'").pluck().get(deploymentId) as number;
  }

  resolveAlert(id: string, at: string): void {
    this.db.prepare("UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ? AND state = 'firing'").run(at, id);
  }

  acknowledgeAlert(id: string, by: string, at: string): void {
    this.db.prepare('UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?').run(by, at, id);
  }

  setRetrain(alertId: string, retrainId: string): void {
    this.db.prepare('UPDATE alerts SET retrain_id = ? WHERE id = ?').run(retrainId, alertId);
  }

  // silences

  insertSilence(silence: Silence): void {
    this.db
      .prepare(
        'INSERT INTO alert_silences (id, deployment_id, rule_id, reason, ends_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)'
      )
      .run(silence.id, silence.deploymentId, silence.ruleId, silence.reason, silence.endsAt, silence.createdAt, silence.createdBy);
  }

  activeSilences(at: string): Silence[] {
    const rows = this.db.prepare('SELECT * FROM alert_silences WHERE ends_at > ? ORDER BY ends_at').all(at) as {
      id: string;
      deployment_id: string | null;
      rule_id: string | null;
      reason: string;
      ends_at: string;
      created_at: string;
      created_by: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      deploymentId: row.deployment_id,
      ruleId: row.rule_id,
      reason: row.reason,
      endsAt: row.ends_at,
      createdAt: row.created_at,
      createdBy: row.created_by
    }));
  }

  /** Ending a silence keeps it as history: it ends now. */
  endSilence(id: string, at: string): boolean {
    return this.db.prepare('UPDATE alert_silences SET ends_at = ? WHERE id = ? AND ends_at > ?').run(at, id, at).changes > 0;
  }

  // webhooks

  insertWebhook(webhook: WebhookRecord): void {
    this.db
      .prepare('INSERT INTO webhooks (id, url, deployment_id, secret, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)')
      .run(webhook.id, webhook.url, webhook.deploymentId, webhook.secret, webhook.createdAt, webhook.createdBy);
  }

  webhooks(): WebhookRecord[] {
    const rows = this.db.prepare('SELECT * FROM webhooks ORDER BY created_at, rowid').all() as {
      id: string;
      url: string;
      deployment_id: string | null;
      secret: string;
      created_at: string;
      created_by: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      url: row.url,
      deploymentId: row.deployment_id,
      secret: row.secret,
      createdAt: row.created_at,
      createdBy: row.created_by
    }));
  }

  deleteWebhook(id: string): boolean {
    return this.db.prepare('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0;
  }

  // deliveries

  insertDelivery(delivery: WebhookDelivery, body: string): void {
    this.db
      .prepare(
        `INSERT INTO webhook_deliveries (id, alert_id, webhook_id, url, event, body, status, attempts, last_status_code, last_error,
           next_attempt_at, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        delivery.id,
        delivery.alertId,
        delivery.webhookId,
        delivery.url,
        delivery.event,
        body,
        delivery.status,
        delivery.attempts,
        delivery.lastStatusCode,
        delivery.lastError,
        delivery.nextAttemptAt,
        delivery.createdAt,
        delivery.deliveredAt
      );
  }

  deliveriesOf(alertIds: readonly string[]): Map<string, WebhookDelivery[]> {
    const byAlert = new Map<string, WebhookDelivery[]>(alertIds.map((id) => [id, []]));
    if (alertIds.length === 0) return byAlert;
    const rows = this.db
      .prepare(`SELECT * FROM webhook_deliveries WHERE alert_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid`)
      .all(JSON.stringify(alertIds)) as DeliveryRow[];
    for (const row of rows) byAlert.get(row.alert_id)?.push(toDelivery(row));
    return byAlert;
  }

  delivery(id: string): WebhookDelivery | undefined {
    const row = this.db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row && toDelivery(row);
  }

  /** Pending deliveries, soonest first, with their body and their webhook's secret (null: the webhook was removed). */
  pendingDeliveries(): PendingDelivery[] {
    const rows = this.db
      .prepare(
        `SELECT d.*, w.secret AS secret FROM webhook_deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' ORDER BY d.next_attempt_at, d.rowid`
      )
      .all() as (DeliveryRow & { secret: string | null })[];
    return rows.map((row) => ({ ...toDelivery(row), body: row.body, secret: row.secret }));
  }

  recordAttempt(
    id: string,
    outcome: {
      status: WebhookDelivery['status'];
      statusCode: number | null;
      error: string | null;
      nextAttemptAt: string | null;
      deliveredAt: string | null;
    }
  ): void {
    this.db
      .prepare(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, last_status_code = ?, last_error = ?, next_attempt_at = ?, delivered_at = ?
         WHERE id = ?`
      )
      .run(outcome.status, outcome.statusCode, outcome.error, outcome.nextAttemptAt, outcome.deliveredAt, id);
  }

  /** A pending delivery that will never be sent (its webhook was removed). */
  abandonDelivery(id: string, reason: string): void {
    this.db.prepare("UPDATE webhook_deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL WHERE id = ?").run(reason, id);
  }
}
