import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketJson } from './tickets/index.js';
import { metricTypes, readMetricContract } from '@tillwatch/testkit';
import { startTelegramEmulator } from '@tillwatch/testkit/telegram';
import {
  alert,
  api,
  ENGINES,
  paperOut,
  payload,
  postWebhook,
  READ_TOKEN,
  startBridge,
  startReceiver,
  waitFor,
} from '@tillwatch/testkit/bridge';

type T = TicketJson & { events: { type: string; actor: string; data: Record<string, unknown> }[] };
const MIN = 60_000;

describe.each(ENGINES)('service time on %s', (engine) => {
  let duty: Awaited<ReturnType<typeof startReceiver>>;
  let manager: Awaited<ReturnType<typeof startReceiver>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  const clock = { now: Date.parse('2026-11-23T08:00:00Z') };
  beforeAll(async () => {
    duty = await startReceiver('duty-key');
    manager = await startReceiver('manager-key');
    ctx = await startBridge(
      engine,
      {
        priority: { by_class: { 'fiscal.paper_out': 'P1' } },
        tickets: { sweep_interval: '1h', reopen_window: '1h' },
        forwarding: {
          poll_interval: '50ms',
          retry_base: '50ms',
          targets: [
            // Escalation only: their event filter keeps every ordinary ticket event away from them.
            {
              name: 'duty',
              type: 'webhook',
              url: duty.url,
              secret: 'duty-key',
              events: ['ticket.escalated'],
            },
            {
              name: 'manager',
              type: 'webhook',
              url: manager.url,
              secret: 'manager-key',
              events: ['ticket.escalated'],
            },
          ],
        },
        sla: {
          calendars: {
            office: {
              timezone: 'Europe/Moscow',
              hours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['09:00-18:00']])),
              holidays: ['2026-12-31'],
            },
          },
          policies: [{ name: 'office-hours', chain: 'office', priority: ['P3', 'P4'], calendar: 'office' }],
        },
        escalation: {
          policies: [
            {
              priority: ['P1'],
              repeat: '10m',
              levels: [
                { name: 'duty-lead', after: '15m', webhook: ['duty'] },
                { name: 'manager', after: '45m', webhook: ['manager'] },
              ],
            },
          ],
        },
      },
      { now: () => clock.now },
    );
  });
  afterAll(async () => {
    await ctx?.close();
    await duty?.close();
    await manager?.close();
  });

  const get = async (id: number) => (await api<T>(ctx.bridge.url, `/tickets/${id}`)).body;
  const at = async (minutes: number, from: number) => {
    clock.now = from + minutes * MIN;
    await ctx.bridge.tickets.sweep();
  };
  const escalations = async (id: number) =>
    (await get(id)).events.filter((e) => e.type === 'escalated').map((e) => e.data);
  const mine = (rx: typeof duty, id: number) =>
    rx.got.filter((g) => (g.body.ticket as { id: number }).id === id).map((g) => g.body.data);

  it('an unacknowledged P1 notifies the duty lead after 15 minutes, repeats every 10, adds the manager at 45; acknowledging stops it', async () => {
    const opened = clock.now;
    const [id] = (await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'esc')]))).body
      .tickets as number[];
    expect((await get(id!)).priority).toBe('P1');
    await at(14, opened);
    expect(await escalations(id!)).toEqual([]);
    await at(15, opened);
    await at(16, opened); // the next sweep sends nothing new
    expect(await escalations(id!)).toEqual([{ step: 1, levels: ['duty-lead'], unacknowledged_for_s: 900 }]);
    await at(25, opened);
    await at(35, opened);
    await at(45, opened);
    expect((await escalations(id!)).map((d) => [d.step, d.levels])).toEqual([
      [1, ['duty-lead']],
      [2, ['duty-lead']],
      [3, ['duty-lead']],
      [4, ['duty-lead', 'manager']],
    ]);
    await waitFor(
      () => mine(duty, id!).length === 4 && mine(manager, id!).length === 1,
      'escalations delivered',
    );
    expect(duty.got.every((g) => g.type === 'ticket.escalated')).toBe(true);
    expect(mine(manager, id!)).toEqual([
      { step: 4, levels: ['duty-lead', 'manager'], unacknowledged_for_s: 2700 },
    ]);

    clock.now = opened + 47 * MIN;
    expect(
      (await api(ctx.bridge.url, `/tickets/${id}/acknowledge`, { method: 'POST', body: {} })).status,
    ).toBe(200);
    for (const m of [55, 65, 120]) await at(m, opened);
    expect(await escalations(id!)).toHaveLength(4);
    await new Promise((r) => setTimeout(r, 300));
    expect(mine(duty, id!)).toHaveLength(4);

    // Every step is on the ticket's page, said for people.
    const auth = { authorization: `Basic ${Buffer.from(`x:${READ_TOKEN}`).toString('base64')}` };
    const page = await (await fetch(`${ctx.bridge.url}/ui/tickets/${id}`, { headers: auth })).text();
    expect(page).toContain('escalation (step 1): nobody took the ticket for 15 min, notified: duty-lead');
    expect(page).toContain(
      'escalation (step 4): nobody took the ticket for 45 min, notified: duty-lead, manager',
    );
  });

  it('a reopened ticket starts its escalation clock again', async () => {
    const opened = clock.now;
    const [id] = (await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'esc')]))).body
      .tickets as number[];
    await at(15, opened);
    expect(await escalations(id!)).toHaveLength(1);
    await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'esc', { status: 'resolved' })]));
    await at(20, opened);
    await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'esc', { startsAt: '2026-01-01T11:00:00Z' })]));
    expect((await get(id!)).status).toBe('open');
    await at(34, opened); // 14 minutes after reopening
    expect(await escalations(id!)).toHaveLength(1);
    await at(35, opened);
    expect((await escalations(id!)).at(-1)).toEqual({
      step: 1,
      levels: ['duty-lead'],
      unacknowledged_for_s: 900,
    });
  });

  it("a business-hours P3 opened on Friday evening gets its deadlines on Monday; another chain's stays 24/7", async () => {
    // Friday 27 November 2026, 19:30 in Moscow.
    clock.now = Date.parse('2026-11-27T16:30:00Z');
    const p3 = (chain: string) =>
      alert({
        alertname: 'TillSlowThing',
        incident_class: 'test.business_hours',
        chain,
        store: 'bh',
        till: 't1',
      });
    const [office] = (await postWebhook(ctx.bridge.url, payload([p3('office')]))).body.tickets as number[];
    const [other] = (await postWebhook(ctx.bridge.url, payload([p3('other')]))).body.tickets as number[];
    const a = await get(office!);
    expect(a.priority).toBe('P3');
    // P3: registration 1h, reaction 4h, resolution 72h of working time, Monday to Friday 09:00-18:00 Moscow.
    expect(a.sla).toMatchObject({
      registration_due_at: '2026-11-30T07:00:00.000Z',
      reaction_due_at: '2026-11-30T10:00:00.000Z',
      // 72h = 8 working days of 9h: Mon 30 Nov .. Wed 9 Dec 18:00.
      resolution_due_at: '2026-12-09T15:00:00.000Z',
    });
    expect(a.sla).toMatchObject({ policy: 'office-hours', calendar: 'office' });
    const auth = { authorization: `Basic ${Buffer.from(`x:${READ_TOKEN}`).toString('base64')}` };
    const page = await (await fetch(`${ctx.bridge.url}/ui/tickets/${office}`, { headers: auth })).text();
    expect(page).toMatch(
      /reaction due [^·]*13:00[^·]*· due [^·]*18:00[^·]*\(working hours of calendar office\)/,
    );
    const b = await get(other!);
    expect(b.sla).toMatchObject({ policy: 'default', calendar: '24/7' });
    expect(b.sla).toMatchObject({ reaction_due_at: '2026-11-27T20:30:00.000Z' });
    // No reaction breach over the weekend for the business-hours ticket; the 24/7 one is breached.
    clock.now = Date.parse('2026-11-29T20:00:00Z');
    await ctx.bridge.tickets.sweep();
    expect((await get(office!)).sla.breached).toMatchObject({ reaction: false });
    expect((await get(other!)).sla.breached).toMatchObject({ reaction: true });
  });

  it('service metrics: time to acknowledge and resolve, SLA outcomes, closed tickets and open ages pass promtool', async () => {
    // The first test's P1 (acknowledged at 47 min, reaction due at 15) resolves and closes.
    const opened = Date.parse('2026-11-30T08:00:00Z');
    clock.now = opened;
    const [id] = (await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'm')]))).body.tickets as number[];
    clock.now = opened + 10 * MIN;
    await api(ctx.bridge.url, `/tickets/${id}/acknowledge`, { method: 'POST', body: {} });
    clock.now = opened + 90 * MIN;
    await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'm', { status: 'resolved' })]));
    await at(180, opened); // past the reopen window: closed
    expect((await get(id!)).status).toBe('closed');
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
    // docs/metrics.md lists them with the types they have.
    const documented = [...readMetricContract().values()].filter(
      (e) => e.section === 'Alert bridge: service',
    );
    expect(documented.length).toBe(6);
    const types = metricTypes(text);
    for (const e of documented) expect(types.get(e.name), e.name).toBe(e.type);
    const labels = 'team="hardware",priority="P1",incident_class="fiscal.paper_out",chain="c1"';
    // Acknowledged after 10 minutes: in the 900s bucket, not the 300s one (and the first test's 47 min).
    expect(text).toContain(
      `tillwatch_bridge_ticket_time_to_acknowledge_seconds_bucket{le="300",${labels}} 0`,
    );
    expect(text).toContain(
      `tillwatch_bridge_ticket_time_to_acknowledge_seconds_bucket{le="900",${labels}} 1`,
    );
    expect(text).toContain(
      `tillwatch_bridge_ticket_time_to_acknowledge_seconds_bucket{le="3600",${labels}} 2`,
    );
    expect(text).toContain(`tillwatch_bridge_ticket_time_to_resolve_seconds_sum{${labels}} 5400`);
    expect(text).toContain(`tillwatch_bridge_tickets_closed_total{${labels},resolved_by="alerts"} 1`);
    // The first test's four steps (the last also to the manager), the second's two, then that reopened
    // ticket, never acknowledged, once more at each later sweep (Sunday evening, now): both levels.
    expect(text).toContain('tillwatch_bridge_escalations_total{level="duty-lead",priority="P1"} 8');
    expect(text).toContain('tillwatch_bridge_escalations_total{level="manager",priority="P1"} 3');
    expect(text).toContain(
      'tillwatch_bridge_sla_deadlines_total{kind="reaction",result="met",priority="P1",chain="c1"} 1',
    );
    expect(text).toContain(
      'tillwatch_bridge_sla_deadlines_total{kind="resolution",result="met",priority="P1",chain="c1"} 1',
    );
    // The Friday tickets are still open, now three days old.
    expect(text).toContain('tillwatch_bridge_open_tickets{age="1d-3d",priority="P3",chain="office"} 1');
    expect(text).toContain('tillwatch_bridge_open_tickets{age="1d-3d",priority="P3",chain="other"} 1');
    expect(text).toContain('tillwatch_bridge_open_tickets{age="0-1h",priority="P3",chain="office"} 0');
  });

  it('waiting for the client stops the reaction clock, and resuming gives back the time it had left', async () => {
    // Monday 30 November 2026, 10:00 Moscow: a business-hours P3, reaction due at 14:00.
    clock.now = Date.parse('2026-11-30T07:00:00Z');
    const p3 = alert({
      alertname: 'TillSlowThing',
      incident_class: 'test.business_hours',
      chain: 'office',
      store: 'wt',
      till: 't1',
    });
    const [id] = (await postWebhook(ctx.bridge.url, payload([p3]))).body.tickets as number[];
    expect((await get(id!)).sla.reaction_due_at).toBe('2026-11-30T11:00:00.000Z');
    clock.now = Date.parse('2026-11-30T08:00:00Z'); // 11:00: three working hours left
    const w = await api<T>(ctx.bridge.url, `/tickets/${id}/wait`, {
      method: 'POST',
      body: { note: 'asked the store for the model' },
    });
    expect(w.status).toBe(200);
    expect(w.body.waiting_since).toBe('2026-11-30T08:00:00.000Z');
    expect((await api(ctx.bridge.url, `/tickets/${id}/wait`, { method: 'POST', body: {} })).status).toBe(409);
    clock.now = Date.parse('2026-11-30T12:00:00Z'); // 15:00: past the old reaction due time
    await ctx.bridge.tickets.sweep();
    expect((await get(id!)).sla.breached.reaction).toBe(false);
    clock.now = Date.parse('2026-11-30T13:00:00Z'); // 16:00: 2h today, 1h Tuesday from 09:00
    const r = await api<T>(ctx.bridge.url, `/tickets/${id}/resume`, { method: 'POST', body: {} });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      waiting_since: null,
      sla: { reaction_due_at: '2026-12-01T07:00:00.000Z' },
    });
    expect((await api(ctx.bridge.url, `/tickets/${id}/resume`, { method: 'POST', body: {} })).status).toBe(
      409,
    );
    const auth = { authorization: `Basic ${Buffer.from(`x:${READ_TOKEN}`).toString('base64')}` };
    const page = await (await fetch(`${ctx.bridge.url}/ui/tickets/${id}`, { headers: auth })).text();
    expect(page).toContain(
      'alice: waiting for the client, clocks stopped<blockquote>asked the store for the model</blockquote>',
    );
    expect(page).toContain('alice: the client answered, clocks running again (waited 300 min)');
    // Waiting again, the problem goes away by itself: resolved, and the wait is over.
    await api(ctx.bridge.url, `/tickets/${id}/wait`, { method: 'POST', body: {} });
    await postWebhook(
      ctx.bridge.url,
      payload([
        alert(
          {
            alertname: 'TillSlowThing',
            incident_class: 'test.business_hours',
            chain: 'office',
            store: 'wt',
            till: 't1',
          },
          { status: 'resolved' },
        ),
      ]),
    );
    expect(await get(id!)).toMatchObject({ status: 'resolved', waiting_since: null });
  });
});

describe('escalation to a Telegram chat', () => {
  let tg: Awaited<ReturnType<typeof startTelegramEmulator>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  // Chats batch by the clock (notifications.batch_wait), so this clock runs, shifted by `skip`.
  const clock = { skip: 0 };
  const now = () => Date.now() + clock.skip;
  beforeAll(async () => {
    tg = await startTelegramEmulator('123:ABC');
    ctx = await startBridge(
      'sqlite',
      {
        telegram: { bot_token: '123:ABC', base_url: tg.url },
        teams: { hardware: { telegram: [{ chat_id: -100200 }] } },
        notifications: { batch_wait: '100ms', min_interval: '100ms' },
        forwarding: { poll_interval: '50ms', retry_base: '100ms' },
        priority: { by_class: { 'fiscal.paper_out': 'P1' } },
        tickets: { sweep_interval: '1h' },
        escalation: {
          policies: [
            {
              team: 'hardware',
              repeat: '10m',
              levels: [{ name: 'duty-lead', after: '15m', telegram: [{ chat_id: -100900 }] }],
            },
          ],
        },
      },
      { now },
    );
  });
  afterAll(async () => {
    await ctx?.close();
    await tg?.close();
  });

  it("posts a new message in the duty lead's chat at each step, not an edit that nobody hears", async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'tg')]));
    await waitFor(() => tg.messages().some((m) => m.chat_id === '-100200'), 'the team message');
    clock.skip = 15 * MIN;
    await ctx.bridge.tickets.sweep();
    const first = await waitFor(
      () => tg.messages().find((m) => m.chat_id === '-100900'),
      "the duty lead's message",
    );
    expect(first.text).toContain('⏫ <b>Escalation: nobody took the ticket: [P1] Receipt paper out</b>');
    expect(first.text).toContain('<i>not acknowledged for 15 min (step 1)</i>');
    clock.skip = 25 * MIN;
    await ctx.bridge.tickets.sweep();
    await waitFor(() => tg.messages().filter((m) => m.chat_id === '-100900').length === 2, 'the second step');
    const both = tg.messages().filter((m) => m.chat_id === '-100900');
    expect(both[1]!.text).toContain('not acknowledged for 25 min (step 2)');
    expect(both.map((m) => m.edits)).toEqual([0, 0]);
    // The team's own chat heard nothing about the escalation.
    expect(
      tg
        .messages()
        .filter((m) => m.chat_id === '-100200')
        .map((m) => m.text.includes('Escalation')),
    ).toEqual([false]);
  });
});
