/** How deployments read in the panel and the dialogs: status, traffic split, serving figures, history. */
import type { Deployment, DeploymentEvent, DeploymentSlot, DeploymentStats, DeploymentStatus } from '../../server/src/contract';

export const STATUS_LABELS: Record<DeploymentStatus, string> = {
  deploying: 'deploying',
  ready: 'ready',
  degraded: 'degraded',
  failed: 'failed',
  stopped: 'stopped'
};

export const EVENT_LABELS: Record<DeploymentEvent['kind'], string> = {
  deployed: 'Deployed',
  ready: 'Ready',
  split_changed: 'Split changed',
  promoted: 'Promoted',
  rolled_back: 'Rolled back',
  restarted: 'Restarted',
  failed: 'Failed',
  undeployed: 'Undeployed',
  updated: 'Updated',
  drifted: 'Drifted',
  reconciled: 'Reconciled'
};

/** A deployment in one of these states waits for nothing: the progress view stops there. */
export function isSettled(status: DeploymentStatus): boolean {
  return status === 'ready' || status === 'failed' || status === 'stopped';
}

/** Serving now, or about to: what "a live deployment of this model" means. */
export function isLive(deployment: Pick<Deployment, 'status'>): boolean {
  return deployment.status !== 'stopped' && deployment.status !== 'failed';
}

/** `90%`, `12.5%`. */
export function percentText(percent: number): string {
  return `${Number(percent.toFixed(1))}%`;
}

export function stableSlot(slots: readonly DeploymentSlot[]): DeploymentSlot | null {
  return slots.find((slot) => slot.role === 'stable') ?? null;
}

/** The canary or shadow beside the stable version, if any. */
export function secondSlot(slots: readonly DeploymentSlot[]): DeploymentSlot | null {
  return slots.find((slot) => slot.role !== 'stable') ?? null;
}

/** `v3 90% · v4 canary 10%`, `v3 100% · v4 shadow (copy of 10%)`, `v3 100%`. */
export function splitLabel(slots: readonly DeploymentSlot[]): string {
  const order = { stable: 0, canary: 1, shadow: 2 } as const;
  return [...slots]
    .sort((a, b) => order[a.role] - order[b.role])
    .map((slot) => {
      if (slot.role === 'stable') {
        return `v${slot.version} ${percentText(slot.percent)}`;
      }
      return slot.role === 'canary'
        ? `v${slot.version} canary ${percentText(slot.percent)}`
        : `v${slot.version} shadow (copy of ${percentText(slot.percent)})`;
    })
    .join(' · ');
}

/** `0.42 ms`, `4.1 ms`, `41 ms`, `1.2 s`; a dash before any request. */
export function latencyText(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) {
    return '—';
  }
  if (ms < 1) {
    return `${ms.toFixed(2)} ms`;
  }
  if (ms < 10) {
    return `${ms.toFixed(1)} ms`;
  }
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `0.5 req/s`, `12 req/s`, `1,250 req/s`. */
export function rateText(requestsPerSecond: number): string {
  if (requestsPerSecond === 0) {
    return '0 req/s';
  }
  if (requestsPerSecond < 10) {
    return `${requestsPerSecond.toFixed(1)} req/s`;
  }
  return `${Math.round(requestsPerSecond).toLocaleString('en-US')} req/s`;
}

/** `0%`, `<0.1%`, `2.5%`. */
export function errorRateText(rate: number): string {
  if (rate <= 0) {
    return '0%';
  }
  return rate < 0.001 ? '<0.1%' : `${Number((rate * 100).toFixed(1))}%`;
}

export interface IStatsFigures {
  rate: string;
  p50: string;
  p99: string;
  errors: string;
}

/** The serving figures of the last window, or null before the runtime first reported. */
export function statsFigures(stats: DeploymentStats | null): IStatsFigures | null {
  if (!stats) {
    return null;
  }
  return {
    rate: rateText(stats.requestsPerSecond),
    p50: latencyText(stats.p50Ms),
    p99: latencyText(stats.p99Ms),
    errors: errorRateText(stats.errorRate)
  };
}

/** `1 of 2 replicas ready`. */
export function replicasText(deployment: Pick<Deployment, 'replicas' | 'readyReplicas'>): string {
  return `${deployment.readyReplicas} of ${deployment.replicas} ${deployment.replicas === 1 ? 'replica' : 'replicas'} ready`;
}

/** The deployment name the server picks when none is given: the model's, lower-cased, `_` and `.` as `-`. */
export function defaultDeploymentName(modelName: string): string {
  return modelName
    .toLowerCase()
    .replace(/[_.]/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

/** What the progress view says while it waits, and when it stops. */
export function progressText(deployment: Pick<Deployment, 'status' | 'statusMessage' | 'readyReplicas' | 'replicas'>): string {
  switch (deployment.status) {
    case 'deploying':
      return deployment.statusMessage || `Starting: ${replicasText(deployment)}…`;
    case 'ready':
      return `Ready: ${replicasText(deployment)}.`;
    case 'degraded':
      return deployment.statusMessage || `Degraded: ${replicasText(deployment)}; restarting the others.`;
    case 'failed':
      return `Failed: ${deployment.statusMessage || 'the serving process did not start.'}`;
    case 'stopped':
      return 'Undeployed.';
  }
}
