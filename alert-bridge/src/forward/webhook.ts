import { createHmac } from 'node:crypto';
import type { WebhookTarget } from '../config.js';
import { httpError, type Sender } from '../delivery/sender.js';
import { renderTemplate } from './template.js';

export const SIGNATURE_HEADER = 'x-tillwatch-signature-256';
export const EVENT_ID_HEADER = 'x-tillwatch-event-id';

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Generic signed JSON webhook. Delivery is at least once: the receiver deduplicates on the
 * X-TillWatch-Event-Id header (stable across retries and restarts).
 */
export function webhookSender(
  target: WebhookTarget,
  timeoutMs: number,
): Sender<{ kind: 'webhook'; name: string }> {
  return {
    kind: 'webhook',
    batch: false,
    async deliver(_name, events) {
      for (const e of events) {
        const body = JSON.stringify(target.template === undefined ? e : renderTemplate(target.template, e));
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'user-agent': 'tillwatch-bridge',
          'x-tillwatch-event': e.type,
          [EVENT_ID_HEADER]: e.id,
          ...target.headers,
        };
        if (target.secret) headers[SIGNATURE_HEADER] = sign(target.secret.reveal(), body);
        const res = await fetch(target.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) throw httpError(res.status, await res.text(), `webhook ${target.name}`);
        await res.body?.cancel();
      }
    },
  };
}
