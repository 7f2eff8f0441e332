/** How deployments read: the traffic split, serving figures, progress and default names. */
import type { DeploymentSlot, DeploymentStats } from '../../server/src/contract';
import { defaultDeploymentName, errorRateText, latencyText, progressText, rateText, splitLabel, statsFigures } from './format';

const slot = (role: DeploymentSlot['role'], version: number, percent: number): DeploymentSlot => ({
  role,
  modelVersionId: `mv${version}`,
  modelName: 'iris',
  version,
  percent
});

describe('splitLabel', () => {
  it('says each version and its share, stable first', () => {
    expect(splitLabel([slot('canary', 4, 10), slot('stable', 3, 90)])).toBe('v3 90% · v4 canary 10%');
    expect(splitLabel([slot('stable', 3, 100)])).toBe('v3 100%');
    expect(splitLabel([slot('stable', 3, 100), slot('shadow', 5, 25)])).toBe('v3 100% · v5 shadow (copy of 25%)');
    expect(splitLabel([slot('stable', 1, 87.5), slot('canary', 2, 12.5)])).toBe('v1 87.5% · v2 canary 12.5%');
  });
});

describe('serving figures', () => {
  it('formats latency, rate and error rate for a glance', () => {
    expect(latencyText(0.42)).toBe('0.42 ms');
    expect(latencyText(4.13)).toBe('4.1 ms');
    expect(latencyText(41.6)).toBe('42 ms');
    expect(latencyText(1234)).toBe('1.2 s');
    expect(latencyText(null)).toBe('—');
    expect(rateText(0)).toBe('0 req/s');
    expect(rateText(0.46)).toBe('0.5 req/s');
    expect(rateText(1250.4)).toBe('1,250 req/s');
    expect(errorRateText(0)).toBe('0%');
    expect(errorRateText(0.0004)).toBe('<0.1%');
    expect(errorRateText(0.025)).toBe('2.5%');
  });

  it('has no figures before the runtime first reports', () => {
    expect(statsFigures(null)).toBeNull();
    const stats: DeploymentStats = {
      windowSeconds: 60,
      requestsPerSecond: 12.3,
      p50Ms: 3.2,
      p99Ms: 18.9,
      errorRate: 0.01,
      clientErrorRate: 0,
      requestsByRole: { stable: 700, canary: 38 },
      updatedAt: '2026-01-01T00:00:00Z'
    };
    expect(statsFigures(stats)).toEqual({ rate: '12 req/s', p50: '3.2 ms', p99: '19 ms', errors: '1%' });
  });
});

describe('progress and names', () => {
  it('says where a deployment is, and why it failed', () => {
    expect(progressText({ status: 'deploying', statusMessage: '', readyReplicas: 0, replicas: 2 })).toBe(
      'Starting: 0 of 2 replicas ready…'
    );
    expect(progressText({ status: 'ready', statusMessage: '', readyReplicas: 1, replicas: 1 })).toBe('Ready: 1 of 1 replica ready.');
    expect(progressText({ status: 'failed', statusMessage: 'port 8081 is taken', readyReplicas: 0, replicas: 1 })).toBe(
      'Failed: port 8081 is taken'
    );
  });

  it('names a deployment as the server does by default', () => {
    expect(defaultDeploymentName('Churn_Model.v2')).toBe('churn-model-v2');
  });
});
