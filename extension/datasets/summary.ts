/** What changed in a dataset version since the previous one, as the datasets views write it. */
import type { DatasetDiffSummary } from '../../server/src/contract';
import { formatBytes } from '../shared/format';

export interface ISummaryParts {
  added: string;
  removed: string;
  changed: string;
  bytes: string;
}

/** `+2 −1 ~3 files`, and the byte side: `+1.2 KiB new data`. Null for a first version. */
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
