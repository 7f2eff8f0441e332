/** The monitoring model against a fake connection: badges and views follow the live events. */
import { Signal } from '@lumino/signaling';
import type { Alert, Retrain } from '../../server/src/contract';
import type { IRunlabConnection } from '../tokens';
import { feature, window } from '../testing/monitoring';
import { MonitoringModel, upsertNewestFirst } from './model';

type Handler = (payload: unknown) => void;
type Calls = Record<string, (input: unknown) => unknown>;

function fakeConnection(api: Record<string, Calls>) {
  const handlers = new Map<string, Handler[]>();
  const sent: { operation: string; input: unknown }[] = [];
  const recorded = Object.fromEntries(
    Object.entries(api).map(([group, calls]) => [
      group,
      Object.fromEntries(
        Object.entries(calls).map(([operation, call]) => [
          operation,
          async (input: unknown) => {
            sent.push({ operation, input });
            return call(input);
          }
        ])
      )
    ])
  );
  const connection = {
    state: { status: 'connected' },
    stateChanged: new Signal<object, unknown>({}),
    api: recorded,
    on: (name: string, handler: Handler) => {
      handlers.set(name, [...(handlers.get(name) ?? []), handler]);
      return { dispose: () => undefined, isDisposed: false };
    }
  } as unknown as IRunlabConnection;
  const emit = (name: string, payload: unknown) => (handlers.get(name) ?? []).forEach((handler) => handler(payload));
  return { connection, emit, sent };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const driftedWindow = window(2, {
  drifted: true,
  driftedShare: 0.5,
  features: [feature('sepal length'), feature('petal length', { drifted: true, effectSize: 0.6 })]
});

function overview(windows = [window(1), driftedWindow]) {
  return {
    deploymentId: 'dep-iris',
    settings: { window: { kind: 'rows', size: 200 }, minRows: 100, largeWindowRows: 5000, falseDiscoveryRate: 0.05, driftShare: 0.5 },
    traffic: [],
    accuracy: [],
    windows,
    latest: windows[windows.length - 1] ?? null,
    loggedRows: 400,
    labelledRows: 0,
    firingAlerts: 1
  };
}

const alert = (id: string, extra: Partial<Alert> = {}): Alert =>
  ({
    id,
    ruleId: 'rule-1',
    ruleName: 'Data drift',
    kind: 'drift_share',
    deploymentId: 'dep-iris',
    deploymentName: 'iris',
    state: 'firing',
    acknowledgedBy: null,
    firedAt: '2026-01-01T00:03:00Z',
    retrainId: null,
    deliveries: [],
    message: 'petal length drifted',
    ...extra
  }) as Alert;

function api(extra: Record<string, Calls> = {}) {
  return {
    deployments: { getDeployment: () => ({ id: 'dep-iris', name: 'iris', revision: 1, slots: [] }), ...extra.deployments },
    monitoring: {
      getMonitoringOverview: () => overview(),
      listDriftWindows: () => ({ windows: [], filling: [{ modelVersionId: 'mv-1', rows: 41, startAt: null, closesAt: null }] }),
      getFeatureHistogram: (input: unknown) => {
        const query = (input as { query: { feature: string; role: 'input' | 'prediction' } }).query;
        return {
          feature: query.feature,
          role: query.role,
          kind: 'numeric',
          windowId: 'w2',
          edges: [0, 1],
          categories: [],
          reference: [1],
          current: [1],
          drift: null
        };
      },
      ...extra.monitoring
    },
    alerts: {
      listAlerts: () => ({ alerts: [alert('a1')] }),
      acknowledgeAlert: () => alert('a1', { acknowledgedBy: 'admin' }),
      ...extra.alerts
    },
    retrain: { listRetrains: () => ({ retrains: [] }), ...extra.retrain }
  };
}

describe('the deployment monitor', () => {
  it('reads the overview, the filling window, alerts and the most drifted feature’s histogram', async () => {
    const { connection, sent } = fakeConnection(api());
    const monitor = new MonitoringModel(connection).monitor('dep-iris');
    await monitor.refresh();
    expect(monitor.overview?.windows).toHaveLength(2);
    expect(monitor.filling[0].rows).toBe(41);
    expect(monitor.alerts.map((item) => item.id)).toEqual(['a1']);
    expect(monitor.selected).toEqual({ feature: 'petal length', role: 'input', windowId: null });
    expect(monitor.histogram?.feature).toBe('petal length');
    // The prediction column's distribution, in the newest judged window.
    expect(monitor.predictionHistograms.map((histogram) => histogram.feature)).toEqual(['predict']);
    expect(sent.filter((call) => call.operation === 'getFeatureHistogram').map((call) => call.input)).toContainEqual({
      params: { id: 'dep-iris' },
      query: { feature: 'predict', role: 'prediction', window: 'w2' }
    });
  });

  it('reads the clicked cell’s feature in that window', async () => {
    const { connection, sent } = fakeConnection(api());
    const monitor = new MonitoringModel(connection).monitor('dep-iris');
    await monitor.refresh();
    monitor.select({ feature: 'sepal length', role: 'input', windowId: 'w1' });
    await settle();
    expect(monitor.histogram?.feature).toBe('sepal length');
    expect(sent[sent.length - 1].input).toEqual({
      params: { id: 'dep-iris' },
      query: { feature: 'sepal length', role: 'input', window: 'w1' }
    });
  });

  it('retrains from an alert, acknowledges, and says why when the server refuses', async () => {
    const retrain = { id: 'r1', deploymentId: 'dep-iris', status: 'queued', createdAt: '2026-01-01T00:04:00Z' } as Retrain;
    const { connection, emit, sent } = fakeConnection(
      api({
        retrain: { retrainDeployment: () => retrain, listRetrains: () => ({ retrains: [] }) },
        alerts: {
          listAlerts: () => ({ alerts: [alert('a1')] }),
          acknowledgeAlert: () => alert('a1', { acknowledgedBy: 'admin' }),
          createSilence: () => {
            throw new Error('the silence service is down');
          }
        }
      })
    );
    const model = new MonitoringModel(connection);
    const monitor = model.monitor('dep-iris');
    await monitor.refresh();
    await monitor.retrain('a1');
    expect(sent.find((call) => call.operation === 'retrainDeployment')?.input).toEqual({
      params: { id: 'dep-iris' },
      body: { alertId: 'a1' }
    });
    expect(monitor.retrains[0].status).toBe('queued');
    // The job runs: the event moves the same retrain on.
    emit('retrain:updated', { ...retrain, status: 'proposed', newVersion: 3 });
    expect(monitor.retrains).toHaveLength(1);
    expect(monitor.retrains[0].status).toBe('proposed');

    await monitor.acknowledge('a1');
    expect(monitor.alerts[0].acknowledgedBy).toBe('admin');
    await monitor.silence(monitor.alerts[0], 3600);
    expect(monitor.actionError).toBe('Could not silence the alert: the silence service is down');
    model.release('dep-iris');
  });
});

describe('badges and notices', () => {
  it('reads a deployment’s newest window once, then follows drift:window', async () => {
    const { connection, emit, sent } = fakeConnection(api());
    const model = new MonitoringModel(connection);
    const changed: string[] = [];
    model.latestChanged.connect((_, id) => changed.push(id));
    expect(model.latestWindow('dep-iris')).toBeUndefined();
    expect(model.latestWindow('dep-iris')).toBeUndefined();
    await settle();
    await settle();
    expect(model.latestWindow('dep-iris')?.id).toBe('w2');
    expect(sent.filter((call) => call.operation === 'getMonitoringOverview')).toHaveLength(1);
    emit('drift:window', window(3, { endAt: '2026-01-01T00:09:59Z', status: 'too_small' }));
    expect(model.latestWindow('dep-iris')?.status).toBe('too_small');
    // An older window arriving late does not replace the newer one.
    emit('drift:window', window(1));
    expect(model.latestWindow('dep-iris')?.index).toBe(3);
    expect(changed.every((id) => id === 'dep-iris')).toBe(true);
  });

  it('passes fired alerts on for the notice and updates an open view’s list', async () => {
    const { connection, emit } = fakeConnection(api());
    const model = new MonitoringModel(connection);
    const monitor = model.monitor('dep-iris');
    await monitor.refresh();
    const fired: string[] = [];
    model.alertFired.connect((_, item) => fired.push(item.id));
    emit('alert:fired', alert('a2', { firedAt: '2026-01-01T00:05:00Z' }));
    expect(fired).toEqual(['a2']);
    expect(monitor.alerts.map((item) => item.id)).toEqual(['a2', 'a1']);
    emit('alert:updated', alert('a2', { state: 'resolved', firedAt: '2026-01-01T00:05:00Z' }));
    expect(monitor.alerts[0].state).toBe('resolved');
    model.release('dep-iris');
  });

  it('keeps lists newest first without duplicates', () => {
    const at = (item: { id: string; at: string }) => item.at;
    expect(
      upsertNewestFirst(
        [
          { id: 'a', at: '1' },
          { id: 'b', at: '0' }
        ],
        { id: 'b', at: '2' },
        at
      ).map((item) => item.id)
    ).toEqual(['b', 'a']);
  });
});
