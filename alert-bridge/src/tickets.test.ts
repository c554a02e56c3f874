import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketJson } from './tickets/index.js';
import { alert, api, ENGINES, paperOut, payload, postWebhook, startBridge } from '@tillwatch/testkit/bridge';

type T = TicketJson & { events: { type: string }[] };

describe.each(ENGINES)('tickets on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  const clock = { now: Date.parse('2026-03-01T08:00:00Z') };
  beforeAll(async () => {
    ctx = await startBridge(
      engine,
      {
        tickets: {
          reopen_window: '1h',
          flap_window: '6h',
          flap_threshold: 2,
          store_scope_classes: ['network.store_offline'],
        },
      },
      { now: () => clock.now, background: false },
    );
  });
  afterAll(async () => ctx?.close());

  const post = async (alerts: Parameters<typeof payload>[0]) => {
    const r = await postWebhook(ctx.bridge.url, payload(alerts));
    expect(r.status).toBe(200);
    return r.body.tickets as number[];
  };
  const list = async (q: string) =>
    (await api<{ tickets: T[] }>(ctx.bridge.url, `/tickets?${q}`)).body.tickets;
  const get = async (id: number) => (await api<T>(ctx.bridge.url, `/tickets/${id}`)).body;

  it('repeats, an HA duplicate and a partial group of one problem make one ticket', async () => {
    const a = paperOut('t1', 'dedup');
    const b = alert({
      alertname: 'TillPrinterError',
      incident_class: 'fiscal.paper_out',
      store: 'dedup',
      till: 't1',
      device: 'kkt',
    });
    await post([a]);
    await post([a]); // repeat_interval
    await post([a]); // the second Alertmanager of the pair
    await post([b]); // a group split across notifications
    await post([a, b]);
    const ts = await list('store=dedup');
    expect(ts).toHaveLength(1);
    expect(ts[0]!.alerts.map((x) => x.alertname).sort()).toEqual(['TillPaperOut', 'TillPrinterError']);
    const events = (await get(ts[0]!.id)).events.map((e) => e.type);
    expect(events).toEqual(['created', 'alert_joined']);
  });

  it('a burst of concurrent notifications, committed together, still makes one ticket per problem', async () => {
    // 30 notifications at once share group commits; the six for each till carry different alerts of
    // the same problem, so each must see the ticket the others made and keep every alert.
    const burst = (i: number) =>
      alert({
        alertname: `Burst${i}`,
        incident_class: 'fiscal.paper_out',
        store: 'burst',
        till: `t${i % 5}`,
        device: 'kkt',
      });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post([burst(i)])));
    const ts = await list('store=burst');
    expect(ts.map((t) => t.till).sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
    for (const [i, a] of answers.entries()) expect(a).toEqual([ts.find((t) => t.till === `t${i % 5}`)!.id]);
    for (const t of ts) {
      const n = Number(t.till!.slice(1));
      expect(t.alerts.map((x) => x.alertname).sort()).toEqual(
        [0, 1, 2, 3, 4, 5].map((k) => `Burst${n + 5 * k}`).sort(),
      );
      expect((await get(t.id)).events.filter((e) => e.type === 'created')).toHaveLength(1);
    }
  });

  it('different tills or devices are different problems', async () => {
    await post([paperOut('t1', 'two'), paperOut('t2', 'two')]);
    expect(await list('store=two')).toHaveLength(2);
  });

  it('a store-wide outage is one ticket for the store listing its tills', async () => {
    const down = (till: string) =>
      alert({
        alertname: 'TillDown',
        incident_class: 'network.store_offline',
        store: 'sw',
        till,
        severity: 'critical',
      });
    await post([down('t1'), down('t2')]);
    await post([down('t3')]);
    const ts = await list('store=sw');
    expect(ts).toHaveLength(1);
    expect(ts[0]).toMatchObject({
      till: null,
      tills: ['t1', 't2', 't3'],
      priority: 'P1',
      team: 'network',
      title: 'Store offline',
    });
  });

  it('an alert without a till is store-scoped', async () => {
    await post([
      alert({ alertname: 'StoreUplinkDown', incident_class: 'network.store_offline', store: 'nolbl' }),
    ]);
    expect((await list('store=nolbl'))[0]).toMatchObject({ store: 'nolbl', till: null });
  });

  it('resolves itself when every alert resolves, marked self_resolved, and later closes', async () => {
    const [id] = await post([paperOut('t1', 'self')]);
    await post([paperOut('t1', 'self', { status: 'resolved' })]);
    const t = await get(id!);
    expect(t).toMatchObject({ status: 'resolved', self_resolved: true });
    expect(t.resolved_at).not.toBeNull();
    clock.now += 2 * 3_600_000;
    await ctx.bridge.tickets.sweep();
    expect((await get(id!)).status).toBe('closed');
  });

  it('stays open while one of its alerts still fires', async () => {
    const b = alert({
      alertname: 'TillPrinterError',
      incident_class: 'fiscal.paper_out',
      store: 'part',
      till: 't1',
      device: 'kkt',
    });
    const [id] = await post([paperOut('t1', 'part'), b]);
    await post([paperOut('t1', 'part', { status: 'resolved' })]);
    expect((await get(id!)).status).toBe('open');
  });

  it('acknowledged then resolved by alerts is not self_resolved', async () => {
    const [id] = await post([paperOut('t1', 'ack')]);
    expect(
      (await api(ctx.bridge.url, `/tickets/${id}/acknowledge`, { method: 'POST', body: {} })).status,
    ).toBe(200);
    await post([paperOut('t1', 'ack', { status: 'resolved' })]);
    expect(await get(id!)).toMatchObject({ status: 'resolved', self_resolved: false });
  });

  it('reopens within the window, marks flapping, and opens a new ticket after the window', async () => {
    const start = (n: number) => new Date(Date.parse('2026-01-01T10:00:00Z') + n * 60_000).toISOString();
    const [id] = await post([paperOut('t1', 'flap', { startsAt: start(0) })]);
    await post([paperOut('t1', 'flap', { status: 'resolved', startsAt: start(0) })]);
    clock.now += 10 * 60_000;
    const [again] = await post([paperOut('t1', 'flap', { startsAt: start(20) })]);
    expect(again).toBe(id);
    let t = await get(id!);
    expect(t).toMatchObject({ status: 'open', reopen_count: 1, flapping: false });
    await post([paperOut('t1', 'flap', { status: 'resolved', startsAt: start(20) })]);
    clock.now += 10 * 60_000;
    await post([paperOut('t1', 'flap', { startsAt: start(40) })]);
    t = await get(id!);
    expect(t).toMatchObject({ status: 'open', reopen_count: 2, flapping: true });
    expect(t.events.map((e) => e.type)).toEqual(['created', 'resolved', 'reopened', 'resolved', 'reopened']);

    await post([paperOut('t1', 'flap', { status: 'resolved', startsAt: start(40) })]);
    clock.now += 2 * 3_600_000;
    const [fresh] = await post([paperOut('t1', 'flap', { startsAt: start(200) })]);
    expect(fresh).not.toBe(id);
    expect((await get(id!)).status).toBe('closed');
    expect(await list('store=flap&status=open')).toHaveLength(1);
  });

  it('a human resolve while the alert fires is refused with 409 unless forced; forced, the next notification still firing reopens it', async () => {
    const [id] = await post([paperOut('t1', 'human')]);
    const refused = await api(ctx.bridge.url, `/tickets/${id}/resolve`, {
      method: 'POST',
      body: { note: 'replaced' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: { code: 'conflict', message: expect.stringMatching(/TillPaperOut.*force/) },
    });
    expect((await get(id!)).status).toBe('open');
    const forced = await api(ctx.bridge.url, `/tickets/${id}/resolve`, {
      method: 'POST',
      body: { note: 'replaced', force: true },
    });
    expect(forced.status).toBe(200);
    expect(await get(id!)).toMatchObject({ status: 'resolved', self_resolved: false });
    await post([paperOut('t1', 'human')]); // repeat_interval: still firing
    const t = await get(id!);
    expect(t).toMatchObject({ status: 'open', reopen_count: 1 });
    expect(t.events.at(-1)).toMatchObject({
      type: 'reopened',
      data: { reason: 'still_firing_after_forced_resolve' },
    });
  });

  it('a late copy of the old firing alert does not reopen a resolved ticket', async () => {
    const [id] = await post([paperOut('t1', 'late')]);
    await post([paperOut('t1', 'late', { status: 'resolved' })]);
    await post([paperOut('t1', 'late')]); // same startsAt: an HA peer's stale copy
    expect((await get(id!)).status).toBe('resolved');
  });

  it('takes priority from the card, raises it for critical alerts, and sets SLA due times', async () => {
    const [p3] = await post([
      alert({
        alertname: 'ScannerDown',
        incident_class: 'hardware.scanner_down',
        store: 'prio',
        till: 't1',
        device: 'sc',
      }),
    ]);
    const t = await get(p3!);
    expect(t.priority).toBe('P3');
    // Default SLA for P3: resolution 72 h after opening.
    expect(Date.parse(t.sla_due_at) - Date.parse(t.opened_at)).toBe(72 * 3_600_000);
    await post([
      alert({
        alertname: 'ScannerDown',
        incident_class: 'hardware.scanner_down',
        store: 'prio',
        till: 't1',
        device: 'sc',
        severity: 'critical',
      }),
    ]);
    const u = await get(p3!);
    expect(u).toMatchObject({ priority: 'P2', severity: 'critical' });
    expect(Date.parse(u.sla_due_at) - Date.parse(u.opened_at)).toBe(24 * 3_600_000);
  });

  it('an unknown incident class still makes a ticket, flagged needs_card', async () => {
    const [id] = await post([
      alert({ alertname: 'SomethingNew', incident_class: 'mystery.thing', store: 'unk', till: 't1' }),
    ]);
    expect(await get(id!)).toMatchObject({
      needs_card: true,
      recommendation: null,
      priority: 'P3',
      title: 'SomethingNew summary',
    });
  });

  it('counts SLA breaches once when due times pass', async () => {
    const [id] = await post([paperOut('t9', 'sla')]);
    clock.now += 25 * 3_600_000;
    await ctx.bridge.tickets.sweep();
    await ctx.bridge.tickets.sweep();
    const t = await get(id!);
    expect(t.sla.breached).toEqual({ registration: false, reaction: true, resolution: true });
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(text).toMatch(/tillwatch_bridge_sla_breaches_total\{kind="resolution",priority="P2"\} [1-9]/);
    expect(text).toMatch(/tillwatch_bridge_tickets\{status="open"\} [1-9]/);
  });
});
