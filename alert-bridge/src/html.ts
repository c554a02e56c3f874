import { escapeHtml as e } from './notify/render.js';
import type { TicketDetail, TicketJson } from './tickets/index.js';

// Server-rendered pages, no build step: a list of open tickets and one ticket with card and history.
const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5rem;max-width:70rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left}.P1{color:#b00;font-weight:bold}.P2{color:#c60}
.tag{background:#eee;border-radius:3px;padding:0 .3rem;margin-left:.3rem}`;

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${e(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

const place = (t: TicketJson) =>
  [t.chain, t.region, t.store, t.till ?? (t.tills.length ? t.tills.join(', ') : null), t.device]
    .filter(Boolean)
    .join(' / ');

export function listPage(tickets: TicketJson[], filter?: Record<string, string | undefined>): string {
  const rows = tickets
    .map(
      (t) =>
        `<tr><td><a href="/ui/tickets/${t.id}">#${t.id}</a></td><td class="${e(t.priority)}">${e(t.priority)}</td><td>${e(t.status)}</td>` +
        `<td>${e(t.title)}${t.needs_card ? '<span class="tag">needs card</span>' : ''}${t.flapping ? '<span class="tag">flapping</span>' : ''}</td>` +
        `<td>${e(place(t))}</td><td>${e(t.team)}</td><td>${e(t.opened_at)}</td><td>${e(t.sla_due_at)}</td></tr>`,
    )
    .join('');
  const at = filter
    ? Object.entries(filter)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${v!}`)
        .join(', ')
    : '';
  const heading = filter ? `Tickets for ${at} (${tickets.length})` : `Open tickets (${tickets.length})`;
  const empty = tickets.length === 0 && filter ? `<p>No live ticket for ${e(at)}.</p>` : '';
  return page(
    filter ? `TillWatch: tickets for ${at}` : 'TillWatch: open tickets',
    `<p><a href="/ui">← open tickets</a></p><h1>${e(heading)}</h1>${empty}<table><thead><tr><th>#</th><th>Priority</th><th>Status</th><th>Problem</th><th>Where</th><th>Team</th><th>Opened</th><th>Due</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

export function ticketPage(t: TicketDetail): string {
  const r = t.recommendation;
  const list = (xs: string[]) =>
    xs.length ? `<ol>${xs.map((x) => `<li>${e(x)}</li>`).join('')}</ol>` : '<p>—</p>';
  const card = r
    ? `<h2>${e(r.title)}</h2><p>${e(r.impact)}</p><h3>First line</h3>${list(r.first_line)}<h3>Field engineer</h3>${list(r.field)}<h3>Parts</h3>${list(r.parts)}<p>Expected: ${r.expected_minutes} min</p>`
    : '<p><b>No diagnostic card for this incident class yet (needs_card).</b></p>';
  const alerts = t.alerts
    .map(
      (a) =>
        `<tr><td>${e(a.alertname)}</td><td>${e(a.status)}</td><td>${e(a.starts_at ?? '')}</td><td>${e(a.annotations.summary ?? '')}</td></tr>`,
    )
    .join('');
  const events = t.events
    .map(
      (v) =>
        `<tr><td>${e(v.at)}</td><td>${e(v.type)}</td><td>${e(v.actor)}</td><td><code>${e(JSON.stringify(v.data))}</code></td></tr>`,
    )
    .join('');
  const links = Object.entries(t.links)
    .filter(([, v]) => v)
    .map(([k, v]) => `<a href="${e(v!)}">${e(k)}</a>`)
    .join(' · ');
  return page(
    `#${t.id} ${t.title}`,
    `<p><a href="/ui">← open tickets</a></p><h1>#${t.id} <span class="${e(t.priority)}">${e(t.priority)}</span> ${e(t.title)}</h1>
<p>${e(t.status)}${t.self_resolved ? ' (self-resolved)' : ''} · ${e(place(t))} · team ${e(t.team)} · class ${e(t.incident_class)} · opened ${e(t.opened_at)} · due ${e(t.sla_due_at)}</p>
<p>${links}</p>${card}<h2>Alerts</h2><table>${alerts}</table><h2>History</h2><table>${events}</table>`,
  );
}
