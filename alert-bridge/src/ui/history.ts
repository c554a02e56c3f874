import { formatTime } from '../i18n/time.js';
import type { Locale } from '../knowledge-base.js';
import type { EventJson } from '../tickets/view.js';
import { e } from './layout.js';
import type { UiText } from './text.js';

const list = (x: unknown): string =>
  Array.isArray(x) && x.length ? x.map((a) => String(a)).join(', ') : '—';

/** One history event as a sentence in the page's language (HTML, escaped). */
export function eventLine(ev: EventJson, L: UiText, events: readonly EventJson[] = []): string {
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
      if (d.auto_remediated) return e(L.ev.autoRemediated(remediatedBy(events)));
      return e(d.self_resolved ? L.ev.selfResolved : L.ev.autoResolved);
    case 'remediation':
      return d.step === 'requested'
        ? e(L.ev.remediationRequested(L.system[ev.actor] ?? ev.actor, String(d.action ?? '')))
        : remediationLine(d, L);
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

/** The action whose success preceded an auto-remediated resolve. */
function remediatedBy(events: readonly EventJson[]): string {
  for (const ev of [...events].reverse()) {
    const d = (ev.data ?? {}) as Record<string, unknown>;
    if (ev.type === 'remediation' && d.step === 'result' && d.result === 'succeeded') return String(d.action);
  }
  return '—';
}

/** One step of the automatic first step: queued, its result (with the till's output), or the page. */
function remediationLine(d: Record<string, unknown>, L: UiText): string {
  const action = String(d.action ?? '');
  switch (d.step) {
    case 'queued': {
      const wait = typeof d.wait_ms === 'number' ? Math.max(1, Math.round(d.wait_ms / 60_000)) : 0;
      return e(L.ev.remediationQueued(action, Number(d.attempt ?? 1), Number(d.attempts ?? 1), wait));
    }
    case 'dry_run':
      return e(L.ev.remediationDryRun(action));
    case 'result': {
      const detail = [
        d.exit_code !== undefined && d.exit_code !== null ? ` (exit ${String(d.exit_code)})` : '',
        typeof d.reason === 'string' ? ` — ${d.reason}` : '',
      ].join('');
      const out = typeof d.output === 'string' && d.output ? `<pre>${e(d.output)}</pre>` : '';
      return e(L.ev.remediationResult(action, Number(d.attempt ?? 1), String(d.result), detail)) + out;
    }
    case 'paged': {
      const tried = Array.isArray(d.tried)
        ? d.tried.map((x: { action?: string; status?: string }) => `${x.action}: ${x.status}`).join(', ')
        : '—';
      return e(L.ev.remediationPaged(tried));
    }
    default:
      return e(L.ev.other('bridge', 'remediation'));
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
      `<li><time datetime="${e(ev.at)}">${e(formatTime(ev.at, zone, locale, { now }))}</time> — ${eventLine(ev, L, events)}</li>`,
  );
  return `<ol class="history">${items.join('')}</ol>`;
}
