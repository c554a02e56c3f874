import type { TicketJson } from '../tickets/view.js';
import type { OutgoingType } from '../tickets/model.js';
import type { Target } from './target.js';

/** One outgoing event as stored in the outbox (the JSON body every target starts from). */
export interface OutgoingEvent {
  id: string;
  type: OutgoingType;
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
export interface Sender<T extends Target = Target> {
  kind: T['kind'];
  batch: boolean;
  deliver(target: T, events: OutgoingEvent[], more: number): Promise<void>;
}

/** The senders of one bridge: chats and mailboxes by kind, service desks by target name. */
export class Senders {
  private readonly byKind = new Map<string, Sender>();
  private readonly byName = new Map<string, Sender>();

  /** A channel sender serves every target of its kind (any chat, any mailbox). */
  channel(s: Sender<Extract<Target, { kind: 'telegram' | 'email' }>>): this {
    this.byKind.set(s.kind, s as Sender);
    return this;
  }

  /** A forwarding sender serves the one named target it was configured for. */
  forward(name: string, s: Sender<Extract<Target, { kind: 'webhook' | 'redmine' | 'rt' }>>): this {
    this.byName.set(`${s.kind}:${name}`, s as Sender);
    return this;
  }

  for(t: Target): Sender | undefined {
    return t.kind === 'telegram' || t.kind === 'email'
      ? this.byKind.get(t.kind)
      : this.byName.get(`${t.kind}:${t.name}`);
  }
}

export function httpError(status: number, body: string, what: string): DeliveryError {
  // 408 and 429 and 5xx are worth retrying; other 4xx will fail the same way next time.
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return new DeliveryError(`${what}: HTTP ${status}: ${body.slice(0, 200)}`, permanent);
}
