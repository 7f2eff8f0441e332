/**
 * How Runlab writes sizes, times and metric values, in every view. Sizes follow one rule that
 * the Python client follows too, so a size reads the same in a notebook and in the sidebar.
 */
import type { MetricValue } from '../../server/src/contract';

/**
 * A size in powers of 1024 (`512 B`, `1.5 KiB`, `5.0 MiB`; a diff's negative delta keeps its sign):
 * the contract's one rule, shared with the server and followed by the Python client.
 */
export { formatBytes } from '../../server/src/contract/format';

/** A moment in the user's locale: date and time. */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString();
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

/** How long something ran: `42s`, `3m 5s`, `2h 10m`; still running counts up to `now`. */
export function formatDuration(span: { startedAt: string; endedAt: string | null }, now = Date.now()): string {
  const end = span.endedAt ? Date.parse(span.endedAt) : now;
  const seconds = Math.max(0, Math.round((end - Date.parse(span.startedAt)) / 1000));
  if (seconds < 60) {
    return `${seconds}s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

/** Four significant digits; exponent notation for very small and very large magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return Number(value.toPrecision(4)).toString();
}

/** A metric value as text: numbers formatted, NaN and ±Infinity by name, no value as a dash. */
export function formatValue(value: MetricValue | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return typeof value === 'number' ? formatNumber(value) : value;
}

/** A metric value a chart can draw: NaN and ±Infinity become null, which charts leave as a gap. */
export function plottable(value: MetricValue): number | null {
  return typeof value === 'number' ? value : null;
}
