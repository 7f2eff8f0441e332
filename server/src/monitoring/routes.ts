import { Readable } from 'node:stream';
import { monitoringApi } from '../contract';
import { implement, RawReply, type Route } from '../http/registry';
import type { MonitoringService } from './service';

export function monitoringRoutes(monitoring: MonitoringService): Route[] {
  return implement(monitoringApi, {
    getMonitoringOverview: ({ params, query }) => monitoring.overview(params.id, query.hours),
    updateMonitoringSettings: ({ params, body }) => monitoring.updateSettings(params.id, body),
    listDriftWindows: ({ params, query }) => monitoring.driftWindows(params.id, query.limit, query.modelVersionId),
    getFeatureHistogram: ({ params, query }) => monitoring.histogram(params.id, query),
    sendFeedback: ({ params, body }) => monitoring.feedback(params.id, body),
    getMetrics: async () => {
      const text = await monitoring.metrics.text();
      return new RawReply(Readable.from([Buffer.from(text, 'utf8')]), monitoring.metrics.contentType, Buffer.byteLength(text));
    }
  });
}
