import { formatTime, zoneLabel } from '../i18n/time.js';
import type { Locale } from '../knowledge-base.js';
import type { TicketJson } from '../tickets/index.js';
import { e, page, type PageContext } from './layout.js';

export const place = (t: TicketJson) =>
  [t.chain, t.region, t.store, t.till ?? (t.tills.length ? t.tills.join(', ') : null), t.device]
    .filter(Boolean)
    .join(' / ');

/** Open tickets, or the live tickets about a place (the wall's ticket link). */
export function listPage(
  ctx: PageContext & { locale: Locale; now: number },
  tickets: TicketJson[],
  filter?: Record<string, string | undefined>,
): string {
  const { L, locale, now } = ctx;
  // Each row is in its own store's zone; the zone is named once per row in the "opened" cell.
  const rows = tickets
    .map((t) => {
      const tags = [t.needs_card ? L.tags.needsCard : null, t.flapping ? L.tags.flapping : null].filter(
        (x): x is string => x !== null,
      );
      return (
        `<tr><td><a href="/ui/tickets/${t.id}">${t.id}</a></td><td class="${e(t.priority)}">${e(t.priority)}</td>` +
        `<td>${e(L.status[t.status] ?? t.status)}</td><td>${e(t.title)}${tags.map((x) => `<span class="tag">${e(x)}</span>`).join('')}</td>` +
        `<td>${e(place(t))}</td><td>${e(t.team)}</td><td>${e(t.assignee ?? '')}</td>` +
        `<td>${e(formatTime(t.opened_at, t.timezone, locale, { now }))}</td>` +
        `<td>${e(formatTime(t.sla_due_at, t.timezone, locale, { now, bare: true }))}</td></tr>`
      );
    })
    .join('');
  const at = filter
    ? Object.entries(filter)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${v!}`)
        .join(', ')
    : '';
  const heading = filter ? `${L.ticketsFor(at)} (${tickets.length})` : `${L.openTickets} (${tickets.length})`;
  const empty = tickets.length === 0 && filter ? `<p>${e(L.noLiveTicket(at))}</p>` : '';
  const zones = [...new Set(tickets.map((t) => zoneLabel(now, t.timezone, locale)))];
  const c = L.cols;
  return page(
    ctx,
    `TillWatch: ${heading}`,
    `<p><a href="/ui">${e(L.backToList)}</a></p><h1>${e(heading)}</h1>${empty}` +
      (zones.length ? `<p class="muted">${e(L.times(zones.join('; ')))}</p>` : '') +
      `<table><thead><tr><th>${c.id}</th><th>${c.priority}</th><th>${c.status}</th><th>${c.problem}</th><th>${c.where}</th><th>${c.team}</th><th>${c.assignee}</th><th>${c.opened}</th><th>${c.due}</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}
