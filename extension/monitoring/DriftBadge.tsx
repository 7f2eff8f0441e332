/**
 * The drift badge: "drift" (warning colour) when the newest judged window drifted, "no drift",
 * or grey "too few rows" / "no reference", with the drifted features (or the reason) in the
 * tooltip. Shown in the Monitoring view's header and, through IMonitoringModel, on each card of
 * the Deployments panel.
 */
import { UseSignal } from '@jupyterlab/ui-components';
import React from 'react';
import type { DriftWindow } from '../../server/src/contract';
import { driftBadge } from './format';
import type { IMonitoringModel } from './tokens';

export function DriftBadge({ window }: { window: DriftWindow | null | undefined }): JSX.Element | null {
  const badge = driftBadge(window);
  if (!badge) {
    return null;
  }
  return (
    <span
      className="jp-runlab-Badge jp-runlab-DriftBadge"
      data-level={badge.level}
      title={badge.title}
      aria-label={`${badge.label}: ${badge.title}`}
    >
      {badge.label}
    </span>
  );
}

/** A deployment's badge, live: read on first show, then on each `drift:window`. */
export function DeploymentDriftBadge({ monitoring, deploymentId }: { monitoring: IMonitoringModel; deploymentId: string }): JSX.Element {
  return (
    <UseSignal signal={monitoring.latestChanged} shouldUpdate={(_, changed) => changed === deploymentId}>
      {() => <DriftBadge window={monitoring.latestWindow(deploymentId)} />}
    </UseSignal>
  );
}
