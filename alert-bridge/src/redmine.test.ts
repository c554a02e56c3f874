import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  waitFor,
  ENGINES,
} from '@tillwatch/testkit/bridge';
import { startRedmine, type RunningRedmine } from '@tillwatch/testkit/bridge';

// The Redmine adapter against a real Redmine 5.0 (Debian's package) over its REST API: what a service
// desk on Redmine would see of a ticket's life, on both storage engines.
let redmine: RunningRedmine;
beforeAll(async () => {
  redmine = await startRedmine('7f3a9c0e5b21d4f8');
}, 120_000);
afterAll(async () => {
  await redmine?.stop();
});

describe.each(ENGINES)('forwarding to a real Redmine on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
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
        targets: [target('rm', redmine.apiKey), target('rm-badkey', '0000000000000000')],
      },
    });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const store = `rm-${engine}`;
  const findIssue = async (till: string) =>
    (await redmine.issues()).filter((i) => i.subject.includes(`${store} / ${till}`));

  it('opens an issue with the card, notes each change, resolves and reopens it', async () => {
    const start = '2026-01-01T10:00:00Z';
    const r = await postWebhook(ctx.bridge.url, payload([paperOut('t1', store, { startsAt: start })]));
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

    await api(ctx.bridge.url, `/tickets/${id}/comments`, {
      method: 'POST',
      body: { text: 'calling the store' },
    });
    await postWebhook(
      ctx.bridge.url,
      payload([paperOut('t1', store, { status: 'resolved', startsAt: start })]),
    );
    const resolved = await waitFor(async () => {
      const i = await redmine.issue(created!.id);
      return i.status.name === 'Resolved' && i;
    }, 'the Redmine issue resolved');
    const notes = resolved.journals!.map((j) => j.notes);
    expect(notes.some((n) => n.startsWith('ticket.updated'))).toBe(true);
    expect(notes.some((n) => n.startsWith('ticket.resolved'))).toBe(true);

    // The fault returns within the reopen window: the same Redmine issue goes back to work.
    await postWebhook(ctx.bridge.url, payload([paperOut('t1', store, { startsAt: '2026-01-01T10:20:00Z' })]));
    const reopened = await waitFor(async () => {
      const i = await redmine.issue(created!.id);
      return i.status.name === 'In Progress' && i;
    }, 'the Redmine issue reopened');
    expect(reopened.journals!.map((j) => j.notes).some((n) => n.startsWith('ticket.reopened'))).toBe(true);
    // One Redmine issue for the whole life of the ticket: a retry or a reopen never makes a second.
    expect(await findIssue('t1')).toHaveLength(1);
  });

  it('counts a rejected API key as a failed delivery and creates nothing for it', async () => {
    const before = (await redmine.issues()).length;
    await postWebhook(ctx.bridge.url, payload([paperOut('t2', store)]));
    // The good target's issue arrives; the bad key's 401 is permanent: no retries, no issue.
    await waitFor(async () => (await findIssue('t2')).length === 1, 'the good target made its issue');
    const text = await waitFor(async () => {
      const t = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
      return (
        /tillwatch_bridge_deliveries_total\{kind="redmine",target="redmine:rm-badkey",result="failed"\} [1-9]/.test(
          t,
        ) && t
      );
    }, 'a failed delivery counted for the bad key');
    expect(text).not.toMatch(/target="redmine:rm-badkey",result="retry"/);
    expect((await redmine.issues()).length).toBe(before + 1);
  });
});
