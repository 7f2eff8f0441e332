/** The connection's state at a glance: a coloured dot and a short label. */
import React from 'react';
import type { ConnectionStatus } from '../tokens';

export const STATUS_LABELS: Record<ConnectionStatus, string> = {
  connecting: 'Connecting',
  connected: 'Connected',
  unreachable: 'Server unreachable',
  unauthorized: 'Not authorized',
  'version-mismatch': 'Version mismatch',
  'not-configured': 'Not configured'
};

export function StatusDot({ status }: { status: ConnectionStatus }): JSX.Element {
  return <span className={`jp-runlab-StatusDot jp-runlab-mod-${status}`} aria-hidden="true" />;
}
