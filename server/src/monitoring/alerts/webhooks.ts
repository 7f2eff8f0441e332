/**
 * Webhook deliveries: a queue kept in the webhook_deliveries table, so a restart resumes what was
 * pending. Each delivery is POSTed on its own (a slow or dead webhook never holds back another,
 * nor the alert evaluation, nor any request: enqueue only writes a row and wakes the queue), with
 * the body signed by the webhook's secret (HMAC-SHA256). A failed attempt is retried after the
 * next wait of the retry schedule (exponential by default: 1 s, 2 s, 4 s, 8 s); after the last one
 * the delivery is `failed`, with the last status code or error kept for the history.
 */
import { createHmac } from 'node:crypto';
import type { WebhookDelivery } from '../../contract';
import type { Logger } from '../../logger';
import type { AlertStore, PendingDelivery } from './store';

export interface WebhookSettings {
  /** How long one attempt may take (ms). */
  timeoutMs: number;
  /** Waits before each retry (ms): attempts = retryDelaysMs.length + 1. */
  retryDelaysMs: readonly number[];
}

/** `sha256=<hex>`: the X-Runlab-Signature of a body. */
export const signature = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** The longest a timer waits before the queue looks again (a clock change never stalls it long). */
const MAX_SLEEP_MS = 60_000;

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly store: AlertStore,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
    /** Told after each attempt, so the alert's history updates live. */
    private readonly attempted: (delivery: WebhookDelivery) => void,
    private readonly now: () => Date = () => new Date()
  ) {}

  /** Looks at the queue now: sends what is due, sleeps until the next one. */
  wake(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const nowMs = this.now().getTime();
    let nextMs = Infinity;
    for (const delivery of this.store.pendingDeliveries()) {
      if (this.inFlight.has(delivery.id)) continue;
      const dueMs = delivery.nextAttemptAt ? Date.parse(delivery.nextAttemptAt) : nowMs;
      if (dueMs <= nowMs) {
        const sending = this.attempt(delivery).finally(() => {
          this.inFlight.delete(delivery.id);
          this.wake();
        });
        this.inFlight.set(delivery.id, sending);
      } else {
        nextMs = Math.min(nextMs, dueMs);
      }
    }
    if (nextMs !== Infinity) {
      this.timer = setTimeout(() => this.wake(), Math.min(MAX_SLEEP_MS, Math.max(0, nextMs - nowMs)));
      this.timer.unref();
    }
  }

  /** Stops sending; attempts under way finish (their outcome is recorded), pending ones wait for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async attempt(delivery: PendingDelivery): Promise<void> {
    if (delivery.secret === null) {
      this.store.abandonDelivery(delivery.id, 'the webhook was removed before the delivery was sent');
      this.report(delivery.id);
      return;
    }
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Runlab-Webhook',
          'x-runlab-event': delivery.event,
          'x-runlab-delivery': delivery.id,
          'x-runlab-signature': signature(delivery.secret, delivery.body)
        },
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs)
      });
      statusCode = response.status;
      // The answer's body is of no interest, but reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `the webhook answered HTTP ${statusCode}`;
    } catch (failure) {
      error = describeFailure(failure, this.settings.timeoutMs);
    }
    if (this.closed && error !== null) return; // shutting down: the attempt did not count, it is retried at the next start
    const attempts = delivery.attempts + 1;
    const at = this.now();
    if (error === null) {
      this.store.recordAttempt(delivery.id, {
        status: 'delivered',
        statusCode,
        error: null,
        nextAttemptAt: null,
        deliveredAt: at.toISOString()
      });
    } else if (attempts > this.settings.retryDelaysMs.length) {
      this.logger.warn({ deliveryId: delivery.id, url: delivery.url, attempts, error }, 'webhook delivery failed after its last attempt');
      this.store.recordAttempt(delivery.id, { status: 'failed', statusCode, error, nextAttemptAt: null, deliveredAt: null });
    } else {
      const waitMs = this.settings.retryDelaysMs[attempts - 1];
      const nextAttemptAt = new Date(at.getTime() + waitMs).toISOString();
      this.store.recordAttempt(delivery.id, { status: 'pending', statusCode, error, nextAttemptAt, deliveredAt: null });
    }
    this.report(delivery.id);
  }

  private report(id: string): void {
    const delivery = this.store.delivery(id);
    if (!delivery) return;
    try {
      this.attempted(delivery);
    } catch (error) {
      this.logger.warn({ err: error, deliveryId: id }, 'a delivery update was not published');
    }
  }
}

/** fetch's failures in words: "connection refused (ECONNREFUSED)", "no answer within 5000 ms". */
function describeFailure(failure: unknown, timeoutMs: number): string {
  const error = failure as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = error.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code) return `${error.cause?.message ?? error.message ?? 'request failed'} (${code})`;
  return error.cause?.message ?? error.message ?? String(failure);
}
