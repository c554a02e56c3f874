import type { Kysely } from 'kysely';
import type { RedmineTarget } from '../config.js';
import type { Database } from '../db/schema.js';
import { DeliveryError, httpError, type OutgoingEvent, type Sender } from '../delivery/sender.js';
import { deskNote, where } from '../notify/render.js';
import type { Locale } from '../knowledge-base.js';

/**
 * Redmine REST adapter (https://www.redmine.org/projects/redmine/wiki/Rest_Issues):
 * ticket.created -> POST /issues.json; later events -> PUT /issues/{id}.json with a journal note,
 * and a status change on resolved/reopened. The Redmine issue id is kept in external_refs.
 */
export function redmineSender(
  target: RedmineTarget,
  db: Kysely<Database>,
  timeoutMs: number,
  locale: Locale,
): Sender<{ kind: 'redmine'; name: string }> {
  const base = target.url.replace(/\/$/, '');
  const name = `redmine:${target.name}`;
  async function call(method: string, path: string, body: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-redmine-api-key': target.api_key.reveal() },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw httpError(res.status, text, `redmine ${target.name}`);
    return text ? (JSON.parse(text) as unknown) : null;
  }
  function description(e: OutgoingEvent): string {
    const t = e.ticket;
    const r = t.recommendation;
    return [
      `TillWatch #${t.id} (${t.incident_class}), ${where(e)}`,
      r ? `\n${r.impact}\n\n${r.first_line.map((s) => `# ${s}`).join('\n')}` : '',
      `\n${t.links.ticket ?? ''}`,
    ].join('\n');
  }
  return {
    kind: 'redmine',
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
          if (ref) continue; // a retry after the issue was made: creating again would duplicate it
          const issue: Record<string, unknown> = {
            project_id: target.project_id,
            subject: `[${e.ticket.priority}] ${e.ticket.title} — ${where(e)}`.slice(0, 255),
            description: description(e),
          };
          if (target.tracker_id) issue.tracker_id = target.tracker_id;
          const pid = target.priority_ids[e.ticket.priority as 'P1'];
          if (pid) issue.priority_id = pid;
          const r = (await call('POST', '/issues.json', { issue })) as { issue?: { id?: number } } | null;
          const id = r?.issue?.id;
          if (!id) throw new DeliveryError(`redmine ${target.name}: created issue has no id`);
          await db
            .insertInto('external_refs')
            .values({ ticket_id: e.ticket.id, target: name, external_id: String(id) })
            .onConflict((oc) => oc.columns(['ticket_id', 'target']).doNothing())
            .execute();
          continue;
        }
        if (!ref)
          throw new DeliveryError(
            `redmine ${target.name}: no issue recorded for ticket ${e.ticket.id}`,
            true,
          );
        const issue: Record<string, unknown> = { notes: deskNote(e, locale) };
        if (e.type === 'ticket.resolved') issue.status_id = target.resolved_status_id;
        if (e.type === 'ticket.reopened') issue.status_id = target.reopened_status_id;
        await call('PUT', `/issues/${ref.external_id}.json`, { issue });
      }
    },
  };
}
