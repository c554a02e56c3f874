import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, KnowledgeBase, type Bridge } from '@tillwatch/alert-bridge';
import {
  api,
  CARDS_DIR,
  startReceiver,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  waitForDesk as waitFor,
  ENGINES,
} from '@tillwatch/testkit/bridge';
import { startRt, type RunningRt } from '@tillwatch/testkit/bridge';

// The Request Tracker adapter against a real RT 5.0 (Debian's request-tracker5 on SQLite) over REST 2: what a
// service desk on RT sees of a ticket's life, and what its engineer does there coming back into the ticket
// (the poll of the queue's transactions), on both storage engines.
let rt: RunningRt;
beforeAll(async () => {
  rt = await startRt();
}, 120_000);
afterAll(async () => {
  await rt?.stop();
});

type Detail = {
  status: string;
  events: { type: string; actor: string; data: Record<string, unknown> }[];
};

// RT answers a REST call in 0.5-1 s on a loaded 2-core machine (Perl, a fresh SQLite): a test that waits for
// several polls needs more than the suite's default 60 s when other tests run beside it.
describe.each(ENGINES)('forwarding to a real Request Tracker on %s', { timeout: 180_000 }, (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  // The bridge the tests talk to (the last test restarts it on the same database).
  let bridge: Bridge;
  let other: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    other = await startReceiver('other-key');
    ctx = await startBridge(engine, {
      forwarding: {
        poll_interval: '50ms',
        retry_base: '50ms',
        retry_max: '200ms',
        targets: [
          {
            // Named as the actor its changes are recorded under. Two transactions a page: a poll pages
            // through the queue's recent transactions (the tests' own) to reach the newest.
            name: 'rt',
            type: 'rt',
            url: rt.url,
            user: rt.user,
            token: rt.token,
            queue: rt.queue,
            priorities: { P2: 70 },
            // A short overlap: every poll re-reads that much of the queue (both engines' tests share it).
            sync: { poll_interval: '200ms', page_size: 2, overlap: '20s' },
          },
          {
            name: 'rt-badtoken',
            type: 'rt',
            url: rt.url,
            user: rt.user,
            token: `1-999-${'0'.repeat(32)}`,
            queue: rt.queue,
          },
          { name: 'other', type: 'webhook', url: other.url, secret: 'other-key' },
        ],
      },
    });
    bridge = ctx.bridge;
  });
  afterAll(async () => {
    await bridge?.stop();
    await ctx?.storage.cleanup();
    await other?.close();
  });

  const detail = async (id: number) => (await api<Detail>(bridge.url, `/tickets/${id}`)).body;
  // Complete polls of RT so far: two more after a change means one pass began after it and ended.
  const polls = async () => {
    const text = await (await fetch(`${bridge.url}/metrics`)).text();
    const m = /tillwatch_bridge_desk_polls_total\{desk="rt:rt",result="success"\} (\d+)/.exec(text);
    return Number(m?.[1] ?? 0);
  };
  const twoMorePolls = async () => {
    const start = await polls();
    await waitFor(async () => (await polls()) >= start + 2, 'two more polls of RT');
  };
  const store = `rt-${engine}`;
  const findTicket = async (till: string) =>
    (await rt.tickets()).filter((t) => t.Subject.includes(`${store} / ${till}`));
  const newTicket = async (till: string) => {
    const r = await postWebhook(bridge.url, payload([paperOut(till, store)]));
    const id = (r.body.tickets as number[])[0]!;
    const [found] = await waitFor(async () => {
      const f = await findTicket(till);
      return f.length > 0 && f;
    }, 'the RT ticket');
    return { id, rtId: found!.id };
  };
  const byPerson = (h: Awaited<ReturnType<RunningRt['history']>>) =>
    h.filter((t) => t.creator === 'engineer');

  it('creates an RT ticket with the card, replies per change, resolves and reopens it', async () => {
    const start = '2026-01-01T10:00:00Z';
    const r = await postWebhook(bridge.url, payload([paperOut('t1', store, { startsAt: start })]));
    const id = (r.body.tickets as number[])[0]!;
    const [created] = await waitFor(async () => {
      const f = await findTicket('t1');
      return f.length > 0 && f;
    }, 'the RT ticket');
    expect(created!.Subject).toMatch(/^\[P2\] Receipt paper out — /);
    expect(created!.Priority).toBe('70');
    expect(created!.Status).toBe('new');
    const [create] = await rt.history(created!.id);
    expect(create!.Type).toBe('Create');
    expect(create!.creator).toBe(rt.user);
    expect(create!.content).toContain(`TillWatch #${id} (fiscal.paper_out)`);
    expect(create!.content).toContain('The till cannot print receipts and cannot sell.');
    expect(create!.content).toContain('1. Ask the cashier to load a new roll');
    expect(create!.content).toContain(`/tickets/${id}`);

    await api(bridge.url, `/tickets/${id}/comments`, { method: 'POST', body: { text: 'calling the store' } });
    await postWebhook(bridge.url, payload([paperOut('t1', store, { status: 'resolved', startsAt: start })]));
    await waitFor(async () => (await rt.ticket(created!.id)).Status === 'resolved', 'the RT ticket resolved');
    const replies = (await rt.history(created!.id)).filter((t) => t.Type === 'Correspond');
    // Each change as a person reads it: who commented and what, and why the ticket resolved.
    expect(replies.map((t) => t.content?.trim())).toEqual([
      'Comment by alice: calling the store',
      'Ticket resolved: all alerts cleared',
    ]);
    expect(replies.every((t) => t.creator === rt.user)).toBe(true);

    // The fault returns within the reopen window: the same RT ticket goes back to work.
    await postWebhook(bridge.url, payload([paperOut('t1', store, { startsAt: '2026-01-01T10:20:00Z' })]));
    await waitFor(async () => (await rt.ticket(created!.id)).Status === 'open', 'the RT ticket reopened');
    const h = await rt.history(created!.id);
    expect(
      h.some((t) => t.Type === 'Correspond' && t.content?.trim() === 'Ticket reopened: the problem is back'),
    ).toBe(true);
    // One RT ticket for the whole life of the ticket: a retry or a reopen never makes a second.
    expect(await findTicket('t1')).toHaveLength(1);
  });

  it('counts a rejected token as a failed delivery and creates nothing for it', async () => {
    const before = (await rt.tickets()).length;
    await postWebhook(bridge.url, payload([paperOut('t2', store)]));
    // The good target's RT ticket arrives; the bad token's 401 is permanent: no retries, no ticket.
    await waitFor(async () => (await findTicket('t2')).length === 1, 'the good target made its RT ticket');
    const text = await waitFor(async () => {
      const t = await (await fetch(`${bridge.url}/metrics`)).text();
      return (
        /tillwatch_bridge_deliveries_total\{kind="rt",target="rt:rt-badtoken",result="failed"\} [1-9]/.test(
          t,
        ) && t
      );
    }, 'a failed delivery counted for the bad token');
    expect(text).not.toMatch(/target="rt:rt-badtoken",result="retry"/);
    expect((await rt.tickets()).length).toBe(before + 1);
  });

  it("takes the engineer's reply and resolve in RT into the ticket, and sends nothing back", async () => {
    const { id, rtId } = await newTicket('t3');
    // The engineer takes the RT ticket on (new -> open): the ticket is acknowledged by the desk.
    await rt.asPerson(rtId, { status: 'open' });
    const acked = await waitFor(async () => {
      const d = await detail(id);
      return d.status === 'acknowledged' && d;
    }, 'the ticket acknowledged from RT');
    expect(acked.events.find((e) => e.type === 'acknowledged')).toMatchObject({
      actor: 'rt',
      data: { person: rt.person, desk: 'rt' },
    });
    await rt.asPerson(rtId, { correspond: 'on my way to the store — еду в магазин' });
    const commented = await waitFor(async () => {
      const d = await detail(id);
      return d.events.find((e) => e.type === 'commented') && d;
    }, 'the reply as a comment');
    expect(commented.events.find((e) => e.type === 'commented')).toMatchObject({
      actor: 'rt',
      data: { text: 'on my way to the store — еду в магазин', person: rt.person, desk: 'rt' },
    });

    // The engineer resolves the RT ticket although the alert still fires (as a person would: the roll is in).
    await rt.asPerson(rtId, { comment: 'roll replaced', status: 'resolved' });
    const resolved = await waitFor(async () => {
      const d = await detail(id);
      return d.status === 'resolved' && d;
    }, 'the ticket resolved from RT');
    expect(resolved.events.filter((e) => e.type === 'resolved')).toEqual([
      expect.objectContaining({
        actor: 'rt',
        data: expect.objectContaining({ person: rt.person, forced: true }),
      }),
    ]);
    expect(resolved.events.filter((e) => e.type === 'commented').map((e) => e.data.text)).toEqual([
      'on my way to the store — еду в магазин',
      'roll replaced',
    ]);
    // Other targets hear of it as they would of anyone's resolve.
    await waitFor(
      () =>
        other.got.find((g) => g.type === 'ticket.resolved' && (g.body.ticket as { id: number }).id === id),
      'the other target told',
    );

    // No echo: RT keeps the bridge's one transaction (the create) and the engineer's, however many polls
    // and deliveries follow; the ticket keeps the desk's four changes.
    await twoMorePolls();
    await bridge.dispatcher.settle();
    await twoMorePolls();
    const h = await rt.history(rtId);
    expect(h.filter((t) => t.creator === rt.user).map((t) => t.Type)).toEqual(['Create']);
    expect(byPerson(h).map((t) => t.Type)).toEqual(['Status', 'Correspond', 'Comment', 'Status']);
    expect((await rt.ticket(rtId)).Status).toBe('resolved');
    const d = await detail(id);
    expect(d.events.filter((e) => e.actor === 'rt').map((e) => e.type)).toEqual([
      'acknowledged',
      'commented',
      'commented',
      'resolved',
    ]);
  });

  it('resolves the RT ticket when the ticket is resolved here, and takes nothing back from it', async () => {
    const { id, rtId } = await newTicket('t4');
    const r = await api(bridge.url, `/tickets/${id}/resolve`, {
      method: 'POST',
      body: { force: true, note: 'fixed remotely' },
    });
    expect(r.status).toBe(200);
    await waitFor(async () => (await rt.ticket(rtId)).Status === 'resolved', 'the RT ticket resolved');
    const before = await rt.history(rtId);
    // The bridge's reply and status change (and RT's own new -> open on the reply), polled back, are not a
    // person's: nothing changes here, nothing more goes to RT.
    await twoMorePolls();
    await bridge.dispatcher.settle();
    await twoMorePolls();
    const d = await detail(id);
    expect(d.events.filter((e) => e.actor === 'rt')).toEqual([]);
    expect(d.events.filter((e) => e.type === 'resolved').map((e) => e.actor)).toEqual(['alice']);
    const after = await rt.history(rtId);
    expect(after.map((t) => t.id)).toEqual(before.map((t) => t.id));
    expect(byPerson(after)).toEqual([]);
  });

  it('after a restart takes what changed while it was down, once, and nothing older again', async () => {
    const { id, rtId } = await newTicket('t5');
    await rt.asPerson(rtId, { correspond: 'first visit' });
    await waitFor(
      async () => (await detail(id)).events.some((e) => e.type === 'commented'),
      'the first reply',
    );
    await bridge.stop();
    await rt.asPerson(rtId, { comment: 'second visit, while the bridge was down' });
    bridge = await createApp(ctx.bridge.config, {
      logger: pino({ level: 'silent' }),
      kb: KnowledgeBase.load(CARDS_DIR),
    });
    await bridge.start('127.0.0.1:0');
    await waitFor(
      async () => (await detail(id)).events.filter((e) => e.type === 'commented').length === 2,
      'the comment made while it was down',
    );
    await twoMorePolls();
    const texts = (await detail(id)).events.filter((e) => e.type === 'commented').map((e) => e.data.text);
    expect(texts).toEqual(['first visit', 'second visit, while the bridge was down']);
  });
});
