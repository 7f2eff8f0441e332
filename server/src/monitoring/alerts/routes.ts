import { alertsApi } from '../../contract';
import { implement, type Principal, type Route } from '../../http/registry';
import type { AlertService } from './service';

export function alertRoutes(alerts: AlertService): Route[] {
  return implement(alertsApi, {
    listAlertRules: ({ query }) => ({ rules: alerts.listRules(query.deploymentId) }),
    createAlertRule: ({ body, principal }) => alerts.createRule(body, principal as Principal),
    updateAlertRule: ({ params, body }) => alerts.updateRule(params.id, body),
    deleteAlertRule: ({ params }) => {
      alerts.deleteRule(params.id);
      return undefined;
    },
    listAlerts: ({ query }) => ({ alerts: alerts.listAlerts(query) }),
    acknowledgeAlert: ({ params, principal }) => alerts.acknowledge(params.id, principal as Principal),
    listSilences: () => ({ silences: alerts.listSilences() }),
    createSilence: ({ body, principal }) => alerts.createSilence(body, principal as Principal),
    deleteSilence: ({ params }) => {
      alerts.deleteSilence(params.id);
      return undefined;
    },
    listWebhooks: () => ({ webhooks: alerts.listWebhooks() }),
    createWebhook: ({ body, principal }) => alerts.createWebhook(body, principal as Principal),
    deleteWebhook: ({ params }) => {
      alerts.deleteWebhook(params.id);
      return undefined;
    }
  });
}
