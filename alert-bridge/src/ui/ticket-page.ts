import { can } from '../auth/principal.js';
import { formatTime } from '../i18n/time.js';
import type { Locale } from '../knowledge-base.js';
import type { TicketDetail } from '../tickets/index.js';
import { factsTable } from './facts.js';
import { historyList } from './history.js';
import { csrfField, e, link, page, type PageContext } from './layout.js';
import { place } from './list-page.js';

export interface TicketPageOptions {
  locale: Locale;
  now: number;
  /** People the ticket can be assigned to. */
  assignees?: readonly string[];
  /** A refused action to explain above the forms (e.g. the 409 of a resolve while alerts fire). */
  problem?: { message: string; offerForce?: boolean; note?: string } | undefined;
  /** Opened through a signed link: read-only, with its expiry. */
  linkUntil?: number;
  /** Remote actions are configured: operators get a form to ask the ticket's till for one. */
  remoteActions?: boolean;
}

const ACTION_BASE = (id: number) => `/ui/tickets/${id}`;

function actions(t: TicketDetail, ctx: PageContext, opts: TicketPageOptions): string {
  const { L, csrf, user } = ctx;
  if (!user || !can(user, 'operator') || opts.linkUntil !== undefined) return '';
  const form = (action: string, inner: string) =>
    `<form method="post" action="${ACTION_BASE(t.id)}/${action}">${csrfField(csrf)}${inner}</form>`;
  const note = (v = '') => `<label>${e(L.note)}<input name="note" maxlength="10000" value="${e(v)}"></label>`;
  const out: string[] = [];
  const live = t.status === 'open' || t.status === 'acknowledged';
  if (t.status === 'open')
    out.push(form('acknowledge', `${note()}<button class="primary">${e(L.acknowledge)}</button>`));
  if (live) out.push(form('resolve', `${note()}<button>${e(L.resolve)}</button>`));
  if (live && t.waiting_since === null) out.push(form('wait', `${note()}<button>${e(L.wait)}</button>`));
  if (t.waiting_since !== null) out.push(form('resume', `${note()}<button>${e(L.resume)}</button>`));
  if (t.status === 'resolved') out.push(form('reopen', `${note()}<button>${e(L.reopen)}</button>`));
  if (t.status !== 'closed') {
    const names = [...new Set([user.name, ...(opts.assignees ?? [])])];
    const options = names
      .map((n) => `<option value="${e(n)}"${n === t.assignee ? ' selected' : ''}>${e(n)}</option>`)
      .join('');
    out.push(
      form(
        'assign',
        `<label>${e(L.assignTo)}<select name="assignee"><option value="">${e(L.nobody)}</option>${options}</select></label><button>${e(L.assign)}</button>`,
      ),
    );
  }
  if (opts.remoteActions && t.till !== null && live)
    out.push(
      form(
        'remote_action',
        `<label>${e(L.remoteAction)}<input name="action" required maxlength="64" pattern="[a-z][a-z0-9_]*"></label><label><input type="checkbox" name="confirm" value="true" required> ${e(L.remoteConfirm)}</label><button>${e(L.remoteRun)}</button>`,
      ),
    );
  out.push(
    form(
      'comments',
      `<label>${e(L.commentText)}<textarea name="text" rows="2" cols="40" required maxlength="10000"></textarea></label><button>${e(L.comment)}</button>`,
    ),
  );
  return `<h2>${e(L.actions)}</h2><div class="actions">${out.join('')}</div>`;
}

function problemBox(t: TicketDetail, ctx: PageContext, opts: TicketPageOptions): string {
  const p = opts.problem;
  if (!p) return '';
  const force =
    p.offerForce && ctx.user && can(ctx.user, 'operator')
      ? `<p>${e(ctx.L.forceExplain)}</p><form method="post" action="${ACTION_BASE(t.id)}/resolve">${csrfField(ctx.csrf)}<input type="hidden" name="force" value="true"><input type="hidden" name="note" value="${e(p.note ?? '')}"><button class="danger">${e(ctx.L.forceResolve)}</button></form>`
      : '';
  return `<div class="error" role="alert"><b>${e(ctx.L.errors.conflict)}:</b> ${e(p.message)}${force}</div>`;
}

/** One ticket: state, card, facts, alerts, history, and the actions the person may take. */
export function ticketPage(ctx: PageContext, t: TicketDetail, opts: TicketPageOptions): string {
  const { L } = ctx;
  const { locale, now } = opts;
  const zone = t.timezone;
  const time = (at: string) => formatTime(at, zone, locale, { now });
  const r = t.recommendation;
  const steps = (xs: string[]) =>
    xs.length ? `<ol>${xs.map((x) => `<li>${e(x)}</li>`).join('')}</ol>` : '<p>—</p>';
  const card = r
    ? `<h2>${e(r.title)}</h2><p>${e(r.impact)}</p><h3>${e(L.card.firstLine)}</h3>${steps(r.first_line)}<h3>${e(L.card.field)}</h3>${steps(r.field)}<h3>${e(L.card.parts)}</h3>${steps(r.parts)}<p>${e(L.card.expected(r.expected_minutes))}</p>`
    : `<p class="notice">${e(L.noCard)}</p>`;
  const facts = factsTable(t.incident_class, t.snapshot, zone, locale, now);
  const factsHtml = facts
    ? `<h2>${e(L.facts)}</h2>${facts.taken ? `<p class="muted">${e(L.factsTaken(facts.taken))}</p>` : ''}<dl class="facts">${facts.rows}</dl>`
    : '';
  const alerts = t.alerts
    .map(
      (a) =>
        `<tr><td>${e(a.alertname)}</td><td>${e(L.alertStatus[a.status] ?? a.status)}</td><td>${a.starts_at ? e(time(a.starts_at)) : ''}</td><td>${e(a.text)}${locale === 'en' && a.annotations.description ? `<br><span class="muted">${e(a.annotations.description)}</span>` : ''}</td></tr>`,
    )
    .join('');
  const links = Object.entries(t.links)
    .filter(([k, v]) => v && k !== 'ticket')
    .map(([k, v]) => link(v, L.links[k] ?? k))
    .join(' · ');
  const flags = [
    t.auto_remediated ? L.tags.autoRemediated : null,
    t.self_resolved ? L.tags.selfResolved : null,
    t.flapping ? L.tags.flapping : null,
  ]
    .filter((x): x is string => x !== null)
    .map((x) => `<span class="tag">${e(x)}</span>`)
    .join('');
  const readOnly =
    opts.linkUntil !== undefined
      ? `<p class="notice">${e(L.readOnlyLink(formatTime(opts.linkUntil, zone, locale, { now })))} <a href="/ui/tickets/${t.id}">${e(L.login)}</a></p>`
      : '';
  const c = L.cols;
  const members = t.members
    ? `<h2>${e(L.members(t.members.length, t.member_count ?? t.members.length))}</h2><table><thead><tr><th>${e(L.memberCols.ticket)}</th><th>${e(L.memberCols.place)}</th><th>${e(L.memberCols.status)}</th><th>${e(L.memberCols.since)}</th></tr></thead><tbody>${t.members
        .map(
          (m) =>
            `<tr><td><a href="/ui/tickets/${m.id}">#${m.id}</a></td><td>${e(place(m))}</td><td>${e(L.status[m.status] ?? m.status)}</td><td>${e(time(m.opened_at))}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const partOf =
    t.parent_id !== null
      ? `<p class="notice">${e(L.partOf)} <a href="/ui/tickets/${t.parent_id}">#${t.parent_id}</a></p>`
      : '';
  return page(
    ctx,
    `#${t.id} ${t.title}`,
    `${opts.linkUntil === undefined ? `<p><a href="/ui">${e(L.backToList)}</a></p>` : ''}${readOnly}` +
      `<h1>#${t.id} <span class="${e(t.priority)}">${e(t.priority)}</span> ${e(t.title)}</h1>` +
      `<p><b>${e(L.status[t.status] ?? t.status)}</b>${flags} · ${e(place(t))} · ${e(L.team)} ${e(t.team)} · ${e(L.klass)} ${e(t.incident_class)}</p>` +
      `<p>${e(L.opened)} ${e(time(t.opened_at))} · ${e(L.reactionDue)} ${e(time(t.sla.reaction_due_at))} · ${e(L.due)} ${e(time(t.sla_due_at))}${t.sla.calendar === '24/7' ? '' : ` (${e(L.calendar(t.sla.calendar))})`} · ${e(L.assignee)}: ${e(t.assignee ?? L.nobody)}</p>` +
      (t.waiting_since !== null ? `<p class="notice">${e(L.waitingSince(time(t.waiting_since)))}</p>` : '') +
      (links ? `<p>${links}</p>` : '') +
      partOf +
      problemBox(t, ctx, opts) +
      actions(t, ctx, opts) +
      card +
      factsHtml +
      members +
      `<h2>${e(L.alerts)}</h2><table><thead><tr><th>${e(L.alertCols.name)}</th><th>${e(L.alertCols.status)}</th><th>${e(L.alertCols.since)}</th><th>${e(L.alertCols.summary)}</th></tr></thead><tbody>${alerts}</tbody></table>` +
      `<h2>${e(L.history)}</h2>${historyList(t.events, zone, locale, L, now)}` +
      `<p class="muted">${e(c.id)} ${t.id} · ${e(t.key)}</p>`,
  );
}

/** The login form; `next` is where to go after it (a path of this site). */
export function loginPage(ctx: PageContext, next: string, failed: boolean, name = ''): string {
  const { L } = ctx;
  return page(
    ctx,
    `TillWatch: ${L.login}`,
    `<div class="login"><h1>${e(L.login)}</h1>${failed ? `<p class="error" role="alert">${e(L.loginFailed)}</p>` : ''}` +
      `<form method="post" action="/ui/login">${csrfField(ctx.csrf)}<input type="hidden" name="next" value="${e(next)}">` +
      `<label>${e(L.username)}<input name="username" autocomplete="username" required value="${e(name)}"></label>` +
      `<label>${e(L.password)}<input name="password" type="password" autocomplete="current-password" required></label>` +
      `<button class="primary">${e(L.loginButton)}</button></form></div>`,
  );
}
