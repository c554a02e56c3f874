import { formatTime } from '../i18n/time.js';
import type { Locale } from '../knowledge-base.js';
import type { EventJson } from '../tickets/view.js';
import { e } from './layout.js';
import type { UiText } from './text.js';

const list = (x: unknown): string =>
  Array.isArray(x) && x.length ? x.map((a) => String(a)).join(', ') : '—';

/** One history event as a sentence in the page's language (HTML, escaped). */
export function eventLine(ev: EventJson, L: UiText): string {
  const d = (ev.data ?? {}) as Record<string, unknown>;
  const who = e(L.system[ev.actor] ?? ev.actor);
  const noteOf = () => (typeof d.note === 'string' && d.note ? `<blockquote>${e(d.note)}</blockquote>` : '');
  switch (ev.type) {
    case 'created':
      return e(L.ev.created(list(d.alerts)));
    case 'alert_joined':
      return Array.isArray(d.alerts) && d.alerts.length ? e(L.ev.joined(list(d.alerts))) : e(L.ev.updated);
    case 'acknowledged':
      return L.ev.acknowledged(who) + noteOf();
    case 'assigned':
      return typeof d.assignee === 'string' ? L.ev.assigned(who, e(d.assignee)) : L.ev.unassigned(who);
    case 'commented':
      return `${L.ev.commented(who)}<blockquote>${e(typeof d.text === 'string' ? d.text : '')}</blockquote>`;
    case 'resolved':
      if (d.by === 'human')
        return `${L.ev.resolved(who)}${d.forced ? ` (${e(L.ev.forced(list(d.firing)))})` : ''}${noteOf()}`;
      return e(d.self_resolved ? L.ev.selfResolved : L.ev.autoResolved);
    case 'reopened':
      return (d.by === 'human' ? L.ev.reopened(who) : e(L.ev.returned)) + noteOf();
    case 'closed':
      return e(L.ev.closed);
    case 'waiting':
      return L.ev.waiting(who) + noteOf();
    case 'resumed':
      return L.ev.resumed(who, Math.round((typeof d.waited_s === 'number' ? d.waited_s : 0) / 60)) + noteOf();
    case 'escalated':
      return e(
        L.ev.escalated(
          list(d.levels),
          Math.round((typeof d.unacknowledged_for_s === 'number' ? d.unacknowledged_for_s : 0) / 60),
          typeof d.step === 'number' ? d.step : 0,
        ),
      );
    default:
      return e(L.ev.other(L.system[ev.actor] ?? ev.actor, ev.type));
  }
}

/** The ticket's history as readable lines with local times: "12:04 (Екатеринбург, UTC+5) — alice взял(а) в работу". */
export function historyList(
  events: readonly EventJson[],
  zone: string,
  locale: Locale,
  L: UiText,
  now: number,
): string {
  const items = events.map(
    (ev) =>
      `<li><time datetime="${e(ev.at)}">${e(formatTime(ev.at, zone, locale, { now }))}</time> — ${eventLine(ev, L)}</li>`,
  );
  return `<ol class="history">${items.join('')}</ol>`;
}
