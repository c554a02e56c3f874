import type { TicketJson } from './tickets.js';

/** One outgoing event as stored in the outbox (the JSON body every target starts from). */
export interface OutgoingEvent {
  id: string;
  type: 'ticket.created' | 'ticket.updated' | 'ticket.resolved' | 'ticket.reopened';
  event: string;
  actor: string;
  occurred_at: string;
  data: Record<string, unknown>;
  ticket: TicketJson;
}

/** Thrown by a sender; `permanent` errors are not retried (e.g. a 400 from the receiver). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * A narrow interface per outside system (jiralert habit): the outbox dispatcher knows nothing about
 * Telegram, SMTP or Redmine. `batch` senders get every pending event of one target at once.
 */
export interface Sender {
  kind: string;
  batch: boolean;
  deliver(target: string, events: OutgoingEvent[], more: number): Promise<void>;
}

export function httpError(status: number, body: string, what: string): DeliveryError {
  // 408 and 429 and 5xx are worth retrying; other 4xx will fail the same way next time.
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return new DeliveryError(`${what}: HTTP ${status}: ${body.slice(0, 200)}`, permanent);
}
