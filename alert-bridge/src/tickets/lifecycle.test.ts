import { describe, expect, it } from 'vitest';
import type { AmAlert } from '../alertmanager.js';
import { parseConfig } from '../config.js';
import { identify } from '../identity.js';
import { KnowledgeBase } from '../knowledge-base.js';
import { acknowledge, assign, close, comment, reopen, resolve } from './actions.js';
import { decide, type Known } from './lifecycle.js';
import type { EventSpec, Ticket, TicketAlert } from './model.js';
import { createPolicy, openTicket } from './policy.js';

// Table tests of the ticket lifecycle alone: no HTTP, no database. Each story feeds notifications
// (and people's actions) to the pure functions and follows the one ticket they shape.
const config = parseConfig({
  webhook: { bearer_token: 'x' },
  tickets: { reopen_window: '1h', flap_window: '6h', flap_threshold: 2 },
});
const policy = createPolicy(config, KnowledgeBase.empty());
const open = openTicket(config, KnowledgeBase.empty(), policy, () => false);
const T0 = Date.parse('2026-03-01T08:00:00Z');
const MIN = 60_000;

interface World {
  now: number;
  ticket?: Ticket;
  alerts: TicketAlert[];
  events: EventSpec[];
  reopenedAt: number[];
  tickets: number;
}

function world(): World {
  return { now: T0, alerts: [], events: [], reopenedAt: [], tickets: 0 };
}

function am(
  name: string,
  status: 'firing' | 'resolved',
  startMin = 0,
  labels: Record<string, string> = {},
): AmAlert {
  return {
    status,
    labels: {
      alertname: name,
      incident_class: 'fiscal.paper_out',
      store: 's1',
      till: 't1',
      severity: 'warning',
      ...labels,
    },
    annotations: { summary: `${name} summary` },
    startsAt: new Date(T0 + startMin * MIN).toISOString(),
    endsAt:
      status === 'resolved' ? new Date(T0 + (startMin + 5) * MIN).toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: '',
  };
}

/** Applies one notification the way the store does, keeping only what the story needs. */
function notify(w: World, ...alerts: AmAlert[]): EventSpec[] {
  const { key } = identify(alerts[0]!.labels, config.tickets);
  const known: Known = {
    ticket: w.ticket,
    alerts: w.alerts,
    recentReopenings: w.reopenedAt.filter((t) => t >= w.now - policy.flapWindow).length,
  };
  const d = decide(known, { key, alerts, externalURL: '' }, w.now, policy, open);
  const events: EventSpec[] = [];
  if (d.closed) {
    w.ticket = { ...w.ticket!, ...d.closed.set };
    events.push(...d.closed.events);
    w.ticket = undefined;
    w.alerts = [];
  }
  if (d.created) {
    w.ticket = { ...d.created.ticket, id: ++w.tickets };
    events.push(...d.created.events);
  } else if (d.updated) {
    w.ticket = { ...w.ticket!, ...d.updated.set };
    events.push(...d.updated.events);
  }
  for (const a of d.alerts) {
    const row = { ...a, ticket_id: w.ticket!.id };
    const i = w.alerts.findIndex((x) => x.fingerprint === a.fingerprint);
    if (i >= 0) w.alerts[i] = row;
    else w.alerts.push(row);
  }
  for (const e of events) if (e.kind === 'reopened') w.reopenedAt.push(w.now);
  w.events.push(...events);
  return events;
}

const kinds = (es: EventSpec[]) => es.map((e) => e.kind);

describe('ticket lifecycle (pure)', () => {
  it('a first firing alert opens a ticket with the card-less title, P3 for a warning, SLA from now', () => {
    const w = world();
    expect(kinds(notify(w, am('TillPaperOut', 'firing')))).toEqual(['created']);
    expect(w.ticket).toMatchObject({
      status: 'open',
      priority: 'P3',
      severity: 'warning',
      title: 'TillPaperOut summary',
    });
    expect(w.ticket!.resolution_due_at - w.ticket!.opened_at).toBe(72 * 3_600_000);
  });

  it('a resolved alert for a problem with no live ticket changes nothing', () => {
    const w = world();
    expect(notify(w, am('TillPaperOut', 'resolved'))).toEqual([]);
    expect(w.ticket).toBeUndefined();
  });

  it('repeats and an HA copy of the same alert write nothing', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    w.now += MIN;
    const { key } = identify(am('TillPaperOut', 'firing').labels, config.tickets);
    const d = decide(
      { ticket: w.ticket, alerts: w.alerts, recentReopenings: 0 },
      { key, alerts: [am('TillPaperOut', 'firing'), am('TillPaperOut', 'firing')], externalURL: '' },
      w.now,
      policy,
      open,
    );
    expect(d).toMatchObject({ alerts: [] });
    expect(d.updated).toBeUndefined();
  });

  it('a partial group: a second alert of the same problem joins the ticket', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    const e = notify(w, am('TillPrinterError', 'firing'));
    expect(e).toEqual([
      { kind: 'alert_joined', actor: 'alertmanager', data: { alerts: ['TillPrinterError'] } },
    ]);
    expect(w.alerts.map((a) => a.alertname)).toEqual(['TillPaperOut', 'TillPrinterError']);
  });

  it('stays open while one alert still fires, and self-resolves when the last one resolves', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'), am('TillPrinterError', 'firing'));
    expect(notify(w, am('TillPaperOut', 'resolved'))).toEqual([]);
    expect(w.ticket!.status).toBe('open');
    expect(kinds(notify(w, am('TillPrinterError', 'resolved')))).toEqual(['resolved']);
    expect(w.ticket).toMatchObject({ status: 'resolved', self_resolved: 1 });
  });

  it('acknowledged, then resolved by the alerts: not self-resolved', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    const c = acknowledge(w.ticket!, 'alice', w.now, 'on it');
    expect(c.events).toEqual([{ kind: 'acknowledged', actor: 'alice', data: { note: 'on it' } }]);
    w.ticket = { ...w.ticket!, ...c.set };
    notify(w, am('TillPaperOut', 'resolved'));
    expect(w.ticket).toMatchObject({ status: 'resolved', self_resolved: 0 });
  });

  it('a warning that turns critical raises severity and priority and moves the SLA due times', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    const e = notify(
      w,
      am('TillPaperOut', 'firing', 0, { alertname: 'TillPaperOutLong', severity: 'critical' }),
    );
    expect(kinds(e)).toEqual(['alert_joined']);
    expect(w.ticket).toMatchObject({ severity: 'critical', priority: 'P2' });
    expect(w.ticket!.resolution_due_at - w.ticket!.opened_at).toBe(24 * 3_600_000);
  });

  it('a returning fault within the reopen window reopens; the second reopening in the flap window marks flapping', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing', 0));
    notify(w, am('TillPaperOut', 'resolved', 0));
    w.now += 10 * MIN;
    expect(kinds(notify(w, am('TillPaperOut', 'firing', 20)))).toEqual(['reopened']);
    expect(w.ticket).toMatchObject({ status: 'open', reopen_count: 1, flapping: 0, resolved_at: null });
    notify(w, am('TillPaperOut', 'resolved', 20));
    w.now += 10 * MIN;
    notify(w, am('TillPaperOut', 'firing', 40));
    expect(w.ticket).toMatchObject({ status: 'open', reopen_count: 2, flapping: 1 });
    expect(w.events.at(-1)).toMatchObject({ data: { reopenings_in_window: 2 } });
  });

  it('after the reopen window the old ticket closes and the fault opens a new ticket', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing', 0));
    notify(w, am('TillPaperOut', 'resolved', 0));
    const first = w.ticket!.id;
    w.now += 2 * 3_600_000;
    expect(kinds(notify(w, am('TillPaperOut', 'firing', 200)))).toEqual(['closed', 'created']);
    expect(w.ticket!.id).not.toBe(first);
    expect(w.ticket).toMatchObject({ status: 'open', reopen_count: 0 });
  });

  it('a stale copy of the old firing alert (same startsAt) does not reopen a resolved ticket', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing', 0));
    notify(w, am('TillPaperOut', 'resolved', 0));
    expect(notify(w, am('TillPaperOut', 'firing', 0))).toEqual([]);
    expect(w.ticket!.status).toBe('resolved');
  });

  it('an older resolved copy does not resolve a newer firing alert', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing', 30));
    expect(notify(w, am('TillPaperOut', 'resolved', 0))).toEqual([]);
    expect(w.ticket!.status).toBe('open');
  });

  it('a resolved alert with an unreadable endsAt still resolves, at the time it was seen', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    w.now += 5 * MIN;
    notify(w, { ...am('TillPaperOut', 'resolved'), endsAt: 'not a date' });
    expect(w.ticket!.status).toBe('resolved');
    expect(w.alerts[0]!.ends_at).toBe(w.now);
  });

  it('people: only an open ticket can be acknowledged; only an open or acknowledged one resolved', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    expect(() => resolve(w.ticket!, w.alerts, 'bob', w.now, { note: 'fixed' })).toThrow(
      /still has firing alerts \(TillPaperOut\); resolve with force/,
    );
    const r = resolve(w.ticket!, w.alerts, 'bob', w.now, { note: 'fixed', force: true });
    expect(r.events).toEqual([
      {
        kind: 'resolved',
        actor: 'bob',
        data: { by: 'human', note: 'fixed', forced: true, firing: ['TillPaperOut'] },
      },
    ]);
    const resolved = { ...w.ticket!, ...r.set };
    expect(resolved).toMatchObject({ status: 'resolved', self_resolved: 0 });
    expect(() => acknowledge(resolved, 'bob', w.now)).toThrow(/only an open ticket can be acknowledged/);
    expect(() => resolve(resolved, w.alerts, 'bob', w.now)).toThrow(/only an open or acknowledged ticket/);
    expect(comment(resolved, 'bob', w.now, 'note').events[0]).toMatchObject({
      kind: 'commented',
      actor: 'bob',
    });
  });

  it('a forced resolve while the alert fires: the next notification with it still firing reopens, saying why', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    w.ticket = { ...w.ticket!, ...resolve(w.ticket!, w.alerts, 'bob', w.now, { force: true }).set };
    expect(w.ticket).toMatchObject({ status: 'resolved', forced_resolve: 1 });
    w.now += MIN;
    // An identical repeat (repeat_interval) is enough.
    const e = notify(w, am('TillPaperOut', 'firing'));
    expect(e).toEqual([
      {
        kind: 'reopened',
        actor: 'alertmanager',
        data: { reopenings_in_window: 1, reason: 'still_firing_after_forced_resolve' },
      },
    ]);
    expect(w.ticket).toMatchObject({ status: 'open', forced_resolve: 0, reopen_count: 1 });
  });

  it('a resolve once every alert has resolved needs no force, and a later repeat of the resolved alert stays quiet', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'), am('TillPrinterError', 'firing'));
    notify(w, am('TillPaperOut', 'resolved'));
    expect(() => resolve(w.ticket!, w.alerts, 'bob', w.now)).toThrow(/TillPrinterError/);
    notify(w, am('TillPrinterError', 'resolved'));
    expect(w.ticket!.status).toBe('resolved');
  });

  it('taking a ticket assigns it to whoever took it; assigning twice to the same person is a conflict', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    w.ticket = { ...w.ticket!, ...acknowledge(w.ticket!, 'alice', w.now).set };
    expect(w.ticket.assignee).toBe('alice');
    expect(() => assign(w.ticket!, 'lead', w.now, 'alice')).toThrow(/already assigned to alice/);
    const c = assign(w.ticket, 'lead', w.now, 'bob');
    expect(c.events[0]).toEqual({
      kind: 'assigned',
      actor: 'lead',
      data: { assignee: 'bob', previous: 'alice' },
    });
  });

  it('a person reopens a resolved ticket, not an open or closed one', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    expect(() => reopen(w.ticket!, 'bob', w.now)).toThrow(/only a resolved ticket can be reopened/);
    notify(w, am('TillPaperOut', 'resolved'));
    const c = reopen(w.ticket!, 'bob', w.now, 'not fixed');
    expect(c.set).toMatchObject({ status: 'open', reopen_count: 1 });
    expect(c.events[0]).toMatchObject({
      kind: 'reopened',
      actor: 'bob',
      data: { by: 'human', note: 'not fixed' },
    });
  });

  it('the sweeper closes only a resolved ticket', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    expect(close(w.ticket!, w.now)).toBeUndefined();
    notify(w, am('TillPaperOut', 'resolved'));
    expect(close(w.ticket!, w.now)!.set).toMatchObject({ status: 'closed', open_key: null });
  });

  it('every change bumps the version and updated_at', () => {
    const w = world();
    notify(w, am('TillPaperOut', 'firing'));
    w.now += MIN;
    notify(w, am('TillPrinterError', 'firing'));
    expect(w.ticket).toMatchObject({ version: 1, updated_at: w.now });
  });
});
