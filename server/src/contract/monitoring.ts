/**
 * Monitoring: what a deployed model sees in production, compared with what it was trained on.
 *
 * - **Prediction logs**: the serving runtime's sampled predictions (telemetry reports) are kept
 *   per deployment and model version in compressed columnar blocks, for the retention setting
 *   (RUNLAB_PREDICTION_RETENTION_DAYS). `feedback` joins ground-truth labels to request ids when
 *   they arrive later, which gives accuracy (or RMSE for a regression) over time.
 * - **Drift**: logged rows are cut into windows (by rows or by time, per deployment), and each
 *   window is judged against the serving model version's reference profile, feature by feature
 *   and on the predictions (see server/src/monitoring/drift.ts for the tests and their
 *   thresholds): a feature drifts only when the change is both significant after
 *   Benjamini–Hochberg and larger than its effect-size threshold; a window below `minRows` is
 *   refused, not judged.
 * - **Alerts**: rules on the drift verdict, a feature's score, error rate, latency or accuracy,
 *   with a threshold and a duration; delivered live and to webhooks (HMAC-SHA256 signed, retried
 *   with backoff, with a delivery history); acknowledged and silenced by users.
 * - **Retrain**: re-produces the deployed model's run on a runner with the newest version (or a
 *   chosen one) of each input dataset, and proposes the model version it logs as a canary of the
 *   same deployment.
 */
import { z } from 'zod';
import { IdParams, QueryWholeNumber } from './refs';
import { route } from './route';
import { JobDatasets, Labels } from './runners';

// ----------------------------------------------------------------------------------------------
// settings

export const DriftWindowSpec = z.discriminatedUnion('kind', [
  /** A window closes every `size` logged rows (of one model version). */
  z.strictObject({ kind: z.literal('rows'), size: z.number().int().min(10).max(10_000_000) }),
  /** A window closes every `size` seconds, whatever it holds (a small one is refused, not judged). */
  z.strictObject({
    kind: z.literal('seconds'),
    size: z
      .number()
      .int()
      .min(10)
      .max(30 * 24 * 3600)
  })
]);
export type DriftWindowSpec = z.infer<typeof DriftWindowSpec>;

export const MonitoringSettings = z.strictObject({
  window: DriftWindowSpec,
  /** Windows with fewer rows are refused ("too small"), never judged. */
  minRows: z.number().int().min(10).max(1_000_000),
  /** From this many rows on, the large-sample tests (Wasserstein, Jensen–Shannon) decide. */
  largeWindowRows: z.number().int().min(100).max(10_000_000),
  /** The Benjamini–Hochberg false discovery rate across a window's features. */
  falseDiscoveryRate: z.number().gt(0).max(0.5),
  /** The dataset-level verdict: drifted when at least this share of the input features drifted. */
  driftShare: z.number().gt(0).max(1)
});
export type MonitoringSettings = z.infer<typeof MonitoringSettings>;

export const DEFAULT_MONITORING_SETTINGS: MonitoringSettings = {
  window: { kind: 'rows', size: 1000 },
  minRows: 100,
  largeWindowRows: 5000,
  falseDiscoveryRate: 0.01,
  driftShare: 0.5
};

export const UpdateMonitoringSettingsRequest = MonitoringSettings.partial();
export type UpdateMonitoringSettingsRequest = z.input<typeof UpdateMonitoringSettingsRequest>;

// ----------------------------------------------------------------------------------------------
// drift

export const DriftTest = z.enum(['ks', 'wasserstein', 'chi_squared', 'jensen_shannon']);
export type DriftTest = z.infer<typeof DriftTest>;

/** One feature (or prediction column) of one window, against the reference profile. */
export const FeatureDrift = z.strictObject({
  name: z.string(),
  role: z.enum(['input', 'prediction']),
  kind: z.enum(['numeric', 'categorical']),
  test: DriftTest,
  /** The test's statistic (KS D, normalized Wasserstein distance, chi², Jensen–Shannon distance). */
  statistic: z.number(),
  pValue: z.number().nullable(),
  /** After Benjamini–Hochberg across the window's features and predictions. */
  adjustedPValue: z.number().nullable(),
  /** The size of the change, compared with effectThreshold (the drift score shown over time). */
  effectSize: z.number(),
  effectThreshold: z.number(),
  /** Population stability index over the reference histogram's bins (numeric features). */
  psi: z.number().nullable(),
  drifted: z.boolean(),
  rows: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  /** Why it was not judged (not in the profile, no values), else null. */
  reason: z.string().nullable()
});
export type FeatureDrift = z.infer<typeof FeatureDrift>;

export const DriftWindowStatus = z.enum(['judged', 'too_small', 'no_profile']);

export const DriftWindow = z.strictObject({
  id: z.string(),
  deploymentId: z.string(),
  modelVersionId: z.string(),
  modelName: z.string(),
  version: z.number().int().positive(),
  /** 1, 2, … per deployment and model version. */
  index: z.number().int().positive(),
  startAt: z.string(),
  endAt: z.string(),
  rows: z.number().int().nonnegative(),
  status: DriftWindowStatus,
  /** For too_small / no_profile: what the UI says instead of a verdict. */
  reason: z.string().nullable(),
  /** Share of the judged input features that drifted. */
  driftedShare: z.number().min(0).max(1),
  /** The dataset-level verdict: driftedShare ≥ the deployment's driftShare. */
  drifted: z.boolean(),
  features: z.array(FeatureDrift),
  predictions: z.array(FeatureDrift)
});
export type DriftWindow = z.infer<typeof DriftWindow>;

export const DriftWindowListQuery = z.strictObject({
  modelVersionId: z.string().min(1).max(100).optional(),
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(1000)).default(100)
});

export const DriftWindowList = z.strictObject({
  /** Newest first. */
  windows: z.array(DriftWindow),
  /** The window filling now, per model version: rows so far and rows it needs (rows windows). */
  filling: z.array(
    z.strictObject({
      modelVersionId: z.string(),
      rows: z.number().int().nonnegative(),
      startAt: z.string().nullable(),
      closesAt: z.string().nullable()
    })
  )
});

export const FeatureHistogramQuery = z.strictObject({
  feature: z.string().min(1).max(250),
  role: z.enum(['input', 'prediction']).default('input'),
  /** A window id; default the newest judged window. */
  window: z.string().min(1).max(100).optional()
});

/** Reference vs current for one feature, on the same bins (numeric) or categories. */
export const FeatureHistogram = z.strictObject({
  feature: z.string(),
  role: z.enum(['input', 'prediction']),
  kind: z.enum(['numeric', 'categorical']),
  windowId: z.string(),
  /** Numeric: bin edges (bins + 1 values); categorical: the category of each bin. */
  edges: z.array(z.number()),
  categories: z.array(z.string()),
  /** Proportions (0–1) per bin. */
  reference: z.array(z.number()),
  current: z.array(z.number()),
  drift: FeatureDrift.nullable()
});
export type FeatureHistogram = z.infer<typeof FeatureHistogram>;

// ----------------------------------------------------------------------------------------------
// overview (the Monitoring view)

export const TrafficPoint = z.strictObject({
  /** Start of the minute (ISO). */
  at: z.string(),
  requests: z.number().int().nonnegative(),
  serverErrors: z.number().int().nonnegative(),
  clientErrors: z.number().int().nonnegative(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable()
});
export type TrafficPoint = z.infer<typeof TrafficPoint>;

export const AccuracyPoint = z.strictObject({
  /** Start of the hour the labelled predictions were made in (ISO). */
  at: z.string(),
  metric: z.enum(['accuracy', 'rmse']),
  value: z.number(),
  labelledRows: z.number().int().nonnegative()
});
export type AccuracyPoint = z.infer<typeof AccuracyPoint>;

export const MonitoringOverviewQuery = z.strictObject({
  /** How far back the charts go. */
  hours: QueryWholeNumber.pipe(
    z
      .number()
      .int()
      .min(1)
      .max(24 * 90)
  ).default(24)
});

export const MonitoringOverview = z.strictObject({
  deploymentId: z.string(),
  settings: MonitoringSettings,
  /** Per minute, oldest first. */
  traffic: z.array(TrafficPoint),
  /** Per hour with labels, oldest first; empty before any feedback. */
  accuracy: z.array(AccuracyPoint),
  /** Judged and refused windows, oldest first (the heatmap's columns). */
  windows: z.array(DriftWindow),
  /** The newest window's verdict, for the Deployments panel's badge. */
  latest: DriftWindow.nullable(),
  loggedRows: z.number().int().nonnegative(),
  labelledRows: z.number().int().nonnegative(),
  firingAlerts: z.number().int().nonnegative()
});
export type MonitoringOverview = z.infer<typeof MonitoringOverview>;

// ----------------------------------------------------------------------------------------------
// feedback

export const FeedbackRequest = z.strictObject({
  labels: z
    .array(
      z.strictObject({
        requestId: z.string().min(1).max(200),
        /** The true value(s): one per row of the request (a scalar is a one-row request's). */
        label: z.union([
          z.string().max(500),
          z.number(),
          z.boolean(),
          z.array(z.union([z.string().max(500), z.number(), z.boolean(), z.null()])).max(100_000)
        ])
      })
    )
    .min(1)
    .max(100_000)
});
export type FeedbackRequest = z.input<typeof FeedbackRequest>;

export const FeedbackResponse = z.strictObject({
  accepted: z.number().int().nonnegative(),
  /** Request ids no logged prediction of this deployment has (not sampled, expired, or wrong). */
  unknownRequestIds: z.array(z.string()),
  /** Labels whose row count differs from the logged request's (not stored). */
  mismatchedRequestIds: z.array(z.string())
});
export type FeedbackResponse = z.infer<typeof FeedbackResponse>;

// ----------------------------------------------------------------------------------------------
// alerts

export const AlertRuleKind = z.enum(['drift_share', 'feature_drift', 'error_rate', 'latency_p99', 'accuracy']);
export type AlertRuleKind = z.infer<typeof AlertRuleKind>;

/** What happens when a rule fires, besides the live notice and the webhooks. */
export const AlertAction = z.enum(['notify', 'retrain', 'retrain_and_promote']);

export const AlertRule = z.strictObject({
  id: z.string(),
  deploymentId: z.string(),
  name: z.string(),
  kind: AlertRuleKind,
  /** feature_drift: the feature (or prediction column) whose effect size is compared. */
  feature: z.string().nullable(),
  /** Fires when the value is above (or below, for accuracy) the threshold… */
  comparison: z.enum(['above', 'below']),
  threshold: z.number(),
  /** …for at least this long (0: at once). */
  forSeconds: z.number().int().nonnegative(),
  action: AlertAction,
  enabled: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string()
});
export type AlertRule = z.infer<typeof AlertRule>;

export const CreateAlertRuleRequest = z.strictObject({
  deploymentId: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  kind: AlertRuleKind,
  feature: z.string().min(1).max(250).nullable().default(null),
  comparison: z.enum(['above', 'below']).optional(),
  threshold: z.number().finite(),
  forSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(0),
  action: AlertAction.default('notify'),
  enabled: z.boolean().default(true)
});
export type CreateAlertRuleRequest = z.input<typeof CreateAlertRuleRequest>;

export const UpdateAlertRuleRequest = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  threshold: z.number().finite().optional(),
  forSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .optional(),
  action: AlertAction.optional(),
  enabled: z.boolean().optional()
});

export const AlertRuleListQuery = z.strictObject({ deploymentId: z.string().min(1).max(100).optional() });
export const AlertRuleList = z.strictObject({ rules: z.array(AlertRule) });

export const WebhookDelivery = z.strictObject({
  id: z.string(),
  alertId: z.string(),
  webhookId: z.string(),
  url: z.string(),
  event: z.enum(['alert.fired', 'alert.resolved']),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int().nonnegative(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable()
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const Alert = z.strictObject({
  id: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  kind: AlertRuleKind,
  deploymentId: z.string(),
  deploymentName: z.string(),
  modelVersionId: z.string().nullable(),
  state: z.enum(['firing', 'resolved']),
  /** Silenced alerts are recorded but neither shown as notices nor sent to webhooks. */
  silenced: z.boolean(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  /** The value that crossed the threshold, and the feature when the rule is about one. */
  value: z.number(),
  threshold: z.number(),
  feature: z.string().nullable(),
  /** The drifted features of the window that fired it (drift rules), most drifted first. */
  driftedFeatures: z.array(z.string()),
  message: z.string(),
  windowId: z.string().nullable(),
  firedAt: z.string(),
  resolvedAt: z.string().nullable(),
  /** The retrain started from it, if any. */
  retrainId: z.string().nullable(),
  deliveries: z.array(WebhookDelivery)
});
export type Alert = z.infer<typeof Alert>;

export const AlertListQuery = z.strictObject({
  deploymentId: z.string().min(1).max(100).optional(),
  state: z.enum(['firing', 'resolved']).optional(),
  limit: QueryWholeNumber.pipe(z.number().int().min(1).max(1000)).default(100)
});
export const AlertList = z.strictObject({ alerts: z.array(Alert) });

export const Silence = z.strictObject({
  id: z.string(),
  /** null: every deployment. */
  deploymentId: z.string().nullable(),
  /** null: every rule (of the deployment). */
  ruleId: z.string().nullable(),
  reason: z.string(),
  endsAt: z.string(),
  createdAt: z.string(),
  createdBy: z.string()
});
export type Silence = z.infer<typeof Silence>;

export const CreateSilenceRequest = z.strictObject({
  deploymentId: z.string().min(1).max(100).nullable().default(null),
  ruleId: z.string().min(1).max(100).nullable().default(null),
  reason: z.string().max(2000).default(''),
  /** How long, from now. */
  durationSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 24 * 3600)
});
export type CreateSilenceRequest = z.input<typeof CreateSilenceRequest>;
export const SilenceList = z.strictObject({ silences: z.array(Silence) });

export const Webhook = z.strictObject({
  id: z.string(),
  url: z.string(),
  /** null: every deployment's alerts. */
  deploymentId: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string()
});
export type Webhook = z.infer<typeof Webhook>;

export const CreateWebhookRequest = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  deploymentId: z.string().min(1).max(100).nullable().default(null),
  /** The HMAC-SHA256 key (X-Runlab-Signature: sha256=<hex of the body>); generated when absent. */
  secret: z.string().min(16).max(200).optional()
});
export type CreateWebhookRequest = z.input<typeof CreateWebhookRequest>;

/** The secret is shown once, here. */
export const CreatedWebhook = Webhook.extend({ secret: z.string() });
export const WebhookList = z.strictObject({ webhooks: z.array(Webhook) });

// ----------------------------------------------------------------------------------------------
// retrain

export const RetrainStatus = z.enum(['queued', 'running', 'proposed', 'promoted', 'failed', 'cancelled']);

export const Retrain = z.strictObject({
  id: z.string(),
  deploymentId: z.string(),
  alertId: z.string().nullable(),
  /** The run that logged the deployed model version, re-produced. */
  sourceRunId: z.string(),
  modelName: z.string(),
  fromModelVersionId: z.string(),
  jobId: z.string(),
  runId: z.string(),
  /** The dataset versions the retrain reads (name → ref), the newest unless chosen. */
  datasets: z.record(z.string(), z.string()),
  status: RetrainStatus,
  /** The model version the retrain run logged, proposed as a canary of the deployment. */
  newModelVersionId: z.string().nullable(),
  newVersion: z.number().int().positive().nullable(),
  canaryPercent: z.number().min(0).max(100),
  promote: z.boolean(),
  error: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  finishedAt: z.string().nullable()
});
export type Retrain = z.infer<typeof Retrain>;

export const RetrainRequest = z.strictObject({
  alertId: z.string().min(1).max(100).nullable().default(null),
  /** Dataset versions to use instead of the newest (name → ref, e.g. "iris@v3"). */
  datasets: JobDatasets.default({}),
  labels: Labels.optional(),
  /** The canary's share of traffic once the new version is registered. */
  canaryPercent: z.number().min(1).max(50).default(10),
  /** Promote it at once instead of proposing a canary (only do that when a rule says so). */
  promote: z.boolean().default(false)
});
export type RetrainRequest = z.input<typeof RetrainRequest>;
export const RetrainList = z.strictObject({ retrains: z.array(Retrain) });

// ----------------------------------------------------------------------------------------------
// routes

const TAG = 'monitoring';
/** Each route group carries its feature's tag (the api key in contract/index.ts, the OpenAPI grouping). */
const ALERTS_TAG = 'alerts';
const RETRAIN_TAG = 'retrain';

export const monitoringApi = {
  getMonitoringOverview: route({
    method: 'get',
    path: '/api/deployments/:id/monitoring',
    summary: 'A deployment in production: traffic, latency, drift windows, accuracy from feedback',
    tag: TAG,
    scope: 'user',
    params: IdParams,
    query: MonitoringOverviewQuery,
    status: 200,
    response: MonitoringOverview,
    errors: ['not_found']
  }),
  updateMonitoringSettings: route({
    method: 'patch',
    path: '/api/deployments/:id/monitoring',
    summary: "Change how a deployment's drift is judged (window, minimum rows, false discovery rate)",
    tag: TAG,
    scope: 'user',
    params: IdParams,
    body: UpdateMonitoringSettingsRequest,
    status: 200,
    response: MonitoringSettings,
    errors: ['not_found']
  }),
  listDriftWindows: route({
    method: 'get',
    path: '/api/deployments/:id/drift',
    summary: "A deployment's drift windows, newest first, and the windows filling now",
    tag: TAG,
    scope: 'user',
    params: IdParams,
    query: DriftWindowListQuery,
    status: 200,
    response: DriftWindowList,
    errors: ['not_found']
  }),
  getFeatureHistogram: route({
    method: 'get',
    path: '/api/deployments/:id/drift/histogram',
    summary: 'Reference vs current distribution of one feature in one window',
    tag: TAG,
    scope: 'user',
    params: IdParams,
    query: FeatureHistogramQuery,
    status: 200,
    response: FeatureHistogram,
    errors: ['not_found']
  }),
  sendFeedback: route({
    method: 'post',
    path: '/api/deployments/:id/feedback',
    summary: 'Ground-truth labels for logged predictions, by request id',
    tag: TAG,
    scope: 'user',
    params: IdParams,
    body: FeedbackRequest,
    largeBody: true,
    status: 200,
    response: FeedbackResponse,
    errors: ['not_found']
  }),
  getMetrics: route({
    method: 'get',
    path: '/metrics',
    summary:
      'Prometheus metrics: requests, errors, latency quantiles, drift scores and firing alerts per deployment (bearer token: a user token)',
    tag: TAG,
    scope: 'user',
    rawResponse: { description: "Prometheus' text exposition format", mediaType: 'text/plain; version=0.0.4; charset=utf-8' },
    status: 200
  })
};

export const alertsApi = {
  listAlertRules: route({
    method: 'get',
    path: '/api/alert-rules',
    summary: 'Alert rules',
    tag: ALERTS_TAG,
    scope: 'user',
    query: AlertRuleListQuery,
    status: 200,
    response: AlertRuleList,
    errors: ['not_found']
  }),
  createAlertRule: route({
    method: 'post',
    path: '/api/alert-rules',
    summary: 'Add an alert rule to a deployment',
    tag: ALERTS_TAG,
    scope: 'user',
    body: CreateAlertRuleRequest,
    status: 201,
    response: AlertRule,
    errors: ['not_found']
  }),
  updateAlertRule: route({
    method: 'patch',
    path: '/api/alert-rules/:id',
    summary: 'Change an alert rule',
    tag: ALERTS_TAG,
    scope: 'user',
    params: IdParams,
    body: UpdateAlertRuleRequest,
    status: 200,
    response: AlertRule,
    errors: ['not_found']
  }),
  deleteAlertRule: route({
    method: 'delete',
    path: '/api/alert-rules/:id',
    summary: 'Remove an alert rule (its alerts stay in the history)',
    tag: ALERTS_TAG,
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  }),
  listAlerts: route({
    method: 'get',
    path: '/api/alerts',
    summary: 'Alerts, newest first, with their webhook deliveries',
    tag: ALERTS_TAG,
    scope: 'user',
    query: AlertListQuery,
    status: 200,
    response: AlertList,
    errors: ['not_found']
  }),
  acknowledgeAlert: route({
    method: 'post',
    path: '/api/alerts/:id/acknowledge',
    summary: 'Acknowledge an alert: someone is on it',
    tag: ALERTS_TAG,
    scope: 'user',
    params: IdParams,
    status: 200,
    response: Alert,
    errors: ['not_found']
  }),
  listSilences: route({
    method: 'get',
    path: '/api/silences',
    summary: 'Silences that have not ended',
    tag: ALERTS_TAG,
    scope: 'user',
    status: 200,
    response: SilenceList
  }),
  createSilence: route({
    method: 'post',
    path: '/api/silences',
    summary: "Silence a deployment's (or a rule's) alerts for a while",
    tag: ALERTS_TAG,
    scope: 'user',
    body: CreateSilenceRequest,
    status: 201,
    response: Silence,
    errors: ['not_found']
  }),
  deleteSilence: route({
    method: 'delete',
    path: '/api/silences/:id',
    summary: 'End a silence now',
    tag: ALERTS_TAG,
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  }),
  listWebhooks: route({
    method: 'get',
    path: '/api/webhooks',
    summary: 'Webhooks alerts are sent to',
    tag: ALERTS_TAG,
    scope: 'user',
    status: 200,
    response: WebhookList
  }),
  createWebhook: route({
    method: 'post',
    path: '/api/webhooks',
    summary: 'Send alerts to a URL (HMAC-SHA256 signed; the secret is shown once)',
    tag: ALERTS_TAG,
    scope: 'user',
    body: CreateWebhookRequest,
    status: 201,
    response: CreatedWebhook,
    errors: ['not_found']
  }),
  deleteWebhook: route({
    method: 'delete',
    path: '/api/webhooks/:id',
    summary: 'Stop sending alerts to a webhook',
    tag: ALERTS_TAG,
    scope: 'user',
    params: IdParams,
    status: 204,
    errors: ['not_found']
  })
};

export const retrainApi = {
  retrainDeployment: route({
    method: 'post',
    path: '/api/deployments/:id/retrain',
    summary: "Re-produce the deployed model's run with the newest data on a runner; propose its model as a canary",
    tag: RETRAIN_TAG,
    scope: 'user',
    params: IdParams,
    body: RetrainRequest,
    status: 201,
    response: Retrain,
    errors: ['not_found', 'conflict']
  }),
  listRetrains: route({
    method: 'get',
    path: '/api/deployments/:id/retrains',
    summary: "A deployment's retrains, newest first",
    tag: RETRAIN_TAG,
    scope: 'user',
    params: IdParams,
    status: 200,
    response: RetrainList,
    errors: ['not_found']
  })
};

/** Live events of monitoring, to every signed-in browser. */
export interface MonitoringEvents {
  /** A drift window closed (judged or refused). */
  'drift:window': (window: DriftWindow) => void;
  /** An alert fired (not silenced): JupyterLab shows a notice. */
  'alert:fired': (alert: Alert) => void;
  /** An alert was resolved, acknowledged, or a delivery changed. */
  'alert:updated': (alert: Alert) => void;
  'retrain:updated': (retrain: Retrain) => void;
}
