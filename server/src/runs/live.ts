/**
 * Coalesces live metric points into `run:metrics` messages: per run, at most one message per
 * interval (100 ms, so ≤ 10 a second), sent to the project's room and the run's room. The first
 * batch after a quiet spell goes out at once; batches arriving within the interval wait and
 * are merged. A burst larger than the cap keeps its newest points (clients read the history
 * for the rest).
 */
import { userKeyed, type MetricPoint, type MetricSummary } from '../contract';
import { projectRoom, runRoom, type DomainEvents } from '../realtime/events';

export const LIVE_INTERVAL_MS = 100;
export const LIVE_MAX_POINTS = 5000;

export type LivePoint = MetricPoint & { key: string };

interface Pending {
  projectId: string;
  metrics: Record<string, MetricSummary>;
  points: LivePoint[];
  timer: NodeJS.Timeout;
}

export class LiveMetrics {
  /** A run is here while it is active: from its first points until an interval passes quietly. */
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly events: DomainEvents,
    private readonly intervalMs = LIVE_INTERVAL_MS,
    /** Points kept per run between messages; callers may leave out older ones up front. */
    readonly maxPoints = LIVE_MAX_POINTS
  ) {}

  record(runId: string, projectId: string, metrics: Record<string, MetricSummary>, points: readonly LivePoint[]): void {
    let entry = this.pending.get(runId);
    if (!entry) {
      // A 0 ms timer still merges batches ingested in the same turn of the event loop.
      entry = { projectId, metrics: userKeyed(), points: [], timer: this.schedule(runId, 0) };
      this.pending.set(runId, entry);
    }
    // Assigned key by key: Object.assign would treat a metric named __proto__ as the prototype.
    for (const key of Object.keys(metrics)) entry.metrics[key] = metrics[key];
    for (const point of points) entry.points.push(point);
    if (entry.points.length > this.maxPoints) entry.points.splice(0, entry.points.length - this.maxPoints);
  }

  /** Drops what is pending for a deleted run. */
  forget(runId: string): void {
    const entry = this.pending.get(runId);
    if (entry) clearTimeout(entry.timer);
    this.pending.delete(runId);
  }

  close(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }

  private schedule(runId: string, delay: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.flush(runId), delay);
    timer.unref();
    return timer;
  }

  private flush(runId: string): void {
    const entry = this.pending.get(runId);
    if (!entry) return;
    if (entry.points.length === 0 && Object.keys(entry.metrics).length === 0) {
      this.pending.delete(runId);
      return;
    }
    this.events.publishTo([projectRoom(entry.projectId), runRoom(runId)], 'run:metrics', {
      runId,
      projectId: entry.projectId,
      metrics: entry.metrics,
      points: entry.points
    });
    entry.metrics = userKeyed();
    entry.points = [];
    entry.timer = this.schedule(runId, this.intervalMs);
  }
}
