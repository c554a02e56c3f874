import type { OutgoingEvent } from '../delivery/sender.js';
import { keyFacts } from '../i18n/facts.js';
import { formatTime } from '../i18n/time.js';
import type { Locale } from '../knowledge-base.js';

const TEXT = {
  ru: {
    'ticket.created': 'Новая заявка',
    'ticket.reopened': 'Заявка открыта снова',
    'ticket.resolved': 'Заявка решена',
    'ticket.updated': 'Заявка обновлена',
    'ticket.escalated': 'Эскалация: заявку никто не взял',
    escalated: (min: number, step: number) => `не взята в работу ${min} мин (шаг ${step})`,
    since: 'с',
    steps: 'Первые шаги',
    more: (n: number) => `и ещё ${n} заявок`,
    all: 'все открытые заявки',
    self: 'устранилось само',
    flapping: 'мигает',
    batch: (n: number) => `${n} заявок`,
    merged: (id: number) => `объединена с заявкой #${id}`,
    forced: 'решена вручную при активном алерте',
    by: (who: string) => `решил(а) ${who}`,
    store: 'магазин',
    desk: {
      acknowledged: (who: string) => `Взята в работу: ${who}`,
      commented: (who: string, text: string) => `Комментарий (${who}): ${text}`,
      assigned: (who: string, to: string) => `Назначена на ${to} (${who})`,
      unassigned: (who: string) => `Снято назначение (${who})`,
      waiting: (who: string) => `Ждём клиента (${who})`,
      resumed: 'Ожидание клиента окончено',
      joined: (list: string) => `К заявке добавились алерты: ${list}`,
      cleared: 'все алерты погасли',
      reopened: 'проблема вернулась',
      note: 'Примечание',
    },
    tried: (list: string) => `Автоматически пробовали: ${list} — не помогло`,
    results: {
      succeeded: 'выполнено',
      failed: 'ошибка',
      refused: 'касса отказалась',
      expired: 'касса не забрала',
      queued: 'ждёт кассу',
      delivered: 'без ответа',
      dry_run: 'пробно',
    } as Record<string, string>,
  },
  en: {
    'ticket.created': 'New ticket',
    'ticket.reopened': 'Ticket reopened',
    'ticket.resolved': 'Ticket resolved',
    'ticket.updated': 'Ticket updated',
    'ticket.escalated': 'Escalation: nobody took the ticket',
    escalated: (min: number, step: number) => `not acknowledged for ${min} min (step ${step})`,
    since: 'since',
    steps: 'First steps',
    more: (n: number) => `and ${n} more tickets`,
    all: 'all open tickets',
    self: 'self-resolved',
    flapping: 'flapping',
    batch: (n: number) => `${n} tickets`,
    merged: (id: number) => `merged into ticket #${id}`,
    forced: 'resolved by hand while the alert fired',
    by: (who: string) => `resolved by ${who}`,
    store: 'store',
    desk: {
      acknowledged: (who: string) => `Acknowledged by ${who}`,
      commented: (who: string, text: string) => `Comment by ${who}: ${text}`,
      assigned: (who: string, to: string) => `Assigned to ${to} by ${who}`,
      unassigned: (who: string) => `Unassigned by ${who}`,
      waiting: (who: string) => `Waiting for the client (${who})`,
      resumed: 'No longer waiting for the client',
      joined: (list: string) => `Alerts joined the ticket: ${list}`,
      cleared: 'all alerts cleared',
      reopened: 'the problem is back',
      note: 'Note',
    },
    tried: (list: string) => `Tried automatically: ${list}; it did not help`,
    results: {
      succeeded: 'done',
      failed: 'failed',
      refused: 'refused by the till',
      expired: 'never fetched',
      queued: 'waiting for the till',
      delivered: 'no answer',
      dry_run: 'dry run',
    } as Record<string, string>,
  },
} as const;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Where the problem is, as people name it: the store's name and id, then the till or the tills, the device. */
export function where(e: OutgoingEvent): string {
  const t = e.ticket;
  const store = t.store && t.store_name ? `${t.store_name} (${t.store})` : t.store;
  const tills =
    t.till ??
    (t.tills.length > 3
      ? `${t.tills.slice(0, 3).join(', ')}… (${t.tills.length})`
      : t.tills.join(', ') || null);
  const parts = [store ? null : t.chain, store ? null : t.region, store, tills, t.device];
  return parts.filter((p): p is string => !!p).join(' / ');
}

/** When the problem began, in the store's time zone with the zone named, next to the event it is about. */
function sinceOf(e: OutgoingEvent, locale: Locale): string {
  return formatTime(e.ticket.opened_at, e.ticket.timezone, locale, { now: Date.parse(e.occurred_at) });
}

/** A new ticket's mark says how urgent it is; the others say what happened. */
function iconOf(e: OutgoingEvent): string {
  if (e.event === 'merged') return '↪️';
  if (e.type === 'ticket.created') return PRIORITY_ICON[e.ticket.priority] ?? '🔴';
  return ICON[e.type] ?? '';
}

const PRIORITY_ICON: Record<string, string> = { P1: '🔴', P2: '🟠', P3: '🟡', P4: '🔵' };
const ICON: Record<string, string> = {
  'ticket.reopened': '🔁',
  'ticket.resolved': '✅',
  'ticket.updated': 'ℹ️',
  'ticket.escalated': '⏫',
};

/** What the event adds to the ticket's line: merged where, resolved by whom and how. */
function noteOf(e: OutgoingEvent, L: (typeof TEXT)[Locale]): string | null {
  const d = e.data as {
    into?: unknown;
    by?: unknown;
    forced?: unknown;
    step?: unknown;
    unacknowledged_for_s?: unknown;
  };
  if (e.event === 'merged' && typeof d.into === 'number') return L.merged(d.into);
  if (e.event === 'escalated' && typeof d.step === 'number' && typeof d.unacknowledged_for_s === 'number')
    return L.escalated(Math.round(d.unacknowledged_for_s / 60), d.step);
  if (e.event === 'resolved' && d.by === 'human')
    return d.forced ? `${L.by(e.actor)}, ${L.forced}` : L.by(e.actor);
  return null;
}

/**
 * What a service desk's journal says of an update (a Redmine note, an RT reply): what happened and who did it,
 * with a person's own words (a comment, an acknowledgement's note), in the bridge's locale. The desk already has
 * the card from the ticket's creation, so the note is the change alone.
 */
export function deskNote(e: OutgoingEvent, locale: Locale): string {
  const L = TEXT[locale];
  const D = L.desk;
  const d = e.data as { text?: unknown; note?: unknown; assignee?: unknown; alerts?: unknown; by?: unknown };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  let line: string;
  switch (e.event) {
    case 'acknowledged':
      line = D.acknowledged(e.actor);
      break;
    case 'commented':
      line = D.commented(e.actor, str(d.text) ?? '');
      break;
    case 'assigned':
      line = str(d.assignee) ? D.assigned(e.actor, str(d.assignee)!) : D.unassigned(e.actor);
      break;
    case 'waiting':
      line = D.waiting(e.actor);
      break;
    case 'resumed':
      line = D.resumed;
      break;
    case 'alert_joined':
      line = Array.isArray(d.alerts) && d.alerts.length ? D.joined(d.alerts.join(', ')) : L['ticket.updated'];
      break;
    case 'resolved':
      line = `${L['ticket.resolved']}: ${d.by === 'human' ? (noteOf(e, L) ?? L.by(e.actor)) : D.cleared}`;
      break;
    case 'reopened':
      line = `${L['ticket.reopened']}: ${d.by === 'human' ? e.actor : D.reopened}`;
      break;
    default: {
      const said = noteOf(e, L);
      line = `${L[e.type]}${said ? `: ${said}` : ''} (${e.event}, ${e.actor})`;
    }
  }
  const note = e.event === 'commented' ? null : str(d.note);
  return note ? `${line}\n${D.note}: ${note}` : line;
}

/** "Tried automatically: restart_utm (1: failed), …" on a page that went out after the automatic step. */
function triedOf(e: OutgoingEvent, L: (typeof TEXT)[Locale]): string | null {
  const tried = e.ticket.remediation_tried;
  if (e.type === 'ticket.resolved' || !tried?.length || e.ticket.auto_remediated) return null;
  return L.tried(
    tried.map((a) => `${a.action} (${a.attempt}: ${L.results[a.status] ?? a.status})`).join(', '),
  );
}

/** Up to three facts of the snapshot that matter for the class (the ФН's date, paper present, ...). */
function factsOf(e: OutgoingEvent, locale: Locale): string[] {
  const t = e.ticket;
  return keyFacts(t.incident_class, t.snapshot, t.timezone, locale, Date.parse(e.occurred_at))
    .slice(0, 3)
    .map((f) => `${f.label}${f.where ? ` (${f.where})` : ''}: ${f.text}`);
}

/**
 * The ticket's link in a message: the signed, expiring, read-only link when the bridge has a link
 * key (auth.links), so recipients need neither a login nor a token; else the plain page link.
 */
export type TicketLink = (id: number) => string;
const linkOf = (e: OutgoingEvent, ticketLink?: TicketLink) =>
  ticketLink ? ticketLink(e.ticket.id) : (e.ticket.links.ticket ?? '');

// Telegram refuses a message over 4,096 characters (counted after entity parsing); stay under it with
// the tags and entities still in, so a message is never cut inside a tag or an entity.
const TELEGRAM_MAX = 4_000;
// Any one text shown (a title, a step, a place) is cut to this before escaping.
const FIELD_MAX = 300;

// Cut between code points: a cut inside a surrogate pair (an emoji in a title) left a lone surrogate,
// which is not UTF-8 and which Telegram refuses (found by properties.test.ts).
const cut = (s: string, n = FIELD_MAX) => {
  if (s.length <= n) return s;
  const end = /[\uD800-\uDBFF]/.test(s[n - 2] ?? '') ? n - 2 : n - 1;
  return `${s.slice(0, end)}…`;
};
const esc = (s: string, n = FIELD_MAX) => escapeHtml(cut(s, n));

/**
 * Telegram HTML (parse_mode HTML accepts only a few tags, so everything else is escaped). Blocks are
 * kept whole: those that do not fit are counted in the closing "and N more" line instead.
 */
export function telegramText(
  events: OutgoingEvent[],
  more: number,
  locale: Locale,
  publicUrl: string,
  ticketLink?: TicketLink,
): string {
  const L = TEXT[locale];
  const blocks = events.map((e) => {
    const t = e.ticket;
    const flags = [t.self_resolved ? L.self : null, t.flapping ? L.flapping : null]
      .filter(Boolean)
      .join(', ');
    const note = noteOf(e, L);
    const tried = triedOf(e, L);
    const lines = [
      `${iconOf(e)} <b>${escapeHtml(L[e.type])}: [${esc(t.priority, 4)}] ${esc(t.title)}</b>${flags ? ` (${flags})` : ''}`,
      ...(note ? [`<i>${esc(note)}</i>`] : []),
      ...(tried ? [`🔧 ${esc(tried)}`] : []),
      `📍 ${esc(where(e))}`,
      `⏱ ${L.since} ${escapeHtml(sinceOf(e, locale))}`,
      ...factsOf(e, locale).map((f) => `• ${esc(f)}`),
    ];
    const steps = t.recommendation?.first_line.slice(0, 3) ?? [];
    if (e.type !== 'ticket.resolved' && steps.length) {
      lines.push(`${L.steps}:`, ...steps.map((s, i) => `${i + 1}. ${esc(s)}`));
    }
    lines.push(`<a href="${escapeHtml(linkOf(e, ticketLink))}">#${t.id}</a>`);
    return lines.join('\n');
  });
  const tail = (n: number) =>
    `… ${L.more(n)}: <a href="${escapeHtml(publicUrl.replace(/\/$/, ''))}/ui">${L.all}</a>`;
  const kept: string[] = [];
  let size = 0;
  for (const [i, b] of blocks.entries()) {
    const left = blocks.length - i - 1 + more;
    const reserve = left > 0 ? tail(left + 1).length + 2 : 0;
    if (size + b.length + 2 + reserve > TELEGRAM_MAX && kept.length > 0) {
      more += blocks.length - i;
      break;
    }
    kept.push(b);
    size += b.length + 2;
  }
  if (more > 0) kept.push(tail(more));
  return kept.join('\n\n');
}

export function emailMessage(
  events: OutgoingEvent[],
  more: number,
  locale: Locale,
  publicUrl: string,
  ticketLink?: TicketLink,
) {
  const L = TEXT[locale];
  const first = events[0]!;
  // One line: titles and places come from alert labels and annotations, which may hold line breaks
  // (a CR or LF in a header is how headers get injected; found by properties.test.ts).
  const subject = (
    events.length === 1 && more === 0
      ? `[TillWatch ${first.ticket.priority}] ${L[first.type]}: ${first.ticket.title} — ${where(first)}`
      : `[TillWatch] ${L.batch(events.length + more)}`
  ).replace(/[\r\n\u2028\u2029]+/g, ' ');
  const text = events
    .map((e) => {
      const t = e.ticket;
      const steps = e.type === 'ticket.resolved' ? [] : (t.recommendation?.first_line ?? []);
      const note = noteOf(e, L);
      const tried = triedOf(e, L);
      return [
        `${L[e.type]}: [${t.priority}] ${t.title}${t.self_resolved ? ` (${L.self})` : ''}`,
        ...(note ? [note] : []),
        ...(tried ? [tried] : []),
        where(e),
        `${L.since} ${sinceOf(e, locale)}`,
        ...factsOf(e, locale).map((f) => `  • ${f}`),
        ...(steps.length ? [`${L.steps}:`, ...steps.map((s, i) => `  ${i + 1}. ${s}`)] : []),
        linkOf(e, ticketLink),
      ].join('\n');
    })
    .concat(more > 0 ? [`… ${L.more(more)}: ${publicUrl.replace(/\/$/, '')}/ui`] : [])
    .join('\n\n');
  return { subject, text };
}
