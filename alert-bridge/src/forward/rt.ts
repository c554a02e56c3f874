import type { Kysely } from 'kysely';
import type { RtTarget } from '../config.js';
import type { Database } from '../db/schema.js';
import { DeliveryError, httpError, type OutgoingEvent, type Sender } from '../delivery/sender.js';
import { deskNote, where } from '../notify/render.js';
import type { Locale } from '../knowledge-base.js';

/**
 * Calls of an RT target's REST 2 API as its user (token or password), each bounded by `timeoutMs` and, when
 * given, cut short by the `stop` signal too (the desk poll's, when the bridge stops).
 */
export function rtClient(target: RtTarget, timeoutMs: number, stop?: () => AbortSignal) {
  const base = `${target.url.replace(/\/$/, '')}/REST/2.0`;
  const auth = target.token
    ? `token ${target.token.reveal()}`
    : `Basic ${Buffer.from(`${target.user}:${target.password!.reveal()}`).toString('base64')}`;
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: auth,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: stop
        ? AbortSignal.any([stop(), AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw httpError(res.status, text, `rt ${target.name}: ${method} ${path.split('?')[0]}`);
    return (text ? JSON.parse(text) : null) as T;
  };
}

/**
 * Request Tracker 5 adapter over REST 2 (RT's docs: /REST/2.0/ on any RT 5):
 * ticket.created -> POST /ticket in the target's queue with the card; later events -> POST
 * /ticket/{id}/correspond (or /comment, `updates_as`) with the event, carrying `Status` on resolved/reopened,
 * so an update and its status change are one RT request (a retry repeats both or neither). The RT ticket id
 * is kept in external_refs, as Redmine's issue id is.
 */
export function rtSender(
  target: RtTarget,
  db: Kysely<Database>,
  timeoutMs: number,
  locale: Locale,
): Sender<{ kind: 'rt'; name: string }> {
  const name = `rt:${target.name}`;
  const call = rtClient(target, timeoutMs);
  function content(e: OutgoingEvent): string {
    const t = e.ticket;
    const r = t.recommendation;
    return [
      `TillWatch #${t.id} (${t.incident_class}), ${where(e)}`,
      r ? `\n${r.impact}\n\n${r.first_line.map((s, i) => `${i + 1}. ${s}`).join('\n')}` : '',
      `\n${t.links.ticket ?? ''}`,
    ].join('\n');
  }
  return {
    kind: 'rt',
    batch: false,
    async deliver(_t, events) {
      for (const e of events) {
        const ref = await db
          .selectFrom('external_refs')
          .select('external_id')
          .where('ticket_id', '=', e.ticket.id)
          .where('target', '=', name)
          .executeTakeFirst();
        if (e.type === 'ticket.created') {
          if (ref) continue; // a retry after the RT ticket was made: creating again would duplicate it
          const ticket: Record<string, unknown> = {
            Queue: target.queue,
            Subject: `[${e.ticket.priority}] ${e.ticket.title} — ${where(e)}`.slice(0, 200),
            Content: content(e),
            ContentType: 'text/plain',
          };
          const p = target.priorities[e.ticket.priority as 'P1'];
          if (p !== undefined) ticket.Priority = p;
          const r = await call<{ id?: number | string } | null>('POST', '/ticket', ticket);
          const id = r?.id;
          if (!id) throw new DeliveryError(`rt ${target.name}: created ticket has no id`);
          await db
            .insertInto('external_refs')
            .values({ ticket_id: e.ticket.id, target: name, external_id: String(id) })
            .onConflict((oc) => oc.columns(['ticket_id', 'target']).doNothing())
            .execute();
          continue;
        }
        if (!ref)
          throw new DeliveryError(`rt ${target.name}: no RT ticket recorded for ticket ${e.ticket.id}`, true);
        const message: Record<string, unknown> = {
          Content: deskNote(e, locale),
          ContentType: 'text/plain',
        };
        if (e.type === 'ticket.resolved') message.Status = target.resolved_status;
        if (e.type === 'ticket.reopened') message.Status = target.reopened_status;
        // RT answers 201 with its messages even when a part failed (a status the lifecycle refuses): read them.
        const out = await call<unknown>('POST', `/ticket/${ref.external_id}/${target.updates_as}`, message);
        const refused = refusal(out);
        if (refused)
          throw new DeliveryError(`rt ${target.name}: ticket ${ref.external_id}: ${refused}`, true);
      }
    },
  };
}

/**
 * The message of a part RT refused in its answer to a reply or comment (an unknown status, a transition the
 * lifecycle forbids, a missing right), if any. A status the RT ticket already has is not a refusal: RT itself
 * reopens a resolved ticket when someone writes to it, before the bridge's reopen arrives.
 */
export function refusal(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  return messages.find(
    (m): m is string =>
      typeof m === 'string' &&
      /isn't a valid status|can't change status|permission denied/i.test(m) &&
      !/from '([^']*)' to '\1'/.test(m),
  );
}
