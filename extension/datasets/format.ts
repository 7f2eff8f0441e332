/** Display helpers of the datasets views. */
import type { DatasetDiffSummary } from '../../server/src/contract';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1234567 → `1.2 MB` (powers of 1024, as file managers show them). */
export function formatBytes(bytes: number): string {
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? String(value) : value >= 100 ? value.toFixed(0) : value.toFixed(1);
  return `${bytes < 0 ? '-' : ''}${text} ${UNITS[unit]}`;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 days ago`, then the date. */
export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) {
    return '';
  }
  if (seconds < 45) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  if (seconds < 30 * 86400) {
    const days = Math.round(seconds / 86400);
    return `${days} day${days === 1 ? '' : 's'} ago`;
  }
  return new Date(iso).toLocaleDateString();
}

export interface ISummaryParts {
  added: string;
  removed: string;
  changed: string;
  bytes: string;
}

/** `+2 −1 ~3 files`, and the byte side: `+1.2 KB new data`. Null for a first version. */
export function summaryParts(summary: DatasetDiffSummary | null): ISummaryParts | null {
  if (!summary) {
    return null;
  }
  return {
    added: `+${summary.added}`,
    removed: `\u2212${summary.removed}`,
    changed: `~${summary.changed}`,
    bytes: `${formatBytes(summary.newChunkBytes)} new data`
  };
}

/** One line for screen readers and tooltips. */
export function summaryText(summary: DatasetDiffSummary | null): string {
  if (!summary) {
    return 'first version';
  }
  if (!summary.added && !summary.removed && !summary.changed) {
    return 'no file changes';
  }
  return `${summary.added} added, ${summary.removed} removed, ${summary.changed} changed files; ${formatBytes(summary.newChunkBytes)} new data`;
}
