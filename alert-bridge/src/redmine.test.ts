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
import { startRedmine, type RunningRedmine } from '@tillwatch/testkit/bridge';

// The Redmine adapter against a real Redmine 5.0 (Debian's package) over its REST API: what a service
// desk on Redmine would see of a ticket's life, and what its engineer does there coming back into the ticket
// (the poll of changed issues), on both storage engines.
let redmine: RunningRedmine;
beforeAll(async () => {
  redmine = await startRedmine('7f3a9c0e5b21d4f8');
}, 120_000);
afterAll(async () => {
  await redmine?.stop();
});

type Detail = {
  status: string;
  events: { type: string; actor: string; data: Record<string, unknown> }[];
};

describe.each(ENGINES)('forwarding to a real Redmine on %s', { timeout: 180_000 }, (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  // The bridge the tests talk to (the last test restarts it on the same database).
  let bridge: Bridge;
  let other: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    other = await startReceiver('other-key');
    const target = (name: string, apiKey: string) => ({
      name,
      type: 'redmine',
      url: redmine.url,
      api_key: apiKey,
      project_id: redmine.project,
      tracker_id: 3,
      priority_ids: { P2: redmine.priorities.High },
      resolved_status_id: redmine.statuses.Resolved,
      reopened_status_id: redmine.statuses['In Progress'],
    });
    ctx = await startBridge(engine, {
      forwarding: {
        poll_interval: '50ms',
        retry_base: '50ms',
        retry_max: '200ms',
        targets: [
          // Named as the actor its changes are recorded under. Two issues a page: each poll pages through the
          // project's recent issues (the tests' own, several of one second) before it reaches the newest. A
          // short overlap: every poll re-reads that much of the project (both engines' tests share it).
          {
            ...target('redmine', redmine.apiKey),
            sync: { poll_interval: '200ms', page_size: 2, overlap: '20s' },
          },
          target('rm-badkey', '0000000000000000'),
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
  // Complete polls of Redmine so far: two more after a change means one pass began after it and ended.
  const polls = async () => {
    const text = await (await fetch(`${bridge.url}/metrics`)).text();
    const m = /tillwatch_bridge_desk_polls_total\{desk="redmine:redmine",result="success"\} (\d+)/.exec(text);
    return Number(m?.[1] ?? 0);
  };
  const twoMorePolls = async () => {
    const start = await polls();
    await waitFor(async () => (await polls()) >= start + 2, 'two more polls of Redmine');
  };
  const newIssue = async (till: string) => {
    const r = await postWebhook(bridge.url, payload([paperOut(till, store)]));
    const id = (r.body.tickets as number[])[0]!;
    const [issue] = await waitFor(async () => {
      const found = await findIssue(till);
      return found.length > 0 && found;
    }, 'the Redmine issue');
    return { id, issue: issue! };
  };

  const store = `rm-${engine}`;
  const findIssue = async (till: string) =>
    (await redmine.issues()).filter((i) => i.subject.includes(`${store} / ${till}`));

  it('opens an issue with the card, notes each change, resolves and reopens it', async () => {
    const start = '2026-01-01T10:00:00Z';
    const r = await postWebhook(bridge.url, payload([paperOut('t1', store, { startsAt: start })]));
    const id = (r.body.tickets as number[])[0]!;
    const [created] = await waitFor(async () => {
      const found = await findIssue('t1');
      return found.length > 0 && found;
    }, 'the Redmine issue');
    expect(created!.subject).toMatch(/^\[P2\] Receipt paper out — /);
    expect(created!.priority.name).toBe('High');
    expect(created!.status.name).toBe('New');
    expect(created!.description).toContain(`TillWatch #${id} (fiscal.paper_out)`);
    expect(created!.description).toContain('The till cannot print receipts and cannot sell.');
    expect(created!.description).toContain('# Ask the cashier to load a new roll');

    await api(bridge.url, `/tickets/${id}/comments`, {
      method: 'POST',
      body: { text: 'calling the store' },
    });
    await postWebhook(bridge.url, payload([paperOut('t1', store, { status: 'resolved', startsAt: start })]));
    const resolved = await waitFor(async () => {
      const i = await redmine.issue(created!.id);
      return i.status.name === 'Resolved' && i;
    }, 'the Redmine issue resolved');
    const notes = resolved.journals!.map((j) => j.notes);
    // Each change as a person reads it: who commented and what, and why the ticket resolved.
    expect(notes).toContain('Comment by alice: calling the store');
    expect(notes).toContain('Ticket resolved: all alerts cleared');

    // The fault returns within the reopen window: the same Redmine issue goes back to work.
    await postWebhook(bridge.url, payload([paperOut('t1', store, { startsAt: '2026-01-01T10:20:00Z' })]));
    const reopened = await waitFor(async () => {
      const i = await redmine.issue(created!.id);
      return i.status.name === 'In Progress' && i;
    }, 'the Redmine issue reopened');
    expect(reopened.journals!.map((j) => j.notes)).toContain('Ticket reopened: the problem is back');
    // One Redmine issue for the whole life of the ticket: a retry or a reopen never makes a second.
    expect(await findIssue('t1')).toHaveLength(1);
  });

  it('counts a rejected API key as a failed delivery and creates nothing for it', async () => {
    const before = (await redmine.issues()).length;
    await postWebhook(bridge.url, payload([paperOut('t2', store)]));
    // The good target's issue arrives; the bad key's 401 is permanent: no retries, no issue.
    await waitFor(async () => (await findIssue('t2')).length === 1, 'the good target made its issue');
    const text = await waitFor(async () => {
      const t = await (await fetch(`${bridge.url}/metrics`)).text();
      return (
        /tillwatch_bridge_deliveries_total\{kind="redmine",target="redmine:rm-badkey",result="failed"\} [1-9]/.test(
          t,
        ) && t
      );
    }, 'a failed delivery counted for the bad key');
    expect(text).not.toMatch(/target="redmine:rm-badkey",result="retry"/);
    expect((await redmine.issues()).length).toBe(before + 1);
  });
  it("takes the engineer's note and close in Redmine into the ticket, and sends nothing back", async () => {
    const { id, issue } = await newIssue('t3');
    await redmine.asPerson(issue.id, { notes: 'on my way to the store' });
    const commented = await waitFor(async () => {
      const d = await detail(id);
      return d.events.find((e) => e.type === 'commented') && d;
    }, 'the note as a comment');
    expect(commented.events.find((e) => e.type === 'commented')).toMatchObject({
      actor: 'redmine',
      data: { text: 'on my way to the store', person: redmine.person, desk: 'redmine' },
    });

    // The engineer closes the issue although the alert still fires (as a person would: the roll is in).
    await redmine.asPerson(issue.id, { status_id: redmine.statuses.Closed!, notes: 'roll replaced' });
    const resolved = await waitFor(async () => {
      const d = await detail(id);
      return d.status === 'resolved' && d;
    }, 'the ticket resolved from Redmine');
    expect(resolved.events.filter((e) => e.type === 'resolved')).toEqual([
      expect.objectContaining({
        actor: 'redmine',
        data: expect.objectContaining({ note: 'roll replaced', person: redmine.person, forced: true }),
      }),
    ]);
    // Other targets hear of it as they would of anyone's resolve.
    await waitFor(
      () =>
        other.got.find((g) => g.type === 'ticket.resolved' && (g.body.ticket as { id: number }).id === id),
      'the other target told',
    );

    // No echo: Redmine keeps the engineer's two journals, however many polls and deliveries follow.
    await twoMorePolls();
    await bridge.dispatcher.settle();
    const after = await redmine.issue(issue.id);
    expect(after.journals!.map((j) => j.user.name)).toEqual([redmine.person, redmine.person]);
    expect(after.status.name).toBe('Closed');
    const d = await detail(id);
    expect(d.events.filter((e) => e.actor === 'redmine').map((e) => e.type)).toEqual([
      'commented',
      'resolved',
    ]);
  });

  it('closes the Redmine issue when the ticket is resolved here, and takes nothing back from it', async () => {
    const { id, issue } = await newIssue('t4');
    const r = await api(bridge.url, `/tickets/${id}/resolve`, {
      method: 'POST',
      body: { force: true, note: 'fixed remotely' },
    });
    expect(r.status).toBe(200);
    const closed = await waitFor(async () => {
      const i = await redmine.issue(issue.id);
      return i.status.name === 'Resolved' && i;
    }, 'the Redmine issue resolved');
    expect(closed.journals).toHaveLength(1);
    // The bridge's own status change and note, polled back, are not the engineer's: nothing changes here.
    await twoMorePolls();
    await bridge.dispatcher.settle();
    const d = await detail(id);
    expect(d.events.filter((e) => e.actor === 'redmine')).toEqual([]);
    expect(d.events.filter((e) => e.type === 'resolved').map((e) => e.actor)).toEqual(['alice']);
    expect((await redmine.issue(issue.id)).journals).toHaveLength(1);
  });

  it('after a restart takes what changed while it was down, once, and nothing older again', async () => {
    const { id, issue } = await newIssue('t5');
    await redmine.asPerson(issue.id, { notes: 'first visit' });
    await waitFor(
      async () => (await detail(id)).events.some((e) => e.type === 'commented'),
      'the first note',
    );
    await bridge.stop();
    await redmine.asPerson(issue.id, { notes: 'second visit, while the bridge was down' });
    bridge = await createApp(ctx.bridge.config, {
      logger: pino({ level: 'silent' }),
      kb: KnowledgeBase.load(CARDS_DIR),
    });
    await bridge.start('127.0.0.1:0');
    await waitFor(
      async () => (await detail(id)).events.filter((e) => e.type === 'commented').length === 2,
      'the note made while it was down',
    );
    await twoMorePolls();
    const texts = (await detail(id)).events.filter((e) => e.type === 'commented').map((e) => e.data.text);
    expect(texts).toEqual(['first visit', 'second visit, while the bridge was down']);
  });
});
